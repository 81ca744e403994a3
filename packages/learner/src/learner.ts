import * as tf from '@tensorflow/tfjs';
import { Recorder } from './callbacks/recorder';
import { stopOnNaN } from './callbacks/training-callbacks';
import { batchesOf, warnIfBareCpu, type Batch, type DataLoader } from '@kindling/data';
import { CancelError, TAPE_EVENTS, type Callback, type CancelScope, type EventName, type FitOptions, type LearningRates, type TrainingLoop, type TrainingState } from './events';
import type { LossFunction } from './losses';
import type { Metric } from './metrics';
import { adam, type Optimizer } from './optimizer';
import { fromLayersModel, type Parameter, type TrainableModel } from './parameters';
import { Random } from '@kindling/data';
import { lrFind, type LrFindOptions, type LrFindResult } from './lr-finder';
import { oneCycleSchedules, paramScheduler, type OneCycleOptions } from './schedule';

export interface LearnerOptions {
  /** A tfjs layers model, or any {@link TrainableModel} (see `fromFunction`). */
  model: TrainableModel | tf.LayersModel;
  data: { train: DataLoader; valid?: DataLoader };
  loss: LossFunction;
  /** Default: AdamW (`adam()`), weight decay 0.01. */
  optimizer?: Optimizer;
  metrics?: Metric[];
  callbacks?: Callback[];
  /** Seeds the Learner's random state, saved with checkpoints. Default 0. */
  seed?: number;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | undefined)?.then === 'function';

/**
 * The training loop, written once for every task: feed a batch, compute the loss, take the
 * gradients, step the optimizer, repeat, firing a closed list of events on the way. Everything else
 * is a callback.
 */
export class Learner implements TrainingLoop {
  readonly model: TrainableModel;
  readonly data: { train: DataLoader; valid?: DataLoader };
  readonly lossFunction: LossFunction;
  readonly optimizer: Optimizer;
  readonly metrics: Metric[];
  readonly recorder: Recorder;
  readonly random: Random;
  private callbacks: Callback[] = [];

  // The loop's state, for callbacks to read (and some to change).
  epoch = 0;
  epochs = 0;
  /** Index of the batch within the current pass. */
  iteration = 0;
  /** Training batches done since the start of the fit (schedules read it). */
  trainIteration = 0;
  training = false;
  batch?: Batch;
  predictions?: tf.Tensor;
  /** The loss tensor, inside the gradient tape (`afterLoss`, `beforeBackward`). */
  lossTensor?: tf.Scalar;
  /** The current batch's loss as a number, from `beforeStep` on. */
  lossValue = Number.NaN;
  /** The gradients by variable name, between `beforeStep` and `afterStep`; callbacks may replace them. */
  gradients?: tf.NamedTensorMap;

  constructor(options: LearnerOptions) {
    this.model = 'forward' in options.model ? options.model : fromLayersModel(options.model);
    this.data = options.data;
    this.lossFunction = options.loss;
    this.optimizer = options.optimizer ?? adam();
    this.metrics = options.metrics ?? [];
    this.random = new Random(options.seed ?? 0);
    this.recorder = new Recorder();
    this.addCallbacks(this.recorder, stopOnNaN(), ...(options.callbacks ?? []));
  }

  /** Batches per training epoch, when the loader knows it. */
  get iterationsPerEpoch(): number | undefined {
    return this.data.train.length;
  }

  addCallbacks(...callbacks: Callback[]): this {
    this.callbacks = [...this.callbacks, ...callbacks].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    return this;
  }

  removeCallbacks(...callbacks: Callback[]): this {
    this.callbacks = this.callbacks.filter((callback) => !callbacks.includes(callback));
    return this;
  }

  /** A callback by name. */
  callback<T extends Callback>(name: string): T | undefined {
    return this.callbacks.find((callback) => callback.name === name) as T | undefined;
  }

  /** Stops the current step, batch, pass, epoch or fit; the loop fires `afterCancel…` and carries on above it. */
  cancel(scope: CancelScope, reason = 'cancelled by a callback'): never {
    throw new CancelError(scope, reason);
  }

  async fire(event: EventName): Promise<void> {
    if (TAPE_EVENTS.has(event)) return this.fireInTape(event);
    for (const callback of this.callbacks) await callback[event]?.(this);
  }

  /** Fires an event inside the gradient tape, where nothing may be awaited. */
  private fireInTape(event: EventName): void {
    for (const callback of this.callbacks) {
      const result = callback[event]?.(this);
      if (isThenable(result)) {
        throw new Error(`${callback.name ?? 'a callback'}: '${event}' runs inside the gradient tape and must be synchronous`);
      }
    }
  }

