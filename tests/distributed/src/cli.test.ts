import { generateTable } from '@kindling/data';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accuracyIn, CLI, freePort, linesOf, node, skipReason, torchrun, workersOf } from './launch';

/** A generated income table as a CSV file (the shape of Adult: categories, numbers, a date, missing values). */
function writeTable(file: string, rows: number, seed: number): void {
  const table = generateTable({ rows, seed });
  const columns = Object.keys(table.rows[0]!);
  writeFileSync(file, `${[columns.join(','), ...table.rows.map((row) => columns.map((column) => row[column]).join(','))].join('\n')}\n`);
}


describe.skipIf(skipReason() !== undefined)('kindling train under torchrun --no_python --nproc_per_node 2', () => {
  it('tabular: one bundle, written by rank 0 alone, whose held-out accuracy is within a point of one process on the same global batch; predict answers from it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-distributed-tabular-'));
    writeTable(join(root, 'train.csv'), 6000, 1);
    writeTable(join(root, 'test.csv'), 3000, 2);
    const args = ['train', 'tabular', 'train.csv', '--target', 'income', '--test', 'test.csv'];
    const [workers, single] = await Promise.all([torchrun(2, ['node', CLI, ...args, '--out', 'workers'], { cwd: root }), node([CLI, ...args, '--out', 'single', '--threads', '1'], { cwd: root })]);
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    expect(linesOf(workers, 0)).toContainEqual(expect.stringMatching(/^\[default0\]:data-parallel: 2 workers × \d+ rows = \d+ a step, gradients averaged before each \(rank 0 reports and writes\)$/));
    expect(linesOf(workers, 1)).toEqual([]); // rank 1 trains and says nothing
    const test = /test set \(3000 rows\): loss [\d.]+, accuracy ([\d.]+)/;
    const [together, alone] = [accuracyIn(workers.stdout, test), accuracyIn(single.stdout, test)];
    expect(together).toBeGreaterThan(0.85);
    expect(Math.abs(together - alone), `2 workers ${together}, 1 process ${alone}`).toBeLessThanOrEqual(0.01);
    // the same schedule: the step's batch is the global one
    const schedule = /schedule: .* → batch (\d+)/;
    expect(accuracyIn(workers.stdout, schedule)).toBe(accuracyIn(single.stdout, schedule));
    expect(readdirSync(join(root, 'workers')).sort()).toEqual(['kindling.json', 'loss.png', 'model.json', 'weights.bin']);
    writeFileSync(join(root, 'rows.csv'), readFileSync(join(root, 'test.csv'), 'utf8').split('\n').slice(0, 4).join('\n'));
    const predicted = await node([CLI, 'predict', 'workers', 'rows.csv'], { cwd: root });
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout.trim().split('\n').filter((line) => !line.startsWith('kindling: '))).toEqual([2, 3, 4].map((row) => expect.stringMatching(new RegExp(`^rows\\.csv:${row}\\t(<=50K|>50K) \\(\\d+\\.\\d%\\)$`))));
  });

  it('on a fresh cache the default set is drawn by rank 0 before the other worker reads it, and the run ends with a bundle (both drawing it at once, one replaced it under the other: ENOENT)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-distributed-default-'));
    const workers = await torchrun(2, ['node', CLI, 'train', 'pointer', '--epochs', '1', '--out', 'workers'], { cwd: root, env: { XDG_CACHE_HOME: join(root, 'cache') } });
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    expect(workers.stdout.split('\n').filter((line) => line.includes('synthesizing the default mouse recordings'))).toHaveLength(1);
    expect(readdirSync(join(root, 'cache', 'kindling', 'datasets')).sort()).toEqual(['pointer-v1']); // no staging folder left
    expect(existsSync(join(root, 'workers', 'kindling.json'))).toBe(true);
  });

  it('a worker killed mid-run (SIGKILL) under --max_restarts 1 restarts the group from the last checkpoint, and the run still ends with a bundle and status 0', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-distributed-restart-'));
    writeTable(join(root, 'train.csv'), 6000, 3);
    const checkpoint = join(root, 'run.ckpt');
    let killed: number | undefined;
    const workers = await torchrun(2, ['node', CLI, 'train', 'tabular', 'train.csv', '--target', 'income', '--epochs', '20', '--checkpoint', checkpoint, '--out', 'workers'], {
      cwd: root,
      extra: ['--max_restarts', '1'],
      started: (launcher) => {
        const watch = setInterval(() => {
          if (!existsSync(checkpoint)) return;
          const rank1 = workersOf(launcher.pid!).get(1);
          if (rank1 === undefined) return;
          clearInterval(watch);
          process.kill(rank1, 'SIGKILL');
          killed = rank1;
        }, 20);
        launcher.on('close', () => clearInterval(watch));
      },
    });
    expect(killed, 'rank 1 was killed').toBeDefined();
    expect(workers.code, workers.stdout + workers.stderr).toBe(0);
    expect(workers.stdout).toMatch(/\[default0\]:resuming from .*run\.ckpt: \d+ of 20 epochs were done \(under a launcher a run goes on from its --checkpoint\)/);
    expect(existsSync(join(root, 'workers', 'kindling.json'))).toBe(true);
    expect(readdirSync(root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('a worker whose peer never comes ends with one line naming the rendezvous within its timeout; a store nobody serves too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-distributed-alone-'));
    const port = await freePort();
    const started = Date.now();
    const alone = await node([CLI, 'train', 'tabular', '--rendezvous-timeout', '3'], { cwd: root, env: { WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) } });
    expect(alone.code).toBe(1);
    expect(alone.stderr.trim().split('\n')).toEqual([`kindling: worker 0 of 2: the worker of rank 1 (of 2) did not join the rendezvous at 127.0.0.1:${port} within 3 s`]);
    expect(Date.now() - started).toBeLessThan(30_000);
    const orphan = await node([CLI, 'train', 'tabular', '--rendezvous-timeout', '2'], { cwd: root, env: { WORLD_SIZE: '2', RANK: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort()) } });
    expect(orphan.code).toBe(1);
    expect(orphan.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^kindling: worker 1 of 2: could not reach the rendezvous at 127\.0\.0\.1:\d+ within 2 s \(.*\): is the worker of rank 0 \(or the launcher\) running there\?$/)]);
    const halfSet = await node([CLI, 'train', 'tabular'], { cwd: root, env: { WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500' } });
    expect(halfSet.code).toBe(1);
    expect(halfSet.stderr.trim()).toBe('kindling: RANK= is not set, but WORLD_SIZE=2 says a launcher started this worker: start the workers with torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each');
    expect(existsSync(join(root, 'runs'))).toBe(false);
  });
});
