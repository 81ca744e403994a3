import * as tf from '@tensorflow/tfjs';
import { ConfigError, type Random } from '@kindling/data';

/** fastai's ways to make a picture square: crop the middle, pad the short side, or squish. */
export type ResizeMethod = 'crop' | 'pad' | 'squish';
export const RESIZE_METHODS: readonly ResizeMethod[] = ['crop', 'pad', 'squish'];

export function assertResizeMethod(method: string): asserts method is ResizeMethod {
  if (!RESIZE_METHODS.includes(method as ResizeMethod)) {
    throw new ConfigError(`unknown resize method '${method}': use crop, pad or squish`);
  }
}

/**
 * Resizes an image tensor `[h, w, c]` (or a batch) to `size × size` — or `size` wide and `height` tall — by crop (the
 * middle at the target's shape), pad (fit whole, black bars) or squish (bilinear).
 */
export function resizeImage<T extends tf.Tensor3D | tf.Tensor4D>(image: T, size: number, method: ResizeMethod = 'crop', height: number = size): T {
  assertResizeMethod(method);
  const [targetHeight, targetWidth] = [height, size];
  return tf.tidy(() => {
    const batched = (image.rank === 3 ? image.expandDims(0) : image) as tf.Tensor4D;
    const [, sourceHeight, sourceWidth] = batched.shape;
    let resized: tf.Tensor4D;
    if (method === 'pad') {
      // Like sharp's `contain`: fit the whole picture inside, then pad the rest with black, centred.
      const scale = Math.min(targetWidth / sourceWidth, targetHeight / sourceHeight);
      const [fitHeight, fitWidth] = [Math.min(targetHeight, Math.max(1, Math.round(sourceHeight * scale))), Math.min(targetWidth, Math.max(1, Math.round(sourceWidth * scale)))];
      const fitted = tf.image.resizeBilinear(batched, [fitHeight, fitWidth], false, true);
      const top = Math.floor((targetHeight - fitHeight) / 2);
      const left = Math.floor((targetWidth - fitWidth) / 2);
      resized = fitted.pad([[0, 0], [top, targetHeight - fitHeight - top], [left, targetWidth - fitWidth - left], [0, 0]]);
    } else {
      let middle = batched;
      if (method === 'crop') {
        // the largest part of the target's shape (a square for a square target), from the middle
        const wide = sourceWidth * targetHeight > sourceHeight * targetWidth;
        const [keptHeight, keptWidth] = wide ? [sourceHeight, Math.max(1, Math.round((sourceHeight * targetWidth) / targetHeight))] : [Math.max(1, Math.round((sourceWidth * targetHeight) / targetWidth)), sourceWidth];
        middle = batched.slice([0, Math.floor((sourceHeight - keptHeight) / 2), Math.floor((sourceWidth - keptWidth) / 2), 0], [-1, keptHeight, keptWidth, -1]);
      }
      resized = tf.image.resizeBilinear(middle, [targetHeight, targetWidth], false, true);
    }
    return (image.rank === 3 ? resized.squeeze([0]) : resized) as T;
  });
}

/**
 * Pictures are decoded no larger than four times the model's input side, and never below 256 pixels a side: the
 * decoder (sharp in Node, the browser's) shrinks larger ones while decoding, antialiased, before the one resize
 * below. Training (`imageFolderDataLoaders`) and serving (`@kindling/deploy`) decode to this same bound.
 */
export const DECODE_MIN_SIDE = 256;

/** The largest side a picture for a `size`-pixel model is decoded at. */
export function decodeSide(size: number): number {
  return Math.max(DECODE_MIN_SIDE, 4 * size);
}

/**
 * Why a `width`×`height` picture is refused for its shape, or undefined: sides more than `maxAspect` times apart (a
 * 1,000,000×49 strip cost 840 MB to shrink). The same words in Node (from the file's header) and in a page.
 */
export function aspectRefusal(width: number, height: number, maxAspect: number): string | undefined {
  if (!(width > 0 && height > 0) || Math.max(width, height) / Math.min(width, height) <= maxAspect) return undefined;
  return `the picture is ${width}×${height} pixels: its sides are more than ${maxAspect} times apart, which no picture a model reads is`;
}

/** Decoded pixels, row-major; `channels` defaults to data.length / (width × height) (ImageData is RGBA). */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 1 | 2 | 3 | 4;
}

/** Why pixels do not fit their size (a whole positive width and height, 1–4 channels, as many values), or undefined. */
export function pixelsMisfit(image: PixelImage): string | undefined {
  const { data, width, height } = image;
  const count = width * height;
  const from = image.channels ?? data.length / count;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || ![1, 2, 3, 4].includes(from) || data.length !== count * from) {
    return `pixels do not fit a ${width}×${height} picture with 1–4 channels (${data.length} values)`;
  }
  return undefined;
}

