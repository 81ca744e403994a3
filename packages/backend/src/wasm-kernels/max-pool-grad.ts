import { backend_util, MaxPoolGrad, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { type Pad, type WasmBackendLike, WasmKernels, original } from './kernels';

/**
 * MaxPoolGrad in JS on the wasm heap: each window's gradient goes to its first largest input, in the
 * window's row-major order (as tfjs's cpu kernel and TensorFlow do); about four times faster than
 * wasm's kernel on a U-Net's 2×2 poolings.
 */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') return original(MaxPoolGrad, args);
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
    const { top, left } = info.padInfo;
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const dx = kernels.empty(input.shape);
    const x = kernels.floats(input);
    const gradient = kernels.floats(dy);
    const target = kernels.floats(dx);
    target.fill(0);
    const best = new Float32Array(channels);
    const where = new Int32Array(channels);
    for (let b = 0; b < batchSize; b++) {
      for (let outRow = 0; outRow < outHeight; outRow++) {
        const rowStart = Math.max(0, outRow * strideHeight - top);
        const rowEnd = Math.min(inHeight, outRow * strideHeight - top + effectiveFilterHeight);
        for (let outColumn = 0; outColumn < outWidth; outColumn++) {
          const columnStart = Math.max(0, outColumn * strideWidth - left);
          const columnEnd = Math.min(inWidth, outColumn * strideWidth - left + effectiveFilterWidth);
          best.fill(Number.NEGATIVE_INFINITY);
          where.fill(-1);
          for (let row = rowStart; row < rowEnd; row++) {
            for (let column = columnStart; column < columnEnd; column++) {
              const base = ((b * inHeight + row) * inWidth + column) * channels;
              for (let channel = 0; channel < channels; channel++) {
                const value = x[base + channel]!;
                if (value > best[channel]!) {
                  best[channel] = value;
                  where[channel] = base + channel;
                }
              }
            }
          }
          const read = ((b * outHeight + outRow) * outWidth + outColumn) * channels;
          for (let channel = 0; channel < channels; channel++) {
            const position = where[channel]!;
            if (position >= 0) target[position] = target[position]! + gradient[read + channel]!;
          }
        }
      }
    }
    return kernels.finish(dx);
  },
};
