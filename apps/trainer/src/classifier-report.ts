import type { DataLoader } from '@kindling/data';
import { accuracy, ClassificationInterpretation, crossEntropyLoss, fromLayersModel, Learner, lossChart } from '@kindling/learner';
import { progressBar, renderChartPng, renderConfusionMatrixPng, writeFileAtomic } from '@kindling/learner/node';
import { HEAD_LAYER } from '@kindling/models';
import { createBundle, type TaskSpec } from '@kindling/deploy';
import { saveBundle } from '@kindling/deploy/node';
import type * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { join } from 'node:path';

/** The Learner every classifier command trains: body and head split for fine-tuning, cross-entropy, accuracy, a progress bar. */
export function classifierLearner(model: tf.LayersModel, data: { train: DataLoader; valid?: DataLoader }, options: { quiet?: boolean; seed: number }): Learner {
  return new Learner({
    model: fromLayersModel(model, { splitAt: HEAD_LAYER }),
    data,
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    callbacks: options.quiet ? [] : [progressBar()],
    seed: options.seed,
  });
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
 * Returns the final validation accuracy.
 */
export async function writeClassifierRun(options: { learner: Learner; model: tf.LayersModel; task: TaskSpec & { labels: string[] }; outputDirectory: string; training: Record<string, unknown> }): Promise<number> {
  const { learner, model, task, outputDirectory, training } = options;
  const interpretation = await ClassificationInterpretation.fromLearner(learner, [...task.labels]);
  const final = learner.recorder.epochs.at(-1)!;
  const metrics = { validLoss: final.validLoss, accuracy: final.metrics.accuracy, mostConfused: interpretation.mostConfused() };
  await saveBundle(await createBundle(model, task, { metrics, training }), outputDirectory);
  await writeFileAtomic(join(outputDirectory, 'confusion-matrix.png'), renderConfusionMatrixPng(interpretation.classes, interpretation.confusionMatrix));
  await writeFileAtomic(join(outputDirectory, 'loss.png'), renderChartPng(lossChart(learner)));
  return final.metrics.accuracy!;
}
