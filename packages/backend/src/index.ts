export { BackendError } from './errors';
export {
  BACKEND_ORDER,
  defaultLoaders,
  initBackend,
  type BackendLoader,
  type BackendName,
  type BackendReport,
  type InitBackendOptions,
} from './init-backend';
export type { GpuAdapterReport } from './webgpu-adapter';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels';
export { registerCpuKernelFixes } from './cpu-kernel-fixes';
export { registerGradientFixes } from './gradient-fixes';
