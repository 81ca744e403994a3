/**
 * Data-parallel training as a callback, fastai's `DistributedTrainer`: every worker process holds the same model and
 * trains on its own part of each batch; before every optimizer step the workers' gradients are averaged, so together
 * they take the step one process would take on the whole batch. The loop knows nothing of it, and nothing here knows
 * how the workers talk: a {@link ProcessGroup} does (`joinProcessGroup` from `@kindling/backend-torch` is PyTorch's
 * gloo engine), so any backend's gradients can be reduced.
 */
import type { Shard } from '@kindling/data';
import * as tf from '@tensorflow/tfjs';
import type { Callback, TrainingLoop } from './events';

/**
 * What data-parallel training needs of a group of worker processes: who this one is, and collectives that work in
 * place on typed arrays (every worker calls each one, in the same order).
 */
export interface ProcessGroup {
  /** This worker, from 0; rank 0 reports and writes. */
  readonly rank: number;
  /** How many workers train together. */
  readonly size: number;
  /** Replaces `values` on every worker with the element-wise sum (or maximum, minimum) over the workers. */
  allReduce(values: Float32Array | Float64Array, op?: 'sum' | 'max' | 'min'): Promise<void>;
  /** Replaces `values` on every worker with those of the worker of rank `root`. */
  broadcast(values: Float32Array | Uint8Array, root: number): Promise<void>;
  /** Waits until every worker has called it. */
  barrier(): Promise<void>;
}

/** Thrown when the workers of a group disagree about where a fit starts, or when a part of the fit cannot be split over them. */
export class DistributedError extends Error {
  override readonly name = 'DistributedError';
}

/** The distributed trainer's callback: the group it reduces over. */
export type DistributedTrainer = Callback & { readonly group: ProcessGroup };

/**
 * Makes a Learner one of `group.size` workers training one model (PyTorch's DistributedDataParallel, as a callback):
 *
 * - at the start of a fit every worker takes rank 0's weights, and the workers check that they start from the same
 *   step (a resumed run must read the same checkpoint everywhere);
 * - the loaders deal each epoch out (`setShard`): the training loader gives every worker `1/size` of each batch
 *   (the epoch padded so every worker steps as often), the validation loader a disjoint part;
 * - before every optimizer step the gradients (and the batch loss) are averaged over the workers, weighted by their
 *   items, so the step equals one process's on the whole batch;
 * - before every validation pass the weights that do not train (batch-norm statistics, which stay each worker's own
 *   in training, as DDP's default) are rank 0's, and after it the loss and every metric's sums are added up, so each
 *   worker records the figures of the whole validation set.
 *
 * Only the fit is distributed: `validate()`, `predict()` and what follows a fit run on each process alone. Every
 * metric must have `sums()` and `setSums()` (the built-in ones have). Decisions callbacks make from the recorded
 * figures (early stopping, saving the best epoch) are the same on every worker, since the figures are.
 */
export function distributedTrainer(group: ProcessGroup): DistributedTrainer {
  let fitting = false;
  let validationCancelled = false;
  const shardLoaders = (learner: TrainingLoop, shards: boolean) => {
    const { train, valid } = learner.data;
    for (const [loader, even] of [[train, true], [valid, false]] as const) {
      if (loader === undefined) continue;
      if (loader.setShard === undefined) {
        if (!shards) continue;
        throw new DistributedError(`the ${even ? 'training' : 'validation'} loader cannot be split over ${group.size} workers: it has no setShard (ItemDataLoader and TensorDataLoader have; a loader of your own can use shardOrder from @kindling/data)`);
      }
      loader.setShard(shards ? ({ index: group.rank, count: group.size, even } satisfies Shard) : undefined);
    }
  };
  const finish = (learner: TrainingLoop) => {
    if (!fitting) return;
    fitting = false;
    shardLoaders(learner, false);
  };
  return {
    name: 'distributed',
    // before the schedules read the batches per epoch (10), stopOnNaN reads the loss (5), and the recorder closes a
    // validation pass (50)
    order: -100,
    group,
    async beforeFit(learner) {
      const unsummed = learner.metrics.find((metric) => metric.sums === undefined || metric.setSums === undefined);
      if (unsummed !== undefined) throw new DistributedError(`the metric '${unsummed.name}' cannot be added up over workers: give it sums() and setSums()`);
      // a resumed fit starts at the checkpoint's step: every worker must have read the same one
      const start = Float64Array.of(learner.trainIteration, -learner.trainIteration);
      await group.allReduce(start, 'max');
      if (start[0] !== -start[1]!) {
        throw new DistributedError(`the workers start from different steps (${-start[1]!} to ${start[0]!}): each must resume from the same checkpoint (on several machines, --checkpoint must be on a shared file system)`);
      }
      await broadcastWeights(group, learner.model.weights());
      shardLoaders(learner, true);
      fitting = true;
    },
    async beforeStep(learner) {
      if (!fitting || learner.gradients === undefined) return;
      await averageGradients(group, learner);
    },
    async beforeValidate(learner) {
      validationCancelled = false;
      if (!fitting) return;
      await broadcastWeights(
        group,
        learner.model.weights().filter((weight) => !weight.trainable),
      );
    },
    afterCancelValidate() {
      validationCancelled = true;
    },
    async afterValidate(learner) {
      if (!fitting || validationCancelled) return;
      await addUpValidation(group, learner);
    },
    afterFit: finish,
    afterCancelFit: finish,
  };
}

