/** Node-only image loading (sharp) and the generated default image set (@napi-rs/canvas). */
import {
  categoryBlock,
  ConfigError,
  DataBlock,
  DataError,
  folderSplitter,
  parentFolderLabel,
  Pipeline,
  Random,
  randomSplitter,
  samplePerClass,
  type ArrayItem,
  type Batch,
  type ItemDataLoader,
  type Vocab,
} from '@kindling/data';
import { folderItems } from '@kindling/data/node';
import type { TaskDefinition } from '@kindling/deploy';
import { loadCanvas, loadSharp } from './peers';
import type * as tf from '@tensorflow/tfjs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { loadImage } from './decode-node';
import { mirrorCheck } from './mirror-check';
import { imageTask as imageTaskAnywhere, ImagePredictor, SegmentationPredictor, segmentationTask as segmentationTaskAnywhere, type ImageDecoder, type SegmentationResult, type SegmentationTask } from './predict';
import { colorizeMask } from './segmentation';
import { normalizeStep, pictureTransforms, SCALE_STEP } from './picture-steps';
import { assertResizeMethod, augmentBatch, type AugmentOptions, type ResizeMethod, type Stats } from './transforms';

export { loadImage } from './decode-node';
// the task records and predictors as well, so that the types of this entry carry the kinds' records (`TaskRegistry`)
export type { ImagePredictor, ImageTask, SegmentationPredictor, SegmentationTask } from './predict';
export type { LoadImageOptions } from './decode-node';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'];

/** Encodes `[h, w, c]` bytes as PNG. */
export async function encodePng(image: ArrayItem): Promise<Uint8Array> {
  const [height, width, channels] = image.shape as [number, number, 1 | 2 | 3 | 4];
  const sharp = await loadSharp();
  return new Uint8Array(await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width, height, channels } }).png().toBuffer());
}

export interface ImageFolderOptions {
  size?: number;
  method?: ResizeMethod;
  channels?: 1 | 3;
  /** Pictures per batch, or a function of the number of training pictures that sizes it. Default 64. */
  batchSize?: number | ((trainingItems: number) => number);
  /** Share held out when the folder has no train/valid split. Default 0.2. */
  validPct?: number;
  seed?: number;
  /**
   * Batch augmentation in training (false turns it off). Not given: flips (see `flip`), and rotation, zoom and
   * lighting only while the classes have fewer than {@link PLENTY_PER_CLASS} training pictures each on average —
   * they stand in for pictures a small set lacks, and slow a big one down (Fashion-MNIST's 6,000 a class, 5 epochs:
   * 92.9% with flips alone, 91.7% with all of them; bench/README.md).
   */
  augment?: AugmentOptions | false;
  /**
   * Horizontal flips in training: `auto` (default) measures whether mirroring keeps pictures in their class
   * (`mirrorCheck`, on a sample of training pictures) and flips only when it does; true or false decides.
   */
  flip?: 'auto' | boolean;
  /** Normalization statistics. Default: per-channel mean 0.5, std 0.25. */
  stats?: Stats;
  /** `stop` on the first bad file (default) or `skip` it and report it. */
  onError?: 'stop' | 'skip';
}

export interface ImageDataLoaders {
  train: ItemDataLoader<string>;
  valid: ItemDataLoader<string>;
  /** The training items as validation reads them (in order, not augmented): what the training data looks like. */
  plainTrain(): ItemDataLoader<string>;
  vocab: Vocab;
  /** Everything needed to preprocess an image at inference exactly as in training. */
  preprocessing: { size: number; method: ResizeMethod; channels: 1 | 3; stats: Stats };
  /** Whether training flips pictures horizontally, and why (the mirror check's finding with `flip: 'auto'`). */
  flip: { on: boolean; why: string };
  /** Whether training rotates, zooms and relights pictures, and why (the pictures a class has, unless `augment` decided). */
  affine: { on: boolean; why: string };
  /** Walks one training file through reading, decoding, resizing and labelling. */
  summary(): Promise<string[]>;
  /** A batch back as pixels (0–255, before normalization) and class names; the caller disposes the tensor. */
  decodeBatch(batch: Batch): Promise<{ inputs: tf.Tensor; targets: string[] | tf.Tensor }>;
}

