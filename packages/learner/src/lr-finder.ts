import type { Callback, TrainingLoop } from './events';

export interface LrFindOptions {
  startLr?: number;
  endLr?: number;
  /** Batches to try. Default 100. */
  iterations?: number;
  /** Stop once the smoothed loss exceeds 4× its minimum. Default true. */
  stopOnDivergence?: boolean;
}

export interface LrFindResult {
  lrs: number[];
  /** Smoothed (β = 0.98) and debiased losses, one per learning rate. */
  losses: number[];
  suggestions: {
    /** fastai's default: a point within the longest descending stretch of the curve. */
    valley: number;
    /** A tenth of the learning rate at the minimum loss. */
    minimum: number;
    /** Where the loss falls fastest against log(lr). */
    steepest: number;
  };
  /** The suggested learning rate (the valley). */
  suggested: number;
}

/** fastai's valley: the longest run of decreasing loss, then a point 1/2 of the way in plus a bit. */
function valley(lrs: number[], losses: number[]): number {
  const n = losses.length;
  const lengths = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i]! < losses[j]! && lengths[i]! < lengths[j]! + 1) lengths[i] = lengths[j]! + 1;
      if (lengths[maxEnd]! < lengths[i]!) {
        maxEnd = i;
        maxStart = maxEnd - lengths[maxEnd]!;
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  return lrs[Math.min(maxStart + Math.floor(sections) + Math.floor(sections / 2), n - 1)]!;
}

function steepest(lrs: number[], losses: number[]): number {
  let best = 0;
  let bestSlope = Infinity;
  for (let i = 1; i < losses.length; i++) {
    const slope = (losses[i]! - losses[i - 1]!) / (Math.log(lrs[i]!) - Math.log(lrs[i - 1]!));
    if (slope < bestSlope) {
      bestSlope = slope;
      best = i;
    }
  }
  return lrs[best]!;
}

/**
 * The learning-rate finder: trains with an exponentially growing learning rate, records the smoothed
 * loss, stops when it diverges, and restores the weights and optimizer it started from.
 */
export async function lrFind(learner: TrainingLoop, options: LrFindOptions = {}): Promise<LrFindResult> {
  const { startLr = 1e-7, endLr = 10, iterations = 100, stopOnDivergence = true } = options;
  const perEpoch = learner.iterationsPerEpoch;
  if (perEpoch === undefined || perEpoch === 0) throw new Error('lrFind needs a training DataLoader with a length');
  const saved = await learner.saveState();
  const history = learner.recorder.toJSON();
  const lrs: number[] = [];
  const losses: number[] = [];
  let average = 0;
  let best = Infinity;
  const finder: Callback = {
    name: 'lrFinder',
    order: 10,
    beforeBatch(l) {
      if (!l.training) return;
      const lr = startLr * (endLr / startLr) ** (l.trainIteration / Math.max(iterations - 1, 1));
      l.optimizer.set('lr', lr);
    },
    afterBatch(l) {
      if (!l.training) return;
      const step = lrs.length + 1;
      average = 0.98 * average + 0.02 * l.lossValue;
      const smooth = average / (1 - 0.98 ** step);
      lrs.push(l.optimizer.hyper.at(-1)!.lr);
      losses.push(smooth);
      best = Math.min(best, smooth);
      if (stopOnDivergence && (!Number.isFinite(smooth) || smooth > 4 * best)) l.cancel('fit', 'the loss diverged');
      if (step >= iterations) l.cancel('fit', 'the learning-rate sweep is done');
    },
    beforeValidate(l) {
      l.cancel('validate', 'the lr finder does not validate');
    },
  };
  try {
    await learner.fit(Math.ceil(iterations / perEpoch), { callbacks: [finder] });
  } finally {
    learner.restoreState(saved);
    learner.recorder.loadJSON(history);
  }
  // Drop the points after divergence so that suggestions come from the usable part of the curve.
  const usable = losses.findIndex((loss) => !Number.isFinite(loss) || loss > 4 * best);
  const end = usable === -1 ? losses.length : Math.max(usable, 2);
  const curveLrs = lrs.slice(0, end);
  const curveLosses = losses.slice(0, end);
  const minimumIndex = curveLosses.reduce((best, loss, index) => (loss < curveLosses[best]! ? index : best), 0);
  const suggestions = {
    valley: valley(curveLrs, curveLosses),
    minimum: curveLrs[minimumIndex]! / 10,
    steepest: steepest(curveLrs, curveLosses),
  };
  return { lrs, losses, suggestions, suggested: suggestions.valley };
}