/** Pixels to `channels` (3: grey repeated, alpha dropped; 1: Rec. 709 luma, rounded) as floats 0–255. */
export function pixelsToChannels(image: PixelImage, channels: 1 | 3): Float32Array {
  const misfit = pixelsMisfit(image);
  if (misfit !== undefined) throw new ConfigError(misfit);
  const { data, width, height } = image;
  const count = width * height;
  const from = image.channels ?? data.length / count;
  const result = new Float32Array(count * channels);
  const [green, blue] = from < 3 ? [0, 0] : [1, 2];
  for (let i = 0, base = 0; i < count; i++, base += from) {
    const r = data[base]!;
    const g = data[base + green]!;
    const b = data[base + blue]!;
    if (channels === 3) {
      result[i * 3] = r;
      result[i * 3 + 1] = g;
      result[i * 3 + 2] = b;
    } else {
      result[i] = Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
    }
  }
  return result;
}

/**
 * The one resize of training and serving: decoded pixels → the model's `size × size` square (or `size` wide and
 * `height` tall) by crop, pad or squish (bilinear), as whole values 0–255 in `channels` channels.
 * `imageFolderDataLoaders` makes every training item with it and the image predictors every input, in Node and in
 * browsers alike.
 */
export function squarePixels(image: PixelImage, size: number, method: ResizeMethod, channels: 1 | 3, height: number = size): tf.Tensor3D {
  const pixels = pixelsToChannels(image, channels);
  return tf.tidy(() => resizeImage(tf.tensor3d(pixels, [image.height, image.width, channels]), size, method, height).round().clipByValue(0, 255) as tf.Tensor3D);
}

/** `squarePixels` read back as bytes (asynchronously): a training item's input, the picture a page draws. */
export async function squareBytes(image: PixelImage, size: number, method: ResizeMethod, channels: 1 | 3, height: number = size): Promise<Uint8Array> {
  const square = squarePixels(image, size, method, channels, height);
  try {
    return Uint8Array.from(await square.data());
  } finally {
    square.dispose();
  }
}

/**
 * The width and height of a model's pictures from its preprocessing: `size` pixels wide and `height` tall, a
 * `size`-pixel square when `height` is left out (every bundle before segmentation kept the pictures' shape).
 */
export function pictureShape(preprocessing: { size: number; height?: number }): { width: number; height: number } {
  return { width: preprocessing.size, height: preprocessing.height ?? preprocessing.size };
}

export interface Stats {
  mean: number[];
  std: number[];
}

/** ImageNet channel statistics for images scaled to [0, 1], as pretrained models expect. */
export const IMAGENET_STATS: Stats = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Per-channel mean and standard deviation of a batch `[b, h, w, c]` (for dataset statistics), read asynchronously. */
export async function computeStats(images: tf.Tensor4D): Promise<Stats> {
  const [mean, variance] = tf.tidy(() => {
    const moments = tf.moments(images, [0, 1, 2]);
    return [moments.mean, moments.variance];
  });
  // asynchronous reads: a synchronous one stalls WebGL and cannot run on WebGPU in Node
  const stats = { mean: Array.from(await mean!.data()), std: Array.from(await variance!.data(), (v) => Math.sqrt(v) || 1) };
  tf.dispose([mean!, variance!]);
  return stats;
}

/** `(x − mean) / std` per channel; `denormalize` undoes it. */
export function normalize(images: tf.Tensor, stats: Stats): tf.Tensor {
  return tf.tidy(() => images.sub(tf.tensor1d(stats.mean)).div(tf.tensor1d(stats.std)));
}

export function denormalize(images: tf.Tensor, stats: Stats): tf.Tensor {
  return tf.tidy(() => images.mul(tf.tensor1d(stats.std)).add(tf.tensor1d(stats.mean)));
}

export interface AugmentOptions {
  /** Probability of a horizontal flip. Default 0.5. */
  flip?: number;
  /**
   * All eight flips and quarter turns of a square, each equally likely (fastai's `flip_vert` / dihedral),
   * for pictures with no up or down: microscopy, satellite, cells. Replaces `flip`; quarter turns apply to
   * square pictures only (others get the four flips).
   */
  dihedral?: boolean;
  /** Largest rotation either way, in degrees. Default 10. */
  maxRotate?: number;
  /** Largest zoom (random resized crop: 1 keeps the whole picture, 1.25 crops to 80% of it). Default 1.2. */
  maxZoom?: number;
  /** Largest brightness change, as a share of the range. Default 0.2. */
  maxLighting?: number;
  /** Probability that each affine change (rotation, zoom) is applied. Default 0.75. */
  probability?: number;
}