/** From this many training pictures a class (on average), `augment` left out means flips alone: no rotation, zoom or lighting. */
export const PLENTY_PER_CLASS = 1000;

/** At most this many training pictures of a class are decoded for the mirror check, at most this many pixels a side. */
const MIRROR_CHECK_PER_CLASS = 200;
const MIRROR_CHECK_SIDE = 32;

/**
 * The image data block: files under `root` in one folder per class (optionally inside `train/` and
 * `valid/`), decoded and resized with sharp (cached after the first epoch), augmented and normalized on
 * the backend.
 */
export async function imageFolderDataLoaders(root: string, options: ImageFolderOptions = {}): Promise<ImageDataLoaders> {
  const { size = 64, method = 'crop', channels = 3, validPct = 0.2, seed = 42, onError = 'stop' } = options;
  if (!(Number.isInteger(size) && size >= 8 && size <= 1024)) throw new ConfigError(`image size must be a whole number from 8 to 1024, not ${size}`);
  assertResizeMethod(method);
  const stats = options.stats ?? { mean: new Array(channels).fill(0.5), std: new Array(channels).fill(0.25) };
  const label = parentFolderLabel();
  const splitFolder = (file: string) => relative(root, file).split(/[\\/]/)[0];
  const hasSplitFolders = (files: readonly string[]) => files.some((file) => splitFolder(file) === 'valid') && files.some((file) => splitFolder(file) === 'train');
  let augment = options.augment === false ? undefined : (options.augment ?? {});
  const block = new DataBlock<string, string>({
    itemsName: 'pictures',
    async getItems(folder) {
      const files = await folderItems(folder, { extensions: IMAGE_EXTENSIONS });
      await reportEmptyClassFolders(folder, files);
      if (files.length === 0) throw new DataError(`no image files (${IMAGE_EXTENSIONS.join(', ')}) in the folder`, { file: folder });
      // with train/ and valid/ folders, the pictures outside them are not used
      return hasSplitFolders(files) ? files.filter((file) => ['train', 'valid'].includes(splitFolder(file)!)) : files;
    },
    // decoded and resized exactly as @kindling/deploy will later see the picture
    input: new Pipeline<string, ArrayItem>(pictureTransforms(size, method, channels)),
    target: categoryBlock(label),
    splitter: (files) => (hasSplitFolders(files) ? folderSplitter()(files.map((file) => relative(root, file))) : randomSplitter<string>({ validPct, seed })(files)),
    batchTransforms: [
      SCALE_STEP,
      {
        name: 'augment in training',
        encode: (batch, { training, random }) => (training && augment !== undefined ? { inputs: augmentBatch(batch.inputs as tf.Tensor4D, augment, random).images, targets: batch.targets } : batch),
      },
      normalizeStep(stats),
    ],
  });
  const loaders = await block.dataLoaders(root, { batchSize: options.batchSize, seed, onError });
  const vocab = loaders.vocab!;
  const flip = await decideFlip();
  if (augment !== undefined && !flip.on && !augment.dihedral) augment = { ...augment, flip: 0 };
  const affine = decideAffine();
  if (augment !== undefined && !affine.on) augment = { ...augment, maxRotate: 0, maxZoom: 1, maxLighting: 0 };
  function decideAffine(): { on: boolean; why: string } {
    if (augment === undefined) return { on: false, why: 'no augmentation' };
    if (options.augment !== undefined) return { on: true, why: 'rotation, zoom and lighting as asked' };
    const perClass = Math.round(loaders.train.size / Math.max(1, vocab.size));
    const plenty = perClass >= PLENTY_PER_CLASS;
    const count = `${perClass.toLocaleString('en-US')} training pictures a class, ${plenty ? 'at least' : 'under'} ${PLENTY_PER_CLASS.toLocaleString('en-US')}`;
    return { on: !plenty, why: plenty ? `no rotation, zoom or lighting (${count})` : `rotation, zoom and lighting (${count})` };
  }
  async function decideFlip(): Promise<{ on: boolean; why: string }> {
    const asked = options.flip ?? 'auto';
    if (augment === undefined) return { on: false, why: 'no augmentation' };
    if (augment.dihedral) return { on: true, why: 'every flip and quarter turn (dihedral augmentation)' };
    if (asked !== 'auto') return { on: asked && augment.flip !== 0, why: `horizontal flips ${asked && augment.flip !== 0 ? 'on' : 'off'} (asked for)` };
    // a seeded sample of each class's training pictures, decoded as training decodes them
    const checkSize = Math.min(size, MIRROR_CHECK_SIDE);
    const chosen = samplePerClass(loaders.train.options.items, (file) => vocab.encode(label(file), { file }), MIRROR_CHECK_PER_CLASS, seed);
    const pictures: Uint8Array[] = [];
    const targets: number[] = [];
    for (const { item: file, label: target } of chosen) {
      // at most 32 pixels a side: mirroring is as plain there, and a 224-pixel set stays a few MB and seconds
      const picture = await loadImage(file, { size: checkSize, method, channels }).catch(() => undefined); // a bad file is the loader's to report
      if (picture === undefined) continue;
      pictures.push(picture.data);
      targets.push(target);
    }
    if (pictures.length === 0) return { on: true, why: 'horizontal flips on (no picture to check mirroring on)' };
    const check = mirrorCheck({ pictures, labels: targets, height: checkSize, width: checkSize, channels });
    return { on: check.flip, why: check.why };
  }
  return {
    train: loaders.train,
    valid: loaders.valid,
    plainTrain: loaders.plainTrain,
    vocab,
    preprocessing: { size, method, channels, stats },
    flip,
    affine,
    decodeBatch: loaders.decodeBatch,
    async summary() {
      const lines = await loaders.summary();
      lines.push(`augmentation → ${augment === undefined ? 'none' : `in training (${flip.why}; ${affine.why})`}`);
      return lines;
    },
  };
}

