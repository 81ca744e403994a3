import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@kindling/backend/node';
import { referenceThroughput } from './backend-throughput';
import { hasPythonModule, SYSTEM_PYTHON } from './python-baseline';
import { printTable } from './table';

/** Set in the child process that measures Kindling's reference CNN (a fresh process: libgomp reads its settings once). */
const CHILD = 'KINDLING_BENCH_CONTENTION_CHILD';

/** A process that keeps one core busy, as a browser tab, a compiler or another job does. */
function busyLoop(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

/** images/s of Kindling's reference CNN on the torch backend in a process of its own, with `env` added. */
function kindling(env: Record<string, string>): number {
  const result = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, 'contention'], {
    env: { ...process.env, ...env, [CHILD]: '1' },
    encoding: 'utf8',
  });
  const line = result.stdout.split('\n').find((text) => text.startsWith('images/s '));
  if (line === undefined) throw new Error(`the Kindling run printed no result: ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
  return Number(line.slice('images/s '.length));
}

/** images/s of PyTorch's twin of the reference CNN (two threads, its own defaults). */
function pytorch(): number {
  const script = fileURLToPath(new URL('../torch_reference_cnn.py', import.meta.url));
  const result = spawnSync(SYSTEM_PYTHON, [script, '20'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`torch_reference_cnn.py failed: ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
  return (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { imagesPerSecond: number }).imagesPerSecond;
}

/**
 * `pnpm bench contention`: the reference CNN's training throughput alone and beside one and two busy processes, for
 * Kindling's torch backend as shipped, for it with libgomp's old spinning wait (`OMP_WAIT_POLICY=ACTIVE`), and for
 * PyTorch, all in one run; each figure with the share of its own quiet throughput it keeps. Runs alternate between
 * the contenders so that a drift of the machine hits all of them alike.
 */
export async function benchContention(): Promise<void> {
  if (process.env[CHILD] === '1') {
    await initBackend({ backend: 'torch', log: false });
    console.log(`images/s ${await referenceThroughput(20, 3)}`);
    return;
  }
  const cores = availableParallelism();
  console.log(`\n## The reference CNN beside busy processes (batch 32, Adam, ${cores} cores)\n`);
  const contenders: Array<[string, () => number]> = [
    ['kindling torch (default)', () => kindling({})],
    ['kindling torch, OMP_WAIT_POLICY=ACTIVE', () => kindling({ OMP_WAIT_POLICY: 'ACTIVE' })],
  ];
  if (hasPythonModule('torch')) contenders.push(['pytorch, 2 threads', pytorch]);
  else console.log('PyTorch is not installed (Debian python3-torch, /usr/bin/python3): no baseline this run.');
  const repeats = Number(process.env.KINDLING_BENCH_REPEATS ?? 2);
  const busyCounts = [0, 1, 2];
  /** The best of `repeats` runs for each contender and each count of busy processes. */
  const best = new Map<string, number>();
  for (const busy of busyCounts) {
    const loops = Array.from({ length: busy }, busyLoop);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let repeat = 0; repeat < repeats; repeat++) {
        for (const [name, measure] of contenders) {
          const value = measure();
          const key = `${name}|${busy}`;
          best.set(key, Math.max(best.get(key) ?? 0, value));
        }
      }
    } finally {
      for (const loop of loops) loop.kill('SIGKILL');
    }
  }
  const rows = contenders.map(([name]) => {
    const quiet = best.get(`${name}|0`)!;
    return [
      name,
      ...busyCounts.map((busy) => {
        const value = best.get(`${name}|${busy}`)!;
        return busy === 0 ? value.toFixed(1) : `${value.toFixed(1)} (${Math.round((100 * value) / quiet)}%)`;
      }),
    ];
  });
  printTable(['images/s, best of ' + repeats, 'alone', 'beside 1 busy process', 'beside 2 busy processes'], rows);
}
