import * as tf from '@tensorflow/tfjs';
import { backend_util, getGradient, Mean, registerGradient, Sum, util, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs';

/**
 * The gradient of a reduction over `axes`: `dy` (the reduced shape) spread back over `x`'s shape.
 * tfjs 4.22 multiplies by `ones(x.shape)`, which it fills in JavaScript for every call (~8% of a
 * Fashion-MNIST step on torch, batch norm reducing each activation twice); `broadcastTo` is one Tile
 * kernel on the backend. The values are the same: `dy · 1` is `dy`.
 */
function spread(dy: Tensor, x: Tensor, attrs: NamedAttrMap, divisor: (reducedSize: number) => number): Tensor {
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const [, reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  const expanded = x.shape.slice();
  for (const axis of axes) expanded[axis] = 1;
  const scale = divisor(util.sizeFromShape(reducedShape));
  const floatDy = dy.dtype === 'float32' ? dy : tf.cast(dy, 'float32');
  const reshaped = tf.reshape(floatDy, expanded);
  return tf.broadcastTo(scale === 1 ? reshaped : tf.div(reshaped, scale), x.shape);
}

const meanGradient: GradConfig = {
  kernelName: Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => ({ x: () => spread(dy as Tensor, saved[0]!, attrs, (size) => size) }),
};

const sumGradient: GradConfig = {
  kernelName: Sum,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => ({ x: () => spread(dy as Tensor, saved[0]!, attrs, () => 1) }),
};

/**
 * Registers Kindling's gradients of `Mean` and `Sum` in place of tfjs's (same values, no `ones` array made
 * in JavaScript per call). Gradients are global in TF.js: this serves every backend. Safe to call more than once.
 * @returns the names of the kernels whose gradient this call replaced.
 */
export function registerGradientFixes(): string[] {
  const replaced: string[] = [];
  for (const config of [meanGradient, sumGradient]) {
    if (getGradient(config.kernelName)?.gradFunc === config.gradFunc) continue;
    registerGradient(config);
    replaced.push(config.kernelName);
  }
  return replaced;
}
