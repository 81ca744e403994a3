import * as tf from '@tensorflow/tfjs';
import type { Callback, CheckpointStore, EpochRecord, TrainingLoop, TrainingState } from '../events';

/** What a monitoring callback watches: `validLoss`, `trainLoss`, or a metric's name. */
export type Monitor = string;

/**
 * The monitored value at the last epoch; undefined when it is a validation value and that epoch's
 * validation was skipped (`validateEvery`). Without validation data the old answers stand: NaN for
 * `validLoss`, an error naming the missing metric.
 */
function monitoredValue(learner: TrainingLoop, monitor: Monitor): number | undefined {
  const record = learner.recorder.epochs.at(-1);
  if (record === undefined) return Number.NaN;
  if (monitor === 'trainLoss') return record.trainLoss;
  if (!record.validated && learner.data.valid !== undefined) return undefined;
  if (monitor === 'validLoss') return record.validLoss;
  const value = record.metrics[monitor];
  if (value === undefined) {
    throw new Error(`cannot monitor '${monitor}': it is not validLoss, trainLoss or one of the metrics (${Object.keys(record.metrics).join(', ') || 'none'})`);
  }
  return value;
}

/** Losses and error rates improve downwards; everything else (accuracy, F1, IoU, R²) upwards. */
function lowerIsBetter(monitor: Monitor): boolean {
  return /loss|error|mse|mae|rmse/i.test(monitor);
}

function improved(monitor: Monitor, value: number, best: number, minDelta: number): boolean {
  if (Number.isNaN(value)) return false;
  return lowerIsBetter(monitor) ? value < best - minDelta : value > best + minDelta;
}

export interface MonitorOptions {
  monitor?: Monitor;
  minDelta?: number;
}

/** Stops the fit when the monitored value has not improved for `patience` epochs. */
export function earlyStopping(options: MonitorOptions & { patience?: number } = {}): Callback & { stoppedAt?: number } {
  const { monitor = 'validLoss', minDelta = 0, patience = 1 } = options;
  let best = Number.NaN;
  let wait = 0;
  const callback: Callback & { stoppedAt?: number } = {
    name: 'earlyStopping',
    order: 65,
    beforeFit() {
      best = lowerIsBetter(monitor) ? Infinity : -Infinity;
      wait = 0;
    },
    afterEpoch(learner) {
      const value = monitoredValue(learner, monitor);
      if (value === undefined) return; // not validated this epoch: patience counts validated epochs
      if (improved(monitor, value, best, minDelta)) {
        best = value;
        wait = 0;
        return;
      }
      wait++;
      if (wait >= patience) {
        callback.stoppedAt = learner.epoch;
        learner.cancel('fit', `no improvement in ${monitor} for ${patience} epoch(s)`);
      }
    },
  };
  return callback;
}

/**
 * Keeps the weights of the best epoch by the monitored value (in memory, or in a store) and puts
 * them back at the end of the fit.
 */
export function saveBest(options: MonitorOptions & { store?: CheckpointStore; restoreAtEnd?: boolean } = {}): Callback & { bestEpoch?: number; best?: number } {
  const { monitor = 'validLoss', minDelta = 0, store, restoreAtEnd = true } = options;
  let snapshot: TrainingState | undefined;
  const callback: Callback & { bestEpoch?: number; best?: number } = {
    name: 'saveBest',
    order: 70,
    beforeFit() {
      callback.best = lowerIsBetter(monitor) ? Infinity : -Infinity;
      snapshot = undefined;
    },
    async afterEpoch(learner) {
      const value = monitoredValue(learner, monitor);
      if (value === undefined || !improved(monitor, value, callback.best!, minDelta)) return;
      callback.best = value;
      callback.bestEpoch = learner.epoch;
      snapshot = await learner.saveState();
      await store?.save(snapshot);
    },
    afterFit(learner) {
      if (restoreAtEnd && snapshot !== undefined) {
        // the weights (and optimizer) go back to the best epoch's; the run's history and counters stay whole
        const { epoch, trainIteration } = learner;
        const history = learner.recorder.toJSON();
        learner.restoreState(snapshot);
        learner.recorder.loadJSON(history);
        Object.assign(learner, { epoch, trainIteration });
        learner.keptEpoch = callback.bestEpoch;
      }
    },
  };
  return callback;
}

export interface AverageWeightsOptions {
  /** How much of the running average each step keeps (the rest is the new weights). Default 0.99. */
  decay?: number;
  /** Share of the fit (0–1) after which averaging starts. Default 0.5. */
  from?: number;
}

/**
 * Polyak averaging: an exponential moving average of every weight, batch-norm statistics too, over the
 * later part of a fit, put in place of the last weights when the fit ends. An average of the nearby
 * solutions the optimizer walks through usually generalizes better and is steadier than wherever the
 * last step landed. The epochs' recorded metrics are the raw weights'; validate after the fit to score
 * the average. Do not combine with `saveBest`, which also replaces the weights at the end.
 */
