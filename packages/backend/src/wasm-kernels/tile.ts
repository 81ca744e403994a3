import { Tile, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { type WasmBackendLike, WasmKernels, original } from './kernels';

/**
 * Tile as a broadcast multiply: x reshaped with a unit axis beside each repeated one, times ones of
 * the repeats' shape, reshaped back. xnnpack's broadcasting runs this far faster than wasm's Tile.
 */
export const tileConfig: KernelConfig = {
  kernelName: Tile,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs as { x: TensorInfo };
    const { reps } = attrs as unknown as { reps: number[] };
    const xShape: number[] = [];
    const onesShape: number[] = [];
    x.shape.forEach((extent, axis) => {
      const repeat = reps[axis]!;
      if (repeat === 1) {
        xShape.push(extent);
        onesShape.push(1);
      } else if (extent === 1) {
        xShape.push(1);
        onesShape.push(repeat);
      } else {
        xShape.push(1, extent);
        onesShape.push(repeat, 1);
      }
    });
    if (x.dtype !== 'float32' || xShape.length > 6) return original(Tile, args);
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const ones = kernels.call('Fill', {}, { shape: onesShape, value: 1, dtype: 'float32' });
    const product = kernels.call('Multiply', { a: kernels.reshape(x, xShape), b: ones });
    return kernels.finish(kernels.reshape(product, x.shape.map((extent, axis) => extent * reps[axis]!)));
  },
};
