import { initBackend, isWasmThreadCount, MAX_WASM_THREADS, type BackendName, type BackendReport } from '@kindling/backend/node';
import { ConfigError } from '@kindling/data';

/** The flags every command shares: `--backend` and `--threads`. */
export interface BackendFlags {
  /** tensorflow, torch, webgpu, wasm, cpu or auto. */
  backend: string;
  /** Threads for the torch and wasm backends; default one per core, at most 8. */
  threads?: number;
}

/** Starts the backend the flags ask for, reporting the choice in one line unless `quiet`. */
export function startBackend(flags: BackendFlags, quiet = false): Promise<BackendReport> {
  const { threads } = flags;
  if (threads !== undefined && !isWasmThreadCount(threads)) {
    throw new ConfigError(`--threads must be a whole number from 1 to ${MAX_WASM_THREADS}, not ${threads}`);
  }
  return initBackend({ backend: flags.backend as BackendName | 'auto', threads: threads ?? 'auto', log: quiet ? false : undefined });
}
