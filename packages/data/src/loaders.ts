import * as tf from '@tensorflow/tfjs';
import type { ArrayItem } from './pipeline';
import { deriveSeed, Random } from './random';

/** One batch: model inputs and targets. The Learner disposes both once the batch is done. */
export interface Batch {
  inputs: tf.Tensor | tf.Tensor[];
  targets: tf.Tensor;
}

/**
 * What the Learner trains on: anything that yields batches, sync or async, so data can stream.
 * `length` (batches per epoch) lets schedules and progress know how far along an epoch is;
 * `setEpoch` lets a loader reshuffle deterministically per epoch (so a resumed run sees the same order);
 * `setShard` makes it yield one worker's part of the data in data-parallel training.
 */
export interface DataLoader {
  [Symbol.asyncIterator]?(): AsyncIterator<Batch>;
  [Symbol.iterator]?(): Iterator<Batch>;
  readonly length?: number;
  setEpoch?(epoch: number): void;
  setShard?(shard: Shard | undefined): void;
}

/**
 * One worker's part of a loader's data in data-parallel training (`distributedTrainer` sets it for the fit). The
 * epoch's order (the same on every worker: shuffled from the seed and the epoch) is dealt out in turn, item `i` to
 * worker `i mod count`, PyTorch's DistributedSampler rule; each worker's batches hold `ceil(batchSize / count)`
 * items, so together the workers' `k`-th batches are the `k`-th batch of the whole order at `batchSize` items
 * times the workers.
 */
export interface Shard {
  /** This worker's rank, from 0. */
  readonly index: number;
  /** How many workers share the data. */
  readonly count: number;
  /**
   * Every worker gets as many items as the others (the order padded with its own first items, as the
   * DistributedSampler pads), so every worker takes the same number of steps: training. Without it no item is
   * seen twice and the parts differ by at most one item: validation, whose sums are added up over the workers.
   */
  readonly even: boolean;
}

/** Checks a shard and says what is wrong with it in one line. */
function checkedShard(shard: Shard | undefined): Shard | undefined {
  if (shard === undefined) return undefined;
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`a shard is a worker index from 0 to count - 1 and a count of at least 1, not index ${index} of ${count}`);
  }
  return shard;
}

/** A worker's items of an epoch's order (all of it without a shard). */
export function shardOrder(order: readonly number[], shard: Shard | undefined): number[] {
  if (shard === undefined || shard.count === 1) return order.slice();
  const total = shard.even ? Math.ceil(order.length / shard.count) * shard.count : order.length;
  const part: number[] = [];
  for (let position = shard.index; position < total; position += shard.count) part.push(order[position % order.length]!);
  return part;
}

/** Items a worker's batch holds: its share of `batchSize`. */
function shardBatchSize(batchSize: number, shard: Shard | undefined): number {
  return shard === undefined ? batchSize : Math.ceil(batchSize / shard.count);
}

export interface TensorDataLoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  /**
   * Drop the last batch when it is smaller than `batchSize` (keeps batch statistics steady); with fewer
   * items than one batch, they still form one (smaller) batch.
   */
  dropLast?: boolean;
}

/**
 * Batches in-memory tensors (inputs and targets share their first axis). The loader keeps the
 * tensors it was given; each batch it yields is a fresh gather the Learner disposes.
 */
export class TensorDataLoader implements DataLoader {
  readonly batchSize: number;
  readonly size: number;
  private epoch = 0;
  private shard: Shard | undefined;

  constructor(
    readonly inputs: tf.Tensor | tf.Tensor[],
    readonly targets: tf.Tensor,
    readonly options: TensorDataLoaderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 64;
    this.size = targets.shape[0]!;
    for (const input of Array.isArray(inputs) ? inputs : [inputs]) {
      if (input.shape[0] !== this.size) {
        throw new Error(`TensorDataLoader: inputs have ${input.shape[0]} rows but targets have ${this.size}`);
      }
    }
  }

