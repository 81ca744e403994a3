import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { TensorDataLoader } from '@kindling/data';
import { describe, expect, it } from 'vitest';
import { checkpoint, memoryCheckpointStore } from './callbacks/training-callbacks';
import { distributedTrainer, DistributedError, leaderFirst, onLeader, type ProcessGroup } from './distributed';
import { Learner } from './learner';
import { crossEntropyLoss } from './losses';
import { accuracy, f1Score } from './metrics';
import { adam } from './optimizer';
import { blobs, mlp, weightValues } from './test-fixtures';

type Values = Float32Array | Float64Array | Uint8Array;

/**
 * Workers in one process: a group whose collectives meet in memory (each worker's k-th call is the k-th round, and
 * every round settles when all have called). The torch backend's gloo group is tested across processes in
 * tests/distributed; this one lets the callback be tested on every backend.
 */
function localGroups(size: number): ProcessGroup[] {
  const rounds = new Map<number, { values: Values[]; done: Array<() => void>; settle: (all: Values[]) => void }>();
  const calls = new Array<number>(size).fill(0);
  const meet = (rank: number, values: Values, settle: (all: Values[]) => void) =>
    new Promise<void>((resolve) => {
      const index = calls[rank]!++;
      const round = rounds.get(index) ?? { values: [], done: [], settle };
      rounds.set(index, round);
      round.values[rank] = values;
      round.done.push(resolve);
      if (round.done.length < size) return;
      rounds.delete(index);
      round.settle(round.values);
      for (const finish of round.done) finish();
    });
  return Array.from({ length: size }, (_, rank) => ({
    rank,
    size,
    allReduce: (values, op = 'sum') =>
      meet(rank, values, (all) => {
        const result = Float64Array.from(all[0]!);
        for (const other of all.slice(1)) other.forEach((value, i) => (result[i] = op === 'sum' ? result[i]! + value : op === 'max' ? Math.max(result[i]!, value) : Math.min(result[i]!, value)));
        for (const each of all) each.set(result);
      }),
    broadcast: (values, root) =>
      meet(rank, values, (all) => {
        for (const each of all) if (each !== all[root]) each.set(all[root]!);
      }),
    barrier: () => meet(rank, new Float32Array(0), () => {}),
  }));
}

