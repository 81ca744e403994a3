import { decodeSide, DECODE_MIN_SIDE, normalize, pixelsMisfit, pixelsToChannels as channelsOf, squarePixels } from '@kindling/image';
import * as tf from '@tensorflow/tfjs';
import { InputError } from './errors';
import { classify, describe, isRecord, Predictor, softmaxAndFeatures, toBytes, type Classification } from './predictor';
import { describeValues, doubtOf, PICTURE_WORDS, unfamiliar, type InputDescriptors } from './familiarity';
import type { ImagePreprocessing, ImageTask, SegmentationTask } from './tasks';

/** Decoded pixels, row-major; `channels` defaults to data.length / (width × height) (ImageData is RGBA). */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 1 | 2 | 3 | 4;
}

/**
 * Turns encoded bytes (PNG, JPEG…) or a platform object (an image element, a Blob) into pixels. The
 * Node entry point decodes with sharp, the browser one with createImageBitmap; both return full-size
 * pixels, so the resizing below is the same code everywhere. A picture wider or taller than
 * `limits.maxSide` comes out shrunk to fit inside that square as it is decoded (a 7000×7000 upload never
 * exists at full size); one over `limits.maxPixels` is refused.
 */
export type ImageDecoder = (input: unknown, source: string, limits?: ImageLimits) => Promise<RawImage>;

/** Bounds on a picture given to a predictor. */
export interface ImageLimits {
  /** Largest side kept when decoding; larger pictures are shrunk while decoded. */
  maxSide?: number;
  /** Largest picture accepted, in pixels (before shrinking). */
  maxPixels?: number;
  /** Largest ratio of the longer side to the shorter. */
  maxAspect?: number;
  /** Largest picture, in pixels, of a format decoded whole before it can be shrunk (AVIF, GIF, SVG…; Node). */
  maxWholeDecodePixels?: number;
}

/**
 * What a predictor's picture may cost, checked from its header before it is decoded: sides at most 64 times apart
 * (a 1,000,000×49 strip took 840 MB to shrink) and at most 8 megapixels in formats decoded whole (a 678-byte AVIF of
 * 7000×7000 took 960 MB); JPEG, PNG and WebP stream or shrink as they are read, up to 50 megapixels.
 */
export const IMAGE_LIMITS = { maxAspect: 64, maxWholeDecodePixels: 8_000_000 } as const;

/** Pictures are decoded no larger than four times the model's input side, and never below this side (`@kindling/image`'s bound, shared with training). */
export { DECODE_MIN_SIDE };

/** Encoded bytes, base64 text, decoded pixels, or whatever the platform's decoder takes. */
export type ImageInput = Uint8Array | ArrayBuffer | RawImage | string | object;

function isRawImage(value: unknown): value is RawImage {
  return isRecord(value) && (value.data instanceof Uint8Array || value.data instanceof Uint8ClampedArray) && typeof value.width === 'number' && typeof value.height === 'number';
}

/** Pixels to `channels` (3: grey repeated, alpha dropped; 1: Rec. 709 luma) as floats 0–255; pixels that do not fit their size are an InputError. */
export function pixelsToChannels(image: RawImage, channels: 1 | 3): Float32Array {
  checkPixels(image);
  return channelsOf(image, channels);
}

function checkPixels(image: RawImage): void {
  const misfit = pixelsMisfit(image);
  if (misfit !== undefined) throw new InputError(misfit, 'image');
}

/** A picture in a JSON body: base64 text, alone or as `{ "image": … }`. */
function imageFromJson(value: unknown): ImageInput {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.image === 'string') return value.image;
  throw new InputError(`expected { "image": "<base64 PNG/JPEG>" }, got ${describe(value)}`, 'image');
}

/**
 * Any picture → normalized `[size, size, channels]`, exactly as the image and segmentation predictors
 * see it (also for collecting training examples that a bundle will later be fed the same way).
 */
export class ImagePreparation {
  constructor(
    private readonly preprocessing: ImagePreprocessing,
    private readonly decodeImage?: ImageDecoder,
  ) {}

