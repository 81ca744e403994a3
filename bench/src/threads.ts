import type { BackendReport } from '@kindling/backend/node';

/** Threads for the wasm backend: `KINDLING_BENCH_THREADS=1` for one, default one per core. */
export function benchThreads(): number | 'auto' {
  const setting = process.env.KINDLING_BENCH_THREADS;
  return setting === undefined || setting === 'auto' ? 'auto' : Number(setting);
}

/** How many threads the wasm backend runs on, from its report; undefined for other backends. */
export function wasmThreadsOf(report: BackendReport): number | undefined {
  const threads = report.name === 'wasm' ? /(\d+) threads?/.exec(report.detail)?.[1] : undefined;
  return threads === undefined ? undefined : Number(threads);
}

/** The backend a row ran on, with the wasm thread count: `wasm, 2 threads`. */
export function backendLabel(report: BackendReport): string {
  const threads = wasmThreadsOf(report);
  return threads === undefined ? report.name : `${report.name}, ${threads} thread${threads === 1 ? '' : 's'}`;
}
