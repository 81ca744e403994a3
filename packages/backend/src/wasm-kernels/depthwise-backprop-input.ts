import { backend_util, DepthwiseConv2dNativeBackpropInput, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { blockDiagonalFilter } from './depthwise-blocks';
import { type Pad, type WasmBackendLike, WasmKernels } from './kernels';

export interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const kernels = new WasmKernels(wasm);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseAttrs & {
      inputShape: [number, number, number, number];
    };
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const full = blockDiagonalFilter(
      wasm.readSync(filter.dataId) as Float32Array,
      filter.shape,
      info.dilationHeight,
      info.dilationWidth,
    );
    const fullFilter = kernels.fromValues(full.values, full.shape, 'float32');
    const { top, bottom, left, right } = info.padInfo;
    const dx = kernels.call(
      'Conv2DBackpropInput',
      { dy, filter: fullFilter },
      {
        strides: [info.strideHeight, info.strideWidth],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        inputShape,
      } as unknown as NamedAttrMap,
    );
    return kernels.finish(dx);
  },
};
