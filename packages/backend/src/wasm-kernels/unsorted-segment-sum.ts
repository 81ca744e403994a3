import { UnsortedSegmentSum, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { type WasmBackendLike, WasmKernels } from './kernels';

/** `UnsortedSegmentSum` (the gradient of `gather`, so of every embedding) as wasm's `ScatterNd`, which sums duplicates. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const kernels = new WasmKernels(wasm);
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
    const leading = segmentIds.shape.length === 0 ? 1 : util.sizeFromShape(segmentIds.shape);
    const rest = x.shape.slice(segmentIds.shape.length);
    // TensorFlow drops negative ids; ScatterNd would reject them, so they are sent to an extra row.
    let indices = segmentIds;
    let rows = numSegments;
    if (ids.some((id) => id < 0 || id >= numSegments)) {
      if (ids.some((id) => id >= numSegments)) {
        throw new Error(`@kindling/backend: UnsortedSegmentSum segment id out of range [0, ${numSegments})`);
      }
      indices = kernels.fromValues(Int32Array.from(ids, (id) => (id < 0 ? numSegments : id)), [leading], 'int32');
      rows = numSegments + 1;
    }
    const updates = kernels.reshape(x, [leading, ...rest]);
    const scattered = kernels.call(
      'ScatterNd',
      { indices: kernels.reshape(indices, [leading, 1]), updates },
      { shape: [rows, ...rest] },
    );
    return kernels.finish(kernels.slice(scattered, scattered.shape.map(() => 0), [numSegments, ...rest]));
  },
};
