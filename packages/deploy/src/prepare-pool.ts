/**
 * The prediction server's preparation pool: worker threads that read request bodies and prepare inputs (the work in
 * JavaScript that grows with an input: resampling a recording and its spectrogram, cutting and drawing a mouse
 * session, parsing a big JSON body), so the server's event loop stays free to answer `/health` and accept requests.
 * Only for the kinds whose definition says where the workers find it (`preparedOffThread`: sound and pointer, whose
 * preparation is pure JavaScript); pictures are decoded on libvips' own threads already.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Bundle } from './bundle-manifest';
import { InputError } from './errors';
import { taskDefinition } from './registry';

/** Payloads from this size are moved to a worker rather than copied (below it, Node's pooled buffers may share their memory). */
const MOVE_FROM_BYTES = 64 * 1024;

interface Pending {
  resolve: (value: { batch: boolean; prepared: unknown[] }) => void;
  reject: (error: Error) => void;
}

/** Names of errors that are the caller's mistake (answered 400), as the server's own thread tells them. */
const MISTAKES = new Set(['InputError', 'DataError', 'ConfigError']);

/** The worker script beside this module: the ESM or CommonJS build, whichever this is. */
function workerFile(): string | undefined {
  const here = import.meta.url;
  const file = fileURLToPath(new URL(here.endsWith('.cjs') ? './prepare-worker.cjs' : './prepare-worker.js', here));
  return existsSync(file) ? file : undefined;
}

export class PreparePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending & { worker: Worker }>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly data: { manifest: Bundle['manifest']; maxInputs: number; definition: { module: string; name: string } },
    size: number,
  ) {
    for (let index = 0; index < size; index++) this.workers.push(this.spawn());
  }

  /**
   * A pool of `size` workers for the bundle, or undefined where it cannot run: a kind it does not prepare, or no
   * worker script beside this module (the sources run by a test runner, not the build).
   */
  static start(bundle: Bundle, options: { size: number; maxInputs: number }): PreparePool | undefined {
    const definition = taskDefinition(bundle.manifest.task.kind)?.preparedOffThread;
    if (definition === undefined || options.size < 1) return undefined;
    const file = workerFile();
    return file === undefined ? undefined : new PreparePool(file, { manifest: bundle.manifest, maxInputs: options.maxInputs, definition }, options.size);
  }

  get size(): number {
    return this.workers.length;
  }

  private spawn(): Worker {
    const worker = new Worker(this.file, { workerData: this.data });
    this.busy.set(worker, 0);
    const fail = (error: Error) => {
      for (const [id, job] of this.pending) {
        if (job.worker !== worker) continue;
        this.pending.delete(id);
        job.reject(error);
      }
      this.busy.delete(worker);
      const index = this.workers.indexOf(worker);
      // a worker that died (out of memory, a crash) is replaced; its jobs failed with it
      if (index >= 0 && !this.closed) this.workers[index] = this.spawn();
    };
    worker.on('message', (message: { id: number; ok: boolean; batch?: boolean; prepared?: unknown[]; name?: string; message?: string }) => {
      const job = this.pending.get(message.id);
      if (job === undefined) return;
      this.pending.delete(message.id);
      this.busy.set(worker, (this.busy.get(worker) ?? 1) - 1);
      if (message.ok) job.resolve({ batch: message.batch!, prepared: message.prepared! });
      else if (MISTAKES.has(message.name!)) job.reject(new InputError(message.message!));
      else job.reject(new Error(message.message));
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`a preparation worker stopped (exit code ${code})`));
    });
    return worker;
  }

  /**
   * Reads a body (JSON text, or one file's bytes) into prepared inputs on the least busy worker. A payload that is
   * the whole of its own memory (a request body as it was gathered) is moved to the worker, not copied: copying a
   * 10 MB body held the event loop for tens of milliseconds, and eight at once stalled `/health` past half a second.
   * The caller must not read such a payload afterwards.
   */
  prepare(kind: 'json' | 'bytes', payload: Uint8Array): Promise<{ batch: boolean; prepared: unknown[] }> {
    if (this.closed) return Promise.reject(new Error('the preparation pool is closed'));
    const worker = this.workers.reduce((best, candidate) => ((this.busy.get(candidate) ?? 0) < (this.busy.get(best) ?? 0) ? candidate : best));
    const id = this.nextId++;
    this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      const movable = payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength && payload.buffer instanceof ArrayBuffer && payload.byteLength >= MOVE_FROM_BYTES;
      worker.postMessage({ id, kind, payload }, movable ? [payload.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    for (const job of this.pending.values()) job.reject(new Error('the server closed'));
    this.pending.clear();
  }
}
