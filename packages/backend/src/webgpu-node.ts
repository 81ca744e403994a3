import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { importInstalled, softwareOnly, type BackendLoader } from './init-backend';
import { adapterDetail, describeAdapter, resumeStartedWebGpu, startWebGpuBackend, type AdapterLike, type GpuLike } from './webgpu-adapter';

/** Dawn for Node, the npm package `webgpu` (an optional peer). */
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** The Vulkan driver file of Debian's Chromium for SwiftShader, a software adapter (correct, slow). */
export const CHROMIUM_SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const NO_VULKAN_LOADER = 'no Vulkan loader (libvulkan.so.1; on Debian: apt-get install libvulkan1)';

const LIBRARY_FOLDERS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/lib'];

/** Whether the Vulkan loader (`libvulkan.so.1`), which Dawn opens on Linux, is where the system looks. */
export function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const folders = [...(process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter((folder) => folder !== ''), ...LIBRARY_FOLDERS];
  return folders.some((folder) => existsSync(join(folder, 'libvulkan.so.1')));
}

/** Whether the optional peer `webgpu` (Dawn) resolves from this package. */
export function dawnInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('webgpu');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a SwiftShader adapter can start here, and if not, why: for test suites, which run on Node WebGPU
 * through SwiftShader where its Vulkan driver is present.
 */
export function swiftShaderAvailability(): { available: true } | { available: false; reason: string } {
  if (!dawnInstalled()) return { available: false, reason: 'the optional peer `webgpu` (Dawn) is not installed' };
  if (!vulkanLoaderFound()) return { available: false, reason: NO_VULKAN_LOADER };
  const icd = process.env.VK_ICD_FILENAMES;
  if (icd !== undefined && icd !== '') {
    return /swiftshader/i.test(icd) ? { available: true } : { available: false, reason: `VK_ICD_FILENAMES names no SwiftShader driver (${icd})` };
  }
  if (existsSync(CHROMIUM_SWIFTSHADER_ICD)) return { available: true };
  return { available: false, reason: `no SwiftShader Vulkan driver (set VK_ICD_FILENAMES, or install Debian's chromium for ${CHROMIUM_SWIFTSHADER_ICD})` };
}

/** The adapter names Dawn lists when no adapter matched a name. */
function listedAdapters(message: string): string[] {
  return [...message.matchAll(/name: '([^']*)'/g)].map((match) => match[1]!);
}

/** Dawn's adapter for `wanted` (part of its name, any case), or its best one (high performance). */
async function requestDawnAdapter(dawn: DawnModule, wanted: string | undefined): Promise<{ gpu: GpuLike; adapter: AdapterLike }> {
  const request = async (flags: string[]) => {
    const gpu = dawn.create(flags);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    return adapter === null ? null : { gpu, adapter };
  };
  if (wanted === undefined) {
    const found = await request([]);
    if (found === null) throw new Error(noAdapter());
    return found;
  }
  try {
    const found = await request([`adapter=${wanted}`]);
    if (found !== null) return found;
  } catch (error) {
    // Dawn matches names exactly in case, and lists the adapters it has when none matched
    const names = listedAdapters(error instanceof Error ? error.message : String(error));
    const match = names.find((name) => name.toLowerCase().includes(wanted.trim().toLowerCase()));
    if (match !== undefined) {
      const found = await request([`adapter=${match}`]);
      if (found !== null) return found;
    }
    throw new Error(`no WebGPU adapter named '${wanted}'; ${names.length === 0 ? noAdapter() : `Dawn found ${names.map((name) => `'${name}'`).join(', ')}`}`);
  }
  throw new Error(`no WebGPU adapter named '${wanted}'; ${noAdapter()}`);
}

function noAdapter(): string {
  if (!vulkanLoaderFound()) return NO_VULKAN_LOADER;
  return process.platform === 'linux' ? 'Vulkan found no GPU driver' : 'Dawn found no adapter';
}

/** Gives this process the globals tfjs-backend-webgpu expects of a browser: `navigator.gpu` and the GPU* constants. */
function installGlobals(dawn: DawnModule, gpu: GpuLike): void {
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const scope = globalThis as { navigator?: object };
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (!('gpu' in scope.navigator)) {
    Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
  }
}

/**
 * tfjs reads a GPU tensor synchronously through an `OffscreenCanvas`, which Node lacks: its error would say
 * "OffscreenCanvas is not defined". This names the cause and the way out instead.
 */
function explainSynchronousReads(): void {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return;
  const backend = tf.backend() as unknown as { readSync(dataId: object): unknown; tensorMap: { get(dataId: object): { values?: unknown; dtype: string } | undefined } };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (data !== undefined && data.values == null && data.dtype !== 'string' && data.dtype !== 'complex64') {
      throw new Error(
        'a synchronous read (dataSync, arraySync, bufferSync) of a tensor on the GPU cannot run on WebGPU in Node; read it with await data(), array() or buffer()',
      );
    }
    return readSync(dataId);
  };
}

/**
 * The webgpu loader for Node: Dawn (the optional peer `webgpu`) on Vulkan, Metal or D3D12, the adapter named by
 * `gpuAdapter` or the best one; a software adapter only when named. Naming SwiftShader finds Debian's Chromium
 * driver when `VK_ICD_FILENAMES` is not set.
 */
export const nodeWebGpuLoader: BackendLoader = async (options) => {
  const running = await resumeStartedWebGpu();
  if (running !== undefined) return running;
  const wanted = options.gpuAdapter?.trim() === '' ? undefined : options.gpuAdapter;
  const dawn = (await importInstalled('webgpu', 'the optional peer `webgpu` (Dawn for Node) is not installed')) as DawnModule;
  if (wanted !== undefined && /swiftshader/i.test(wanted) && !process.env.VK_ICD_FILENAMES && existsSync(CHROMIUM_SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = CHROMIUM_SWIFTSHADER_ICD;
  }
  const { gpu, adapter } = await requestDawnAdapter(dawn, wanted);
  const report = describeAdapter(adapter);
  if (report.software && wanted === undefined) throw new Error(softwareOnly(report));
  installGlobals(dawn, gpu);
  const detail = adapterDetail(report, 'Dawn');
  await startWebGpuBackend(adapter, report, detail);
  explainSynchronousReads();
  return { detail, addedKernels: [], adapter: report };
};
