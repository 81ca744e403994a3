/**
 * `pnpm bench distributed`: the same training run (the reference CNN on random pictures, a global batch of 32, Adam)
 * as one process on 1 and on N threads and as N workers of one thread each under torchrun, for Kindling (torch
 * backend, `distributedTrainer` over PyTorch's gloo group) and for its PyTorch twin (DistributedDataParallel, gloo,
 * torchrun), all in one run. Scaling efficiency: N workers' images/s over N times one worker on one thread.
 * `KINDLING_BENCH_WORKERS=1,2,4,8` sets the worker counts (default: 1 and 2, and up to the cores there are).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adultRows, FASHION_CLASSES, fashionDraw, toCsv, writePictures } from './defaults';
import { datasetsRoot } from './fashion-mnist';
import { hasPythonModule, SYSTEM_PYTHON } from './python-baseline';
import { printTable } from './table';

const WORKER = fileURLToPath(new URL('./distributed-worker.ts', import.meta.url));
const TWIN = fileURLToPath(new URL('../torch_ddp_twin.py', import.meta.url));
const BENCH = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../../apps/trainer/dist/cli.js', import.meta.url));

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
  console.log('\n## Data-parallel training (`distributed`)\n');
  const torchrun = spawnSync('torchrun', ['--help'], { stdio: 'ignore' });
  if (torchrun.status !== 0 || !hasPythonModule('torch')) {
    console.log('skipped: torchrun and PyTorch are not installed (Debian: apt install python3-torch)');
    return;
  }
  // KINDLING_BENCH_DISTRIBUTED: throughput, held-out, or both (the default)
  const parts = (process.env.KINDLING_BENCH_DISTRIBUTED ?? 'throughput,held-out').split(',');
  if (parts.includes('throughput')) await throughput();
  if (parts.includes('held-out')) await heldOut();
}

/** Images/s of the same run on 1 worker × 1 and N threads and on N workers × 1 thread, Kindling beside PyTorch DDP. */
async function throughput(): Promise<void> {
  console.log('The reference CNN on random pictures, a global batch of 32, Adam:\n');
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

/** `kindling train` as one process and as 2 workers under torchrun (same flags, same global batch): its printed figure, and seconds. */
function trainTwice(args: string[], cwd: string, figure: RegExp): Array<{ value: number; seconds: number }> {
  return ['single', 'workers'].map((how) => {
    const started = performance.now();
    const out = ['--out', join(cwd, `${how}-out`)];
    const result =
      how === 'single'
        ? spawnSync(process.execPath, [CLI, ...args, ...out], { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
        : spawnSync('torchrun', ['--no_python', '--nproc_per_node', '2', '--master_port', String(29_400 + Math.floor(Math.random() * 500)), '--redirects', '1', '--tee', '1', '--monitor_interval', '1', process.execPath, CLI, ...args, ...out], {
            cwd,
            encoding: 'utf8',
            env: { ...process.env, OMP_NUM_THREADS: '1' },
            maxBuffer: 64 * 2 ** 20,
          });
    const value = Number(figure.exec(result.stdout)?.[1]);
    if (result.status !== 0 || Number.isNaN(value)) throw new Error(`kindling ${args.slice(0, 2).join(' ')} (${how}) failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join(' | ')}`);
    return { value, seconds: (performance.now() - started) / 1000 };
  });
}

/** Held-out accuracy of `kindling train` with its defaults as 2 workers and as one process, on real data it never tuned for. */
async function heldOut(): Promise<void> {
  console.log('\n`kindling train` with its defaults, 2 workers × 1 thread (torchrun) against 1 process × 2 threads, the same global batch, scored on held-out data:\n');
  const work = mkdtempSync(join(tmpdir(), 'kindling-distributed-bench-'));
  const rows: string[][] = [];
  try {
    const adult = join(datasetsRoot(), 'tabular', 'adult');
    if (existsSync(join(adult, 'adult-train.csv'))) {
      writeFileSync(join(work, 'train.csv'), toCsv(adultRows(join(adult, 'adult-train.csv'))));
      writeFileSync(join(work, 'test.csv'), toCsv(adultRows(join(adult, 'adult-test.csv'))));
      const [single, workers] = trainTwice(['train', 'tabular', 'train.csv', '--target', 'income', '--test', 'test.csv'], work, /test set \(\d+ rows\): loss [\d.]+, accuracy ([\d.]+)/);
      rows.push(['Adult, all 32,561 rows (16,281 test)', `${(workers!.value * 100).toFixed(2)}%`, `${(single!.value * 100).toFixed(2)}%`, `${((workers!.value - single!.value) * 100).toFixed(2)}`, workers!.seconds.toFixed(0), single!.seconds.toFixed(0)]);
    } else console.log(`no Adult data at ${adult}: its row is skipped`);
    if (existsSync(join(datasetsRoot(), 'image', 'fashion-mnist', 'train-images-idx3-ubyte.gz'))) {
      const root = join(work, 'fashion');
      await writePictures(join(root, 'train'), await fashionDraw('train', 150, 1), 28, FASHION_CLASSES);
      await writePictures(join(root, 'valid'), await fashionDraw('t10k', 200, 2), 28, FASHION_CLASSES);
      const [single, workers] = trainTwice(['train', 'image', 'fashion'], work, /validation accuracy ([\d.]+)%; the bundle/);
      rows.push(['Fashion-MNIST, 1,500 pictures (2,000 test)', `${workers!.value.toFixed(1)}%`, `${single!.value.toFixed(1)}%`, `${(workers!.value - single!.value).toFixed(1)}`, workers!.seconds.toFixed(0), single!.seconds.toFixed(0)]);
      const manifest = JSON.parse(readFileSync(join(work, 'workers-out', 'kindling.json'), 'utf8')) as { training: { batchSize: number; epochs: number } };
      console.log(`(Fashion: batch ${manifest.training.batchSize} a step, ${manifest.training.epochs} epochs, either way)`);
    } else console.log('no Fashion-MNIST data: its row is skipped');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (rows.length > 0) printTable(['data', '2 workers', '1 process', 'points', '2 workers s', '1 process s'], rows);
}
