import { DataError } from '@kindling/data';
import type { Callback, EpochRecord, Learner } from '@kindling/learner';

/** A run that trained but cannot be trusted (a loss that became NaN, metrics that are not numbers): no bundle is written. */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

/**
 * Stops before training when the split leaves no training or no validation items: a model trained on
 * nothing, or scored on nothing ("validation MSE NaN"), is not a result.
 */
export function requireSplit(split: { train: readonly number[]; valid: readonly number[] }, what: string, source: string): void {
  const total = split.train.length + split.valid.length;
  if (split.train.length === 0 || split.valid.length === 0) {
    throw new DataError(`${total} ${what}: too few to train on some and hold out others for validation (${split.train.length} for training, ${split.valid.length} for validation; raise --valid-pct or add data)`, { file: source });
  }
}

/**
 * The last epoch of a finished run, checked: training must have ended with a finite loss and finite
 * validation figures, else a TrainingError says what went wrong and that nothing was saved.
 */
export function finishedEpoch(learner: Learner, options: { metrics?: readonly string[] } = {}): EpochRecord {
  const final = learner.recorder.epochs.at(-1);
  // the Learner's stopOnNaN callback stopped the fit: the weights stop short of a NaN step
  const stoppedOnNaN = learner.callback<Callback & { message?: string }>('stopOnNaN')?.message;
  if (stoppedOnNaN !== undefined || final === undefined) {
    throw new TrainingError(`training failed: ${stoppedOnNaN ?? learner.stopReason ?? 'no epoch finished'}; no bundle was written (try a lower --lr, or look for huge or broken values in the data)`);
  }
  const figures: Array<[string, number]> = [['train loss', final.trainLoss], ...(final.validated ? ([['validation loss', final.validLoss], ...Object.entries(final.metrics).filter(([name]) => options.metrics?.includes(name) ?? true)] as Array<[string, number]>) : [])];
  const broken = figures.find(([, value]) => !Number.isFinite(value));
  if (broken !== undefined) throw new TrainingError(`training ended with ${broken[0]} ${broken[1]} at epoch ${final.epoch + 1}; no bundle was written (try a lower --lr, or look for huge or broken values in the data)`);
  return final;
}
