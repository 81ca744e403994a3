import * as tf from '@tensorflow/tfjs';
import { deriveSeed, Random } from './random';

/** One batch: model inputs and targets. The Learner disposes both once the batch is done. */
export interface Batch {
  inputs: tf.Tensor | tf.Tensor[];
  targets: tf.Tensor;
}

/**
 * What the Learner trains on: anything that yields batches, sync or async, so data can stream.
 * `length` (batches per epoch) lets schedules and progress know how far along an epoch is;
 * `setEpoch` lets a loader reshuffle deterministically per epoch (so a resumed run sees the same order).
 */
export interface DataLoader {
  [Symbol.asyncIterator]?(): AsyncIterator<Batch>;
  [Symbol.iterator]?(): Iterator<Batch>;
  readonly length?: number;
  setEpoch?(epoch: number): void;
}

export interface TensorDataLoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  /** Drop the last batch when it is smaller than `batchSize` (keeps batch statistics steady). */
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

  get length(): number {
    return this.options.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  /** Row order for the current epoch: shuffled from (seed, epoch), so it is reproducible. */
  order(): number[] {
    const indices = Array.from({ length: this.size }, (_, i) => i);
    if (!this.options.shuffle) return indices;
    return new Random(deriveSeed(this.options.seed ?? 0, this.epoch)).shuffle(indices);
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const order = this.order();
    for (let b = 0; b < this.length; b++) {
      const rows = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      yield tf.tidy(() => {
        const index = tf.tensor1d(rows, 'int32');
        const inputs = Array.isArray(this.inputs) ? this.inputs.map((input) => tf.gather(input, index)) : tf.gather(this.inputs, index);
        return { inputs, targets: tf.gather(this.targets, index) };
      });
    }
  }
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
