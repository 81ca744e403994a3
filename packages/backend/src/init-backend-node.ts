import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendError } from './errors';
import { registerCpuKernelFixes } from './cpu-kernel-fixes';
import { activate, defaultLoaders, importInstalled, initBackend as initAnyBackend, wasmStarted, type BackendLoader, type BackendReport, type InitBackendOptions } from './init-backend';
import { nodeWebGpuLoader } from './webgpu-node';
import { isWasmThreadCount, MAX_WASM_THREADS, prepareWasmThreads, releaseWasmWorkers, type WasmThreadStart } from './wasm-threads-node';

/** The priority tfjs-backend-wasm registers its backend with. */
const WASM_PRIORITY = 2;

export interface NodeInitBackendOptions extends InitBackendOptions {
  /**
   * Threads for the torch and wasm backends: a count from 1 to 8, or `'auto'`: `OMP_NUM_THREADS` when set (a
   * launcher's per-worker share), else the cores this process may use (at most 8). `wasmThreads` overrides it
   * for wasm. Default: `'auto'`.
   */
  threads?: number | 'auto';
  /** Where libtorch computes (`cpu`, `cuda`, `cuda:1`, as libtorch names devices). Default: `cpu`. */
  torchDevice?: string;
  /**
   * Threads for the wasm backend: a count from 1 to 8, or `'auto'` for the cores this process may use
   * (at most 8). `1` runs the single-threaded build. Default: `'auto'`.
   */
  wasmThreads?: number | 'auto';
  /**
   * Milliseconds a threaded wasm start may take before it is given up and tried once more, then one
   * thread runs (the report says so). Default: 10,000; a start takes 0.2–0.7 s, also on a busy two-core
   * machine.
   */
  wasmThreadsTimeout?: number;
}

const THREADED_START_TIMEOUT = 10_000;

/**
 * `'auto'` threads: `OMP_NUM_THREADS` when it is set (launchers such as torchrun set it for each worker, 1 when
 * several share a machine), else one per core this process may use; at most 8.
 */
function automaticThreads(): number {
  const asked = Number(process.env.OMP_NUM_THREADS);
  const threads = Number.isInteger(asked) && asked >= 1 ? asked : availableParallelism();
  return Math.min(threads, MAX_WASM_THREADS);
}

function threadCount(setting: number | 'auto' | undefined, option = 'threads'): number {
  if (setting === undefined || setting === 'auto') return automaticThreads();
  if (!isWasmThreadCount(setting)) {
    throw new BackendError(`${option} must be a whole number from 1 to ${MAX_WASM_THREADS} or 'auto'; got ${String(setting)}`);
  }
  return setting;
}

/**
 * Threaded starts tried before one thread: a start whose workers stall (see the README) seldom stalls twice
 * running. A start that has not made its pool of workers yet is not tried again.
 */
const THREADED_START_ATTEMPTS = 2;

/**
 * Waits for one prepared threaded start: its report detail, or, when it did not finish in time, how far its
 * workers got — its workers ended and the wasm backend registered again, so that another start can run.
 */
async function awaitThreadedStart(
  start: WasmThreadStart,
  options: NodeInitBackendOptions,
  timeout: number,
): Promise<{ detail: string } | { stalled: string; poolMade: boolean }> {
  const threaded = defaultLoaders.wasm(options);
  const clock = new AbortController();
  const late = sleep(timeout, undefined, { signal: clock.signal }).catch(() => undefined);
  let detail: string | undefined;
  try {
    detail = await Promise.race([threaded, late]);
  } finally {
    clock.abort();
    start.restore();
  }
  if (detail !== undefined) {
    if (tf.getBackend() === 'wasm') releaseWasmWorkers();
    return { detail };
  }
  threaded.catch(() => undefined); // given up: how it ends no longer matters
  const { started, online, loaded, failures } = start.progress();
  const factory = tf.findBackendFactory('wasm');
  if (factory === null) throw new Error('the wasm backend is not registered');
  await start.terminate();
  tf.removeBackend('wasm'); // the engine forgets the pending start
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
  return {
    stalled: `${loaded} of ${started} workers ready, ${online} running${failures.length === 0 ? '' : `, one failed: ${failures[0]}`}`,
    poolMade: started > 0,
  };
}

