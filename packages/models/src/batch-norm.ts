import * as tf from '@tensorflow/tfjs';

/**
 * The kernel of a batch norm in training, for backends that have one (`@kindling/backend-torch` runs it on libtorch:
 * PyTorch's own batch norm, one pass each way). Inputs `{ x, scale, offset }`, attrs `{ epsilon }`; outputs
 * `[y, mean, variance]`, statistics over every axis but the last (the batch's biased variance, as `tf.moments`).
 */
export const BATCH_NORM_TRAINING_KERNEL = 'KindlingBatchNormTraining';
/** Its gradients: inputs `{ dy, x, scale, mean, variance }`, attrs `{ epsilon, output }`; the gradient of `output` (`x`, `scale` or `offset`). */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'KindlingBatchNormTrainingGrad';

let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING_KERNEL,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      // the statistics only feed the moving averages, outside the loss: their gradients are zeros, left out. TF.js
      // asks for each input's gradient in its own scope, so each is a kernel call of its own
      const [gradient] = Array.isArray(dy) ? dy : [dy];
      const [x, scale, mean, variance] = saved;
      const inputs = { dy: gradient!, x: x!, scale: scale!, mean: mean!, variance: variance! };
      const of = (output: 'x' | 'scale' | 'offset') => () => tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, inputs, { ...attrs, output }) as tf.Tensor;
      return { x: of('x'), scale: of('scale'), offset: of('offset') };
    },
  });
}

/** Whether the active backend runs a batch norm's training step as one kernel. */
function fusedTraining(): boolean {
  return tf.getKernel(BATCH_NORM_TRAINING_KERNEL, tf.getBackend()) !== undefined && tf.getKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, tf.getBackend()) !== undefined;
}

/** What TF.js's BatchNormalization keeps and does not declare in its types. */
interface BatchNormalizationState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type LayerArguments = Parameters<typeof tf.layers.batchNormalization>[0];
// TF.js's class, from its serialization registry (its typings do not export it; an instance would take a layer name)
const BatchNormalizationBase = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization![0] as unknown as new (args?: LayerArguments) => tf.layers.Layer;

/**
 * TF.js's BatchNormalization, trained with one kernel each way where the backend has it (on torch: 4–8× fewer
 * passes over the activations than TF.js's composite of moments, normalization and their gradients), and exactly
 * TF.js's layer everywhere else. It saves as `BatchNormalization`, so a saved model loads anywhere as the plain
 * layer.
 */
class FusedBatchNormalization extends BatchNormalizationBase {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const state = this as unknown as BatchNormalizationState;
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const rank = input.rank;
    const lastAxis = state.axis === -1 || state.axis === rank - 1;
    if (kwargs.training !== true || !lastAxis || rank < 2 || !state.center || !state.scale || input.dtype !== 'float32' || !fusedTraining()) return super.call(inputs, kwargs);
    registerGradient();
    return tf.tidy(() => {
      const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING_KERNEL, { x: input, scale: state.gamma.read(), offset: state.beta.read() }, { epsilon: state.epsilon }) as tf.Tensor[];
      // the moving statistics as TF.js's layer updates them: moving −= (moving − batch) · (1 − momentum)
      for (const [variable, value] of [[state.movingMean, mean!], [state.movingVariance, variance!]] as const) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - state.momentum)));
        });
      }
      return y!;
    });
  }
}

/**
 * `tf.layers.batchNormalization`, with a training step of one kernel each way on backends that have one (torch). The
 * same arguments, the same weights, the same saved form: use it wherever a model of yours has batch norm.
 */
export function batchNormalization(args?: LayerArguments): tf.layers.Layer {
  return new FusedBatchNormalization(args);
}
