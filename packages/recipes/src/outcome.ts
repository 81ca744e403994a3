import { DataError } from '@kindling/data';
import type { Callback, EpochRecord, Learner } from '@kindling/learner';
import type { OptionNamer } from './options';

/** Settings by their own names, when a caller gives no namer. */
const ownName: OptionNamer = (option) => option;

/** A run that trained but cannot be trusted (a loss that became NaN, metrics that are not numbers): no bundle is written. */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

/**
 * Stops before training when the split leaves no training or no validation items: a model trained on
 * nothing, or scored on nothing ("validation MSE NaN"), is not a result.
 */
export function requireSplit(split: { train: readonly number[]; valid: readonly number[] }, what: string, source: string, name: OptionNamer = ownName): void {
  const total = split.train.length + split.valid.length;
  if (split.train.length === 0 || split.valid.length === 0) {
    throw new DataError(`${total} ${what}: too few to train on some and hold out others for validation (${split.train.length} for training, ${split.valid.length} for validation; raise ${name('validPct')} or add data)`, { file: source });
  }
}

/**
 * The epoch whose weights a finished run ends with, checked: the last one, or the one `saveBest` put back
 * (stopping early). Training must have ended with a finite loss and finite validation figures, else a
 * TrainingError says what went wrong and that nothing was saved.
 */
export function finishedEpoch(learner: Learner, options: { metrics?: readonly string[]; name?: OptionNamer } = {}): EpochRecord {
  const name = options.name ?? ownName;
  const last = learner.recorder.epochs.at(-1);
  const final = learner.keptEpoch === undefined ? last : (learner.recorder.epochs.find((record) => record.epoch === learner.keptEpoch) ?? last);
  // the Learner's stopOnNaN callback stopped the fit: the weights stop short of a NaN step
  const stoppedOnNaN = learner.callback<Callback & { message?: string }>('stopOnNaN')?.message;
  if (stoppedOnNaN !== undefined || final === undefined) {
    throw new TrainingError(`training failed: ${stoppedOnNaN ?? learner.stopReason ?? 'no epoch finished'}; no bundle was written (try a lower ${name('lr')}, or look for huge or broken values in the data)`);
  }
  const figures: Array<[string, number]> = [['train loss', final.trainLoss], ...(final.validated ? ([['validation loss', final.validLoss], ...Object.entries(final.metrics).filter(([name]) => options.metrics?.includes(name) ?? true)] as Array<[string, number]>) : [])];
  const broken = figures.find(([, value]) => !Number.isFinite(value));
  if (broken !== undefined) throw new TrainingError(`training ended with ${broken[0]} ${broken[1]} at epoch ${final.epoch + 1}; no bundle was written (try a lower ${name('lr')}, or look for huge or broken values in the data)`);
  return final;
}

/** Exit status of a run that finished and wrote its bundle, but whose model does not beat the trivial answer. */
export const NO_BETTER_THAN_BASELINE = 3;

/**
 * Compares the model with the answer that needs no model (the most common class, the training mean):
 * when it does not beat it, says so to `warn` (the CLI writes it on stderr, as the run's last line) and returns
 * false, which the CLI turns into exit status 3. The bundle is kept: it is what was trained.
 */
export function beatsBaseline(figures: { metric: string; model: number; baseline: number; baselineName: string; higherIsBetter: boolean; format: (value: number) => string }, warn: (line: string) => void, name: OptionNamer = ownName): boolean {
  const { metric, model, baseline, baselineName, higherIsBetter, format } = figures;
  const beats = higherIsBetter ? model > baseline : model < baseline;
  if (!beats) {
    warn(`${metric} ${format(model)} does not beat ${baselineName} (${format(baseline)}): the model learned nothing useful; train longer (${name('epochs')}), try another ${name('lr')}, or check the labels`);
  }
  return beats;
}

/** Accuracy of always answering the most common class of a confusion matrix (rows: actual classes). */
export function majorityOf(confusionMatrix: readonly (readonly number[])[], labels: readonly string[]): { accuracy: number; label: string } {
  const actual = confusionMatrix.map((row) => row.reduce((sum, count) => sum + count, 0));
  const total = actual.reduce((sum, count) => sum + count, 0);
  const best = actual.indexOf(Math.max(...actual));
  return { accuracy: total === 0 ? Number.NaN : actual[best]! / total, label: labels[best]! };
}

/** RMSE of always answering the mean of `train` on `valid`. */
export function meanBaselineRmse(train: ArrayLike<number>, valid: ArrayLike<number>): { rmse: number; mean: number } {
  let sum = 0;
  for (let k = 0; k < train.length; k++) sum += train[k]!;
  const mean = sum / train.length;
  let squares = 0;
  for (let k = 0; k < valid.length; k++) squares += (valid[k]! - mean) ** 2;
  return { rmse: Math.sqrt(squares / valid.length), mean };
}
