import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { BackendError } from './errors';
import { defaultLoaders, initBackend as initAnyBackend, type BackendLoader, type BackendReport, type InitBackendOptions } from './init-backend';
import { isWasmThreadCount, MAX_WASM_THREADS, prepareWasmThreads, releaseWasmWorkers } from './wasm-threads-node';

export interface NodeInitBackendOptions extends InitBackendOptions {
  /**
   * Threads for the wasm backend: a count from 1 to 8, or `'auto'` for the cores this process may use
   * (at most 8). `1` runs the single-threaded build. Default: `'auto'`.
   */
  wasmThreads?: number | 'auto';
}

function threadCount(setting: number | 'auto' | undefined): number {
  if (setting === undefined || setting === 'auto') return Math.min(availableParallelism(), MAX_WASM_THREADS);
  if (!isWasmThreadCount(setting)) {
    throw new BackendError(`wasmThreads must be a whole number from 1 to ${MAX_WASM_THREADS} or 'auto'; got ${String(setting)}`);
  }
  return setting;
}

/** The wasm loader for Node: the threaded build, started the way Node allows (see `prepareWasmThreads`). */
const nodeWasmLoader: BackendLoader = async (options) => {
  const threads = threadCount((options as NodeInitBackendOptions).wasmThreads);
  if (threads === 1) return defaultLoaders.wasm(options);
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  let restore: () => void;
  try {
    restore = prepareWasmThreads(wasm, threads);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `${await defaultLoaders.wasm(options)}; threads unavailable: ${reason}`;
  }
  try {
    return await defaultLoaders.wasm(options);
  } finally {
    restore();
    if (tf.getBackend() === 'wasm') releaseWasmWorkers();
  }
};

/**
 * `initBackend` for Node: the same choice and report, with the wasm backend on several threads
 * (`wasmThreads`, default one per core up to 8), which tfjs alone runs on one thread in Node.
 */
export async function initBackend(options: NodeInitBackendOptions = {}): Promise<BackendReport> {
  threadCount(options.wasmThreads); // a bad setting is named before any backend starts
  return initAnyBackend({ ...options, loaders: { wasm: nodeWasmLoader, ...options.loaders } });
}
