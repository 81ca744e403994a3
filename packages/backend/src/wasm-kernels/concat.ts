import { backend_util, Concat, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { type WasmBackendLike, WasmKernels, copyRun, original } from './kernels';

/**
 * Concat of float32 or int32 tensors, row by row straight on the wasm heap: wasm's copies each row with
 * a typed-array `set`, which costs more than the copy when rows are a few channels (a U-Net's skip connections).
 */
export const concatConfig: KernelConfig = {
  kernelName: Concat,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const tensors = (inputs as unknown as TensorInfo[]).filter((tensor) => util.sizeFromShape(tensor.shape) > 0);
    const dtype = tensors[0]?.dtype;
    if (tensors.length < 2 || (dtype !== 'float32' && dtype !== 'int32') || tensors.some((tensor) => tensor.dtype !== dtype)) return original(Concat, args);
    const axis = util.parseAxisParam((attrs as unknown as { axis: number }).axis, tensors[0]!.shape)[0]!;
    backend_util.assertParamsConsistent(tensors.map((tensor) => tensor.shape), axis);
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const out = kernels.empty(backend_util.computeOutShape(tensors.map((tensor) => tensor.shape), axis), dtype);
    const rows = util.sizeFromShape(tensors[0]!.shape.slice(0, axis));
    const runs = tensors.map((tensor) => util.sizeFromShape(tensor.shape.slice(axis)));
    const total = runs.reduce((sum, run) => sum + run, 0);
    const target = kernels.values(out);
    let offset = 0;
    tensors.forEach((tensor, index) => {
      const source = kernels.values(tensor);
      const run = runs[index]!;
      for (let row = 0; row < rows; row++) copyRun(source, row * run, target, row * total + offset, run);
      offset += run;
    });
    return kernels.finish(out);
  },
};
