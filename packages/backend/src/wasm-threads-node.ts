import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';

/** What the threaded start needs from `@tensorflow/tfjs-backend-wasm`. */
export interface WasmThreadControls {
  setThreadsCount(count: number): void;
}

/** The most threads the wasm build can use: it starts a pool of eight workers. */
export const MAX_WASM_THREADS = 8;

/** Whether a thread count is one the wasm build can run: a whole number from 1 to {@link MAX_WASM_THREADS}. */
export function isWasmThreadCount(count: number): boolean {
  return Number.isInteger(count) && count >= 1 && count <= MAX_WASM_THREADS;
}

/** In the worker script: where it loads the module that arrived as a Blob (Node cannot import a blob: URL). */
const WORKER_LOAD = 'if(typeof e.data.urlOrBlob=="string")';
/** The start of the module text tfjs hands its workers as a Blob. */
const MAIN_SCRIPT = 'var WasmBackendModuleThreadedSimd = ';

/**
 * How the bundle's module text reaches Node's modules once it is evaluated alone in a worker: rollup named
 * them `require$$0` … in the bundle's header (`var require$$0 = require('fs');`).
 */
function workerPrelude(bundle: string): string {
  const names = [...bundle.matchAll(/^var (require\$\$\d+) = require\('([\w:/-]+)'\);$/gm)].map(
    ([, name, module]) => `${name}=require(${JSON.stringify(module)})`,
  );
  return `var ${[...names, 'commonjsGlobal=globalThis'].join(',')};\n`;
}

/** A threaded start in progress (see {@link prepareWasmThreads}). */
export interface WasmThreadStart {
  /** Puts back `Blob`, `URL.createObjectURL`, `os.cpus` and the `Worker` class. */
  restore(): void;
  /**
   * The pool's workers so far: how many were made, how many have their thread running, how many loaded
   * the module, and what any failing one said.
   */
  progress(): { started: number; online: number; loaded: number; failures: string[] };
  /** Ends every worker this start made, for a start that is given up; waits at most a few seconds. */
  terminate(): Promise<void>;
}

/** The message a pthread worker posts once it has loaded the module (emscripten's worker script). */
const LOADED = 'loaded';

/**
 * Prepares a multi-threaded start of tfjs-backend-wasm in Node, which tfjs itself does not offer
 * (tfjs issue 3830): its flag says Node has no threads; it starts its pthread workers from `blob:` URLs,
 * which Node's `Worker` refuses; the workers import the module from a Blob; and it uses half the logical
 * cores (one thread on a two-core machine). For the backend's start only, this writes the worker script and
 * the module to a temporary folder (removed when the process exits) and hands their paths out instead of
 * blob URLs, reports `2 × threads` cores, and watches the pool's workers start. Call `restore` on the
 * result once `tf.setBackend('wasm')` has settled or been given up. Throws, changing nothing, when the
 * installed tfjs-backend-wasm is not built the way this expects.
 */
export function prepareWasmThreads(wasm: WasmThreadControls, threads: number): WasmThreadStart {
  const bundlePath = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  const bundle = readFileSync(bundlePath, 'utf8');
  if (!bundle.includes(MAIN_SCRIPT) || !bundle.includes(WORKER_LOAD.replaceAll('"', '\\"'))) {
    throw new Error(`${bundlePath} is not the threaded build this knows how to start in Node`);
  }
  const prelude = workerPrelude(bundle);
  const folder = mkdtempSync(join(os.tmpdir(), 'kindling-wasm-'));
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  const mainPath = join(folder, 'backend.cjs');
  const workerPath = join(folder, 'worker.cjs');

  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  globalThis.Blob = class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts === undefined || !parts.every((part) => typeof part === 'string')) return;
      const text = parts.join('');
      texts.set(this, text);
      if (text.startsWith(MAIN_SCRIPT)) writeFileSync(mainPath, prelude + text);
    }
  };
  URL.createObjectURL = (object: Blob | MediaSource): string => {
    const text = object instanceof OriginalBlob ? texts.get(object) : undefined;
    if (text === undefined || !text.includes(WORKER_LOAD)) return originalCreateObjectURL(object as Blob);
    writeFileSync(workerPath, text.replace(WORKER_LOAD, `if(true){importScripts(${JSON.stringify(mainPath)})}else ${WORKER_LOAD}`));
    return workerPath;
  };
  os.cpus = () => {
    const cpus = originalCpus();
    return Array.from({ length: 2 * threads }, (_, index) => cpus[index % cpus.length]!);
  };
  // the bundle reads `require('worker_threads').Worker` when its module starts, and makes its pool then
  const workerThreads = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof Worker };
  const OriginalWorker = workerThreads.Worker;
  const workers: Worker[] = [];
  let online = 0;
  let loaded = 0;
  const failures: string[] = [];
  const WatchedWorker = class extends OriginalWorker {
    constructor(...parameters: ConstructorParameters<typeof Worker>) {
      super(...parameters);
      workers.push(this);
      this.once('online', () => online++);
      this.on('message', (message: { cmd?: unknown }) => {
        if (message?.cmd === LOADED) loaded++;
      });
      this.on('error', (error: Error) => failures.push(error.message));
    }
  };
  workerThreads.Worker = WatchedWorker;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);

  return {
    restore() {
      globalThis.Blob = OriginalBlob;
      URL.createObjectURL = originalCreateObjectURL;
      os.cpus = originalCpus;
      workerThreads.Worker = OriginalWorker;
      const global = globalThis as { Worker?: unknown };
      if (global.Worker === WatchedWorker) global.Worker = OriginalWorker; // the bundle copied it there
    },
    progress: () => ({ started: workers.length, online, loaded, failures: [...failures] }),
    async terminate() {
      for (const worker of workers) {
        // the start is given up: nothing may react to these workers any more, a failing one included
        worker.removeAllListeners('message').removeAllListeners('error').on('error', () => undefined);
        worker.unref();
      }
      const ended = Promise.allSettled(workers.map((worker) => worker.terminate()));
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    },
  };
}

interface PThreadPool {
  runningWorkers: Array<{ unref(): void }>;
  unusedWorkers: Array<{ unref(): void }>;
}

/**
 * Lets the process end while the wasm thread pool idles: emscripten holds a reference on each running
 * pthread worker, and XNNPACK's threads run for the life of the backend.
 */
export function releaseWasmWorkers(): number {
  const pool = (tf.backend() as { wasm?: { PThread?: PThreadPool } }).wasm?.PThread;
  if (pool === undefined) return 0;
  const workers = [...pool.runningWorkers, ...pool.unusedWorkers];
  for (const worker of workers) worker.unref();
  return pool.runningWorkers.length;
}
