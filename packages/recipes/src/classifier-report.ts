import type { OptionNamer } from './options';
import { DataError, type DataLoader, type ItemDataLoader } from '@kindling/data';
import { ClassificationInterpretation, lossChart, type Learner } from '@kindling/learner';
import { renderChartPng, renderConfusionMatrixPng, writeFileAtomic } from '@kindling/learner/node';
import { createBundle, describeValues, doubtOf, familiarityOf, featureFamiliarityOf, softmaxAndFeatures, type Familiarity, type InputDescriptors, type TaskSpec } from '@kindling/deploy';
import { HEAD_LAYER } from '@kindling/models';
import { saveBundle } from '@kindling/deploy/node';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { join } from 'node:path';
import { beatsBaseline, finishedEpoch, majorityOf } from './outcome';

/**
 * Says which files were skipped as unreadable (skipped, not stopped at), and stops when that left a class
 * with no training file: the model would have a class it never saw, and its accuracy would lie.
 */
export function reportSkipped(data: { train: ItemDataLoader<string>; valid: ItemDataLoader<string> }, labels: readonly string[], say: (line: string) => void): void {
  const skipped = [...data.train.skipped, ...data.valid.skipped];
  if (skipped.length === 0) return;
  say(`skipped ${skipped.length} file(s) that could not be read:`);
  for (const entry of skipped) say(`  ${entry.message}`);
  const counts = data.train.loadedClassCounts(labels.length);
  const empty = labels.filter((_, index) => counts[index] === 0);
  if (empty.length > 0) throw new DataError(`every training file of class ${empty.map((label) => `'${label}'`).join(', ')} was skipped as unreadable: fix or remove the class; no bundle was written`);
}

/** The per-epoch results table every classifier command prints. */
export function epochTable(learner: Learner, metrics: string[]): string {
  const table = new Table({ head: ['epoch', 'train loss', 'valid loss', ...metrics, 'seconds'], style: { head: [], border: [] } });
  for (const record of learner.recorder.epochs) {
    table.push([record.epoch + 1, record.trainLoss.toFixed(4), record.validLoss.toFixed(4), ...metrics.map((name) => record.metrics[name]!.toFixed(4)), record.seconds.toFixed(1)]);
  }
  return table.toString();
}

/**
 * What every classifier command writes at the end of training: the bundle (model, and a `kindling.json`
 * with the task, validation metrics and the most confused pairs), `confusion-matrix.png` and `loss.png`.
 * Returns the final validation accuracy, and that of always answering the most common validation class.
 */
export async function writeClassifierRun(options: {
  learner: Learner;
  model: tf.LayersModel;
  task: TaskSpec & { labels: string[] };
  outputDirectory: string;
  training: Record<string, unknown>;
  /**
   * The answers the bundle gives when they are not the model's plain ones (test-time augmentation; a recording
   * answered by its windows): their validation accuracy, the name the plain accuracy is kept under in the metrics,
   * and, when they are not one per model input, the accuracy of always answering their commonest class.
   */
  served?: { accuracy: number; plainName: string; majority?: { accuracy: number; label: string } };
  /** How messages name a setting (the CLI's flags). */
  name?: OptionNamer;
}): Promise<{ accuracy: number; majority: { accuracy: number; label: string }; notSure?: { share: number; accuracy: number | null } }> {
  const { learner, model, task, outputDirectory, training, served } = options;
  const final = finishedEpoch(learner, { name: options.name });
  const interpretation = await ClassificationInterpretation.fromLearner(learner, [...task.labels]);
  const accuracy = served?.accuracy ?? final.metrics.accuracy!;
  // the predictors measure their inputs' features too (a recording's per window, as the model was trained on them)
  const familiar = await familiarityFrom(learner.data, interpretation, model);
  const metrics = {
    validLoss: final.validLoss,
    accuracy,
    ...(served === undefined ? {} : { [served.plainName]: final.metrics.accuracy }),
    mostConfused: interpretation.mostConfused(),
    ...(familiar === undefined ? {} : { notSure: familiar.heldOut }),
  };
  const withFamiliarity = familiar === undefined ? task : { ...task, familiarity: familiar.familiarity };
  await saveBundle(await createBundle(model, withFamiliarity, { metrics, training }), outputDirectory);
  await writeFileAtomic(join(outputDirectory, 'confusion-matrix.png'), await renderConfusionMatrixPng(interpretation.classes, interpretation.confusionMatrix));
  await writeFileAtomic(join(outputDirectory, 'loss.png'), await renderChartPng(lossChart(learner)));
  return { accuracy, majority: served?.majority ?? majorityOf(interpretation.confusionMatrix, task.labels), notSure: familiar?.heldOut };
}

/** At most this many training inputs are described for the bundle's familiarity. */
export const DESCRIBED = 5000;

/** The descriptors of a loader's picture-like inputs (`[n, height, width, channels]`), at most `limit` of them. */
export async function describeLoader(loader: DataLoader, limit: number): Promise<InputDescriptors[] | undefined> {
  return (await readLoader(loader, limit))?.descriptors;
}

/**
 * A loader's inputs described, at most `limit`: their descriptors, their class indices and, with a model that has a
 * classifier head (`HEAD_LAYER`), the model's features of each (the pooling before the head).
 */
