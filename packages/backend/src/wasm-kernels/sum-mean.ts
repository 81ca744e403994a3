import { Mean, Sum, util, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { type WasmBackendLike, WasmKernels, original } from './kernels';

/**
 * Sum and Mean over leading axes (batch, height, width of NHWC: batch norm and bias gradients) as one
 * average pooling over a window that covers them: xnnpack pools in a single pass, where wasm's Sum and
 * Mean first transpose the reduced axes inward (ten times slower on a [2, 256, 256, 16] tensor).
 */
function leadingAxesReduction(kernelName: typeof Sum | typeof Mean): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const { x } = inputs as { x: TensorInfo };
      const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const reduced = axes.length;
      const leading = reduced > 0 && reduced < x.shape.length && axes.every((value, index) => value === index);
      const size = util.sizeFromShape(x.shape);
      if (x.dtype !== 'float32' || !leading || size === 0) return original(kernelName, args);
      const kernels = new WasmKernels(backend as WasmBackendLike);
      const outer = util.sizeFromShape(x.shape.slice(0, reduced - 1));
      const last = x.shape[reduced - 1]!;
      const kept = x.shape.slice(reduced);
      const channels = util.sizeFromShape(kept);
      const mean = kernels.call(
        'AvgPool',
        { x: kernels.reshape(x, [1, outer, last, channels]) },
        { filterSize: [outer, last], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined } as unknown as NamedAttrMap,
      );
      const result = kernelName === Mean ? mean : kernels.call('Multiply', { a: mean, b: kernels.fromValues(new Float32Array([outer * last]), [], 'float32') });
      return kernels.finish(kernels.reshape(result, keepDims ? [...x.shape.slice(0, reduced).map(() => 1), ...kept] : kept));
    },
  };
}

export const sumConfig = leadingAxesReduction(Sum);
export const meanConfig = leadingAxesReduction(Mean);