/**
 * The wasm loader for Node: the threaded build, started the way Node allows (see `prepareWasmThreads`);
 * one thread when the threaded build cannot start here, or twice does not within `wasmThreadsTimeout`.
 */
const nodeWasmLoader: BackendLoader = async (options) => {
  const { wasmThreads, wasmThreadsTimeout = THREADED_START_TIMEOUT } = options as NodeInitBackendOptions;
  const threads = threadCount(wasmThreads ?? (options as NodeInitBackendOptions).threads);
  if (threads === 1 || wasmStarted()) return defaultLoaders.wasm(options);
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const oneThread = async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(1);
    return defaultLoaders.wasm(options);
  };
  const stalls: string[] = [];
  while (stalls.length < THREADED_START_ATTEMPTS) {
    let start: WasmThreadStart;
    try {
      start = prepareWasmThreads(wasm, threads);
    } catch (error) {
      return `${await oneThread()}; threads unavailable: ${error instanceof Error ? error.message : String(error)}`;
    }
    const outcome = await awaitThreadedStart(start, options, wasmThreadsTimeout);
    if ('detail' in outcome) return stalls.length === 0 ? outcome.detail : `${outcome.detail}; the first start stalled (${stalls[0]})`;
    stalls.push(outcome.stalled);
    // a start still making its module would go on beside a second one, and make its workers then
    if (!outcome.poolMade) break;
  }
  const tries = stalls.length === 1 ? '' : `, ${stalls.length} tries`;
  return `${await oneThread()}; ${threads} threads did not start within ${wasmThreadsTimeout / 1000} s${tries} (${stalls.join('; ')})`;
};

interface TorchModule {
  registerTorchBackend(options: { threads?: number; device?: string }): { version: string; threads: number; device: string; mkldnn: boolean; kernels: string[] };
}

/**
 * The torch loader: libtorch through `@kindling/backend-torch` (an optional peer), on `threads` threads.
 * The cpu backend's fixes are registered first, so the torch backend, which inherits the cpu kernels, has them.
 */
const nodeTorchLoader: BackendLoader = async (options) => {
  const { threads, torchDevice } = options as NodeInitBackendOptions;
  const torch = (await importInstalled('@kindling/backend-torch', '@kindling/backend-torch is not installed')) as TorchModule;
  registerCpuKernelFixes();
  const info = torch.registerTorchBackend({ threads: threadCount(threads), device: torchDevice });
  await activate('torch');
  const detail = `@kindling/backend-torch, libtorch ${info.version} on ${info.device}${info.mkldnn ? ' with oneDNN' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  return { detail, addedKernels: info.kernels };
};

/**
 * `initBackend` for Node: the same choice and report, with libtorch (`@kindling/backend-torch`, when installed
 * and built), WebGPU through Dawn (the optional peer `webgpu`, on a hardware adapter or the one `gpuAdapter`
 * names) and the wasm backend on several threads (`threads`, default one per core up to 8), which tfjs
 * alone runs on one thread in Node.
 */
export async function initBackend(options: NodeInitBackendOptions = {}): Promise<BackendReport> {
  threadCount(options.threads); // a bad setting is named before any backend starts
  threadCount(options.wasmThreads, 'wasmThreads');
  const { wasmThreadsTimeout } = options;
  if (wasmThreadsTimeout !== undefined && !(Number.isFinite(wasmThreadsTimeout) && wasmThreadsTimeout > 0)) {
    throw new BackendError(`wasmThreadsTimeout must be a positive number of milliseconds; got ${String(wasmThreadsTimeout)}`);
  }
  return initAnyBackend({ ...options, loaders: { wasm: nodeWasmLoader, torch: nodeTorchLoader, webgpu: nodeWebGpuLoader, ...options.loaders } });
}
