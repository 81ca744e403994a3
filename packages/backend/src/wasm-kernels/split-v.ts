import { backend_util, SplitV, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { type WasmBackendLike, WasmKernels, copyRun, original } from './kernels';

/** SplitV (the gradient of Concat) of a float32 or int32 tensor, row by row on the wasm heap; wasm's slices each piece with a general-purpose Slice. */
export const splitVConfig: KernelConfig = {
  kernelName: SplitV,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return original(SplitV, args);
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const $axis = util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x as unknown as Parameters<typeof backend_util.prepareSplitSize>[0], numOrSizeSplits, $axis);
    const wasm = backend as WasmBackendLike;
    const rows = util.sizeFromShape(x.shape.slice(0, $axis));
    const inner = util.sizeFromShape(x.shape.slice($axis + 1));
    const total = x.shape[$axis]! * inner;
    const outputs = sizes.map((size) => wasm.makeOutput(x.shape.map((extent, index) => (index === $axis ? size : extent)), x.dtype));
    const kernels = new WasmKernels(wasm);
    const source = kernels.values(x);
    let offset = 0;
    outputs.forEach((out, index) => {
      const run = sizes[index]! * inner;
      const target = kernels.values(out);
      for (let row = 0; row < rows; row++) copyRun(source, row * total + offset, target, row * run, run);
      offset += run;
    });
    return outputs;
  },
};
