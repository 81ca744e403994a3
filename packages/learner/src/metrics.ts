import * as tf from '@tensorflow/tfjs';

/**
 * A metric accumulates over a whole validation pass and reports one number, so averages are
 * taken over items, not over batch means. `accumulate` may be asynchronous (the built-in ones are:
 * they read the GPU without stalling it); the Learner awaits it before the batch is disposed.
 */
export interface Metric {
  readonly name: string;
  reset(): void;
  accumulate(predictions: tf.Tensor, targets: tf.Tensor): void | Promise<void>;
  value(): number;
  /**
   * The sums `value()` is computed from (counts, totals), so that data-parallel training (`distributedTrainer`) can
   * add them up over the workers: `setSums` puts the added-up sums in place of this worker's. Every built-in metric
   * has them; a metric without them cannot be used in a distributed fit.
   */
  sums?(): number[];
  setSums?(sums: readonly number[]): void;
}

/** A metric that also has one value per class (IoU, Dice, precision, …). */
export interface PerClassMetric extends Metric {
  perClass(): number[];
}

/** Flattens logits `[..., classes]` and integer targets `[...]` to predicted and true class ids, dropping `ignoreIndex`. */
async function classPairs(predictions: tf.Tensor, targets: tf.Tensor, ignoreIndex?: number): Promise<{ predicted: Int32Array; actual: Int32Array; classes: number }> {
  const classes = predictions.shape[predictions.shape.length - 1]!;
  const [predicted, actual] = tf.tidy(() => [predictions.reshape([-1, classes]).argMax(-1), targets.reshape([-1]).toInt()]);
  let predictedValues: Int32Array;
  let actualValues: Int32Array;
  try {
    [predictedValues, actualValues] = (await Promise.all([predicted!.data(), actual!.data()])) as [Int32Array, Int32Array];
  } finally {
    tf.dispose([predicted!, actual!]);
  }
  if (ignoreIndex === undefined) return { predicted: predictedValues, actual: actualValues, classes };
  const keep: number[] = [];
  for (let i = 0; i < actualValues.length; i++) if (actualValues[i] !== ignoreIndex) keep.push(i);
  return {
    predicted: Int32Array.from(keep, (i) => predictedValues[i]!),
    actual: Int32Array.from(keep, (i) => actualValues[i]!),
    classes,
  };
}

/** Fraction of items (or pixels) whose arg-max class is the target. */
export function accuracy(options: { ignoreIndex?: number; name?: string } = {}): Metric {
  let correct = 0;
  let total = 0;
  return {
    name: options.name ?? 'accuracy',
    reset() {
      correct = 0;
      total = 0;
    },
    async accumulate(predictions, targets) {
      const { predicted, actual } = await classPairs(predictions, targets, options.ignoreIndex);
      for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) correct++;
      total += actual.length;
    },
    value: () => (total === 0 ? Number.NaN : correct / total),
    sums: () => [correct, total],
    setSums(sums) {
      [correct, total] = sums as [number, number];
    },
  };
}

/** 1 − accuracy. */
export function errorRate(options: { ignoreIndex?: number } = {}): Metric {
  const inner = accuracy(options);
  return { ...inner, name: 'errorRate', value: () => 1 - inner.value() };
}

/** Fraction of items whose target is among the `k` highest-scoring classes. */
export function topKAccuracy(k: number): Metric {
  let hits = 0;
  let total = 0;
  return {
    name: `top${k}Accuracy`,
    reset() {
      hits = 0;
      total = 0;
    },
    async accumulate(predictions, targets) {
      const classes = predictions.shape[predictions.shape.length - 1]!;
      const hit = tf.tidy(() => {
        const { indices } = tf.topk(predictions.reshape([-1, classes]), Math.min(k, classes));
        return indices.equal(targets.reshape([-1, 1]).toInt()).any(-1).toFloat().sum();
      });
      try {
        hits += (await hit.data())[0]!;
      } finally {
        hit.dispose();
      }
      total += targets.size;
    },
    value: () => (total === 0 ? Number.NaN : hits / total),
    sums: () => [hits, total],
    setSums(sums) {
      [hits, total] = sums as [number, number];
    },
  };
}

/** Counts a confusion matrix over the validation set; the per-class metrics below read it. */
function confusionCounts(ignoreIndex?: number) {
  let matrix: number[][] = [];
  return {
    reset() {
      matrix = [];
    },
    async accumulate(predictions: tf.Tensor, targets: tf.Tensor) {
      const { predicted, actual, classes } = await classPairs(predictions, targets, ignoreIndex);
      if (matrix.length === 0) matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
      for (let i = 0; i < actual.length; i++) {
        const row = matrix[actual[i]!];
        if (row !== undefined) row[predicted[i]!]! += 1;
      }
    },
    /** The matrix row after row (empty before the first batch). */
    sums: () => matrix.flat(),
    setSums(sums: readonly number[]) {
      const classes = Math.round(Math.sqrt(sums.length));
      if (classes * classes !== sums.length) throw new RangeError(`a confusion matrix's sums are a square number of counts, not ${sums.length}`);
      matrix = Array.from({ length: classes }, (_, row) => sums.slice(row * classes, (row + 1) * classes));
    },
    /** Per class: true positives, false positives, false negatives. */
    perClass(): Array<{ tp: number; fp: number; fn: number }> {
      return matrix.map((row, c) => {
        const tp = row[c]!;
        const fn = row.reduce((a, b) => a + b, 0) - tp;
        const fp = matrix.reduce((sum, other) => sum + other[c]!, 0) - tp;
        return { tp, fp, fn };
      });
    },
  };
}

