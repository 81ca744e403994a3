import { backend_util, Conv2DBackpropFilter, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { type Pad, type WasmBackendLike, WasmKernels } from './kernels';

/**
 * For every filter column j, the columns of `x` it reads (j·dw − left, + sw, …; zeros where they fall in
 * the padding), channels first: [fw·c, top + H + bottom, b, outW]. wasm's Transpose puts the channels
 * first; the shifted rows are then copied in JS straight into the wasm heap (wasm's Pad, Slice and Concat
 * took 5–10× longer for the same copies).
 */
function gatherFilterColumns(
  kernels: WasmKernels,
  x: TensorInfo,
  info: backend_util.Conv2DInfo,
  filterWidth: number,
  paddedHeight: number,
): TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const { outWidth, strideWidth, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const channelsFirst = kernels.transpose(x, [3, 1, 0, 2]); // [c, H, b, W]
  const out = kernels.empty([filterWidth * channels, paddedHeight, batch, outWidth]);
  const source = kernels.floats(channelsFirst);
  const target = kernels.floats(out);
  for (let j = 0; j < filterWidth; j++) {
    const shift = j * dilationWidth - left; // x column of output column 0
    const first = Math.min(outWidth, Math.max(0, Math.ceil(-shift / strideWidth)));
    const end = Math.max(first, Math.min(outWidth, Math.floor((width - 1 - shift) / strideWidth) + 1));
    for (let channel = 0; channel < channels; channel++) {
      for (let y = 0; y < paddedHeight; y++) {
        const row = y - top;
        const base = (((j * channels + channel) * paddedHeight + y) * batch) * outWidth;
        if (row < 0 || row >= height) {
          target.fill(0, base, base + batch * outWidth);
          continue;
        }
        for (let b = 0; b < batch; b++) {
          const start = base + b * outWidth;
          if (first > 0) target.fill(0, start, start + first);
          const read = ((channel * height + row) * batch + b) * width + shift + first * strideWidth;
          if (strideWidth === 1) {
            target.set(source.subarray(read, read + end - first), start + first);
          } else {
            for (let column = first, from = read; column < end; column++, from += strideWidth) target[start + column] = source[from]!;
          }
          if (end < outWidth) target.fill(0, start + end, start + outWidth);
        }
      }
    }
  }
  return out;
}

/**
 * The gradient of a convolution with respect to its filter, for NHWC input:
 *   dW[i, j, c, o] = Σ_{b, y, x} xPadded[b, y·sh + i·dh, x·sw + j·dw, c] · dy[b, y, x, o]
 * computed as one convolution whose contraction runs over long channels, which is what xnnpack's
 * convolutions are fast at: for each filter column j, the columns of `x` it reads are folded with the
 * batch into channels, so `x` becomes [fw·c, Hpadded, 1, b·outW] and `dy` the filter [outH, 1, b·outW, o];
 * the forward stride becomes the dilation along the height, and the output's rows i·dh are the filter's
 * rows. (With only the batch as channels, two per tap, the same convolution ran 2–4× slower.)
 */
export function convBackpropFilter(
  kernels: WasmKernels,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): TensorInfo {
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
  );
  const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
  const batch = x.shape[0]!;
  const { outHeight, outWidth, strideHeight, dilationHeight } = info;
  // rows the forward convolution reads, padding included
  const paddedHeight = Math.max(info.padInfo.top + x.shape[1]! + info.padInfo.bottom, (outHeight - 1) * strideHeight + (filterHeight - 1) * dilationHeight + 1);
  const columns = gatherFilterColumns(kernels, x, info, filterWidth, paddedHeight);
  const input = kernels.reshape(columns, [filterWidth * inChannels, paddedHeight, 1, batch * outWidth]);
  const filter = kernels.reshape(kernels.transpose(dy, [1, 0, 2, 3]), [outHeight, 1, batch * outWidth, outChannels]);
  const full = kernels.call(
    'Conv2D',
    { x: input, filter },
    {
      strides: [1, 1],
      dilations: [strideHeight, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap,
  ); // [fw·c, Hpadded − (outH − 1)·sh, 1, o]
  const fullHeight = full.shape[1]!;
  const gradient = kernels.empty([filterHeight, filterWidth, inChannels, outChannels]);
  const source = kernels.floats(full);
  const target = kernels.floats(gradient);
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      for (let channel = 0; channel < inChannels; channel++) {
        const read = ((j * inChannels + channel) * fullHeight + i * dilationHeight) * outChannels;
        target.set(source.subarray(read, read + outChannels), ((i * filterWidth + j) * inChannels + channel) * outChannels);
      }
    }
  }
  return gradient;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: Pad;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('@kindling/backend: wasm Conv2DBackpropFilter supports NHWC only');
    return kernels.finish(convBackpropFilter(kernels, x, dy, filterShape, strides, 1, pad, dimRoundingMode));
  },
};
