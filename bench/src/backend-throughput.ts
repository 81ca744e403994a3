import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { initBackend, type BackendName, type BackendReport } from '@kindling/backend/node';
import { backendLabel, benchGpuAdapter, benchThreads, wasmThreadsOf } from './threads';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';

/** The reference CNN: 64×64×3 → conv32 3×3 relu → maxpool → conv64 3×3 relu → maxpool → dense 10. */
export function referenceCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [64, 64, 3], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/** Trains the reference CNN for `steps` batches of 32 after `warmup` ones and returns images/s. */
export async function referenceThroughput(steps: number, warmup: number): Promise<number> {
  const model = referenceCnn();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([32, 64, 64, 3]);
  const y = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10);
  for (let i = 0; i < warmup; i++) await model.trainOnBatch(x, y);
  const start = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return (steps * 32) / seconds;
}

/** Set in the child process that measures wasm on one thread (one process holds one wasm build). */
const ONE_THREAD_CHILD = 'KINDLING_BENCH_WASM_ONE_THREAD';

/** images/s of the reference CNN on single-threaded wasm, measured in a child process. */
function oneThreadWasm(): number {
  const output = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, 'backends'], {
    env: { ...process.env, [ONE_THREAD_CHILD]: '1', KINDLING_BENCH_THREADS: '1' },
    encoding: 'utf8',
  });
  const line = output.split('\n').find((text) => text.startsWith('images/s '));
  if (line === undefined) throw new Error(`the one-thread wasm run printed no result:\n${output}`);
  return Number(line.slice('images/s '.length));
}

export async function benchBackendThroughput(): Promise<void> {
  if (process.env[ONE_THREAD_CHILD] === '1') {
    await initBackend({ backend: 'wasm', log: false, wasmThreads: 1 });
    console.log(`images/s ${await referenceThroughput(10, 2)}`);
    return;
  }
  console.log('\n## Training throughput of the reference CNN (batch 32, Adam)\n');
  let torch: number | undefined;
  if (hasPythonModule('torch')) {
    torch = runPythonBaseline<{ imagesPerSecond: number }>('torch_reference_cnn.py', ['20']).imagesPerSecond;
  } else {
    console.log('PyTorch is not installed (Debian python3-torch, /usr/bin/python3): no baseline ratio this run.');
  }
  const rows: string[][] = [];
  const plan: Array<[BackendName, number, number]> = [
    ['tensorflow', 20, 3],
    ['torch', 20, 3],
    ['webgpu', 20, 3], // a hardware adapter, or the one KINDLING_BENCH_GPU_ADAPTER names
    ['wasm', 10, 2],
    ['cpu', 1, 0], // ~0.3 img/s: one batch of 32 already takes about two minutes
  ];
  for (const [backend, steps, warmup] of plan) {
    let report: BackendReport;
    try {
      report = await initBackend({ backend, log: false, threads: benchThreads(), gpuAdapter: benchGpuAdapter() });
    } catch (error) {
      rows.push([backend, 'not available', '', (error as Error).message.replace(/^.*cannot run here: /, '')]);
      continue;
    }
    const threads = wasmThreadsOf(report);
    const imagesPerSecond = await referenceThroughput(steps, warmup);
    const row = (name: string, value: number) => [
      name,
      value.toFixed(value < 10 ? 2 : 1),
      torch === undefined ? '' : (value / torch).toFixed(4),
      `${steps} step${steps === 1 ? '' : 's'} after ${warmup} warm-up`,
    ];
    if (threads !== undefined && threads > 1) {
      // the baseline for the threads: the same CNN on one thread, in a process of its own
      const single = oneThreadWasm();
      rows.push(row('wasm, 1 thread', single));
      rows.push([...row(backendLabel(report), imagesPerSecond).slice(0, 3), `${(imagesPerSecond / single).toFixed(2)}× one thread`]);
    } else {
      rows.push(row(backendLabel(report), imagesPerSecond));
    }
  }
  if (torch !== undefined) rows.push(['pytorch cpu, 2 threads', torch.toFixed(1), '1', '20 steps after 3 warm-up (baseline)']);
  printTable(['backend', 'images/s', 'ratio to pytorch', 'measured'], rows);
}
