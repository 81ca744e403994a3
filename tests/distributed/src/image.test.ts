import { generateShapesDataset } from '@kindling/image/node';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accuracyIn, CLI, linesOf, node, skipReason, torchrun } from './launch';

// Two 20-epoch picture runs, one under torchrun: its own file, so that `pnpm test` runs it in the phase for heavy
// files (`test:heavy`) instead of beside every other suite, where it took five minutes and more.
describe.skipIf(skipReason() !== undefined)('kindling train under torchrun --no_python --nproc_per_node 2', () => {
  it('image: one bundle within a point of one process on the same global batch, and predict answers from it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-distributed-image-'));
    // enough pictures and epochs that both runs end near 100%: the comparison then measures the training, not the
    // ±2 points two runs of 240 pictures spread by (measured: 96.0 / 98.5 / 99.0% against 94.5 / 98.0 / 96.5%)
    await generateShapesDataset(join(root, 'shapes', 'train'), { perClass: 150, size: 32, seed: 1 });
    await generateShapesDataset(join(root, 'shapes', 'valid'), { perClass: 100, size: 32, seed: 2 });
    const args = ['train', 'image', 'shapes', '--batch-size', '32', '--epochs', '20'];
    const workers = await torchrun(2, ['node', CLI, ...args, '--out', 'workers'], { cwd: root });
    const single = await node([CLI, ...args, '--out', 'single', '--threads', '1'], { cwd: root });
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    expect(linesOf(workers, 0)).toContainEqual('[default0]:data-parallel: 2 workers × 16 pictures = 32 a step, gradients averaged before each (rank 0 reports and writes)');
    expect(linesOf(workers, 1)).toEqual([]);
    const held = /validation accuracy ([\d.]+)%; the bundle/;
    const [together, alone] = [accuracyIn(workers.stdout, held), accuracyIn(single.stdout, held)];
    expect(together).toBeGreaterThan(95);
    expect(Math.abs(together - alone), `2 workers ${together}%, 1 process ${alone}%`).toBeLessThanOrEqual(1);
    const picture = join(root, 'shapes', 'valid', 'star', readdirSync(join(root, 'shapes', 'valid', 'star'))[0]!);
    const predicted = await node([CLI, 'predict', 'workers', picture], { cwd: root });
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout).toMatch(/\t(circle|square|star|triangle) \(\d+\.\d%\)/);
  });

});