describeEachBackend('distributedTrainer', () => {
  const rows = blobs(48, 3);
  const valid = blobs(30, 4);

  /** A learner of one worker (or the single process): the same seeded model, data and optimizer. */
  const worker = (batchSize: number, callbacks = [] as ReturnType<typeof distributedTrainer>[]) => {
    const model = mlp(5);
    const learner = new Learner({
      model,
      data: {
        train: new TensorDataLoader(rows.x, rows.y, { batchSize, shuffle: true, seed: 2 }),
        valid: new TensorDataLoader(valid.x, valid.y, { batchSize: 8 }),
      },
      loss: crossEntropyLoss(),
      metrics: [accuracy(), f1Score()],
      optimizer: adam(),
      callbacks,
    });
    return { model, learner };
  };

  it('two workers on half batches take the steps of one process on the whole batch: weights, losses and validation figures agree', async () => {
    const single = worker(16);
    await single.learner.fit(1, { lr: 1e-2 }); // 48 rows, 16 a step: 3 steps
    const groups = localGroups(2);
    const workers = groups.map((group) => worker(16, [distributedTrainer(group)]));
    const tensors = tf.memory().numTensors;
    // worker 1 starts from other weights: the fit begins with rank 0's
    const kernel = workers[1]!.model.layers[0]!.weights[0]!;
    tf.tidy(() => {
      kernel.write(tf.zeros(kernel.shape as number[]));
    });
    await Promise.all(workers.map(({ learner }) => learner.fit(1, { lr: 1e-2 })));
    const expected = (await weightValues(single.model)).flat();
    for (const { model, learner } of workers) {
      expect(learner.iterationsPerEpoch).toBe(3); // the shard is gone after the fit
      const weights = (await weightValues(model)).flat();
      expect(Math.max(...weights.map((value, index) => Math.abs(value - expected[index]!)))).toBeLessThan(1e-5);
      expect(learner.recorder.losses).toHaveLength(3);
      learner.recorder.losses.forEach((loss, step) => expect(loss).toBeCloseTo(single.learner.recorder.losses[step]!, 5));
      const [mine, theirs] = [learner.recorder.epochs[0]!, single.learner.recorder.epochs[0]!];
      expect(mine.validLoss).toBeCloseTo(theirs.validLoss, 5);
      expect(mine.metrics.accuracy).toBeCloseTo(theirs.metrics.accuracy!, 6);
      expect(mine.metrics.f1).toBeCloseTo(theirs.metrics.f1!, 6);
      // each worker trained on its own 24 rows a step of 8
      expect(mine.trainLoss).toBeCloseTo(theirs.trainLoss, 5);
    }
    // with the optimizers' moments freed, nothing is left of the fit: no gradient, buffer or broadcast tensor
    for (const { learner } of workers) learner.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    for (const each of [single, ...workers]) {
      each.learner.dispose();
      each.model.dispose();
    }
  });

  it('workers that would start from different steps stop with one line, and a metric without sums is refused', async () => {
    const groups = localGroups(2);
    const store = memoryCheckpointStore();
    const first = worker(16, []);
    first.learner.addCallbacks(checkpoint(store));
    await first.learner.fit(1, { lr: 1e-2 });
    const workers = groups.map((group) => worker(16, [distributedTrainer(group)]));
    const outcomes = await Promise.allSettled(workers.map(({ learner }, rank) => learner.fit(2, { lr: 1e-2, ...(rank === 0 ? { resumeFrom: store } : {}) })));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(((outcome as PromiseRejectedResult).reason as Error).message).toBe(
        'the workers start from different steps (0 to 3): each must resume from the same checkpoint (on several machines, --checkpoint must be on a shared file system)',
      );
    }
    const lonely = worker(16, [distributedTrainer(localGroups(1)[0]!)]);
    lonely.learner.metrics.push({ name: 'mine', reset() {}, accumulate() {}, value: () => 0 });
    await expect(lonely.learner.fit(1)).rejects.toThrow(new DistributedError("the metric 'mine' cannot be added up over workers: give it sums() and setSums()"));
    for (const each of [first, ...workers, lonely]) {
      each.learner.dispose();
      each.model.dispose();
    }
  });
});

describe('leaderFirst', () => {
  it('runs the work on rank 0 to its end before the others start it', async () => {
    const events: string[] = [];
    const work = (rank: number) => async () => {
      events.push(`start ${rank}`);
      await new Promise((resolve) => setTimeout(resolve, rank === 0 ? 30 : 0));
      events.push(`end ${rank}`);
      return rank;
    };
    const results = await Promise.all(localGroups(3).map((group) => leaderFirst(group, work(group.rank))));
    expect(results).toEqual([0, 1, 2]);
    expect(events.slice(0, 2)).toEqual(['start 0', 'end 0']);
    expect(events.slice(2).sort()).toEqual(['end 1', 'end 2', 'start 1', 'start 2']);
  });
});

describe('onLeader', () => {
  it("gives every worker rank 0's result, and rank 0's failure", async () => {
    const groups = localGroups(3);
    let runs = 0;
    const results = await Promise.all(groups.map((group) => onLeader(group, async () => ({ rank: group.rank, runs: ++runs, accuracy: 0.5 }))));
    expect(results).toEqual([0, 1, 2].map(() => ({ rank: 0, runs: 1, accuracy: 0.5 })));
    const failures = await Promise.allSettled(
      localGroups(2).map((group) =>
        onLeader(group, async () => {
          throw new Error('out/: read-only file system');
        }),
      ),
    );
    expect(failures.map((failure) => ((failure as PromiseRejectedResult).reason as Error).message)).toEqual(['out/: read-only file system', 'out/: read-only file system']);
  });
});