  /** Batches per epoch (of this worker's part, with a shard). */
  get length(): number {
    return batchCount(shardOrderLength(this.size, this.shard), shardBatchSize(this.batchSize, this.shard), this.options.dropLast);
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  setShard(shard: Shard | undefined): void {
    this.shard = checkedShard(shard);
  }

  /** Row order for the current epoch: shuffled from (seed, epoch), so it is reproducible; with a shard, this worker's rows of it. */
  order(): number[] {
    const indices = Array.from({ length: this.size }, (_, i) => i);
    if (!this.options.shuffle) return shardOrder(indices, this.shard);
    return shardOrder(new Random(deriveSeed(this.options.seed ?? 0, this.epoch)).shuffleInPlace(indices), this.shard);
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const order = this.order();
    const batchSize = shardBatchSize(this.batchSize, this.shard);
    for (let b = 0; b < this.length; b++) {
      const rows = order.slice(b * batchSize, (b + 1) * batchSize);
      yield tf.tidy(() => {
        const index = tf.tensor1d(rows, 'int32');
        const inputs = Array.isArray(this.inputs) ? this.inputs.map((input) => tf.gather(input, index)) : tf.gather(this.inputs, index);
        return { inputs, targets: tf.gather(this.targets, index) };
      });
    }
  }
}

/** Items in a worker's part of an epoch of `size` items. */
function shardOrderLength(size: number, shard: Shard | undefined): number {
  if (shard === undefined || shard.count === 1) return size;
  if (shard.even) return Math.ceil(size / shard.count);
  return Math.floor(size / shard.count) + (shard.index < size % shard.count ? 1 : 0);
}

/** Batches in an epoch of `size` items; dropLast never drops the only batch (fewer items than a batch form one smaller batch). */
function batchCount(size: number, batchSize: number, dropLast = false): number {
  return dropLast && size >= batchSize ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/** Iterates any loader as an async stream of batches. */
export async function* batchesOf(loader: DataLoader): AsyncGenerator<Batch> {
  if (loader[Symbol.asyncIterator]) {
    yield* { [Symbol.asyncIterator]: () => loader[Symbol.asyncIterator]!() };
  } else if (loader[Symbol.iterator]) {
    yield* { [Symbol.iterator]: () => loader[Symbol.iterator]!() };
  } else {
    throw new TypeError('a DataLoader must be iterable or async iterable over batches');
  }
}

/** The number of rows in a batch (its first axis). */
export function batchSizeOf(batch: Batch): number {
  return batch.targets.shape[0] ?? 1;
}

/** One loaded item: its input data and its target (a class index, or values). */
export interface Sample {
  input: ArrayItem;
  target: number | ArrayItem;
}

/** A batch-level transform on the backend (augmentation, normalization); it owns and may replace its inputs. */
export type BatchTransform = (batch: Batch, context: { training: boolean; random: Random }) => Batch;

export interface ItemDataLoaderOptions<Item> {
  items: readonly Item[];
  /**
   * Loads one item (decode, resize, encode the label…). `context.random` is seeded by (seed, epoch,
   * index), for per-item augmentation that is reproducible (pair it with `cache: false`).
   */
  load: (item: Item, index: number, context: { epoch: number; random: Random }) => Promise<Sample> | Sample;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Batches loaded ahead while the model trains on the current one. Default 2. */
  prefetch?: number;
  /** Keep loaded samples in memory so later epochs do not decode again. Default true. */
  cache?: boolean;
  /** Applied to every batch on the backend, e.g. augmentation in training and normalization always. */
  batchTransform?: BatchTransform;
  /** Whether batches are for training (turns augmentation on). Default: the same as `shuffle`. */
  training?: boolean;
  /** `stop` (default) rethrows the first bad item's error; `skip` leaves it out and lists it in `skipped`. */
  onError?: 'stop' | 'skip';
  /** How an item is named in reports (a file path). Default: `item #index`. */
  name?: (item: Item, index: number) => string;
}

/**
 * Batches items that are loaded on demand: shuffles with a seed per epoch, loads a few batches ahead
 * (decoding runs in parallel with training), caches what it loaded, and applies a batch transform on
 * the backend.
 */
export class ItemDataLoader<Item> implements DataLoader {
  readonly batchSize: number;
  /** Items that failed to load and were skipped, with why. */
  readonly skipped: Array<{ index: number; name: string; message: string }> = [];
  private readonly cache = new Map<number, Sample | Error>();
  private readonly loadedTargets = new Map<number, number>();
  private epoch = 0;
  private shard: Shard | undefined;

  constructor(readonly options: ItemDataLoaderOptions<Item>) {
    this.batchSize = options.batchSize ?? 64;
    if (!(this.batchSize >= 1)) throw new RangeError(`batchSize must be at least 1, not ${this.batchSize}`);
  }

  get size(): number {
    return this.options.items.length;
  }

  /** Batches per epoch (of this worker's part, with a shard). */
  get length(): number {
    return batchCount(shardOrderLength(this.size, this.shard), shardBatchSize(this.batchSize, this.shard), this.options.dropLast);
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  setShard(shard: Shard | undefined): void {
    this.shard = checkedShard(shard);
  }

  /** How many items of each class index loaded without error so far (after an epoch: all that can be). */
  loadedClassCounts(classes: number): number[] {
    const counts = new Array<number>(classes).fill(0);
    for (const target of this.loadedTargets.values()) if (target >= 0 && target < classes) counts[target]!++;
    return counts;
  }

  private order(): number[] {
    const indices = this.options.items.map((_, i) => i);
    return shardOrder(this.options.shuffle ? new Random(deriveSeed(this.options.seed ?? 0, this.epoch)).shuffleInPlace(indices) : indices, this.shard);
  }

  private nameOf(index: number): string {
    return this.options.name?.(this.options.items[index]!, index) ?? `item #${index}`;
  }

  /** Loads one item (from the cache when it can); a failure is kept as an Error. */
  async sample(index: number): Promise<Sample | Error> {
    const cached = this.cache.get(index);
    if (cached !== undefined) return cached;
    let result: Sample | Error;
    try {
      result = await this.options.load(this.options.items[index]!, index, { epoch: this.epoch, random: new Random(deriveSeed(deriveSeed(this.options.seed ?? 0, index) ^ 0x27d4eb2f, this.epoch)) });
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    }
    if (this.options.cache ?? true) this.cache.set(index, result);
    if (!(result instanceof Error) && typeof result.target === 'number') this.loadedTargets.set(index, result.target);
    return result;
  }

  private async loadBatch(indices: number[]): Promise<Sample[]> {
    const results = await Promise.all(indices.map((index) => this.sample(index)));
    const samples: Sample[] = [];
    results.forEach((result, i) => {
      if (!(result instanceof Error)) {
        samples.push(result);
        return;
      }
      const index = indices[i]!;
      if ((this.options.onError ?? 'stop') === 'stop') throw result;
      if (!this.skipped.some((entry) => entry.index === index)) this.skipped.push({ index, name: this.nameOf(index), message: result.message });
    });
    return samples;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const order = this.order();
    const batchSize = shardBatchSize(this.batchSize, this.shard);
    const batches = Array.from({ length: this.length }, (_, b) => order.slice(b * batchSize, (b + 1) * batchSize));
    const ahead = Math.max(1, this.options.prefetch ?? 2);
    const pending: Array<Promise<Sample[]>> = [];
    let next = 0;
    const fill = () => {
      while (pending.length < ahead && next < batches.length) {
        const promise = this.loadBatch(batches[next++]!);
        promise.catch(() => {}); // surfaced when awaited below
        pending.push(promise);
      }
    };
    // each worker draws its own batch augmentations (the same draws on every worker would tie items together)
    const epochSeed = deriveSeed((this.options.seed ?? 0) ^ 0x5bd1e995, this.epoch);
    const random = new Random(this.shard === undefined ? epochSeed : deriveSeed(epochSeed, this.shard.index));
    fill();
    while (pending.length > 0) {
      const samples = await pending.shift()!;
      fill();
      if (samples.length === 0) continue;
      let batch = collate(samples);
      if (this.options.batchTransform) {
        const transform = this.options.batchTransform;
        const before = batch;
        const training = this.options.training ?? this.options.shuffle ?? false;
        batch = tf.tidy(() => transform(before, { training, random }) as unknown as tf.TensorContainer) as unknown as Batch;
        const kept = new Set([...(Array.isArray(batch.inputs) ? batch.inputs : [batch.inputs]), batch.targets]);
        tf.dispose([...(Array.isArray(before.inputs) ? before.inputs : [before.inputs]), before.targets].filter((t) => !kept.has(t)));
      }
      yield batch;
    }
  }
}

/** Stacks samples into a batch: inputs as float32, class targets as int32. */
export function collate(samples: Sample[]): Batch {
  const first = samples[0]!;
  const inputSize = first.input.data.length;
  const inputs = new Float32Array(samples.length * inputSize);
  samples.forEach((sample, i) => {
    if (sample.input.data.length !== inputSize) {
      throw new Error(`collate: item ${i} has ${sample.input.data.length} values, the first ${inputSize} (shapes [${sample.input.shape}] vs [${first.input.shape}])`);
    }
    inputs.set(sample.input.data, i * inputSize);
  });
  const inputTensor = tf.tensor(inputs, [samples.length, ...first.input.shape], 'float32');
  if (typeof first.target === 'number') {
    return { inputs: inputTensor, targets: tf.tensor1d(samples.map((s) => s.target as number), 'int32') };
  }
  const targetShape = first.target.shape;
  const targetSize = first.target.data.length;
  const isInteger = first.target.data instanceof Int32Array || first.target.data instanceof Uint8Array;
  const targets = isInteger ? new Int32Array(samples.length * targetSize) : new Float32Array(samples.length * targetSize);
  samples.forEach((sample, i) => targets.set((sample.target as ArrayItem).data, i * targetSize));
  return { inputs: inputTensor, targets: tf.tensor(targets, [samples.length, ...targetShape], isInteger ? 'int32' : 'float32') };
}