  /** Fires `before<Scope>`, runs `body`, fires `after<Scope>`; a cancel of this scope fires `afterCancel<Scope>` instead of failing. */
  private async withEvents(scope: 'Fit' | 'Epoch' | 'Train' | 'Validate' | 'Batch' | 'Step', body: () => Promise<void>): Promise<void> {
    try {
      if (scope !== 'Step') await this.fire(`before${scope}` as EventName);
      await body();
    } catch (error) {
      if (!(error instanceof CancelError) || error.scope !== scope.toLowerCase()) throw error;
      if (scope === 'Fit') this.stopReason = error.reason;
      await this.fire(`afterCancel${scope}` as EventName);
    }
    if (scope !== 'Step') await this.fire(`after${scope}` as EventName);
  }

  /** Why the last fit stopped early (a callback cancelled it), or undefined when it ran to the end. */
  stopReason?: string;

  /** The epoch whose weights the model holds after the fit when `saveBest` put back an earlier epoch's (see `TrainingLoop`). */
  keptEpoch?: number;

  /** The loop. Resolves when the fit ends, with why it stopped early if a callback stopped it. */
  async fit(epochs: number, options: FitOptions = {}): Promise<{ stopReason?: string }> {
    warnIfBareCpu('training');
    this.stopReason = undefined;
    this.keptEpoch = undefined;
    const extra = options.callbacks ?? [];
    this.addCallbacks(...extra);
    this.configureOptimizer(options);
    this.epochs = epochs;
    let startEpoch = 0;
    this.trainIteration = 0;
    const resumed = await options.resumeFrom?.load();
    if (resumed !== undefined) {
      this.restoreState(resumed);
      startEpoch = resumed.epoch + 1;
    }
    try {
      await this.withEvents('Fit', async () => {
        for (this.epoch = startEpoch; this.epoch < epochs; this.epoch++) {
          await this.withEvents('Epoch', async () => {
            await this.withEvents('Train', () => this.allBatches(this.data.train, true));
            if (this.data.valid !== undefined) await this.withEvents('Validate', () => this.allBatches(this.data.valid!, false));
          });
        }
      });
    } catch (error) {
      throw explainMissingKernel(error);
    } finally {
      this.removeCallbacks(...extra);
    }
    return { stopReason: this.stopReason };
  }

  /**
   * fastai's one-cycle training: the learning rate warms up from `lrMax / div` to `lrMax` over
   * `pctStart` of the run and anneals to `lrMax / divFinal`, both along cosines, while momentum goes
   * 0.95 → 0.85 → 0.95. `lrMax` may be a range, spread over the parameter groups.
   */
  async fitOneCycle(epochs: number, lrMax: LearningRates = 1e-3, options: Omit<FitOptions, 'lr'> & OneCycleOptions = {}): Promise<{ stopReason?: string }> {
    const groups = this.model.parameterGroups().length;
    const maxima = spreadLearningRates(lrMax, groups);
    const { lr, momentum } = oneCycleSchedules(options);
    const scheduler = paramScheduler({
      lr: (position, group) => maxima[group]! * lr(position),
      momentum: (position) => momentum(position),
    });
    return this.fit(epochs, { ...options, lr: maxima, callbacks: [scheduler, ...(options.callbacks ?? [])] });
  }

  /** The learning-rate finder; weights and optimizer are restored afterwards. */
  lrFind(options: LrFindOptions = {}): Promise<LrFindResult> {
    return lrFind(this, options);
  }

  /**
   * Transfer learning as fastai does it: train the head alone for `freezeEpochs` (one-cycle,
   * pctStart 0.99), then unfreeze and train everything for `epochs` with discriminative rates, from
   * `baseLr / 2 / lrMult` for the body to `baseLr / 2` for the head.
   */
  async fineTune(
    epochs: number,
    baseLr = 2e-3,
    options: Omit<FitOptions, 'lr'> & OneCycleOptions & { freezeEpochs?: number; lrMult?: number } = {},
  ): Promise<void> {
    const { freezeEpochs = 1, lrMult = 100, pctStart = 0.3, div = 5, ...rest } = options;
    this.freeze();
    await this.fitOneCycle(freezeEpochs, baseLr, { ...rest, pctStart: 0.99 });
    this.unfreeze();
    await this.fitOneCycle(epochs, [baseLr / 2 / lrMult, baseLr / 2], { ...rest, pctStart, div });
  }

