export { registerTorchBackend, TORCH_BACKEND_NAME, type RegisterTorchOptions, type TorchBackendInfo } from './backend';
export { TorchUnavailableError } from './addon';
export { TorchKernelError, TORCH_KERNEL_NAMES, TORCH_KERNELS, torchKernelCalls } from './kernels';
export { TorchBackend } from './torch-backend';
export { DEFAULT_RENDEZVOUS_TIMEOUT, joinProcessGroup, launchedWorker, ProcessGroupError, TorchProcessGroup, type JoinProcessGroupOptions, type LaunchedWorker } from './process-group';
