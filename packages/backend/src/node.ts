export * from './index';
export { initBackend, type NodeInitBackendOptions } from './init-backend-node';
export { isWasmThreadCount, MAX_WASM_THREADS } from './wasm-threads-node';
export { CHROMIUM_SWIFTSHADER_ICD, swiftShaderAvailability } from './webgpu-node';
