import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { node, skipReason, torchrun } from './launch';

const SCRIPT = fileURLToPath(new URL('./fixtures/three-steps.mjs', import.meta.url));

interface Weights {
  steps: number;
  losses: number[];
  initial: Weights['weights'];
  weights: Array<{ name: string; trainable: boolean; values: number[] }>;
}
const read = (folder: string, rank: number | 'single') => JSON.parse(readFileSync(join(folder, `rank-${rank}.json`), 'utf8')) as Weights;
const largestDifference = (a: Weights['weights'], b: Weights['weights']) => Math.max(...a.flatMap((weight, index) => weight.values.map((value, at) => Math.abs(value - b[index]!.values[at]!))));

describe.skipIf(skipReason() !== undefined)('two workers under torchrun --no_python, on loopback', () => {
  it('train the same model as one process on the whole batch: after 3 steps the weights agree within 1e-5', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'kindling-distributed-'));
    const [workers, single] = await Promise.all([torchrun(2, [process.execPath, SCRIPT, folder]), node([SCRIPT, folder])]);
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    const alone = read(folder, 'single');
    expect(alone.steps).toBe(3);
    for (const rank of [0, 1]) {
      const worker = read(folder, rank);
      expect(worker.steps).toBe(3);
      expect(largestDifference(worker.weights, alone.weights)).toBeLessThan(1e-5);
      // each step's loss is the whole batch's
      worker.losses.forEach((loss, step) => expect(loss).toBeCloseTo(alone.losses[step]!, 5));
    }
    // the steps moved the weights far more than the tolerance, so the agreement is the training's
    expect(largestDifference(alone.initial, alone.weights)).toBeGreaterThan(1e-2);
  });

  it('on the wasm backend too: the gradients are any backend\'s, only the collective is the addon\'s', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'kindling-distributed-wasm-'));
    const [workers, single] = await Promise.all([torchrun(2, [process.execPath, SCRIPT, folder, 'plain', 'wasm']), node([SCRIPT, folder, 'plain', 'wasm'])]);
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    const alone = read(folder, 'single');
    for (const rank of [0, 1]) expect(largestDifference(read(folder, rank).weights, alone.weights)).toBeLessThan(1e-5);
    expect(largestDifference(alone.initial, alone.weights)).toBeGreaterThan(1e-2);
  });

  it('with batch norm the statistics stay each worker\'s own (DDP\'s default), while the trained weights stay the same on every worker', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'kindling-distributed-bn-'));
    const workers = await torchrun(2, [process.execPath, SCRIPT, folder, 'batch-norm']);
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    const [first, second] = [read(folder, 0), read(folder, 1)];
    const trained = (worker: Weights) => worker.weights.filter((weight) => weight.trainable);
    const statistics = (worker: Weights) => worker.weights.filter((weight) => !weight.trainable);
    expect(statistics(first).map((weight) => weight.name.split('/').at(-1))).toEqual(['moving_mean', 'moving_variance']);
    expect(largestDifference(trained(first), trained(second))).toBeLessThan(1e-6);
    // each worker's moving averages saw only its own rows: they differ (rank 0's go into a bundle)
    expect(largestDifference(statistics(first), statistics(second))).toBeGreaterThan(1e-3);
  });
});
