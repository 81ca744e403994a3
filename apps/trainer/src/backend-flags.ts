import { initBackend, isWasmThreadCount, MAX_WASM_THREADS, type BackendName, type BackendReport } from '@kindling/backend/node';
import { ConfigError } from '@kindling/data';

/** The flags every command shares: `--backend`, `--threads` and `--gpu-adapter`. */
export interface BackendFlags {
  /** tensorflow, torch, webgpu, wasm, cpu or auto. */
  backend: string;
  /** Threads for the torch and wasm backends; default OMP_NUM_THREADS when set, else one per core; at most 8. */
  threads?: number;
  /** The WebGPU adapter, by part of its name; a software one runs only when named. */
  gpuAdapter?: string;
}

let running: BackendReport | undefined;

/** What the progress bar names as the machine: the backend, and the GPU adapter on webgpu. */
export function runningOn(): string | undefined {
  if (running === undefined) return undefined;
  return running.adapter === undefined ? running.name : `${running.name} on ${running.adapter.name}${running.adapter.software ? ' (software)' : ''}`;
}

/** Starts the backend the flags ask for, reporting the choice in one line unless `quiet`. */
export async function startBackend(flags: BackendFlags, quiet = false): Promise<BackendReport> {
  const { threads } = flags;
  if (threads !== undefined && !isWasmThreadCount(threads)) {
    throw new ConfigError(`--threads must be a whole number from 1 to ${MAX_WASM_THREADS}, not ${threads}`);
  }
  running = await initBackend({
    backend: flags.backend as BackendName | 'auto',
    threads: threads ?? 'auto',
    gpuAdapter: flags.gpuAdapter,
    log: quiet ? false : undefined,
  });
  return running;
}