  private async allBatches(loader: DataLoader, training: boolean): Promise<void> {
    this.training = training;
    loader.setEpoch?.(this.epoch);
    this.iteration = 0;
    for await (const batch of batchesOf(loader)) {
      try {
        await this.withEvents('Batch', () => (training ? this.trainBatch(batch) : this.validateBatch(batch)));
      } finally {
        tf.dispose([batch.inputs, batch.targets, this.predictions]);
        this.predictions = undefined;
        this.batch = undefined;
      }
      this.iteration++;
      if (training) this.trainIteration++;
    }
    // an epoch without a single training step would export the initial weights as if trained
    if (training && this.iteration === 0) throw new Error(`the training data gave no batches in epoch ${this.epoch + 1}: it is empty, or smaller than one batch with dropLast`);
  }

  private forwardWithEvents(batch: Batch, training: boolean): tf.Scalar {
    this.predictions = tf.keep(this.model.forward(batch.inputs, training));
    this.fireInTape('afterPred');
    this.lossTensor = this.lossFunction(batch.targets, this.predictions);
    this.fireInTape('afterLoss');
    return this.lossTensor;
  }

  private async trainBatch(batch: Batch): Promise<void> {
    this.batch = batch;
    const groups = this.model.parameterGroups();
    const trainable = groups.flat().filter((parameter) => parameter.trainable).map((parameter) => parameter.variable);
    const { value, grads } = tf.variableGrads(() => {
      const loss = this.forwardWithEvents(batch, true);
      this.fireInTape('beforeBackward');
      return loss;
    }, trainable);
    this.lossTensor = undefined;
    // an asynchronous read: a synchronous one stalls WebGL and is unreliable on some WebGPU drivers
    this.lossValue = (await value.data())[0]!;
    this.gradients = grads;
    try {
      await this.withEvents('Step', async () => {
        await this.fire('beforeStep');
        this.optimizer.step(groups, this.gradients!);
        await this.fire('afterStep');
      });
    } finally {
      tf.dispose([value, ...Object.values(grads), ...Object.values(this.gradients)]);
      this.gradients = undefined;
    }
  }

  private async validateBatch(batch: Batch): Promise<void> {
    this.batch = batch;
    const loss = tf.tidy(() => this.forwardWithEvents(batch, false));
    this.lossTensor = undefined;
    this.lossValue = (await loss.data())[0]!;
    loss.dispose();
  }

  /** Sets the optimizer's groups and learning rates for a fit. */
  private configureOptimizer(options: FitOptions): void {
    const groups = this.model.parameterGroups().length;
    this.optimizer.setGroupCount(groups);
    if (options.lr !== undefined) this.optimizer.set('lr', spreadLearningRates(options.lr, groups));
    if (options.weightDecay !== undefined) this.optimizer.set('weightDecay', options.weightDecay);
  }

  /** Loss and metrics over a loader (the validation set by default), with the validation events. */
  async validate(loader: DataLoader | undefined = this.data.valid): Promise<{ loss: number; metrics: Record<string, number> }> {
    if (loader === undefined) throw new Error('validate: the Learner has no validation data');
    await this.withEvents('Validate', () => this.allBatches(loader, false));
    return { loss: this.recorder.lastValidation.loss, metrics: this.recorder.lastValidation.metrics };
  }