/** One image's random affine choice: kept so the same geometry can be applied to a mask. */
export interface AffineChoice {
  flip: boolean;
  /** Vertical flip and swap of the axes (the rest of the dihedral group; `dihedral` augmentation). */
  flipVertical?: boolean;
  transpose?: boolean;
  angle: number;
  zoom: number;
  shiftX: number;
  shiftY: number;
}

/** Draws one random affine choice per image. */
export function drawAffine(count: number, options: AugmentOptions, random: Random): AffineChoice[] {
  const { flip = 0.5, maxRotate = 10, maxZoom = 1.2, probability = 0.75 } = options;
  return Array.from({ length: count }, () => {
    const rotate = random.next() < probability;
    const zoomed = random.next() < probability;
    const zoom = zoomed ? random.uniform(1, maxZoom) : 1;
    const slack = (1 - 1 / zoom) / 2;
    const symmetry = options.dihedral ? { flipVertical: random.next() < 0.5, transpose: random.next() < 0.5 } : {};
    return {
      ...symmetry,
      flip: random.next() < (options.dihedral ? 0.5 : flip),
      angle: rotate ? (random.uniform(-maxRotate, maxRotate) * Math.PI) / 180 : 0,
      zoom,
      shiftX: random.uniform(-slack, slack),
      shiftY: random.uniform(-slack, slack),
    };
  });
}

/**
 * The projective transforms (output → input pixel) for `tf.image.transform`, one row of 8 per image;
 * `offset` moves every input coordinate (for a picture padded by that much).
 */
export function affineMatrices(choices: AffineChoice[], height: number, width: number, offset: { x: number; y: number } = { x: 0, y: 0 }): tf.Tensor2D {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rows = choices.map(({ flip, flipVertical = false, transpose = false, angle, zoom, shiftX, shiftY }) => {
    const fx = flip ? -1 : 1;
    const fy = flipVertical ? -1 : 1;
    // the symmetry S (flips, then an axis swap on squares), then rotation and zoom: M = R·S
    const [s00, s01, s10, s11] = transpose && height === width ? [0, fy, fx, 0] : [fx, 0, 0, fy];
    const cos = Math.cos(angle) / zoom;
    const sin = Math.sin(angle) / zoom;
    const [m00, m01, m10, m11] = [cos * s00 - sin * s10, cos * s01 - sin * s11, sin * s00 + cos * s10, sin * s01 + cos * s11];
    const tx = shiftX * width;
    const ty = shiftY * height;
    return [m00, m01, cx + tx - m00 * cx - m01 * cy + offset.x, m10, m11, cy + ty - m10 * cx - m11 * cy + offset.y, 0, 0];
  });
  return tf.tensor2d(rows, [choices.length, 8]);
}

/**
 * Applies affine choices to a batch `[b, h, w, c]`: bilinear with reflection for pictures,
 * nearest-neighbour for masks (so class indices stay class indices).
 */
export function applyAffine(images: tf.Tensor4D, choices: AffineChoice[], kind: 'image' | 'mask' = 'image'): tf.Tensor4D {
  return tf.tidy(() => {
    const [, height, width] = images.shape;
    // Reflection comes from a mirror pad of half the picture on each side rather than the kernel's own
    // 'reflect' fill, which the wasm backend gets wrong past the top and left edges (tfjs 4.22): the same
    // pixels on every backend. Half a side covers any rotation at zoom ≥ 1.
    const [padY, padX] = [Math.ceil(height / 2), Math.ceil(width / 2)];
    const padded = tf.mirrorPad(images.toFloat(), [[0, 0], [padY, padY], [padX, padX], [0, 0]], 'symmetric');
    const matrices = affineMatrices(choices, height, width, { x: padX, y: padY });
    return tf.image.transform(padded as tf.Tensor4D, matrices, kind === 'image' ? 'bilinear' : 'nearest', 'nearest', 0, [height, width]);
  });
}

/**
 * Batch augmentation on the backend: flip, rotation, zoom (random resized crop) in one affine warp
 * per image, then brightness and contrast, for images in [0, 1]. Pass `masks` to warp them with the
 * same random choices (segmentation).
 */
