import { DepthwiseConv2dNativeBackpropFilter, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { convBackpropFilter } from './conv2d-backprop-filter';
import { type DepthwiseAttrs } from './depthwise-backprop-input';
import { diagonalBlocks } from './depthwise-blocks';
import { type WasmBackendLike, WasmKernels } from './kernels';

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const kernels = new WasmKernels(wasm);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseAttrs & {
      filterShape: [number, number, number, number];
    };
    const [height, width, channels, multiplier] = filterShape;
    const full = convBackpropFilter(
      kernels,
      x,
      dy,
      [height, width, channels, channels * multiplier],
      strides,
      dilations,
      pad,
      dimRoundingMode,
    );
    const values = diagonalBlocks(wasm.readSync(full.dataId) as Float32Array, filterShape);
    return kernels.finish(kernels.fromValues(values, filterShape, 'float32'));
  },
};
