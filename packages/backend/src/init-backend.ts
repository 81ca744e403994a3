import * as tf from '@tensorflow/tfjs';
import { BackendError } from './errors';
import { registerWasmTrainingKernels } from './wasm-kernels';
import { embeddedWasmPaths, wasmBinaryFor } from './embedded-wasm';
import { registerCpuKernelFixes } from './cpu-kernel-fixes';
import { registerGradientFixes } from './gradient-fixes';
import { adapterDetail, adapterMatches, describeAdapter, resumeStartedWebGpu, startWebGpuBackend, type GpuAdapterReport, type GpuLike } from './webgpu-adapter';

/**
 * The backends Kindling knows, best first. `tensorflow` is libtensorflow through tfjs-node(-gpu); `torch` is
 * libtorch through `@kindling/backend-torch` (Node only).
 */
export const BACKEND_ORDER = ['tensorflow', 'torch', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

/**
 * Loads one backend's module and makes it available to tfjs. Returns a short description of what it
 * loaded (e.g. `@tensorflow/tfjs-node-gpu`), with the kernels it added when it added some, or throws with the
 * reason it cannot run here.
 */
export type BackendLoader = (
  options: InitBackendOptions,
) => Promise<string | { detail: string; addedKernels: string[]; adapter?: GpuAdapterReport }>;

export interface InitBackendOptions {
  /** An explicit backend; when it cannot run, `initBackend` throws instead of falling back. Default: `'auto'`. */
  backend?: BackendName | 'auto';
  /** The order `auto` tries. Default: {@link BACKEND_ORDER}. */
  order?: readonly BackendName[];
  /** Replaces how a backend is loaded (tests inject loaders to exercise the selection logic). */
  loaders?: Partial<Record<BackendName, BackendLoader>>;
  /**
   * The WebGPU adapter to use, by part of its name (any case): `'nvidia'`, `'SwiftShader'`. A software adapter
   * (SwiftShader, llvmpipe) runs only when named here: it is correct but usually slower than wasm. In Node the
   * name picks among the adapters Dawn finds; a browser offers one adapter, which the name must match.
   */
  gpuAdapter?: string;
  /**
   * Where the wasm backend's `.wasm` files are served from (browser builds): a folder, or a URL for each file;
   * see tfjs `setWasmPaths`. Default in a page: the copy embedded in this package (loaded only when the wasm
   * backend starts, nothing to copy); give a folder to serve the files yourself (smaller, cached apart).
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * Production mode turns off tfjs's debug warnings (in Node, the cpu backend's advice to install
   * tfjs-node, which this report already covers). Default: `true`.
   */
  productionMode?: boolean;
  /** Receives the one-line report; `false` keeps quiet. Default: `console.info`. */
  log?: ((line: string) => void) | false;
}

export interface BackendReport {
  /** The backend that runs, as tfjs names it (`tf.getBackend()`). */
  name: BackendName;
  /** What was loaded for it. */
  detail: string;
  /** The better backends that were skipped, each with why. */
  skipped: Array<{ name: BackendName; reason: string }>;
  /** The WebGPU adapter, when the backend is webgpu: its name, vendor, and whether it is a software fallback. */
  adapter?: GpuAdapterReport;
  /** Kernels Kindling registered for this backend: training kernels (wasm), fixes for wrong answers (cpu), libtorch's (torch). */
  addedKernels: string[];
  /** The report as one readable line. */
  line: string;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'not installed';
    return error.message.split('\n')[0] ?? String(error);
  }
  return String(error);
}

/** Imports a module by a name bundlers must not try to resolve (optional peers that may be absent). */
export async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name);
}

