import { backend_util, Conv2DBackpropInput, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { type Pad, type WasmBackendLike, WasmKernels, original } from './kernels';

/** Inserts `stride − 1` zeros between rows and columns of an NHWC tensor (the transpose of a strided read). */
function dilateSpatially(kernels: WasmKernels, x: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  let result = x;
  if (strideHeight > 1) {
    const rows = kernels.reshape(result, [batch * height, 1, width * channels]);
    const spread = kernels.pad(rows, [[0, 0], [0, strideHeight - 1], [0, 0]]);
    result = kernels.slice(kernels.reshape(spread, [batch, height * strideHeight, width, channels]), [0, 0, 0, 0], [batch, (height - 1) * strideHeight + 1, width, channels]);
  }
  if (strideWidth > 1) {
    const tallHeight = result.shape[1]!;
    const columns = kernels.reshape(result, [batch * tallHeight, width, 1, channels]);
    const spread = kernels.pad(columns, [[0, 0], [0, 0], [0, strideWidth - 1], [0, 0]]);
    result = kernels.slice(kernels.reshape(spread, [batch, tallHeight, width * strideWidth, channels]), [0, 0, 0, 0], [batch, tallHeight, (width - 1) * strideWidth + 1, channels]);
  }
  return result;
}

/**
 * The gradient of a convolution with respect to its input, as a stride-1 convolution of the
 * zero-dilated, padded `dy` with the filter flipped in space and transposed in channels:
 *   dx[p] = Σ_i dyPadded[p + (k−1−i)·d] · W[i]
 */
function convBackpropInput(
  kernels: WasmKernels,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): TensorInfo {
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode);
  const [batch, height, width] = inputShape;
  const [filterHeight, filterWidth] = filter.shape as [number, number, number, number];
  if (tilesExactly(info, height, width)) return convBackpropInputByTiles(kernels, dy, filter, info);
  const dilated = dilateSpatially(kernels, dy, info.strideHeight, info.strideWidth);
  const reachHeight = (filterHeight - 1) * info.dilationHeight;
  const reachWidth = (filterWidth - 1) * info.dilationWidth;
  const before = [reachHeight - info.padInfo.top, reachWidth - info.padInfo.left];
  const after = [height + reachHeight - before[0]! - dilated.shape[1]!, width + reachWidth - before[1]! - dilated.shape[2]!];
  const padded = kernels.pad(dilated, [[0, 0], [Math.max(before[0]!, 0), Math.max(after[0]!, 0)], [Math.max(before[1]!, 0), Math.max(after[1]!, 0)], [0, 0]]);
  const window = kernels.slice(
    padded,
    [0, Math.max(-before[0]!, 0), Math.max(-before[1]!, 0), 0],
    [batch, height + reachHeight, width + reachWidth, padded.shape[3]!],
  );
  const flipped = kernels.transpose(kernels.call('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
  return kernels.call(
    'Conv2D',
    { x: window, filter: flipped },
    { strides: [1, 1], dilations: [info.dilationHeight, info.dilationWidth], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
  );
}

/** Each output pixel of the forward convolution read its own filter-sized tile of the input, and they cover it (a 2×2 stride-2 transposed convolution, or a 1×1 one). */
function tilesExactly(info: backend_util.Conv2DInfo, height: number, width: number): boolean {
  const { padInfo } = info;
  return (
    info.filterHeight === info.strideHeight &&
    info.filterWidth === info.strideWidth &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    padInfo.top === 0 &&
    padInfo.bottom === 0 &&
    padInfo.left === 0 &&
    padInfo.right === 0 &&
    info.outHeight * info.strideHeight === height &&
    info.outWidth * info.strideWidth === width
  );
}

/**
 * The input gradient when the filter tiles the input (see `tilesExactly`): every output pixel's tile
 * is dy at that pixel times the filter, one matrix product [b·outH·outW, o] × [o, fh·fw·c], its rows
 * then laid back out as tiles. A quarter of the work of the zero-dilated convolution below.
 */
function convBackpropInputByTiles(kernels: WasmKernels, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const [filterHeight, filterWidth, inChannels, outChannels] = filter.shape as [number, number, number, number];
  const { batchSize, outHeight, outWidth } = info;
  // a 1×1 convolution: xnnpack's matrix product (wasm's BatchMatMul runs 4× slower on these shapes)
  const product = kernels.call(
    'Conv2D',
    {
      x: dy,
      filter: kernels.reshape(kernels.transpose(filter, [3, 0, 1, 2]), [1, 1, outChannels, filterHeight * filterWidth * inChannels]),
    },
    { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
  ); // [b, outH, outW, fh·fw·c]
  const tiles = kernels.reshape(product, [batchSize * outHeight, outWidth, filterHeight, filterWidth * inChannels]);
  const rows = filterHeight === 1 ? tiles : kernels.transpose(tiles, [0, 2, 1, 3]); // [b·outH, fh, outW, fw·c]
  return kernels.reshape(rows, [batchSize, outHeight * filterHeight, outWidth * filterWidth, inChannels]);
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: Pad;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('@kindling/backend: wasm Conv2DBackpropInput supports NHWC only');
    // a dy that is not the forward output of inputShape (conv2dTranspose asked for an inconsistent size): wasm's own kernel's answer
    const forward = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
    if (forward.outHeight !== dy.shape[1] || forward.outWidth !== dy.shape[2]) return original(Conv2DBackpropInput, args);
    return kernels.finish(convBackpropInput(kernels, dy, filter, inputShape, strides, 1, pad, dimRoundingMode));
  },
};
