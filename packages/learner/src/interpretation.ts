import * as tf from '@tensorflow/tfjs';
import type { DataLoader } from '@kindling/data';
import type { Learner } from './learner';

export interface TopLoss {
  /** Position of the item in the loader's order. */
  index: number;
  loss: number;
  predicted: string;
  actual: string;
  probability: number;
}

/**
 * What a classifier gets wrong, as plain data a page can draw and the Node entry point renders:
 * the confusion matrix, the most confused pairs and the items with the highest loss.
 */
export class ClassificationInterpretation {
  private constructor(
    readonly classes: string[],
    /** `matrix[actual][predicted]` counts. */
    readonly confusionMatrix: number[][],
    readonly losses: Float32Array,
    readonly predicted: Int32Array,
    readonly actual: Int32Array,
    readonly probabilities: Float32Array,
  ) {}

  /** Runs the model over a loader (the validation set by default) and keeps what interpretation needs. */
  static async fromLearner(learner: Learner, classes: string[], loader: DataLoader | undefined = learner.data.valid): Promise<ClassificationInterpretation> {
    const { predictions, targets } = await learner.getPredictions(loader);
    const [losses, predicted, actual, probabilities] = tf.tidy(() => {
      const count = targets.shape[0]!;
      const logits = predictions.reshape([count, -1]);
      const labels = targets.reshape([count]).toInt();
      const logProbabilities = tf.logSoftmax(logits);
      const perItem = tf.oneHot(labels, logits.shape[1]!).toFloat().mul(logProbabilities).sum(-1).neg();
      return [perItem, logits.argMax(-1), labels, logProbabilities.max(-1).exp()];
    });
    tf.dispose([predictions, targets]);
    const matrix = classes.map(() => new Array<number>(classes.length).fill(0));
    let values: [Float32Array, Int32Array, Int32Array, Float32Array];
    try {
      // asynchronous reads: a synchronous one stalls a GPU backend
      values = (await Promise.all([losses!.data(), predicted!.data(), actual!.data(), probabilities!.data()])) as typeof values;
    } finally {
      tf.dispose([losses!, predicted!, actual!, probabilities!]);
    }
    const [lossValues, predictedValues, actualValues, probabilityValues] = values;
    for (let i = 0; i < actualValues.length; i++) matrix[actualValues[i]!]![predictedValues[i]!]! += 1;
    return new ClassificationInterpretation(classes, matrix, lossValues, predictedValues, actualValues, probabilityValues);
  }

  /** Pairs (actual, predicted, count) with at least `minimum` mistakes, most first. */
  mostConfused(minimum = 1): Array<{ actual: string; predicted: string; count: number }> {
    const pairs: Array<{ actual: string; predicted: string; count: number }> = [];
    this.confusionMatrix.forEach((row, a) =>
      row.forEach((count, p) => {
        if (a !== p && count >= minimum) pairs.push({ actual: this.classes[a]!, predicted: this.classes[p]!, count });
      }),
    );
    return pairs.sort((x, y) => y.count - x.count);
  }

  /** The `k` items with the highest loss, with their predicted and true labels. */
  topLosses(k = 9): TopLoss[] {
    const order = Array.from(this.losses.keys()).sort((a, b) => this.losses[b]! - this.losses[a]!);
    return order.slice(0, k).map((index) => ({
      index,
      loss: this.losses[index]!,
      predicted: this.classes[this.predicted[index]!]!,
      actual: this.classes[this.actual[index]!]!,
      probability: this.probabilities[index]!,
    }));
  }
}

/** A line chart's data: named series of (x, y) points, for a page or the PNG renderer. */
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  series: Array<{ name: string; points: Array<[number, number]> }>;
}

/** Training loss per batch (raw and smoothed) and validation loss per epoch, against batches. */
export function lossChart(learner: Learner): Chart {
  const { losses, smoothLosses, epochs } = learner.recorder;
  const perEpoch = learner.iterationsPerEpoch ?? 1;
  return {
    title: 'Loss',
    xLabel: 'batches',
    yLabel: 'loss',
    series: [
      { name: 'train', points: losses.map((loss, i) => [i + 1, loss]) },
      { name: 'train (smoothed)', points: smoothLosses.map((loss, i) => [i + 1, loss]) },
      { name: 'valid', points: epochs.filter((e) => Number.isFinite(e.validLoss)).map((e) => [(e.epoch + 1) * perEpoch, e.validLoss]) },
    ],
  };
}

/** Learning rate and momentum per batch. */
export function scheduleChart(learner: Learner): Chart {
  return {
    title: 'Schedule',
    xLabel: 'batches',
    yLabel: 'value',
    series: [
      { name: 'lr', points: learner.recorder.lrs.map((lr, i) => [i + 1, lr]) },
      { name: 'momentum', points: learner.recorder.momentums.map((m, i) => [i + 1, m]) },
    ],
  };
}

/** The lr finder's curve, loss against learning rate on a log axis. */
export function lrFindChart(result: { lrs: number[]; losses: number[]; suggested: number }): Chart {
  return {
    title: `Learning rate finder (suggested ${result.suggested.toExponential(1)})`,
    xLabel: 'learning rate',
    yLabel: 'smoothed loss',
    logX: true,
    series: [{ name: 'loss', points: result.lrs.map((lr, i) => [lr, result.losses[i]!]) }],
  };
}