  /** Predictions for inputs (no training behaviour: no dropout, batch-norm uses its statistics). */
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.model.forward(inputs, false));
  }

  /** Predictions and targets over a loader (validation by default), concatenated. The caller disposes them. */
  async getPredictions(loader: DataLoader | undefined = this.data.valid): Promise<{ predictions: tf.Tensor; targets: tf.Tensor }> {
    if (loader === undefined) throw new Error('getPredictions: no data to predict on');
    const predictions: tf.Tensor[] = [];
    const targets: tf.Tensor[] = [];
    for await (const batch of batchesOf(loader)) {
      predictions.push(this.predict(batch.inputs));
      targets.push(batch.targets);
      tf.dispose(batch.inputs);
    }
    const result = { predictions: tf.concat(predictions), targets: tf.concat(targets) };
    tf.dispose([...predictions, ...targets]);
    return result;
  }

  /**
   * Test-time augmentation: each batch's class probabilities (softmax of the model's outputs) averaged over
   * `views` of its inputs, e.g. the pictures and their mirror images. Over a loader (validation by default),
   * concatenated; the caller disposes them. `views` returns new tensors; the batch's own are disposed here.
   */
  async tta(views: (inputs: tf.Tensor) => tf.Tensor[], loader: DataLoader | undefined = this.data.valid): Promise<{ probabilities: tf.Tensor; targets: tf.Tensor }> {
    if (loader === undefined) throw new Error('tta: no data to predict on');
    const probabilities: tf.Tensor[] = [];
    const targets: tf.Tensor[] = [];
    for await (const batch of batchesOf(loader)) {
      if (Array.isArray(batch.inputs)) throw new Error('tta: a model with several inputs has no views');
      const inputs = batch.inputs as tf.Tensor;
      probabilities.push(
        tf.tidy(() => {
          const each = views(inputs).map((view) => tf.softmax(this.model.forward(view, false)));
          if (each.length === 0) throw new Error('tta: views gave no inputs');
          return tf.addN(each).div(each.length);
        }),
      );
      targets.push(batch.targets);
      tf.dispose(inputs);
    }
    const result = { probabilities: tf.concat(probabilities), targets: tf.concat(targets) };
    tf.dispose([...probabilities, ...targets]);
    return result;
  }

  /** Trains only the last parameter group (the head); batch-norm layers keep training, as in fastai. */
  freeze(): void {
    this.freezeTo(-1);
  }

  /** Trains every group. */
  unfreeze(): void {
    this.freezeTo(0);
  }

  /** Freezes the groups before index `n` (negative counts from the end). */
  freezeTo(n: number): void {
    const groups = this.model.parameterGroups();
    const first = n < 0 ? Math.max(groups.length + n, 0) : n;
    groups.forEach((group, index) => {
      for (const parameter of group) parameter.trainable = index >= first || parameter.isBatchNorm;
    });
  }

  /** Every parameter, in group order. */
  parameters(): Parameter[] {
    return this.model.parameterGroups().flat();
  }

  /**
   * A snapshot of weights, optimizer and progress (for checkpoints and to undo an lr search), read from the
   * backend asynchronously: a synchronous read stalls WebGL and cannot run on WebGPU in Node.
   */
  async saveState(): Promise<TrainingState> {
    const weights = this.model.weights();
    const values = await Promise.all(weights.map((weight) => weight.data<'float32'>()));
    return {
      format: 'kindling-checkpoint@1',
      epoch: this.epoch,
      epochs: this.epochs,
      trainIteration: this.trainIteration,
      randomState: this.random.state,
      weights: weights.map((weight, index) => ({ shape: weight.shape.slice(), values: Float32Array.from(values[index]!) })),
      optimizer: await this.optimizer.save(this.parameters()),
      history: this.recorder.toJSON(),
    };
  }

  restoreState(state: TrainingState): void {
    const weights = this.model.weights();
    if (state.format !== 'kindling-checkpoint@1') throw new Error(`not a Kindling checkpoint (format ${String(state.format)})`);
    if (state.weights.length !== weights.length) {
      throw new Error(`the checkpoint holds ${state.weights.length} weights but the model has ${weights.length}`);
    }
    weights.forEach((weight, index) => {
      const saved = state.weights[index]!;
      if (!tf.util.arraysEqual(saved.shape, weight.shape)) {
        throw new Error(`checkpoint weight ${index} has shape [${saved.shape}] but ${weight.name} has [${weight.shape}]`);
      }
      tf.tidy(() => weight.assign(tf.tensor(saved.values, saved.shape, weight.dtype)));
    });
    this.optimizer.load(this.parameters(), state.optimizer);
    this.epoch = state.epoch;
    this.trainIteration = state.trainIteration;
    this.random.state = state.randomState;
    if (state.history !== undefined) this.recorder.loadJSON(state.history);
  }

  /** Frees the optimizer's state (the model is the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Learning rates per group, from {@link LearningRates}. */
export function spreadLearningRates(lr: LearningRates, groups: number): number[] {
  if (typeof lr === 'number') return new Array<number>(groups).fill(lr);
  if (lr.length === groups) return lr.slice();
  if (lr.length !== 2) throw new Error(`learning rates: give one number, a [low, high] range or ${groups} values (one per group), not ${lr.length}`);
  const [low, high] = lr as [number, number];
  if (groups === 1) return [high];
  return Array.from({ length: groups }, (_, i) => low * (high / low) ** (i / (groups - 1)));
}

/**
 * tfjs's "Kernel 'X' not registered for backend 'Y'" says nothing about the fix: training needs kernels (for
 * gradients) that some backends lack until `initBackend` from `@kindling/backend` registers Kindling's.
 */
export function explainMissingKernel(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const missing = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(error.message);
  if (missing === null) return error;
  const [, kernel, backend] = missing;
  return new Error(
    `the '${backend}' backend has no '${kernel}' kernel, which training needs: start the backend with initBackend() from @kindling/backend (npm install @kindling/backend), which registers Kindling's kernels, instead of tf.setBackend('${backend}')`,
    { cause: error },
  );
}
