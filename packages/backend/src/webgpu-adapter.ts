import * as tf from '@tensorflow/tfjs';

/** What a WebGPU adapter says of itself, as Kindling reports it. */
export interface GpuAdapterReport {
  /** A readable name: the driver's description, else vendor and architecture. */
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /**
   * A software (fallback) adapter such as SwiftShader or llvmpipe: correct, but usually slower than the wasm
   * backend, so `initBackend` uses one only when `gpuAdapter` names it.
   */
  software: boolean;
}

/** The part of a WebGPU adapter Kindling reads (the DOM's `GPUAdapter`, or Dawn's in Node). */
export interface AdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}

/** The part of `navigator.gpu` Kindling uses. */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power'; forceFallbackAdapter?: boolean }): Promise<AdapterLike | null>;
}

/** Names of known software rasterisers, for adapters that do not flag themselves as a fallback. */
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|basic render driver|\bwarp\b/i;

export function describeAdapter(adapter: AdapterLike): GpuAdapterReport {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const name = description || [vendor, architecture].filter((part) => part !== '').join(' ') || device || 'an unnamed adapter';
  const software =
    info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || SOFTWARE_NAMES.test([vendor, architecture, device, description].join(' '));
  return { name, vendor, architecture, device, description, software };
}

/** Whether `wanted` (any case) is part of the adapter's name, vendor, architecture or device. */
export function adapterMatches(report: GpuAdapterReport, wanted: string): boolean {
  const needle = wanted.trim().toLowerCase();
  return needle !== '' && [report.name, report.vendor, report.architecture, report.device].some((part) => part.toLowerCase().includes(needle));
}

/** The one-line description of a started adapter, as the backend report shows it. */
export function adapterDetail(report: GpuAdapterReport, via: string): string {
  const maker = [report.vendor, report.architecture].filter((part) => part !== '' && !report.name.toLowerCase().includes(part.toLowerCase())).join(' ');
  return `${via} on ${report.name}${maker === '' ? '' : ` (${maker})`}${report.software ? ', a software adapter' : ''}`;
}

interface WebGpuModule {
  WebGPUBackend: new (device: never, adapterInfo?: never) => tf.KernelBackend;
}

let started: { adapter: GpuAdapterReport; detail: string } | undefined;

/**
 * When the webgpu backend already started in this process (tfjs starts a backend once), makes it the active one
 * again and gives the loader's answer for it; otherwise undefined.
 */
export async function resumeStartedWebGpu(): Promise<{ detail: string; addedKernels: string[]; adapter: GpuAdapterReport } | undefined> {
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  if (started === undefined || registry === undefined || !('webgpu' in registry)) return undefined;
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error(`tfjs could not switch back to the webgpu backend on ${started.adapter.name}`);
  await tf.ready();
  return { detail: started.detail, addedKernels: [], adapter: started.adapter };
}

/**
 * Starts tfjs's webgpu backend on this adapter: a device with the adapter's limits (as tfjs asks for them), the
 * backend registered with it, in place of the one tfjs-backend-webgpu registers for `navigator.gpu`'s default.
 */
export async function startWebGpuBackend(adapter: AdapterLike, report: GpuAdapterReport, detail: string): Promise<void> {
  const webgpu = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as WebGpuModule;
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((name) => adapter.features.has(name));
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(device as never, adapter.info as never), 3);
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error(`tfjs could not start the webgpu backend on ${report.name}`);
  await tf.ready();
  started = { adapter: report, detail };
}