/**
 * A class folder with no images is a mistake worth stopping on: it names the folder. Checked against
 * the image files already listed, so the tree is not walked again per class.
 */
async function reportEmptyClassFolders(root: string, files: readonly string[]): Promise<void> {
  const check = async (folder: string) => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (['train', 'valid'].includes(entry.name) && folder === root) {
        await check(path);
        continue;
      }
      if (!files.some((file) => file.startsWith(path + sep))) throw new DataError('this class folder has no image files', { file: path });
    }
  };
  await check(root);
}

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star'] as const;

/**
 * Draws the default image set: circles, squares, triangles and stars of random colour, size, position
 * and rotation on noisy, gradient backgrounds, as PNG files in one folder per class. The same seed
 * draws the same pictures. Written to a temporary folder and renamed into place, so a half-written set
 * is never used.
 */
export async function generateShapesDataset(directory: string, options: { perClass?: number; size?: number; seed?: number } = {}): Promise<string> {
  const { perClass = 120, size = 64, seed = 1 } = options;
  const { createCanvas } = await loadCanvas();
  const staging = join(dirname(directory), `.${basename(directory)}-${process.pid}-${Date.now()}`);
  await rm(staging, { recursive: true, force: true });
  const random = new Random(seed);
  const colour = (dark: boolean) => {
    const base = dark ? 0 : 110;
    return `rgb(${base + random.integer(145)}, ${base + random.integer(145)}, ${base + random.integer(145)})`;
  };
  for (const shape of SHAPE_CLASSES) {
    await mkdir(join(staging, shape), { recursive: true });
    for (let n = 0; n < perClass; n++) {
      const canvas = createCanvas(size, size);
      const context = canvas.getContext('2d');
      const background = context.createLinearGradient(0, 0, size, size);
      background.addColorStop(0, colour(true));
      background.addColorStop(1, colour(true));
      context.fillStyle = background;
      context.fillRect(0, 0, size, size);
      for (let k = 0; k < 20; k++) {
        context.fillStyle = `rgba(255, 255, 255, ${random.uniform(0.05, 0.2)})`;
        context.fillRect(random.integer(size), random.integer(size), 2, 2);
      }
      const radius = size * random.uniform(0.26, 0.4);
      const cx = random.uniform(radius + 2, size - radius - 2);
      const cy = random.uniform(radius + 2, size - radius - 2);
      context.save();
      context.translate(cx, cy);
      context.rotate(random.uniform(0, Math.PI * 2));
      context.fillStyle = colour(false);
      context.beginPath();
      if (shape === 'circle') context.arc(0, 0, radius, 0, Math.PI * 2);
      else if (shape === 'square') context.rect(-radius * 0.85, -radius * 0.85, radius * 1.7, radius * 1.7);
      else {
        const points = shape === 'triangle' ? 3 : 10;
        for (let p = 0; p < points; p++) {
          const r = shape === 'star' && p % 2 === 1 ? radius * 0.45 : radius;
          const angle = (p / points) * Math.PI * 2;
          context.lineTo(Math.cos(angle) * r, Math.sin(angle) * r);
        }
        context.closePath();
      }
      context.fill();
      context.restore();
      await writeFile(join(staging, shape, `${String(n).padStart(4, '0')}.png`), canvas.toBuffer('image/png'));
    }
  }
  await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });
  await rename(staging, directory);
  return directory;
}
export { generateSegmentationDataset, loadMask, maskStatistics, readCodesFile, SCENE_CODES, segmentationDataLoaders } from './segmentation-node';
export type { LoadMaskOptions, MaskStatistics, SegmentationDataLoaders, SegmentationOptions } from './segmentation-node';

