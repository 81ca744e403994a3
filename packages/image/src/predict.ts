/**
 * `@kindling/image/predict`: the picture modality's side of `@kindling/deploy` — the `image` and `segmentation` task
 * records, their predictors and the definitions to register (`registerTask(imageTask)`), so that bundles of picture
 * classifiers and segmenters load, predict and are served. These definitions decode image files with the browser's
 * decoders where there is one; in Node, register those of `@kindling/image/node`, which decode with sharp (and let
 * the server answer a mask as a PNG).
 */
import { checkFeatures, checkLabels, classify, describeValues, doubtOf, InputError, isRecord, jsonValueInWords as describe, PLAIN_WORDS, Predictor, softmaxAndFeatures, toBytes, unfamiliar, type Classification, type DescriptorWords, type Familiarity, type InputDescriptors, type TaskDefinition } from '@kindling/deploy';
import * as tf from '@tensorflow/tfjs';
import type { Colour } from './segmentation';
import { aspectRefusal, decodeSide, normalize, pictureShape, pixelsMisfit, squarePixels, type ResizeMethod, type Stats } from './transforms';

/** How a picture becomes the model's input: decoded, resized to a square (or `size`×`height`), scaled to [0, 1], normalized. */
export interface ImagePreprocessing {
  /** The side of the square the model takes, or its width when `height` is given. */
  size: number;
  /** The height of the pictures the model takes, when they are not square (segmentations that keep their pictures' shape). */
  height?: number;
  method: ResizeMethod;
  channels: 1 | 3;
  stats: Stats;
}

/** A picture classifier: the class names in output order and the preprocessing. */
export interface ImageTask {
  kind: 'image';
  labels: readonly string[];
  preprocessing: ImagePreprocessing;
  /** `mirror`: each answer averages the class probabilities of the picture and its mirror image (test-time augmentation). */
  testTimeAugmentation?: 'mirror';
  /** What the training pictures looked like, for answers marked "not sure" (written by `kindling train`). */
  familiarity?: Familiarity;
}

/** A class for every pixel; `voidIndex` is the class ignored in training (never predicted as an answer). */
export interface SegmentationTask {
  kind: 'segmentation';
  codes: readonly string[];
  voidIndex: number | null;
  palette: Colour[];
  preprocessing: ImagePreprocessing;
  /** What the training pictures looked like, for answers marked "not sure" (a blank page, noise). */
  familiarity?: Familiarity;
}

declare module '@kindling/deploy' {
  interface TaskRegistry {
    image: ImageTask;
    segmentation: SegmentationTask;
  }
  interface PredictorByKind {
    image: ImagePredictor;
    segmentation: SegmentationPredictor;
  }
}

/** How a picture unlike the training ones is described. */
export const PICTURE_WORDS: DescriptorWords = { ...PLAIN_WORDS, level: ['darker', 'brighter'], frame: ['darker at its edges', 'brighter at its edges'] };

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


/** Encoded bytes, base64 text, decoded pixels, or whatever the platform's decoder takes. */
export type ImageInput = Uint8Array | ArrayBuffer | RawImage | string | object;