export function averageWeights(options: AverageWeightsOptions = {}): Callback & { updates: number } {
  const { decay = 0.99, from = 0.5 } = options;
  if (!(decay >= 0 && decay < 1)) throw new RangeError(`averageWeights: decay must be in [0, 1), not ${decay}`);
  if (!(from >= 0 && from < 1)) throw new RangeError(`averageWeights: from must be in [0, 1), not ${from}`);
  let average: tf.Tensor[] | undefined;
  const release = () => {
    if (average !== undefined) tf.dispose(average);
    average = undefined;
  };
  const callback: Callback & { updates: number } = {
    name: 'averageWeights',
    order: 65,
    updates: 0,
    beforeFit() {
      release();
      callback.updates = 0;
    },
    afterStep(learner) {
      const perEpoch = learner.iterationsPerEpoch;
      const done = perEpoch === undefined ? learner.epoch / learner.epochs : learner.trainIteration / (learner.epochs * perEpoch);
      if (done < from) return;
      const weights = learner.model.weights();
      const previous = average;
      average = tf.tidy(() => (previous === undefined ? weights.map((weight) => weight.clone()) : previous.map((mean, index) => mean.mul(decay).add(weights[index]!.mul(1 - decay)))));
      if (previous !== undefined) tf.dispose(previous);
      callback.updates++;
    },
    afterFit(learner) {
      if (average === undefined) return;
      const weights = learner.model.weights();
      average.forEach((mean, index) => weights[index]!.assign(mean));
      release();
    },
  };
  return callback;
}

/**
 * Saves weights, optimizer state, progress and random state at the end of every `every`-th epoch,
 * so `fit(epochs, { resumeFrom: store })` continues after a crash, losing at most the current epoch.
 */
export function checkpoint(store: CheckpointStore, options: { every?: number } = {}): Callback {
  const every = options.every ?? 1;
  return {
    name: 'checkpoint',
    order: 75,
    async afterEpoch(learner) {
      if ((learner.epoch + 1) % every === 0 || learner.epoch === learner.epochs - 1) await store.save(await learner.saveState());
    },
  };
}

/**
 * Validates only every `every`-th epoch and the last one, as a callback that cancels the other
 * validation passes: for validation sets that cost a real share of an epoch (large pictures). The
 * skipped epochs are recorded with `validated: false`, NaN validation loss and no metrics; early stopping
 * and `saveBest` count only validated epochs. Outside a fit (`learner.validate()`) it does nothing.
 */
export function validateEvery(every: number): Callback {
  if (!Number.isInteger(every) || every < 1) throw new Error(`validateEvery: every must be a whole number of epochs ≥ 1 (got ${every})`);
  let fitting = false;
  return {
    name: 'validateEvery',
    order: 0,
    beforeFit() {
      fitting = true;
    },
    afterFit() {
      fitting = false;
    },
    afterCancelFit() {
      fitting = false;
    },
    beforeValidate(learner) {
      if (!fitting || (learner.epoch + 1) % every === 0 || learner.epoch === learner.epochs - 1) return;
      learner.cancel('validate', `validating every ${every} epochs`);
    },
  };
}

/** A checkpoint store in memory (tests, the browser). */
export function memoryCheckpointStore(): CheckpointStore & { saves: number } {
  let saved: TrainingState | undefined;
  const store = {
    saves: 0,
    async save(state: TrainingState) {
      saved = structuredClone(state);
      store.saves++;
    },
    async load() {
      return saved === undefined ? undefined : structuredClone(saved);
    },
  };
  return store;
}

/** Stops the fit before a non-finite loss can reach the weights, naming the epoch and batch. */
export function stopOnNaN(): Callback & { message?: string } {
  const callback: Callback & { message?: string } = {
    name: 'stopOnNaN',
    order: 5,
    beforeStep(learner) {
      if (Number.isFinite(learner.lossValue)) return;
      callback.message = `loss became ${learner.lossValue} at epoch ${learner.epoch + 1}, batch ${learner.iteration + 1}; training stopped before the weights were changed`;
      learner.cancel('fit', callback.message);
    },
  };
  return callback;
}

/** Rescales the gradients so their global L2 norm is at most `maxNorm`. */
export function gradientClipping(maxNorm = 1): Callback {
  return {
    name: 'gradientClipping',
    order: 20,
    async beforeStep(learner) {
      const gradients = learner.gradients!;
      const names = Object.keys(gradients);
      const norm = tf.tidy(() => tf.addN(names.map((name) => gradients[name]!.square().sum())).sqrt());
      const value = (await norm.data())[0]!;
      norm.dispose();
      if (!(value > maxNorm)) return;
      const scale = maxNorm / value;
      const clipped: tf.NamedTensorMap = {};
      for (const name of names) clipped[name] = tf.tidy(() => gradients[name]!.mul(scale));
      tf.dispose(Object.values(gradients));
      learner.gradients = clipped;
    },
  };
}

