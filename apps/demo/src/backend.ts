import { initBackend, type BackendReport } from '@kindling/backend';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/**
 * WebGPU when the browser offers a hardware adapter, else wasm (with Kindling's training kernels), else cpu;
 * `?backend=` in the page's URL forces one, and `?gpu-adapter=swiftshader` accepts a software adapter (which
 * is usually slower than wasm). The report says which runs and why the better ones did not.
 */
export async function startBackend(): Promise<BackendReport> {
  const query = new URLSearchParams(location.search);
  const forced = query.get('backend');
  return initBackend({
    backend: forced === 'webgpu' || forced === 'wasm' || forced === 'cpu' ? forced : 'auto',
    gpuAdapter: query.get('gpu-adapter') ?? undefined,
    // tensorflow (tfjs-node) is for Node only
    order: ['webgpu', 'wasm', 'cpu'],
    wasmPaths: { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd },
    log: false,
  });
}