/** Every worker takes rank 0's values of `weights`, in one broadcast. */
async function broadcastWeights(group: ProcessGroup, weights: tf.Variable[]): Promise<void> {
  if (weights.length === 0) return;
  const values = await Promise.all(weights.map((weight) => weight.data<'float32'>()));
  const flat = new Float32Array(values.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of values) {
    flat.set(part, offset);
    offset += part.length;
  }
  await group.broadcast(flat, 0);
  if (group.rank === 0) return;
  offset = 0;
  for (const weight of weights) {
    const part = flat.subarray(offset, offset + weight.size);
    offset += weight.size;
    tf.tidy(() => weight.assign(tf.tensor(part, weight.shape, weight.dtype)));
  }
}

/**
 * The step's gradients and loss, averaged over the workers by their items: each worker's mean times its items, added
 * up, over all the items. One allreduce of one buffer: the gradients end to end, then the loss and the items.
 */
async function averageGradients(group: ProcessGroup, learner: TrainingLoop): Promise<void> {
  const gradients = learner.gradients!;
  const names = Object.keys(gradients);
  const items = learner.batch?.targets.shape[0] ?? 1;
  const sizes = names.map((name) => gradients[name]!.size);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const flat = tf.tidy(() => tf.concat(names.map((name) => gradients[name]!.reshape([-1]))).mul(items));
  const buffer = new Float32Array(total + 2);
  try {
    buffer.set((await flat.data()) as Float32Array);
  } finally {
    flat.dispose();
  }
  buffer[total] = learner.lossValue * items;
  buffer[total + 1] = items;
  await group.allReduce(buffer, 'sum');
  const count = buffer[total + 1]!;
  learner.lossValue = buffer[total]! / count;
  const averaged = tf.tidy(() => {
    const parts = tf.split(tf.tensor1d(buffer.subarray(0, total)).div(count), sizes);
    return Object.fromEntries(names.map((name, index) => [name, parts[index]!.reshape(gradients[name]!.shape)]));
  });
  learner.gradients = averaged; // the Learner disposes the step's gradients, these and the ones they replace
}

/**
 * The validation pass's loss sum, items and every metric's sums, added up over the workers and put back before the
 * recorder reads them. Per-class sums may be missing on a worker that saw no item: lengths are agreed first (the
 * longest), shorter ones padded with zeros.
 */
async function addUpValidation(group: ProcessGroup, learner: TrainingLoop): Promise<void> {
  const parts = [learner.recorder.validationSums(), ...learner.metrics.map((metric) => metric.sums!())];
  const lengths = Float64Array.from(parts, (part) => part.length);
  await group.allReduce(lengths, 'max');
  const offsets: number[] = [];
  let total = 0;
  for (const length of lengths) {
    offsets.push(total);
    total += length;
  }
  const sums = new Float64Array(total);
  parts.forEach((part, index) => sums.set(part, offsets[index]));
  await group.allReduce(sums, 'sum');
  const summed = (index: number) => Array.from(sums.subarray(offsets[index], offsets[index]! + lengths[index]!));
  const [loss, items] = summed(0) as [number, number];
  learner.recorder.setValidationSums([loss, items]);
  learner.metrics.forEach((metric, index) => metric.setSums!(summed(index + 1)));
}

/**
 * Runs `work` on the worker of rank 0 alone (writing a bundle, charts, a report) while the others wait, and gives
 * every worker its result, sent as JSON (so a `NaN` arrives as `null`). When it fails on rank 0, every worker fails
 * with its message. Without a group, it is `work()`.
 */
export async function onLeader<T>(group: ProcessGroup | undefined, work: () => Promise<T>): Promise<T> {
  if (group === undefined || group.size === 1) return work();
  if (group.rank === 0) {
    let outcome: { result: T } | { error: string };
    let failure: unknown;
    try {
      outcome = { result: await work() };
    } catch (error) {
      failure = error;
      outcome = { error: error instanceof Error ? error.message : String(error) };
    }
    await sendJson(group, outcome);
    if (failure !== undefined) throw failure;
    return (outcome as { result: T }).result;
  }
  const outcome = (await receiveJson(group)) as { result: T } | { error: string };
  if ('error' in outcome) throw new DistributedError(outcome.error);
  return outcome.result;
}

/** Rank 0's value to every worker: its length, then its UTF-8 bytes. */
async function sendJson(group: ProcessGroup, value: unknown): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(value) ?? 'null');
  const length = new Uint8Array(8);
  new DataView(length.buffer).setFloat64(0, bytes.length);
  await group.broadcast(length, 0);
  await group.broadcast(bytes, 0);
}

async function receiveJson(group: ProcessGroup): Promise<unknown> {
  const length = new Uint8Array(8);
  await group.broadcast(length, 0);
  const bytes = new Uint8Array(new DataView(length.buffer).getFloat64(0));
  await group.broadcast(bytes, 0);
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Runs `work` on the worker of rank 0 first and then on the others (fastai's `rank0_first`): for work whose first run
 * leaves something the later ones reuse, such as drawing a data set into a cache that the others then find. When it
 * fails on rank 0 the others still go on to run it themselves (and fail with their own error). Without a group, it is
 * `work()`.
 */
export async function leaderFirst<T>(group: ProcessGroup | undefined, work: () => Promise<T>): Promise<T> {
  if (group === undefined || group.size === 1) return work();
  if (group.rank === 0) {
    try {
      return await work();
    } finally {
      await group.barrier();
    }
  }
  await group.barrier();
  return work();
}
