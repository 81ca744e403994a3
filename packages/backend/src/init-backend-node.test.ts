import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError } from './errors';
import { initBackend } from './init-backend-node';
import { initBackend as initAnyBackend } from './init-backend';
import { torchBuilt } from './testing';

const run = promisify(execFile);

/** Values computed on the backend that runs now, then on `cpu`, for the same work. */
async function onWasmAndCpu(work: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const wasm = tf.tidy(work);
  const fromWasm = (await wasm.data()) as Float32Array;
  wasm.dispose();
  await tf.setBackend('cpu');
  const cpu = tf.tidy(work);
  const fromCpu = (await cpu.data()) as Float32Array;
  cpu.dispose();
  await tf.setBackend('wasm');
  return [fromWasm, fromCpu];
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let most = 0;
  for (let index = 0; index < a.length; index++) most = Math.max(most, Math.abs(a[index]! - b[index]!));
  return most;
}

describe('initBackend for Node', () => {
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('runs the wasm backend on two threads, with the same numbers as cpu', async () => {
    const report = await initBackend({ backend: 'wasm', wasmThreads: 2, log: false });
    expect(report.name).toBe('wasm');
    expect(report.detail).toContain('2 threads');
    expect(report.addedKernels).toContain('Conv2DBackpropFilter');
    // big enough that XNNPACK splits the work between the threads
    const x = tf.randomNormal([4, 32, 32, 16], 0, 1, 'float32', 1) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 16, 24], 0, 0.1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal([4, 32, 32, 24], 0, 1, 'float32', 3);
    const [forwardWasm, forwardCpu] = await onWasmAndCpu(() => tf.conv2d(x, filter, 1, 'same'));
    expect(maxDifference(forwardWasm, forwardCpu)).toBeLessThan(1e-3);
    const [filterWasm, filterCpu] = await onWasmAndCpu(() => tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, 'same').mul(dy).sum())(filter));
    expect(maxDifference(filterWasm, filterCpu)).toBeLessThan(1e-2);
    const [inputWasm, inputCpu] = await onWasmAndCpu(() => tf.grad((input: tf.Tensor) => tf.conv2d(input as tf.Tensor4D, filter, 1, 'same').mul(dy).sum())(x));
    expect(maxDifference(inputWasm, inputCpu)).toBeLessThan(1e-3);
    const a = tf.randomNormal([256, 128], 0, 1, 'float32', 4);
    const [productWasm, productCpu] = await onWasmAndCpu(() => tf.matMul(a, a, false, true));
    expect(maxDifference(productWasm, productCpu)).toBeLessThan(1e-3);
    tf.dispose([x, filter, dy, a]);
  });

  it.skipIf(!torchBuilt())('prefers libtorch to wasm, says so with its version and threads, and computes as cpu', async () => {
    const lines: string[] = [];
    const report = await initBackend({ order: ['torch', 'wasm', 'cpu'], threads: 2, log: (line) => lines.push(line) });
    expect(report.name).toBe('torch');
    expect(tf.getBackend()).toBe('torch');
    expect(report.detail).toMatch(/^@kindling\/backend-torch, libtorch \d+\.\d+\.\d+ on cpu( with oneDNN)?, 2 threads$/);
    expect(report.addedKernels).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'BatchMatMul', 'MaxPoolGrad']));
    expect(lines).toEqual([`kindling: running on the torch backend (${report.detail})`]);
    const x = tf.randomNormal([2, 16, 16, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 8, 4], 0, 0.1, 'float32', 2) as tf.Tensor4D;
    const torch = await tf.conv2d(x, filter, 1, 'same').data();
    await tf.setBackend('cpu');
    const cpu = await tf.conv2d(x, filter, 1, 'same').data();
    expect(maxDifference(torch as Float32Array, cpu as Float32Array)).toBeLessThan(1e-4);
    tf.dispose([x, filter]);
  });

  it('outside Node, torch is skipped with the reason', async () => {
    const lines: string[] = [];
    const report = await initAnyBackend({ order: ['torch', 'cpu'], log: (line) => lines.push(line) });
    expect(report.name).toBe('cpu');
    expect(report.skipped[0]).toEqual({ name: 'torch', reason: 'libtorch runs only in Node (`@kindling/backend/node` with `@kindling/backend-torch`)' });
  });

  it('names a bad thread count before starting anything', async () => {
    await expect(initBackend({ backend: 'wasm', wasmThreads: 0, log: false })).rejects.toThrow(BackendError);
    await expect(initBackend({ backend: 'wasm', wasmThreads: 2.5, log: false })).rejects.toThrow(/wasmThreads must be a whole number from 1 to 8 or 'auto'; got 2.5/);
    await expect(initBackend({ backend: 'torch', threads: 9, log: false })).rejects.toThrow(/threads must be a whole number from 1 to 8 or 'auto'; got 9/);
  });

  it('lets the process end while the thread pool idles', async () => {
    const stdout = await runInChild([
      `const report = await initBackend({ backend: 'wasm', wasmThreads: 2, log: false });`,
      `const y = tf.conv2d(tf.ones([2, 16, 16, 8]), tf.ones([3, 3, 8, 8]), 1, 'same');`,
      `console.log(report.detail, (await y.data())[0]);`,
    ]);
    expect(stdout).toMatch(/2 threads 32/); // a corner sees 2×2 pixels × 8 channels of ones
  });

  it('runs on one thread, and says why, when the threaded start does not finish in time', async () => {
    // no threaded start finishes within a millisecond: its workers load the module for longer than that
    const stdout = await runInChild([
      `const report = await initBackend({ backend: 'wasm', wasmThreads: 2, wasmThreadsTimeout: 1, log: false });`,
      `const y = tf.conv2d(tf.ones([2, 16, 16, 8]), tf.ones([3, 3, 8, 8]), 1, 'same');`,
      `console.log(report.name, report.detail, (await y.data())[0]);`,
      `console.log(report.addedKernels.includes('Conv2DBackpropFilter'));`,
      // a later start in the same process finds the backend running, and says how
      `console.log((await initBackend({ backend: 'wasm', wasmThreads: 2, log: false })).detail);`,
    ]);
    expect(stdout).toMatch(/^wasm @tensorflow\/tfjs-backend-wasm, SIMD, 1 thread; 2 threads did not start within 0\.001 s(, 2 tries)? \(\d+ of \d+ workers ready, \d+ running(; \d+ of \d+ workers ready, \d+ running)?\) 32\ntrue\n@tensorflow\/tfjs-backend-wasm, SIMD, 1 thread\n$/);
  });

  it('names a bad start timeout', async () => {
    await expect(initBackend({ backend: 'wasm', wasmThreadsTimeout: 0, log: false })).rejects.toThrow(/wasmThreadsTimeout must be a positive number of milliseconds; got 0/);
  });
});

/**
 * Runs lines of a module in a fresh Node process (tsx runs the TypeScript sources), with `tf` and this
 * package's Node `initBackend` in scope; its standard output, once it has ended on its own.
 */
async function runInChild(lines: string[]): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'kindling-threads-test-'));
  try {
    const entry = pathToFileURL(fileURLToPath(new URL('./node.ts', import.meta.url))).href;
    const script = join(folder, 'child.mts');
    writeFileSync(
      script,
      [
        `const tf = await import(${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('@tensorflow/tfjs')).href)});`,
        `const { initBackend } = await import(${JSON.stringify(entry)});`,
        ...lines,
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 });
    return stdout;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
