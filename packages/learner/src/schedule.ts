import type { Callback, TrainingLoop } from './events';
import type { HyperParameters } from './optimizer';

/** A schedule maps the position in training (0 at the start, 1 at the end) to a value. */
export type Schedule = (position: number) => number;

/** fastai's SchedCos: a half cosine from `start` (position 0) to `end` (position 1). */
export const cosineSchedule =
  (start: number, end: number): Schedule =>
  (position) =>
    start + ((1 + Math.cos(Math.PI * (1 - position))) * (end - start)) / 2;

/** Joins schedules, each over its share of the run (`shares` add up to 1). */
export function combineSchedules(shares: readonly number[], schedules: readonly Schedule[]): Schedule {
  const bounds = shares.reduce<number[]>((acc, share) => [...acc, acc.at(-1)! + share], [0]);
  return (position) => {
    let index = bounds.findIndex((bound, i) => i > 0 && position < bound) - 1;
    if (index < 0) index = schedules.length - 1;
    const start = bounds[index]!;
    const width = bounds[index + 1]! - start;
    return schedules[index]!(width === 0 ? 1 : Math.min(Math.max((position - start) / width, 0), 1));
  };
}

/** A cosine from `start` to `middle` over the first `share`, then from `middle` to `end`. */
export const combinedCosine = (share: number, start: number, middle: number, end: number): Schedule =>
  combineSchedules([share, 1 - share], [cosineSchedule(start, middle), cosineSchedule(middle, end)]);

export interface OneCycleOptions {
  /** Share of the run spent warming up. Default 0.25. */
  pctStart?: number;
  /** The start learning rate is `lrMax / div`. Default 25. */
  div?: number;
  /** The final learning rate is `lrMax / divFinal`. Default 1e5. */
  divFinal?: number;
  /** Momentum at the start, middle and end. Default [0.95, 0.85, 0.95]. */
  momentums?: readonly [number, number, number];
}

/** fastai's one-cycle policy as a learning-rate schedule per unit of lrMax and a momentum schedule. */
export function oneCycleSchedules(options: OneCycleOptions = {}): { lr: Schedule; momentum: Schedule } {
  const { pctStart = 0.25, div = 25, divFinal = 1e5, momentums = [0.95, 0.85, 0.95] } = options;
  return {
    lr: combinedCosine(pctStart, 1 / div, 1, 1 / divFinal),
    momentum: combinedCosine(pctStart, momentums[0], momentums[1], momentums[2]),
  };
}

/**
 * Sets optimizer hyper-parameters before every training batch from schedules of the position in the
 * fit (`trainIteration / (epochs · batches per epoch)`). A schedule may give one value per group.
 */
export function paramScheduler(
  schedules: Partial<Record<keyof HyperParameters, (position: number, group: number) => number>>,
): Callback {
  return {
    name: 'paramScheduler',
    order: 10,
    beforeBatch(learner: TrainingLoop) {
      if (!learner.training) return;
      const perEpoch = learner.iterationsPerEpoch;
      if (perEpoch === undefined) {
        throw new Error('a schedule needs the number of batches per epoch: give the training DataLoader a length');
      }
      const position = learner.trainIteration / (learner.epochs * perEpoch);
      for (const [key, schedule] of Object.entries(schedules) as Array<[keyof HyperParameters, (p: number, g: number) => number]>) {
        learner.optimizer.set(key, learner.optimizer.hyper.map((_, group) => schedule(position, group)));
      }
    },
  };
}