type Score = (counts: { tp: number; fp: number; fn: number }) => number;

function perClassMetric(name: string, score: Score, ignoreIndex?: number, average: 'macro' | number = 'macro'): PerClassMetric {
  const counts = confusionCounts(ignoreIndex);
  // The ignored class (segmentation's void) has no score: its pixels are left out, so it would only collect false positives.
  const perClass = () => counts.perClass().map((entry, c) => (c === ignoreIndex ? Number.NaN : score(entry)));
  return {
    name,
    reset: counts.reset,
    accumulate: counts.accumulate,
    sums: counts.sums,
    setSums: counts.setSums,
    perClass,
    value() {
      const values = perClass();
      if (typeof average === 'number') return values[average] ?? Number.NaN;
      const defined = values.filter((v) => !Number.isNaN(v));
      return defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
    },
  };
}

const ratio = (numerator: number, denominator: number) => (denominator === 0 ? Number.NaN : numerator / denominator);

export interface ClassMetricOptions {
  ignoreIndex?: number;
  /** `'macro'` (mean over classes, the default) or one class index. */
  average?: 'macro' | number;
}

/** Precision (macro-averaged by default): of the items predicted as a class, how many are. */
export function precision(options: ClassMetricOptions = {}): PerClassMetric {
  return perClassMetric('precision', ({ tp, fp }) => ratio(tp, tp + fp), options.ignoreIndex, options.average);
}

/** Recall (macro-averaged by default): of the items of a class, how many were found. */
export function recall(options: ClassMetricOptions = {}): PerClassMetric {
  return perClassMetric('recall', ({ tp, fn }) => ratio(tp, tp + fn), options.ignoreIndex, options.average);
}

/** F1 (macro-averaged by default): harmonic mean of precision and recall. */
export function f1Score(options: ClassMetricOptions = {}): PerClassMetric {
  return perClassMetric('f1', ({ tp, fp, fn }) => ratio(2 * tp, 2 * tp + fp + fn), options.ignoreIndex, options.average);
}

/** Dice per class, 2|A∩B| / (|A|+|B|), over every pixel of the validation set; mean over classes by default. */
export function dice(options: ClassMetricOptions = {}): PerClassMetric {
  return perClassMetric('dice', ({ tp, fp, fn }) => ratio(2 * tp, 2 * tp + fp + fn), options.ignoreIndex, options.average);
}

/** Intersection over union per class, |A∩B| / |A∪B|; mean IoU by default. */
export function iou(options: ClassMetricOptions = {}): PerClassMetric {
  return perClassMetric(options.average === undefined || options.average === 'macro' ? 'meanIoU' : 'iou', ({ tp, fp, fn }) => ratio(tp, tp + fp + fn), options.ignoreIndex, options.average);
}

/** Sums of a regression pass, from which each regression metric is computed. */
function regressionSums(name: string, finish: (sums: { n: number; error: number; squaredError: number; absoluteError: number; target: number; squaredTarget: number }) => number): Metric {
  const sums = { n: 0, error: 0, squaredError: 0, absoluteError: 0, target: 0, squaredTarget: 0 };
  return {
    name,
    reset() {
      Object.assign(sums, { n: 0, error: 0, squaredError: 0, absoluteError: 0, target: 0, squaredTarget: 0 });
    },
    async accumulate(predictions, targets) {
      const values = tf.tidy(() => {
        const y = targets.toFloat().reshape([-1]);
        const difference = predictions.reshape([-1]).sub(y);
        return tf.stack([difference.square().sum(), difference.abs().sum(), y.sum(), y.square().sum()]);
      });
      let sumsRead: Float32Array;
      try {
        sumsRead = (await values.data()) as Float32Array;
      } finally {
        values.dispose();
      }
      const [squaredError, absoluteError, target, squaredTarget] = sumsRead;
      sums.n += targets.size;
      sums.squaredError += squaredError!;
      sums.absoluteError += absoluteError!;
      sums.target += target!;
      sums.squaredTarget += squaredTarget!;
    },
    value: () => (sums.n === 0 ? Number.NaN : finish(sums)),
    sums: () => [sums.n, sums.squaredError, sums.absoluteError, sums.target, sums.squaredTarget],
    setSums(values) {
      const [n, squaredError, absoluteError, target, squaredTarget] = values as [number, number, number, number, number];
      Object.assign(sums, { n, squaredError, absoluteError, target, squaredTarget });
    },
  };
}

export const mse = (): Metric => regressionSums('mse', (s) => s.squaredError / s.n);
export const rmse = (): Metric => regressionSums('rmse', (s) => Math.sqrt(s.squaredError / s.n));
export const mae = (): Metric => regressionSums('mae', (s) => s.absoluteError / s.n);
/** Coefficient of determination: 1 − SS_res / SS_tot. */
export const r2Score = (): Metric =>
  regressionSums('r2', (s) => 1 - s.squaredError / (s.squaredTarget - (s.target * s.target) / s.n));
