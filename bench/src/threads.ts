import { initBackend, type BackendName, type BackendReport } from '@kindling/backend/node';

/** Threads for the torch and wasm backends: `KINDLING_BENCH_THREADS=1` for one, default one per core. */
export function benchThreads(): number | 'auto' {
  const setting = process.env.KINDLING_BENCH_THREADS;
  return setting === undefined || setting === 'auto' ? 'auto' : Number(setting);
}

/** The backend a benchmark runs on: `KINDLING_BENCH_BACKEND=wasm` (or torch, cpu, …); default the best one here. */
export function benchBackend(): BackendName | 'auto' {
  return (process.env.KINDLING_BENCH_BACKEND as BackendName | undefined) ?? 'auto';
}

/**
 * The WebGPU adapter a benchmark may use, by part of its name: `KINDLING_BENCH_GPU_ADAPTER=nvidia`. Unset, webgpu
 * runs only on a hardware adapter; naming a software one (SwiftShader) measures it, labelled as software.
 */
export function benchGpuAdapter(): string | undefined {
  const setting = process.env.KINDLING_BENCH_GPU_ADAPTER?.trim();
  return setting === undefined || setting === '' ? undefined : setting;
}

/** Starts the benchmark's backend (`KINDLING_BENCH_BACKEND`, `KINDLING_BENCH_THREADS`, `KINDLING_BENCH_GPU_ADAPTER`) without a log line. */
export function startBenchBackend(): Promise<BackendReport> {
  return initBackend({ backend: benchBackend(), log: false, threads: benchThreads(), gpuAdapter: benchGpuAdapter() });
}

/** How many threads the torch or wasm backend runs on, from its report; undefined for other backends. */
function threadsOf(report: BackendReport): number | undefined {
  const threads = report.name === 'wasm' || report.name === 'torch' ? /(\d+) threads?/.exec(report.detail)?.[1] : undefined;
  return threads === undefined ? undefined : Number(threads);
}

/** How many threads the wasm backend runs on, from its report; undefined for other backends. */
export function wasmThreadsOf(report: BackendReport): number | undefined {
  return report.name === 'wasm' ? threadsOf(report) : undefined;
}

/**
 * The backend a row ran on, with its thread count or its GPU: `wasm, 2 threads`, `torch, 2 threads`,
 * `webgpu on NVIDIA H200`, `webgpu on SwiftShader driver 5.0.0 (software, not a GPU figure)`.
 */
export function backendLabel(report: BackendReport): string {
  if (report.adapter !== undefined) {
    return `${report.name} on ${report.adapter.name}${report.adapter.software ? ' (software, not a GPU figure)' : ''}`;
  }
  const threads = threadsOf(report);
  return threads === undefined ? report.name : `${report.name}, ${threads} thread${threads === 1 ? '' : 's'}`;
}
