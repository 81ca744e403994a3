import * as tf from '@tensorflow/tfjs';

/** A loss: targets and predictions of one batch in, the mean loss as a scalar out. */
export type LossFunction = (targets: tf.Tensor, predictions: tf.Tensor) => tf.Scalar;

export interface CrossEntropyOptions {
  /** Targets equal to this class index count for nothing (segmentation's `void`). */
  ignoreIndex?: number;
  /** A weight per class, to make rare classes count more. */
  classWeights?: number[];
  /** Label smoothing ε: the target puts 1−ε on its class and ε spread over all. Default 0. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between integer class targets and logits over the last axis: `[batch, classes]`
 * with `[batch]` targets, or per pixel (`[batch, h, w, classes]` with `[batch, h, w]` targets).
 * The mean runs over the counted items (ignored ones excluded, weighted by class weight).
 */
export function crossEntropyLoss(options: CrossEntropyOptions = {}): LossFunction {
  const { ignoreIndex, classWeights, labelSmoothing = 0 } = options;
  return (targets, logits) =>
    tf.tidy(() => {
      const classes = logits.shape[logits.shape.length - 1]!;
      const flatLogits = logits.reshape([-1, classes]);
      const flatTargets = targets.reshape([-1]).toInt();
      const logProbabilities = tf.logSoftmax(flatLogits);
      const valid = ignoreIndex === undefined ? tf.onesLike(flatTargets).toFloat() : flatTargets.notEqual(ignoreIndex).toFloat();
      // Ignored targets may lie outside [0, classes): clamp them before one-hot; `valid` zeroes them.
      const safeTargets = ignoreIndex === undefined ? flatTargets : flatTargets.mul(valid.toInt());
      const oneHot = tf.oneHot(safeTargets, classes).toFloat();
      let perItem = oneHot.mul(logProbabilities).sum(-1).neg();
      if (labelSmoothing > 0) {
        perItem = perItem.mul(1 - labelSmoothing).add(logProbabilities.mean(-1).neg().mul(labelSmoothing));
      }
      let weight = valid;
      if (classWeights !== undefined) {
        if (classWeights.length !== classes) throw new Error(`classWeights has ${classWeights.length} entries for ${classes} classes`);
        weight = weight.mul(tf.gather(tf.tensor1d(classWeights), safeTargets));
      }
      return perItem.mul(weight).sum().div(weight.sum().maximum(1e-8)) as tf.Scalar;
    });
}

/** Binary cross-entropy between 0/1 targets and logits of the same shape. */
export function binaryCrossEntropyLoss(): LossFunction {
  return (targets, logits) =>
    tf.tidy(() => {
      const y = targets.toFloat().reshape(logits.shape);
      // max(z, 0) − z·y + log(1 + e^−|z|): stable for large |z|.
      return logits.relu().sub(logits.mul(y)).add(logits.abs().neg().exp().log1p()).mean() as tf.Scalar;
    });
}

/** Mean squared error. */
export function mseLoss(): LossFunction {
  return (targets, predictions) =>
    tf.tidy(() => predictions.sub(targets.toFloat().reshape(predictions.shape)).square().mean() as tf.Scalar);
}

/** Mean absolute error. */
export function l1Loss(): LossFunction {
  return (targets, predictions) =>
    tf.tidy(() => predictions.sub(targets.toFloat().reshape(predictions.shape)).abs().mean() as tf.Scalar);
}

/**
 * Soft Dice loss for segmentation logits `[b, h, w, classes]` and integer targets `[b, h, w]`:
 * 1 − mean over classes of 2·|A∩B| / (|A|+|B|), on softmax probabilities.
 */
export function diceLoss(options: { ignoreIndex?: number; smooth?: number } = {}): LossFunction {
  const { ignoreIndex, smooth = 1 } = options;
  return (targets, logits) =>
    tf.tidy(() => {
      const classes = logits.shape[logits.shape.length - 1]!;
      const probabilities = tf.softmax(logits.reshape([-1, classes]));
      const flatTargets = targets.reshape([-1]).toInt();
      const valid = ignoreIndex === undefined ? tf.onesLike(flatTargets).toFloat() : flatTargets.notEqual(ignoreIndex).toFloat();
      const oneHot = tf.oneHot(flatTargets.mul(valid.toInt()), classes).toFloat().mul(valid.expandDims(1));
      const masked = probabilities.mul(valid.expandDims(1));
      const intersection = masked.mul(oneHot).sum(0);
      const total = masked.sum(0).add(oneHot.sum(0));
      return tf.scalar(1).sub(intersection.mul(2).add(smooth).div(total.add(smooth)).mean()) as tf.Scalar;
    });
}
