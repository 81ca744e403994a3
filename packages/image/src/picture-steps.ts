/** The steps both picture data blocks share (the classifier's and the segmentation's): Node only (sharp decodes). */
import type { ArrayItem, BatchStep, Transform } from '@kindling/data';
import type * as tf from '@tensorflow/tfjs';
import { loadImage } from './decode-node';
import { decodeSide, denormalize, normalize, squareBytes, type ResizeMethod, type Stats } from './transforms';

/**
 * A picture file as serving will see it: decoded as serving decodes (3 channels, at most decodeSide of the longer
 * side a side), then the one resize training and serving share (squarePixels) to `size`×`size`, or `size` wide and
 * `height` tall.
 */
export function pictureTransforms(size: number, method: ResizeMethod, channels: 1 | 3, height: number = size): [Transform<string, ArrayItem>, Transform<ArrayItem, ArrayItem>] {
  const maxSide = decodeSide(Math.max(size, height));
  return [
    { name: `decode (at most ${maxSide} pixels a side)`, encode: (file: string) => loadImage(file, { channels: 3, maxSide }) },
    {
      name: `resize ${size}×${height} (${method}, bilinear), ${channels} channel(s)`,
      encode: async (picture: ArrayItem): Promise<ArrayItem> => {
        const [pictureHeight, pictureWidth] = picture.shape as [number, number, number];
        return { data: await squareBytes({ data: picture.data as Uint8Array, width: pictureWidth, height: pictureHeight, channels: 3 }, size, method, channels, height), shape: [height, size, channels] };
      },
    },
  ];
}

/** Bytes to [0, 1], and back. */
export const SCALE_STEP: BatchStep = { name: 'scale to [0, 1]', encode: (batch) => ({ inputs: (batch.inputs as tf.Tensor4D).div(255), targets: batch.targets }), decode: (inputs) => inputs.mul(255) };

/** `(x − mean) / std` per channel, and back. */
export function normalizeStep(stats: Stats): BatchStep {
  return {
    name: `normalize (mean ${stats.mean.map((m) => m.toFixed(3))}, std ${stats.std.map((s) => s.toFixed(3))})`,
    encode: (batch) => ({ inputs: normalize(batch.inputs as tf.Tensor4D, stats), targets: batch.targets }),
    decode: (inputs) => denormalize(inputs, stats),
  };
}
