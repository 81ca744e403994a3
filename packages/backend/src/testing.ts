import { memory } from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe } from 'vitest';
import { type BackendName } from './init-backend';
import { initBackend } from './init-backend-node';
import { swiftShaderAvailability } from './webgpu-node';

/** Whether `@kindling/backend-torch` is installed here with its libtorch addon built. */
export function torchBuilt(): boolean {
  try {
    const manifest = createRequire(import.meta.url).resolve('@kindling/backend-torch/package.json');
    return existsSync(join(dirname(manifest), 'build', 'Release', 'kindling_torch.node'));
  } catch {
    return false;
  }
}

/** The adapter `KINDLING_TEST_GPU_ADAPTER` names, if it names one. */
function namedTestAdapter(): string | undefined {
  const named = globalThis.process?.env?.KINDLING_TEST_GPU_ADAPTER?.trim();
  return named === undefined || named === '' ? undefined : named;
}

/** The WebGPU adapter the suites run on: `KINDLING_TEST_GPU_ADAPTER`, else SwiftShader (software, in CI). */
export function testGpuAdapter(): string {
  return namedTestAdapter() ?? 'SwiftShader';
}

let webgpuSkipNoted = false;

/** Whether the suites can run on Node WebGPU here; says once why not, when not. */
function webgpuTestable(): boolean {
  if (namedTestAdapter() !== undefined) return true;
  const availability = swiftShaderAvailability();
  if (availability.available) return true;
  if (!webgpuSkipNoted) {
    webgpuSkipNoted = true;
    console.warn(`kindling: the webgpu runs of the backend suites are skipped: ${availability.reason}`);
  }
  return false;
}

/**
 * The backends a backend-agnostic suite runs on. `KINDLING_TEST_BACKENDS=cpu,wasm` (comma separated)
 * overrides the default: `cpu`, `wasm`, `torch` where its addon is built, and `webgpu` (Node WebGPU through
 * Dawn, on SwiftShader or the adapter `KINDLING_TEST_GPU_ADAPTER` names) where that can start.
 */
export function testBackends(): BackendName[] {
  const fromEnvironment = globalThis.process?.env?.KINDLING_TEST_BACKENDS;
  if (fromEnvironment === undefined || fromEnvironment.trim() === '') {
    return [
      'cpu',
      'wasm',
      ...(torchBuilt() ? (['torch'] as const) : []),
      ...(webgpuTestable() ? (['webgpu'] as const) : []),
    ];
  }
  return fromEnvironment.split(',').map((name) => name.trim() as BackendName);
}

/**
 * The backends for a suite of long training runs (callbacks, schedules, checkpoints: the loop's logic on top of
 * kernels the other suites check everywhere): {@link testBackends} less webgpu on a software adapter, where
 * SwiftShader runs every kernel on the CPU at 30–80× the cost of the others. A real adapter named by
 * `KINDLING_TEST_GPU_ADAPTER`, or webgpu named in `KINDLING_TEST_BACKENDS`, keeps it.
 */
export function trainingTestBackends(): BackendName[] {
  const explicit = (globalThis.process?.env?.KINDLING_TEST_BACKENDS ?? '').trim() !== '';
  return testBackends().filter((backend) => backend !== 'webgpu' || explicit || namedTestAdapter() !== undefined);
}

/** The fastest backend the recipe-level tests can train on here: torch where its addon is built, else wasm. */
export function fastestTestBackend(): BackendName {
  return torchBuilt() ? 'torch' : 'wasm';
}

/**
 * Runs a suite once per backend, each block on its own backend: `describeEachBackend('loss', (backend) => { it(...) })`.
 * The backend is set before the block's tests and hooks run.
 */
export function describeEachBackend(
  title: string,
  suite: (backend: BackendName) => void,
  backends: readonly BackendName[] = testBackends(),
): void {
  for (const backend of backends) {
    describe(`${title} [${backend}]`, () => {
      beforeAll(async () => {
        // wasm on one thread, as tfjs starts it in Node: the suites check answers, not speed
        await initBackend({ backend, log: false, wasmThreads: 1, ...(backend === 'webgpu' ? { gpuAdapter: testGpuAdapter() } : {}) });
      });
      suite(backend);
    });
  }
}

/** Runs `work` and returns how many tensors it left behind (0 when nothing leaks). */
export async function countLeakedTensors(work: () => unknown): Promise<number> {
  const before = memory().numTensors;
  await work();
  return memory().numTensors - before;
}
