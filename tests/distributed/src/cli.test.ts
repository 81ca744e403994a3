import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, freePort, node, skipReason, torchrun, workersOf, writeTable } from './launch';

describe.skipIf(skipReason() !== undefined)('kindling train under torchrun --no_python --nproc_per_node 2', () => {
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