  async decode(input: ImageInput): Promise<RawImage> {
    if (isRawImage(input)) return input;
    if (this.decodeImage === undefined) {
      throw new InputError(`cannot decode ${describe(input)} here: pass decoded pixels { data, width, height }, or load the predictor from @kindling/deploy/node or /browser, which decode image files`, 'image');
    }
    const bytes = input instanceof Uint8Array || input instanceof ArrayBuffer || typeof input === 'string' ? toBytes(input, 'image') : input;
    return this.decodeImage(bytes, 'image', { maxSide: decodeSide(this.preprocessing.size), ...IMAGE_LIMITS });
  }

  async prepare(input: ImageInput): Promise<{ features: Float32Array; width: number; height: number }> {
    const image = await this.decode(input);
    checkPixels(image);
    const { size, method, channels, stats } = this.preprocessing;
    // the one resize training used (imageFolderDataLoaders makes every training item with squarePixels too)
    const features = tf.tidy(() => normalize(squarePixels(image, size, method, channels).div(255), stats));
    const data = (await features.data()) as Float32Array;
    features.dispose();
    return { features: data, width: image.width, height: image.height };
  }

  batch(prepared: ReadonlyArray<{ features: Float32Array }>): tf.Tensor4D {
    const { size, channels } = this.preprocessing;
    const joined = new Float32Array(prepared.length * size * size * channels);
    prepared.forEach((item, index) => joined.set(item.features, index * size * size * channels));
    return tf.tensor4d(joined, [prepared.length, size, size, channels]);
  }
}

/** A picture → its class (marked `notSure` when the bundle knows its training pictures and this one is unlike them, or too uncertain). */
export class ImagePredictor extends Predictor<ImageInput, Classification, { features: Float32Array; descriptors?: InputDescriptors }, ImageTask> {
  readonly kind = 'image';
  private preparation?: ImagePreparation;

  /** Set by loadPredictor: how files become pixels on this platform. */
  useDecoder(decodeImage: ImageDecoder | undefined): this {
    this.preparation = new ImagePreparation(this.task.preprocessing, decodeImage);
    return this;
  }

  async prepare(input: ImageInput): Promise<{ features: Float32Array; descriptors?: InputDescriptors }> {
    const { features } = await (this.preparation ?? this.useDecoder(undefined).preparation!).prepare(input);
    if (this.task.familiarity === undefined) return { features };
    const { size, channels } = this.task.preprocessing;
    return { features, descriptors: describeValues(features, [size, size, channels]) };
  }

  async run(prepared: ReadonlyArray<{ features: Float32Array; descriptors?: InputDescriptors }>): Promise<Classification[]> {
    const { answers, features } = await this.classifyPictures(prepared);
    return answers.map((answer, index) => {
      const notSure = doubtOf(this.task.familiarity, prepared[index]!.descriptors, answer.confidence, PICTURE_WORDS, features?.[index]);
      return notSure === undefined ? answer : { ...answer, notSure };
    });
  }

  /** The answers, and the model's features of each picture when the bundle's familiarity measures them (the picture itself, not its mirror). */
  private async classifyPictures(prepared: ReadonlyArray<{ features: Float32Array }>): Promise<{ answers: Classification[]; features?: Float32Array[] }> {
    const batch = () => this.preparation!.batch(prepared);
    const layer = this.task.familiarity?.features?.layer;
    if (this.task.testTimeAugmentation !== 'mirror') {
      const { probabilities, features } = await softmaxAndFeatures(this.model, layer, batch);
      return { answers: classify(probabilities, this.task.labels, prepared.length, this.topK), features };
    }
    // the picture and its mirror image, their class probabilities averaged (as training measured it)
    const both = () => tf.tidy(() => {
      const pictures = batch();
      return tf.concat([pictures, tf.reverse(pictures, 2)]);
    });
    const { probabilities, features } = await softmaxAndFeatures(this.model, layer, both);
    const width = this.task.labels.length;
    const half = prepared.length * width;
    const averaged = new Float32Array(half);
    for (let i = 0; i < half; i++) averaged[i] = (probabilities[i]! + probabilities[half + i]!) / 2;
    return { answers: classify(averaged, this.task.labels, prepared.length, this.topK), features: features?.slice(0, prepared.length) };
  }

  inputFromJson(value: unknown): ImageInput {
    return imageFromJson(value);
  }

  describeInput(): string {
    const { size, method, channels } = this.task.preprocessing;
    return `a picture (PNG, JPEG, WebP…), resized to ${size}×${size} by ${method}, ${channels === 1 ? 'grey' : 'RGB'}`;
  }
}

