import { memory } from '@tensorflow/tfjs';
import { beforeAll, describe } from 'vitest';
import { initBackend, type BackendName } from './init-backend';

/**
 * The backends a backend-agnostic suite runs on. `KINDLING_TEST_BACKENDS=cpu,wasm` (comma separated)
 * overrides the default of `cpu` and `wasm`.
 */
export function testBackends(): BackendName[] {
  const fromEnvironment = globalThis.process?.env?.KINDLING_TEST_BACKENDS;
  if (fromEnvironment === undefined || fromEnvironment.trim() === '') return ['cpu', 'wasm'];
  return fromEnvironment.split(',').map((name) => name.trim() as BackendName);
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
        await initBackend({ backend, log: false });
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
