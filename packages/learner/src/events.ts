/**
 * The contract between the training loop and everything around it: the closed list of events, what a callback is,
 * and what a callback, a schedule or the lr finder may read and call on the loop (`TrainingLoop`, which the
 * `Learner` implements). Those modules import this one, never the Learner, so the loop and its callbacks form no
 * cycle.
 */
import { recognisedAcrossCopies, type Batch, type DataLoader } from '@kindling/data';
import type * as tf from '@tensorflow/tfjs';
import type { Metric } from './metrics';
import type { Optimizer, OptimizerState, SavedTensor } from './optimizer';
import type { TrainableModel } from './parameters';

/**
 * The closed list of events the training loop fires, in the order fastai fires them. Everything
 * beyond the bare loop (metrics, schedules, progress, checkpoints) is a callback on these.
 */
export const EVENTS = [
  'beforeFit',
  'beforeEpoch',
  'beforeTrain',
  'beforeBatch',
  'afterPred',
  'afterLoss',
  'beforeBackward',
  'beforeStep',
  'afterCancelStep',
  'afterStep',
  'afterCancelBatch',
  'afterBatch',
  'afterCancelTrain',
  'afterTrain',
  'beforeValidate',
  'afterCancelValidate',
  'afterValidate',
  'afterCancelEpoch',
  'afterEpoch',
  'afterCancelFit',
  'afterFit',
] as const;

export type EventName = (typeof EVENTS)[number];

/**
 * Events fired inside the gradient tape, between the forward pass and the gradients. Their handlers
 * must be synchronous (they may read `learner.predictions` and `learner.lossTensor`, or throw to cancel).
 */
export const TAPE_EVENTS: ReadonlySet<EventName> = new Set(['afterPred', 'afterLoss', 'beforeBackward']);

/**
 * Handles one event. Written as a method so that a handler typed for the full `Learner` (which is what the loop
 * passes) is accepted where a `TrainingLoop` is promised.
 */
export type EventHandler = { handle(learner: TrainingLoop): void | Promise<void> }['handle'];

/** A callback: a plain object with an `order` (lower runs first) and handlers for any events. */
export type Callback = {
  /** Names a callback so it can be found (`learner.callback('recorder')`) or removed. */
  readonly name?: string;
  /** Lower runs first; the recorder runs at 50, schedules at 10, progress at 60, checkpoints at 70. Default 0. */
  readonly order?: number;
} & { [E in EventName]?: EventHandler };

/** What can be cancelled, and so which `afterCancel…` event follows. */
export type CancelScope = 'step' | 'batch' | 'train' | 'validate' | 'epoch' | 'fit';

/** Thrown by `learner.cancel(scope)`; the loop catches it at that scope and fires `afterCancel…`. */
export class CancelError extends Error {
  override readonly name = 'CancelError';
  constructor(
    readonly scope: CancelScope,
    readonly reason: string,
  ) {
    super(`${scope} cancelled: ${reason}`);
  }
}

// a callback built against another copy of the learner (CommonJS beside ESM) still cancels this loop
recognisedAcrossCopies(CancelError, 'CancelError');

/**
 * Learning rates: one number for every group; `[low, high]`, spread geometrically from the first
 * group (the body) to the last (the head); or one per group.
 */
export type LearningRates = number | readonly number[];

export interface FitOptions {
  lr?: LearningRates;
  weightDecay?: number;
  /** Callbacks for this fit only (schedules, the lr finder). */
  callbacks?: Callback[];
  /** Continue from the last checkpoint in this store, if it holds one. */
  resumeFrom?: CheckpointStore;
}

/** Everything needed to continue training exactly where it stopped. */
export interface TrainingState {
  format: 'kindling-checkpoint@1';
  /** The last completed epoch. */
  epoch: number;
  epochs: number;
  trainIteration: number;
  randomState: number;
  weights: SavedTensor[];
  optimizer: OptimizerState;
  history?: unknown;
}

/** Where checkpoints go. The Node entry point has a file-system store; tests use memory. */
export interface CheckpointStore {
  save(state: TrainingState): Promise<void>;
  load(): Promise<TrainingState | undefined>;
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's items. */
  trainLoss: number;
  /** Mean validation loss over the validation items (NaN without validation data). */
  validLoss: number;
  metrics: Record<string, number>;
  /** Whether the epoch ended with a whole validation pass (not skipped or cancelled, e.g. by `validateEvery`). */
  validated: boolean;
  seconds: number;
}

/** The run's history as callbacks read it (the `Recorder` keeps it). */
export interface TrainingHistory {
  /** Training loss of every batch. */
  readonly losses: number[];
  /** Exponentially smoothed, debiased training loss of every batch. */
  readonly smoothLosses: number[];
  /** Learning rate (of the last group) at every batch. */
  readonly lrs: number[];
  readonly momentums: number[];
  readonly epochs: EpochRecord[];
  readonly lastValidation: { loss: number; metrics: Record<string, number> };
  /** The smoothed training loss now. */
  readonly smoothLoss: number;
  /** The validation pass's loss summed over its items, and the items. */
  validationSums(): [loss: number, items: number];
  /** Replaces them before the pass closes (data-parallel training adds them up over the workers). */
  setValidationSums(sums: readonly [number, number]): void;
  toJSON(): { losses: number[]; lrs: number[]; momentums: number[]; epochs: EpochRecord[] };
  loadJSON(saved: unknown): void;
}

/** What callbacks, schedules and the lr finder see of the loop: its state (some of it theirs to change) and the calls they may make. */
export interface TrainingLoop {
  readonly model: TrainableModel;
  readonly data: { train: DataLoader; valid?: DataLoader };
  readonly optimizer: Optimizer;
  readonly metrics: Metric[];
  readonly recorder: TrainingHistory;
  epoch: number;
  epochs: number;
  /**
   * The epoch whose weights the model holds once the fit has ended, when a callback (`saveBest`) put back an
   * earlier epoch's; undefined while the last epoch's weights stand. Each fit starts it over.
   */
  keptEpoch?: number;
  /** Index of the batch within the current pass. */
  iteration: number;
  /** Training batches done since the start of the fit (schedules read it). */
  trainIteration: number;
  training: boolean;
  batch?: Batch;
  predictions?: tf.Tensor;
  /** The loss tensor, inside the gradient tape (`afterLoss`, `beforeBackward`). */
  lossTensor?: tf.Scalar;
  /** The current batch's loss as a number, from `beforeStep` on. */
  lossValue: number;
  /** The gradients by variable name, between `beforeStep` and `afterStep`; callbacks may replace them. */
  gradients?: tf.NamedTensorMap;
  /** Batches per training epoch, when the loader knows it. */
  readonly iterationsPerEpoch: number | undefined;
  /** A callback by name. */
  callback<T extends Callback>(name: string): T | undefined;
  /** Stops the current step, batch, pass, epoch or fit; the loop fires `afterCancel…` and carries on above it. */
  cancel(scope: CancelScope, reason?: string): never;
  fit(epochs: number, options?: FitOptions): Promise<{ stopReason?: string }>;
  validate(loader?: DataLoader): Promise<{ loss: number; metrics: Record<string, number> }>;
  saveState(): Promise<TrainingState>;
  restoreState(state: TrainingState): void;
}