/**
 * Decodes image bytes (PNG, JPEG, WebP, GIF, TIFF…) to RGB pixels with sharp, off the event loop: full size, or
 * shrunk while decoding to fit `limits.maxSide` (the decoder of this entry's `imageTask` and `segmentationTask`).
 */
export const decodeImageWithSharp: ImageDecoder = async (input, source, limits = {}) => {
  const image = await loadImage(input as Uint8Array, { channels: 3, maxSide: limits.maxSide, maxPixels: limits.maxPixels, maxAspect: limits.maxAspect, maxWholeDecodePixels: limits.maxWholeDecodePixels, source });
  const [height, width] = image.shape as [number, number, number];
  return { data: image.data, width, height, channels: 3 };
};

/**
 * The picture classifier's task for `registerTask` in Node: the definition from `@kindling/image/predict`, decoding
 * image files with sharp.
 */
export const imageTask: TaskDefinition<'image'> = {
  ...imageTaskAnywhere,
  createPredictor: (bundle, model) => new ImagePredictor(bundle, model).useDecoder(decodeImageWithSharp),
};

/**
 * The segmentation task for `registerTask` in Node: decoding image files with sharp, and answering a request that
 * asks for `image/png` (`kindling serve`) with the mask coloured by the bundle's palette.
 */
export const segmentationTask: TaskDefinition<'segmentation'> = {
  ...segmentationTaskAnywhere,
  createPredictor: (bundle, model) => new SegmentationPredictor(bundle, model).useDecoder(decodeImageWithSharp),
  answerAs: {
    mediaType: 'image/png',
    async render(answer, predictor) {
      const { mask, width, height } = answer as SegmentationResult;
      return encodePng({ data: colorizeMask(mask, (predictor.task as SegmentationTask).palette), shape: [height, width, 3] });
    },
  },
};
