import { recognisedAcrossCopies } from '@kindling/data';
import type { Learner } from './learner';

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

export type EventHandler = (learner: Learner) => void | Promise<void>;

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