function isRawImage(value: unknown): value is RawImage {
  return isRecord(value) && (value.data instanceof Uint8Array || value.data instanceof Uint8ClampedArray) && typeof value.width === 'number' && typeof value.height === 'number';
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
      throw new InputError(`cannot decode ${describe(input)} here: pass decoded pixels { data, width, height }, or in Node register imageTask and segmentationTask from @kindling/image/node, which decode image files with sharp`, 'image');
    }
    const bytes = input instanceof Uint8Array || input instanceof ArrayBuffer || typeof input === 'string' ? toBytes(input, 'image') : input;
    const { width, height } = pictureShape(this.preprocessing);
    return this.decodeImage(bytes, 'image', { maxSide: decodeSide(Math.max(width, height)), ...IMAGE_LIMITS });
  }

  async prepare(input: ImageInput): Promise<{ features: Float32Array; width: number; height: number }> {
    const image = await this.decode(input);
    checkPixels(image);
    const { size, method, channels, stats } = this.preprocessing;
    // the one resize training used (imageFolderDataLoaders makes every training item with squarePixels too)
    const features = tf.tidy(() => normalize(squarePixels(image, size, method, channels, pictureShape(this.preprocessing).height).div(255), stats));
    const data = (await features.data()) as Float32Array;
    features.dispose();
    return { features: data, width: image.width, height: image.height };
  }

  batch(prepared: ReadonlyArray<{ features: Float32Array }>): tf.Tensor4D {
    const { channels } = this.preprocessing;
    const { width, height } = pictureShape(this.preprocessing);
    const each = width * height * channels;
    const joined = new Float32Array(prepared.length * each);
    prepared.forEach((item, index) => joined.set(item.features, index * each));
    return tf.tensor4d(joined, [prepared.length, height, width, channels]);
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
    const { width, height } = pictureShape(this.task.preprocessing);
    return { features, descriptors: describeValues(features, [height, width, this.task.preprocessing.channels]) };
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
    return `a picture (PNG, JPEG, WebP…), ${resizedInWords(this.task.preprocessing)}`;
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
    const { width, height } = pictureShape(this.task.preprocessing);
    return { ...prepared, descriptors: describeValues(prepared.features, [height, width, this.task.preprocessing.channels]) };
  }

  async run(prepared: ReadonlyArray<{ features: Float32Array; width: number; height: number; descriptors?: InputDescriptors }>): Promise<SegmentationResult[]> {
    const { codes, voidIndex, preprocessing, familiarity } = this.task;
    const [classes, sureness, perPixel] = tf.tidy(() => {
      let logits = this.model.predict(this.preparation!.batch(prepared)) as tf.Tensor4D;
      // the void class was never a target: it is not an answer
      if (voidIndex !== null) logits = logits.add(tf.oneHot([voidIndex], codes.length).reshape([1, 1, 1, codes.length]).mul(-1e9));
      // each pixel's probability of the class given: [n, height, width]; its mean per picture: [n]
      const given = tf.softmax(logits).max(-1);
      return [logits.argMax(-1).toInt(), given.mean([1, 2]), given.mul(255).round().toInt()];
    });
    const [values, means, sure] = [(await classes.data()) as Int32Array, (await sureness.data()) as Float32Array, (await perPixel.data()) as Int32Array];
    tf.dispose([classes, sureness, perPixel]);
    const { width, height } = pictureShape(preprocessing);
    const area = width * height;
    return prepared.map((item, index) => {
      const mask = Uint8Array.from(values.subarray(index * area, (index + 1) * area));
      const counts = new Array<number>(codes.length).fill(0);
      for (const value of mask) counts[value]!++;
      const notSure = item.descriptors === undefined ? undefined : unfamiliar(familiarity, item.descriptors, PICTURE_WORDS);
      return {
        mask,
        width,
        height,
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
    return `a picture (PNG, JPEG, WebP…), ${resizedInWords(this.task.preprocessing)}; the answer is a class index per pixel (${this.task.codes.join(', ')})`;
  }
}

/**
 * Decodes with the browser (the decoder of this entry's `imageTask` and `segmentationTask` wherever
 * `createImageBitmap` exists): bytes or a Blob through createImageBitmap (no colour-space conversion or
 * alpha premultiplication, so PNG pixels come out exact), or an image, canvas, bitmap or ImageData.
 */
export const browserImageDecoder: ImageDecoder = async (input, source, limits = {}) => {
  if (typeof ImageData !== 'undefined' && input instanceof ImageData) return { data: input.data, width: input.width, height: input.height, channels: 4 };
  let drawable: CanvasImageSource;
  // bitmaps made here are closed here; the caller's own objects are left alone
  let owned = input instanceof Uint8Array || input instanceof Blob;
  try {
    if (input instanceof Uint8Array || input instanceof Blob) {
      const blob = input instanceof Blob ? input : new Blob([input as Uint8Array<ArrayBuffer>]);
      drawable = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } else {
      drawable = input as CanvasImageSource;
    }
  } catch (error) {
    throw new InputError(`cannot decode as an image (${(error as Error).message})`, source, { cause: error });
  }
  let { width, height } = drawable as { width: number; height: number };
  if (!(width > 0 && height > 0)) throw new InputError('the picture has no pixels (not loaded yet?)', source);
  if (limits.maxPixels !== undefined && width * height > limits.maxPixels) throw new InputError(`the picture has ${width}×${height} pixels, more than the limit of ${limits.maxPixels}`, source);
  // the same refusal as in Node, so a page and a server answer alike
  const misshapen = limits.maxAspect === undefined ? undefined : aspectRefusal(width, height, limits.maxAspect);
  if (misshapen !== undefined) throw new InputError(misshapen, source);
  const scale = limits.maxSide === undefined ? 1 : Math.min(1, limits.maxSide / Math.max(width, height));
  if (scale < 1) {
    // shrunk by the browser's own high-quality resize before its pixels are read
    [width, height] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
    const shrunk = await createImageBitmap(drawable as ImageBitmapSource, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
    if (owned) (drawable as ImageBitmap).close();
    drawable = shrunk;
    owned = true;
  }
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(drawable, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  if (owned) (drawable as ImageBitmap).close();
  return { data: pixels.data, width, height, channels: 4 } satisfies RawImage;
};

/** This platform's decoder: the browser's where `createImageBitmap` exists; elsewhere none (decoded pixels only). */
function platformDecoder(): ImageDecoder | undefined {
  return typeof createImageBitmap === 'function' ? browserImageDecoder : undefined;
}

/** A picture task's record fits its model: a size (and height, if any) from 1 to 4096 pixels, 1 or 3 channels, as the model's input takes them. */
function checkPicture(task: ImageTask | SegmentationTask, model: tf.LayersModel, fail: (message: string) => never): void {
  const { size, height: given, channels } = task.preprocessing ?? {};
  const side = (value: unknown) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 4096;
  if (!side(size)) fail(`gives the picture size ${JSON.stringify(size)} (a whole number of pixels from 1 to 4096 expected)`);
  if (given !== undefined && !side(given)) fail(`gives the picture height ${JSON.stringify(given)} (a whole number of pixels from 1 to 4096 expected)`);
  if (channels !== 1 && channels !== 3) fail(`gives ${JSON.stringify(channels)} channels (1 or 3 expected)`);
  const { width, height } = pictureShape(task.preprocessing);
  const [, takesHeight, takesWidth, depth] = model.inputs[0]?.shape ?? [];
  if ((takesHeight !== null && takesHeight !== undefined && takesHeight !== height) || (takesWidth !== null && takesWidth !== undefined && takesWidth !== width)) {
    fail(`gives the picture size ${width === height ? width : `${width}×${height}`} but the model takes ${takesWidth}×${takesHeight}`);
  }
  if (depth !== null && depth !== undefined && depth !== channels) fail(`gives ${channels} channel(s) but the model takes ${depth}`);
}

/** How a predictor resizes its pictures, in words. */
function resizedInWords(preprocessing: ImagePreprocessing): string {
  const { width, height } = pictureShape(preprocessing);
  return `resized to ${width}×${height} by ${preprocessing.method}, ${preprocessing.channels === 1 ? 'grey' : 'RGB'}`;
}

/** The segmentation record fits its model: as many codes as the model's classes per pixel, and a picture it takes. */
function checkSegmentation(task: SegmentationTask, model: tf.LayersModel, fail: (message: string) => never): void {
  const { codes } = task;
  const outputs = model.outputs[0]?.shape.at(-1);
  if (!Array.isArray(codes) || codes.length !== outputs) fail(`lists ${codes?.length} codes but the model answers ${outputs} classes per pixel`);
  checkPicture(task, model, fail);
}

/**
 * The picture classifier's task for `registerTask`: a bundle's record is checked against its model (labels, picture
 * size and channels, feature familiarity) and its predictor is an `ImagePredictor`, decoding files with the
 * browser's decoders (in Node, register `imageTask` from `@kindling/image/node`: sharp).
 */
export const imageTask: TaskDefinition<'image'> = {
  kind: 'image',
  check(task, model, fail) {
    checkLabels(task, model, fail);
    checkPicture(task, model, fail);
    checkFeatures(task, model, fail);
  },
  createPredictor: (bundle, model) => new ImagePredictor(bundle, model).useDecoder(platformDecoder()),
};

/** The segmentation task for `registerTask`: its predictor is a `SegmentationPredictor` (in Node, register the one from `@kindling/image/node`). */
export const segmentationTask: TaskDefinition<'segmentation'> = {
  kind: 'segmentation',
  check: checkSegmentation,
  createPredictor: (bundle, model) => new SegmentationPredictor(bundle, model).useDecoder(platformDecoder()),
};