async function readLoader(loader: DataLoader, limit: number, model?: tf.LayersModel): Promise<{ descriptors: InputDescriptors[]; labels: number[]; features?: Float32Array[] } | undefined> {
  const iterator = loader[Symbol.asyncIterator]?.() ?? loader[Symbol.iterator]!();
  const descriptors: InputDescriptors[] = [];
  const labels: number[] = [];
  const withFeatures = model !== undefined && model.layers.some((layer) => layer.name === HEAD_LAYER);
  const features: Float32Array[] = [];
  try {
    while (descriptors.length < limit) {
      const next = await iterator.next();
      if (next.done === true) break;
      const { inputs, targets } = next.value;
      try {
        if (Array.isArray(inputs) || inputs.rank !== 4) return undefined;
        const [count, height, width, channels] = inputs.shape as [number, number, number, number];
        const taken = Math.min(count, limit - descriptors.length);
        const values = (await inputs.data()) as Float32Array;
        const area = height * width * channels;
        for (let item = 0; item < taken; item++) descriptors.push(describeValues(values.subarray(item * area, (item + 1) * area), [height, width, channels]));
        labels.push(...Array.from((await targets.data()) as Int32Array).slice(0, taken));
        if (withFeatures) features.push(...(await softmaxAndFeatures(model, HEAD_LAYER, () => inputs.slice(0, taken))).features!);
      } finally {
        tf.dispose([inputs, targets]);
      }
    }
  } finally {
    await iterator.return?.();
  }
  return { descriptors, labels, ...(withFeatures ? { features } : {}) };
}

/**
 * What the bundle's answers marked "not sure" rest on: the descriptors of the training inputs (not augmented,
 * where the loaders can give them so) and what the model makes of them (its features, per class), and the
 * confidence of the held-out answers; and how many held-out answers that marks, and how often those were right.
 */
async function familiarityFrom(data: { train: DataLoader; valid?: DataLoader }, interpretation: ClassificationInterpretation, model: tf.LayersModel | undefined): Promise<{ familiarity: Familiarity; heldOut: { share: number; accuracy: number | null } } | undefined> {
  const training = await readLoader(plainTraining(data), DESCRIBED, model);
  if (training === undefined || training.descriptors.length === 0) return undefined;
  const correct = Array.from(interpretation.actual, (actual, index) => actual === interpretation.predicted[index]);
  const described = familiarityOf(training.descriptors, { confidences: interpretation.probabilities, correct });
  const valid = data.valid === undefined ? undefined : await readLoader(data.valid, interpretation.actual.length, model);
  // the features' limit is calibrated on the held-out inputs too, as the confidence level is
  const familiarity = training.features === undefined ? described : { ...described, features: featureFamiliarityOf(HEAD_LAYER, training.features, training.labels, interpretation.classes.length, valid?.features) };
  if (valid === undefined || valid.descriptors.length !== correct.length) return { familiarity, heldOut: { share: 0, accuracy: null } };
  const marked = valid.descriptors.map((descriptors, index) => doubtOf(familiarity, descriptors, interpretation.probabilities[index]!, undefined, valid.features?.[index]) !== undefined);
  const count = marked.filter(Boolean).length;
  const right = marked.filter((flag, index) => flag && correct[index]).length;
  return { familiarity, heldOut: { share: count / valid.descriptors.length, accuracy: count === 0 ? null : right / count } };
}

/**
 * The training inputs as a prediction sees its inputs: not augmented (a data block's `plainTrain()`), where the
 * loaders have it. Augmentation (masks, crops, noise) stretches the ranges towards what no real input looks like:
 * a spoken digit's spectrogram with a time mask is as steady as a tone.
 */
export function plainTraining(data: { train: DataLoader }): DataLoader {
  const plain = (data as { plainTrain?: unknown }).plainTrain;
  return typeof plain === 'function' ? (plain as () => DataLoader).call(data) : data.train;
}

/** The line a classifier run prints about its "not sure" answers. */
export function notSureLine(notSure: { share: number; accuracy: number | null } | undefined): string | undefined {
  if (notSure === undefined) return undefined;
  const right = notSure.accuracy === null ? '' : `, right ${(notSure.accuracy * 100).toFixed(0)}% of the time`;
  return `answers for inputs unlike the training ones, or less sure than held-out answers had to be, are marked "not sure": ${(notSure.share * 100).toFixed(1)}% of the validation answers${right}`;
}

/** The run's last word on a classifier: a warning and `false` when it does not beat the most common class. */
export function classifierBeatsMajority(run: { accuracy: number; majority: { accuracy: number; label: string } }, warn: (line: string) => void, name?: OptionNamer): boolean {
  return beatsBaseline({ metric: 'validation accuracy', model: run.accuracy, baseline: run.majority.accuracy, baselineName: `always answering '${run.majority.label}'`, higherIsBetter: true, format: (value) => `${(value * 100).toFixed(1)}%` }, warn, name);
}

/**
 * The last lines of a classifier run — the share of "not sure" answers, the validation accuracy and what was
 * written (with `picture`, the one that shows what the model sees), then `after` — and its verdict: false, with a
 * warning as the very last line, when it does not beat always answering the most common class.
 */
export function reportClassifierRun(
  run: { accuracy: number; majority: { accuracy: number; label: string }; notSure?: { share: number; accuracy: number | null } },
  report: { say: (line: string) => void; warn: (line: string) => void; outputDirectory: string; picture?: string; after?: readonly string[]; name?: OptionNamer },
): boolean {
  const { say, warn, outputDirectory, picture, after = [], name } = report;
  const doubt = notSureLine(run.notSure);
  if (doubt !== undefined) say(doubt);
  say(`validation accuracy ${(run.accuracy * 100).toFixed(1)}%; the bundle (kindling.json, model.json, weights.bin), ${picture === undefined ? '' : `${picture} (what the model sees), `}confusion-matrix.png and loss.png are in ${outputDirectory}`);
  for (const line of after) say(line);
  return classifierBeatsMajority(run, warn, name);
}
