import type { Callback, EpochRecord, TrainingHistory, TrainingLoop } from '../events';
import { batchSizeOf } from '@kindling/data';

export type { EpochRecord } from '../events';

/**
 * Records losses, learning rates and momentums per batch, and losses and metrics per epoch.
 * Every Learner has one (`learner.recorder`); metrics are accumulated over the whole validation set.
 */
export class Recorder implements Callback, TrainingHistory {
  readonly name = 'recorder';
  readonly order = 50;
  /** Training loss of every batch. */
  losses: number[] = [];
  /** Exponentially smoothed, debiased training loss of every batch (β = 0.98), as fastai plots. */
  smoothLosses: number[] = [];
  /** Learning rate (of the last group) at every batch. */
  lrs: number[] = [];
  momentums: number[] = [];
  epochs: EpochRecord[] = [];
  lastValidation: { loss: number; metrics: Record<string, number> } = { loss: Number.NaN, metrics: {} };

  private average = 0;
  private count = 0;
  private trainSum = 0;
  private trainItems = 0;
  private validSum = 0;
  private validItems = 0;
  private startedAt = 0;
  private pendingTrainLoss = Number.NaN;
  private validatedThisEpoch = false;
  private validationCancelled = false;

  beforeFit(): void {
    this.average = 0;
    this.count = 0;
  }

  beforeEpoch(): void {
    this.startedAt = performance.now();
    this.pendingTrainLoss = Number.NaN;
    this.validatedThisEpoch = false;
  }

  beforeTrain(): void {
    this.trainSum = 0;
    this.trainItems = 0;
  }

  beforeValidate(learner: TrainingLoop): void {
    this.validSum = 0;
    this.validItems = 0;
    for (const metric of learner.metrics) metric.reset();
  }

  async afterBatch(learner: TrainingLoop): Promise<void> {
    const items = batchSizeOf(learner.batch!);
    if (learner.training) {
      this.losses.push(learner.lossValue);
      this.count++;
      this.average = 0.98 * this.average + 0.02 * learner.lossValue;
      this.smoothLosses.push(this.average / (1 - 0.98 ** this.count));
      const hyper = learner.optimizer.hyper.at(-1)!;
      this.lrs.push(hyper.lr);
      this.momentums.push(hyper.momentum);
      this.trainSum += learner.lossValue * items;
      this.trainItems += items;
    } else {
      this.validSum += learner.lossValue * items;
      this.validItems += items;
      for (const metric of learner.metrics) await metric.accumulate(learner.predictions!, learner.batch!.targets);
    }
  }

  afterTrain(): void {
    this.pendingTrainLoss = this.trainItems === 0 ? Number.NaN : this.trainSum / this.trainItems;
  }

  /** A cancelled validation (skipped, or stopped part-way) records nothing: its metrics would be stale or partial. */
  afterCancelValidate(): void {
    this.validationCancelled = true;
  }

  afterValidate(learner: TrainingLoop): void {
    if (this.validationCancelled) {
      this.validationCancelled = false;
      return;
    }
    const metrics: Record<string, number> = {};
    for (const metric of learner.metrics) metrics[metric.name] = metric.value();
    this.lastValidation = { loss: this.validItems === 0 ? Number.NaN : this.validSum / this.validItems, metrics };
    this.validatedThisEpoch = true;
  }

  afterEpoch(learner: TrainingLoop): void {
    const validated = this.validatedThisEpoch;
    this.epochs.push({
      epoch: learner.epoch,
      trainLoss: this.pendingTrainLoss,
      validLoss: validated ? this.lastValidation.loss : Number.NaN,
      metrics: validated ? { ...this.lastValidation.metrics } : {},
      validated,
      seconds: (performance.now() - this.startedAt) / 1000,
    });
  }

  /** The validation pass's loss summed over its items, and the items (what its loss is the mean of). */
  validationSums(): [loss: number, items: number] {
    return [this.validSum, this.validItems];
  }

  /** Replaces the validation pass's sums before it closes (data-parallel training adds them up over the workers). */
  setValidationSums([loss, items]: readonly [number, number]): void {
    this.validSum = loss;
    this.validItems = items;
  }

  /** The smoothed training loss right now. */
  get smoothLoss(): number {
    return this.smoothLosses.at(-1) ?? Number.NaN;
  }

  toJSON(): { losses: number[]; lrs: number[]; momentums: number[]; epochs: EpochRecord[] } {
    return {
      losses: this.losses.slice(),
      lrs: this.lrs.slice(),
      momentums: this.momentums.slice(),
      epochs: this.epochs.map((record) => ({ ...record, metrics: { ...record.metrics } })),
    };
  }

  loadJSON(saved: unknown): void {
    const value = saved as Partial<ReturnType<Recorder['toJSON']>>;
    this.losses = value.losses?.slice() ?? [];
    this.smoothLosses = [];
    this.lrs = value.lrs?.slice() ?? [];
    this.momentums = value.momentums?.slice() ?? [];
    this.epochs = value.epochs?.map((record) => ({ ...record, validated: record.validated ?? !Number.isNaN(record.validLoss), metrics: { ...record.metrics } })) ?? [];
  }
}