/**
 * Gives the event loop a turn after every `every` batches, or once `{ milliseconds }` have passed since the last
 * turn, so a page stays responsive while training — and, in Node, timers, signals, servers and the garbage
 * collector's own tasks run: a backend whose kernels run synchronously (torch, cpu) otherwise keeps the loop
 * busy for a whole epoch. In Node the turn is a `setImmediate` (a `setTimeout` waits at least a millisecond).
 */
export function yieldToEventLoop(every: number | { milliseconds: number } = 1): Callback {
  let count = 0;
  let last = performance.now();
  const turn = typeof setImmediate === 'function' ? () => new Promise<void>((resolve) => setImmediate(resolve)) : () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  return {
    name: 'yieldToEventLoop',
    order: 100,
    async afterBatch() {
      if (typeof every === 'number') {
        if (++count % every === 0) await turn();
        return;
      }
      if (performance.now() - last < every.milliseconds) return;
      await turn();
      last = performance.now();
    },
  };
}

export interface ProgressEvent {
  phase: 'train' | 'valid';
  epoch: number;
  epochs: number;
  iteration: number;
  /** Batches in this pass, when the loader knows. */
  iterations?: number;
  /** The smoothed training loss (train) or the batch loss (valid). */
  loss: number;
  itemsPerSecond: number;
  /** Seconds left in this pass, when the number of batches is known. */
  etaSeconds?: number;
  /**
   * Seconds left in the whole fit (this epoch's rest and every later epoch's training and validation), from the
   * pace of the last 10 training steps (the first epoch's run slower: kernels compile, loaders decode what they
   * cache) and of the validation batches timed so far, each pass's first of the fit left out; a validation batch
   * not yet timed counts a third of a training one (forward only). Undefined until a training step has been timed,
   * or when the training loader does not know its batches.
   */
  fitEtaSeconds?: number;
  /** Training steps in the whole fit (batches per epoch × epochs), when the loader knows its batches. */
  fitSteps?: number;
  /** Mean seconds of the last 10 training steps timed (undefined before one is). */
  secondsPerStep?: number;
}

/**
 * Reports progress after every batch and every epoch, for any UI: a browser page, or the Node
 * progress bar in `@kindling/learner/node`.
 */
export function progress(listener: {
  batch?: (event: ProgressEvent) => void;
  epoch?: (record: EpochRecord, learner: TrainingLoop) => void;
}): Callback {
  let passStart = 0;
  let items = 0;
  let last = 0;
  // this fit's timings: whether each pass's first batch (not timed) is still to come, the last 10 training steps'
  // seconds, and the validation batches' total
  let untimed = { train: true, valid: true };
  let recent: number[] = [];
  const valid = { seconds: 0, batches: 0 };
  const begin = () => {
    passStart = performance.now();
    last = passStart;
    items = 0;
  };
  return {
    name: 'progress',
    order: 60,
    beforeFit() {
      untimed = { train: true, valid: true };
      recent = [];
      Object.assign(valid, { seconds: 0, batches: 0 });
    },
    beforeTrain: begin,
    beforeValidate: begin,
    afterBatch(learner) {
      const now = performance.now();
      const phase = learner.training ? 'train' : 'valid';
      if (untimed[phase]) untimed[phase] = false;
      else if (learner.training) recent = [...recent.slice(-9), (now - last) / 1000];
      else {
        valid.seconds += (now - last) / 1000;
        valid.batches++;
      }
      last = now;
      items += learner.batch!.targets.shape[0] ?? 1;
      const seconds = (now - passStart) / 1000;
      const iterations = learner.training ? learner.iterationsPerEpoch : learner.data.valid?.length;
      const done = learner.iteration + 1;
      const perEpoch = learner.iterationsPerEpoch;
      const secondsPerStep = recent.length > 0 ? recent.reduce((sum, value) => sum + value, 0) / recent.length : undefined;
      let fitEtaSeconds: number | undefined;
      if (perEpoch !== undefined && secondsPerStep !== undefined) {
        const validBatches = learner.data.valid?.length ?? 0;
        const validStep = valid.batches > 0 ? valid.seconds / valid.batches : secondsPerStep / 3;
        const epochSeconds = perEpoch * secondsPerStep + validBatches * validStep;
        const rest = learner.training ? Math.max(0, perEpoch - done) * secondsPerStep + validBatches * validStep : Math.max(0, validBatches - done) * validStep;
        fitEtaSeconds = rest + Math.max(0, learner.epochs - learner.epoch - 1) * epochSeconds;
      }
      listener.batch?.({
        phase,
        epoch: learner.epoch,
        epochs: learner.epochs,
        iteration: learner.iteration,
        iterations,
        loss: learner.training ? learner.recorder.smoothLoss : learner.lossValue,
        itemsPerSecond: seconds > 0 ? items / seconds : 0,
        etaSeconds: iterations === undefined ? undefined : (seconds / done) * (iterations - done),
        fitEtaSeconds,
        fitSteps: perEpoch === undefined ? undefined : perEpoch * learner.epochs,
        secondsPerStep,
      });
    },
    afterEpoch(learner) {
      const record = learner.recorder.epochs.at(-1);
      if (record !== undefined) listener.epoch?.(record, learner);
    },
  };
}