/** Imports an optional peer; when it is not installed, throws `missing` (the reason the report gives). */
export async function importInstalled(name: string, missing: string): Promise<unknown> {
  try {
    return await importOptional(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(missing);
    throw error;
  }
}

export async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialize the '${name}' backend`);
  await tf.ready();
}

/** Why a software adapter was passed over, and how to use it anyway. */
export function softwareOnly(report: GpuAdapterReport): string {
  const name = report.architecture || report.name;
  return `only a software adapter, ${report.name}, usually slower than wasm; name it to use it (gpuAdapter '${name}', --gpu-adapter ${name})`;
}

/**
 * Whether the wasm backend has started in this process (tfjs starts a backend once; it keeps its threads).
 * `tf.findBackend` would start it, so this reads the engine's registry of started backends.
 */
export function wasmStarted(): boolean {
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  return registry !== undefined && 'wasm' in registry;
}

/** Whether this runs in Node (not a page, not a worker of one): what only Node can load is never looked up elsewhere. */
function runsInNode(): boolean {
  return (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
}

export const defaultLoaders = {
  async tensorflow() {
    // tfjs-node is a Node addon: a page never looks it up (a look-up is a failed request in the console)
    if (!runsInNode()) {
      throw new Error('tfjs-node runs only in Node');
    }
    const tried: string[] = [];
    for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await importOptional(name);
        await activate('tensorflow');
        return name;
      } catch (error) {
        tried.push(`${name} ${errorMessage(error)}`);
      }
    }
    throw new Error(tried.join(', '));
  },
  async torch() {
    throw new Error('libtorch runs only in Node (`@kindling/backend/node` with `@kindling/backend-torch`)');
  },
  async webgpu(options) {
    const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
    if (gpu === undefined) {
      throw new Error(
        typeof (globalThis as { window?: unknown }).window === 'undefined'
          ? 'no WebGPU outside a browser'
          : 'this browser offers no navigator.gpu',
      );
    }
    const running = await resumeStartedWebGpu();
    if (running !== undefined) return running;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) throw new Error('the browser offers no WebGPU adapter');
    const report = describeAdapter(adapter);
    if (options.gpuAdapter !== undefined && !adapterMatches(report, options.gpuAdapter)) {
      throw new Error(`the browser's adapter is ${report.name}, not '${options.gpuAdapter}'`);
    }
    if (report.software && options.gpuAdapter === undefined) throw new Error(softwareOnly(report));
    const detail = adapterDetail(report, '@tensorflow/tfjs-backend-webgpu');
    await startWebGpuBackend(adapter, report, detail);
    return { detail, addedKernels: [], adapter: report };
  },
  async wasm(options) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const inNode = runsInNode();
    let where = options.wasmPaths === undefined ? 'beside tfjs-backend-wasm' : `from wasmPaths ${JSON.stringify(options.wasmPaths)}`;
    if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
    else if (!inNode && !wasmStarted()) {
      // a page that names no folder: the binary this package embeds, so that no bundler or copy step is needed
      const embedded = await embeddedWasmPaths();
      wasm.setWasmPaths(embedded.paths);
      where = `embedded in @kindling/backend (${embedded.binary})`;
    }
    try {
      await activate('wasm');
    } catch (error) {
      if (inNode) throw error;
      const binary = await wasmBinaryFor();
      throw new Error(
        `could not load ${binary} ${where}: serve node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm from a folder and pass initBackend({ wasmPaths: '/that/folder/' }), or pass no wasmPaths to use the embedded copy (${errorMessage(error)})`,
      );
    }
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = wasm.getThreadsCount();
    return `@tensorflow/tfjs-backend-wasm, ${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`;
  },
  async cpu() {
    await activate('cpu'); // registered by @tensorflow/tfjs itself
    return 'pure JavaScript, slow for training';
  },
} satisfies Record<BackendName, BackendLoader>;

/**
 * Picks and prepares the TF.js backend: the best one that runs here, in the order
 * tensorflow → torch → webgpu → wasm → cpu, unless told which. Reports the choice in one line.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const requested = options.backend ?? 'auto';
  if (requested !== 'auto' && !BACKEND_ORDER.includes(requested)) {
    throw new BackendError(`unknown backend '${String(requested)}'; choose one of ${BACKEND_ORDER.join(', ')} or auto`);
  }
  const candidates = requested === 'auto' ? (options.order ?? BACKEND_ORDER) : [requested];
  const loaders = { ...defaultLoaders, ...options.loaders };
  if (options.productionMode ?? true) tf.enableProdMode();
  const skipped: BackendReport['skipped'] = [];

  for (const name of candidates) {
    let loaded: Awaited<ReturnType<BackendLoader>>;
    try {
      loaded = await loaders[name](options);
    } catch (error) {
      const reason = errorMessage(error);
      if (requested !== 'auto') {
        throw new BackendError(`the '${name}' backend was asked for but cannot run here: ${reason}`);
      }
      skipped.push({ name, reason });
      continue;
    }
    const detail = typeof loaded === 'string' ? loaded : loaded.detail;
    const adapter = typeof loaded === 'string' ? undefined : loaded.adapter;
    const addedKernels = typeof loaded !== 'string' ? loaded.addedKernels : name === 'wasm' ? registerWasmTrainingKernels() : name === 'cpu' ? registerCpuKernelFixes() : [];
    registerGradientFixes();
    const why = skipped.length === 0 ? '' : `; skipped ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`;
    const line = `kindling: running on the ${name} backend (${detail})${why}`;
    // chosen on purpose: @kindling/data's warnIfBareCpu (a Learner's fit, loadPredictor) reads this registered symbol
    (globalThis as Record<symbol, unknown>)[Symbol.for('kindling.backend.chosen')] = true;
    if (options.log !== false) (options.log ?? console.info)(line);
    return { name, detail, skipped, addedKernels, line, ...(adapter === undefined ? {} : { adapter }) };
  }
  throw new BackendError(
    `no TF.js backend could start: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`,
  );
}