/** A segmentation answer: a class index per pixel at the model's resolution, and the share of each class. */
export interface SegmentationResult {
  mask: Uint8Array;
  width: number;
  height: number;
  /** The picture's own size (the mask covers it after the same resize). */
  inputWidth: number;
  inputHeight: number;
  codes: string[];
  /** Share of pixels per class. */
  coverage: Record<string, number>;
  /**
   * The mean over the pixels of the model's probability for the class it gave each: how sure the mask is as a
   * whole (1 when every pixel is certain).
   */
  confidence: number;
  /**
   * Per pixel (as `mask`), the model's probability for the class it gave that pixel, from 0 to 255 (255: certain):
   * where the mask is sure and where it guesses — borders between classes, parts unlike the training pictures.
   */
  confidenceMap: Uint8Array;
  /** Why the mask is not worth trusting: the picture is unlike every training picture (bundles with a `familiarity` only). */
  notSure?: string;
}

/** A picture → a class for every pixel. */
export class SegmentationPredictor extends Predictor<ImageInput, SegmentationResult, { features: Float32Array; width: number; height: number; descriptors?: InputDescriptors }, SegmentationTask> {
  readonly kind = 'segmentation';
  private preparation?: ImagePreparation;

  useDecoder(decodeImage: ImageDecoder | undefined): this {
    this.preparation = new ImagePreparation(this.task.preprocessing, decodeImage);
    return this;
  }

  async prepare(input: ImageInput): Promise<{ features: Float32Array; width: number; height: number; descriptors?: InputDescriptors }> {
    const prepared = await (this.preparation ?? this.useDecoder(undefined).preparation!).prepare(input);
    if (this.task.familiarity === undefined) return prepared;
    const { size, channels } = this.task.preprocessing;
    return { ...prepared, descriptors: describeValues(prepared.features, [size, size, channels]) };
  }

  async run(prepared: ReadonlyArray<{ features: Float32Array; width: number; height: number; descriptors?: InputDescriptors }>): Promise<SegmentationResult[]> {
    const { codes, voidIndex, preprocessing, familiarity } = this.task;
    const [classes, sureness, perPixel] = tf.tidy(() => {
      let logits = this.model.predict(this.preparation!.batch(prepared)) as tf.Tensor4D;
      // the void class was never a target: it is not an answer
      if (voidIndex !== null) logits = logits.add(tf.oneHot([voidIndex], codes.length).reshape([1, 1, 1, codes.length]).mul(-1e9));
      // each pixel's probability of the class given: [n, size, size]; its mean per picture: [n]
      const given = tf.softmax(logits).max(-1);
      return [logits.argMax(-1).toInt(), given.mean([1, 2]), given.mul(255).round().toInt()];
    });
    const [values, means, sure] = [(await classes.data()) as Int32Array, (await sureness.data()) as Float32Array, (await perPixel.data()) as Int32Array];
    tf.dispose([classes, sureness, perPixel]);
    const area = preprocessing.size * preprocessing.size;
    return prepared.map((item, index) => {
      const mask = Uint8Array.from(values.subarray(index * area, (index + 1) * area));
      const counts = new Array<number>(codes.length).fill(0);
      for (const value of mask) counts[value]!++;
      const notSure = item.descriptors === undefined ? undefined : unfamiliar(familiarity, item.descriptors, PICTURE_WORDS);
      return {
        mask,
        width: preprocessing.size,
        height: preprocessing.size,
        inputWidth: item.width,
        inputHeight: item.height,
        codes: [...codes],
        coverage: Object.fromEntries(codes.map((code, k) => [code, counts[k]! / area])),
        confidence: means[index]!,
        confidenceMap: Uint8Array.from(sure.subarray(index * area, (index + 1) * area)),
        ...(notSure === undefined ? {} : { notSure }),
      };
    });
  }

  inputFromJson(value: unknown): ImageInput {
    return imageFromJson(value);
  }

  describeInput(): string {
    const { size, method, channels } = this.task.preprocessing;
    return `a picture (PNG, JPEG, WebP…), resized to ${size}×${size} by ${method}, ${channels === 1 ? 'grey' : 'RGB'}; the answer is a class index per pixel (${this.task.codes.join(', ')})`;
  }
}
