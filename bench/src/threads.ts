import type { BackendReport } from '@kindling/backend/node';

/** Threads for the wasm backend: `KINDLING_BENCH_THREADS=1` for one, default one per core. */
export function benchThreads(): number | 'auto' {
  const setting = process.env.KINDLING_BENCH_THREADS;
  return setting === undefined || setting === 'auto' ? 'auto' : Number(setting);
}

/** The backend a row ran on, with the wasm thread count: `wasm, 2 threads`. */
export function backendLabel(report: BackendReport): string {
  const threads = /(\d+) threads?/.exec(report.detail)?.[0];
  return report.name === 'wasm' && threads !== undefined ? `${report.name}, ${threads}` : report.name;
}