export function augmentBatch(
  images: tf.Tensor4D,
  options: AugmentOptions,
  random: Random,
  masks?: tf.Tensor4D,
): { images: tf.Tensor4D; masks?: tf.Tensor4D; choices: AffineChoice[] } {
  const count = images.shape[0];
  const choices = drawAffine(count, options, random);
  const maxLighting = options.maxLighting ?? 0.2;
  const lighting = Array.from({ length: count }, () => [random.uniform(-maxLighting, maxLighting), random.uniform(1 - maxLighting, 1 + maxLighting)]);
  const warped = tf.tidy(() => {
    const moved = applyAffine(images, choices, 'image');
    const brightness = tf.tensor(lighting.map(([b]) => b!), [count, 1, 1, 1]);
    const contrast = tf.tensor(lighting.map(([, c]) => c!), [count, 1, 1, 1]);
    return moved.sub(0.5).mul(contrast).add(0.5).add(brightness).clipByValue(0, 1) as tf.Tensor4D;
  });
  return { images: warped, masks: masks === undefined ? undefined : applyAffine(masks, choices, 'mask'), choices };
}

/** Elastic deformation: a random, smooth displacement of every pixel (the U-Net paper's augmentation). */
export interface ElasticOptions {
  /** Control points per side of the coarse displacement grid, bilinearly spread over the picture. Default 4. */
  grid?: number;
  /** Standard deviation of each control point's displacement, in pixels. Default 8. */
  magnitude?: number;
  /** Share of items deformed. Default 1. */
  probability?: number;
}

/**
 * Deforms a picture `[h, w, c]` (bilinear) and, when given, its mask `[h, w]` (nearest, so classes stay
 * classes) with the same random smooth displacement field: control points on a `grid`×`grid` lattice
 * move by normal(0, `magnitude`) pixels, and every pixel moves by the bilinear blend of its four.
 * Pure TypeScript on bytes, so it runs per item in the data loader on any platform.
 */
export function elasticDeform<M extends Uint8Array | undefined>(
  image: { data: Uint8Array; shape: readonly number[] },
  mask: M,
  options: ElasticOptions,
  random: Random,
): { image: Uint8Array; mask: M } {
  const { grid = 4, magnitude = 8, probability = 1 } = options;
  if (!(Number.isInteger(grid) && grid >= 2)) throw new ConfigError(`elastic grid must be a whole number ≥ 2, not ${grid}`);
  const [height, width, channels = 1] = image.shape as [number, number, number?];
  if (random.next() >= probability || magnitude === 0) return { image: image.data, mask };
  const field = Float32Array.from({ length: grid * grid * 2 }, () => random.normal() * magnitude);
  const out = new Uint8Array(image.data.length);
  const outMask = (mask === undefined ? undefined : new Uint8Array(mask.length)) as M;
  const gx = (grid - 1) / Math.max(1, width - 1);
  const gy = (grid - 1) / Math.max(1, height - 1);
  for (let y = 0; y < height; y++) {
    const fy = y * gy;
    const y0 = Math.min(grid - 2, Math.floor(fy));
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = x * gx;
      const x0 = Math.min(grid - 2, Math.floor(fx));
      const tx = fx - x0;
      const blend = (axis: number) => {
        const at = (row: number, column: number) => field[(row * grid + column) * 2 + axis]!;
        const top = at(y0, x0) * (1 - tx) + at(y0, x0 + 1) * tx;
        const bottom = at(y0 + 1, x0) * (1 - tx) + at(y0 + 1, x0 + 1) * tx;
        return top * (1 - ty) + bottom * ty;
      };
      const sx = Math.min(width - 1, Math.max(0, x + blend(0)));
      const sy = Math.min(height - 1, Math.max(0, y + blend(1)));
      const left = Math.min(width - 2, Math.floor(sx));
      const up = Math.min(height - 2, Math.floor(sy));
      const [ax, ay] = [sx - Math.max(0, left), sy - Math.max(0, up)];
      const [l, u] = [Math.max(0, left), Math.max(0, up)];
      const [r, d] = [Math.min(width - 1, l + 1), Math.min(height - 1, u + 1)];
      for (let c = 0; c < channels; c++) {
        const p = (row: number, column: number) => image.data[(row * width + column) * channels + c]!;
        const value = (p(u, l) * (1 - ax) + p(u, r) * ax) * (1 - ay) + (p(d, l) * (1 - ax) + p(d, r) * ax) * ay;
        out[(y * width + x) * channels + c] = Math.round(value);
      }
      if (mask !== undefined) outMask![y * width + x] = mask[Math.round(sy) * width + Math.round(sx)]!;
    }
  }
  return { image: out, mask: outMask };
}

/** Test-time augmentation views of a batch `[n, h, w, c]`: the pictures and their mirror images (for `Learner.tta`). */
export function mirrorViews(images: tf.Tensor): tf.Tensor[] {
  return [images.clone(), tf.reverse(images, 2)];
}
