/**
 * `pnpm bench distributed`: the same training run (the reference CNN on random pictures, a global batch of 32, Adam)
 * as one process on 1 and on N threads and as N workers of one thread each under torchrun, for Kindling (torch
 * backend, `distributedTrainer` over PyTorch's gloo group) and for its PyTorch twin (DistributedDataParallel, gloo,
 * torchrun), all in one run. Scaling efficiency: N workers' images/s over N times one worker on one thread.
 * `KINDLING_BENCH_WORKERS=1,2,4,8` sets the worker counts (default: 1 and 2, and up to the cores there are).
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { hasPythonModule, SYSTEM_PYTHON } from './python-baseline';
import { printTable } from './table';

const WORKER = fileURLToPath(new URL('./distributed-worker.ts', import.meta.url));
const TWIN = fileURLToPath(new URL('../torch_ddp_twin.py', import.meta.url));
const BENCH = fileURLToPath(new URL('..', import.meta.url));

interface Measured {
  imagesPerSecond: number;
  steps: number;
  workers: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs one configuration and reads rank 0's JSON line (prefixed `[default0]:` under torchrun). */
async function measure(engine: 'kindling' | 'pytorch', workers: number, threads: number, steps: number, warmup: number): Promise<Measured> {
  const program = engine === 'kindling' ? [process.execPath, '--import', 'tsx', WORKER] : [SYSTEM_PYTHON, TWIN];
  const args = [String(steps), String(warmup)];
  const launcher =
    workers === 1
      ? { command: program[0]!, args: [...program.slice(1), ...args] }
      : {
          command: 'torchrun',
          // Debian's torchrun 1.13 on Python 3.11 starts only with --redirects 1 --tee 1 (its default stream settings fail)
          args: ['--nproc_per_node', String(workers), '--master_addr', '127.0.0.1', '--master_port', String(await freePort()), '--redirects', '1', '--tee', '1', '--monitor_interval', '1', ...(engine === 'kindling' ? ['--no_python'] : []), ...(engine === 'kindling' ? program : [TWIN]), ...args],
        };
  const result = spawnSync(launcher.command, launcher.args, { cwd: BENCH, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) }, maxBuffer: 64 * 2 ** 20 });
  const line = result.stdout
    .split('\n')
    .map((text) => text.replace(/^\[default0\]:/, ''))
    .find((text) => text.startsWith('{'));
  if (result.status !== 0 || line === undefined) throw new Error(`${engine} with ${workers} worker(s) × ${threads} thread(s) failed (${result.status}): ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line) as Measured;
}

/** The worker counts to measure: KINDLING_BENCH_WORKERS, else 1, 2 and the powers of two up to the cores. */
function workerCounts(): number[] {
  const asked = process.env.KINDLING_BENCH_WORKERS;
  if (asked !== undefined && asked !== '') return asked.split(',').map(Number).filter((count) => Number.isInteger(count) && count >= 1);
  const counts = [1];
  for (let count = 2; count <= Math.max(2, availableParallelism()); count *= 2) counts.push(count);
  return counts;
}

export async function benchDistributed(): Promise<void> {
  console.log('\n## Data-parallel training: the reference CNN, a global batch of 32 (`distributed`)\n');
  const torchrun = spawnSync('torchrun', ['--help'], { stdio: 'ignore' });
  if (torchrun.status !== 0 || !hasPythonModule('torch')) {
    console.log('skipped: torchrun and PyTorch are not installed (Debian: apt install python3-torch)');
    return;
  }
  const steps = Number(process.env.KINDLING_BENCH_DISTRIBUTED_STEPS ?? 40);
  const warmup = 5;
  const rows: string[][] = [];
  const single: Record<string, number> = {};
  for (const workers of workerCounts()) {
    const configurations: Array<[number, number]> = workers === 1 ? [[1, 1]] : [[1, workers], [workers, 1]];
    for (const [count, threads] of configurations) {
      const kindling = await measure('kindling', count, threads, steps, warmup);
      const pytorch = await measure('pytorch', count, threads, steps, warmup);
      if (count === 1 && threads === 1) Object.assign(single, { kindling: kindling.imagesPerSecond, pytorch: pytorch.imagesPerSecond });
      const efficiency = (value: number, engine: 'kindling' | 'pytorch') => (count === 1 ? '' : `${((value / (count * single[engine]!)) * 100).toFixed(0)}%`);
      rows.push([
        `${count} worker${count === 1 ? '' : 's'} × ${threads} thread${threads === 1 ? '' : 's'}`,
        kindling.imagesPerSecond.toFixed(1),
        pytorch.imagesPerSecond.toFixed(1),
        `${(kindling.imagesPerSecond / pytorch.imagesPerSecond).toFixed(2)}×`,
        efficiency(kindling.imagesPerSecond, 'kindling'),
        efficiency(pytorch.imagesPerSecond, 'pytorch'),
      ]);
    }
  }
  printTable(['run', 'Kindling images/s', 'PyTorch images/s', 'Kindling / PyTorch', 'Kindling scaling', 'PyTorch scaling'], rows);
  console.log(`\n${steps} timed steps after ${warmup}, each run alone; scaling: images/s over workers × one worker on one thread (${availableParallelism()} cores here)`);
}
