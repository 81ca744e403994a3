import { availableParallelism, totalmem } from 'node:os';
import { findBackendFactory, getKernel, getKernelsForBackend, registerBackend, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs';
import { loadTorchAddon } from './addon';
import { KINDLING_KERNELS, TORCH_KERNELS, withFallback, type Inputs } from './kernels';
import { TorchBackend } from './torch-backend';

/** The name TF.js knows the backend by: `tf.setBackend('torch')`. */
export const TORCH_BACKEND_NAME = 'torch';

/** The priority it registers with: above wasm and cpu, as tfjs-node's `tensorflow`. */
const PRIORITY = 3;

/**
 * A quarter of the machine's memory, at most 4 GiB: the pool only ever holds outputs a step freed, so it is
 * bounded by the training step's own working set (a U-Net step on 256×256 crops frees more than 512 MiB, and a
 * pool that small made its epochs 1.6× slower).
 */
const DEFAULT_POOL_BYTES = Math.min(Math.floor(totalmem() / 4), 4 * 1024 ** 3);

export interface RegisterTorchOptions {
  /** libtorch's intra-op threads. Default: `OMP_NUM_THREADS` when set (as PyTorch reads it; torchrun sets it per worker), else one per core this process may use. */
  threads?: number;
  /**
   * Where libtorch computes, as libtorch names devices (`cpu`, `cuda`, `cuda:1`). Inputs are copied there and
   * results back for each kernel. Default: `cpu`. A libtorch built without CUDA refuses `cuda`.
   */
  device?: string;
  /**
   * Bytes of disposed outputs kept to hold later outputs of the same size (as PyTorch's caching allocator
   * does). Default: a quarter of the machine's memory, at most 4 GiB; 0 turns reuse off. Takes effect when the backend is first registered.
   */
  poolBytes?: number;
}

export interface TorchBackendInfo {
  /** libtorch's version, e.g. `1.13.0`. */
  version: string;
  threads: number;
  device: string;
  /** Whether libtorch has oneDNN (fast convolutions on the CPU). */
  mkldnn: boolean;
  /** Kernels libtorch runs; the others are the cpu backend's. */
  kernels: string[];
  /** Whether the addon carries PyTorch's distributed engine (gloo), for `joinProcessGroup`. */
  distributed: boolean;
}

/**
 * Registers the `torch` TF.js backend (then `await tf.setBackend('torch')`). Loads the libtorch addon and
 * throws `TorchUnavailableError`, saying why and what to do, when it is not built. Calling it again only
 * changes the threads or device.
 */
export function registerTorchBackend(options: RegisterTorchOptions = {}): TorchBackendInfo {
  const torch = loadTorchAddon();
  const asked = Number(process.env.OMP_NUM_THREADS);
  const threads = options.threads ?? (Number.isInteger(asked) && asked >= 1 ? asked : availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a whole number of at least 1; got ${String(threads)}`);
  torch.setThreads(threads);
  if (options.device !== undefined) torch.setDevice(options.device);
  if (findBackendFactory(TORCH_BACKEND_NAME) === null) {
    const poolBytes = options.poolBytes ?? DEFAULT_POOL_BYTES;
    registerBackend(TORCH_BACKEND_NAME, () => new TorchBackend(torch, poolBytes), PRIORITY);
    for (const config of getKernelsForBackend('cpu')) {
      const replacement = TORCH_KERNELS[config.kernelName];
      const kernel: KernelConfig = {
        ...config,
        backendName: TORCH_BACKEND_NAME,
        kernelFunc: replacement === undefined ? config.kernelFunc : withFallback(replacement, config.kernelFunc, torch),
      };
      if (getKernel(config.kernelName, TORCH_BACKEND_NAME) !== undefined) unregisterKernel(config.kernelName, TORCH_BACKEND_NAME);
      registerKernel(kernel);
    }
    for (const [kernelName, kernel] of Object.entries(KINDLING_KERNELS)) {
      if (getKernel(kernelName, TORCH_BACKEND_NAME) !== undefined) continue;
      registerKernel({
        kernelName,
        backendName: TORCH_BACKEND_NAME,
        kernelFunc: (args) => kernel({ inputs: args.inputs as Inputs, attrs: args.attrs ?? {}, backend: args.backend as TorchBackend, torch })!,
      });
    }
  }
  const info = torch.info();
  return {
    version: info.version,
    threads: info.threads,
    device: info.device,
    mkldnn: info.mkldnn,
    kernels: Object.keys(TORCH_KERNELS).filter((name) => getKernel(name, 'cpu') !== undefined),
    distributed: torch.distributed,
  };
}
