/** Node-only segmentation: mask files, the paired image/mask data block and the generated scenes. */
import { ConfigError, DataBlock, DataError, functionSplitter, Pipeline, Random, randomSplitter, type ArrayItem, type ItemDataLoader, type Sample, type Transform } from '@kindling/data';
import { folderItems } from '@kindling/data/node';
import type * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { loadSharp } from './peers';
import { maskFromPixels, parseCodes, voidIndexOf, type Colour, type MaskMode } from './segmentation';
import { normalizeStep, pictureTransforms, SCALE_STEP } from './picture-steps';
import { augmentBatch, elasticDeform, type AugmentOptions, type ElasticOptions, type ResizeMethod, type Stats } from './transforms';

const EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'tif', 'tiff', 'gif'];
const fitOf = (method: ResizeMethod) => (method === 'crop' ? 'cover' : method === 'pad' ? 'contain' : 'fill');

export interface LoadMaskOptions {
  mode: MaskMode;
  classes: number;
  palette?: readonly Colour[];
  voidIndex?: number;
  /** Square side to resize to (nearest neighbour, so classes stay classes), or the width when `height` is given. */
  size?: number;
  /** The height to resize to (default `size`: a square). */
  height?: number;
  method?: ResizeMethod;
}

/** Decodes a mask file into class indices `[h, w]`, resized with nearest neighbour. A bad file or value is a DataError naming it. */
export async function loadMask(file: string, options: LoadMaskOptions): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { size, height = size, method = 'crop', mode } = options;
  let decoded;
  const sharp = await loadSharp();
  try {
    let image = sharp(file, { failOn: 'error' });
    if (mode !== 'palette') image = image.extractChannel(0);
    else image = image.removeAlpha();
    if (size !== undefined) image = image.resize(size, height, { fit: fitOf(method), kernel: 'nearest', background: { r: 0, g: 0, b: 0, alpha: 1 } });
    decoded = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new DataError(`cannot decode the mask (${(error as Error).message})`, { file }, { cause: error });
  }
  const { data, info } = decoded;
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { data: maskFromPixels(pixels, info.channels, info.width, { ...options, source: file }), width: info.width, height: info.height };
}

/** What the masks of a segmentation set say about its pictures and classes, read at their own resolution (`maskStatistics`). */
export interface MaskStatistics {
  /** Masks read: all of them up to the limit, else that many evenly spaced. */
  masks: number;
  /** The median width and height of the masks read (each picture has its mask's size). */
  width: number;
  height: number;
  /** Each class's share of the pixels that are not void (0 for a class in none of the masks read). */
  shares: number[];
  /**
   * Each class's typical width in pixels: twice its pixels over its edge pixels (those beside another class).
   * A bar two pixels wide gives 2, a disc of diameter d about d/2; Infinity for a class that never meets another
   * (it fills its pictures), NaN for a class in none of them.
   */
  widths: number[];
  /**
   * Each class's share of its pixels that lie in the left half of the masks (the middle column of an odd width left
   * out): 0.5 for a class on both sides alike, near 1 or 0 for one that lives on one side (a left arm, a lane); NaN
   * for a class in none of them. A mirror image would move such a class to the wrong side.
   */
  leftShares: number[];
}

/**
 * Reads the masks in a folder (at most `limit`, evenly spaced; default 200) at their own size and measures each
 * class: its share of the pixels and how wide it typically is — what a recipe sizes its pictures by, so that the
 * thinnest class does not vanish when they are shrunk.
 */
export async function maskStatistics(masksFolder: string, options: Omit<LoadMaskOptions, 'size' | 'height' | 'method'> & { limit?: number }): Promise<MaskStatistics> {
  const { classes, voidIndex, limit = 200 } = options;
  if (!(Number.isInteger(limit) && limit >= 1)) throw new ConfigError(`maskStatistics reads at least one mask: limit must be a whole number ≥ 1, not ${limit}`);
  const files = await folderItems(masksFolder, { extensions: EXTENSIONS });
  if (files.length === 0) throw new DataError('no masks in the folder', { file: masksFolder });
  const chosen = files.length <= limit ? files : Array.from({ length: limit }, (_, index) => files[Math.floor((index * files.length) / limit)]!);
  const [area, edge, left, right] = [new Float64Array(classes), new Float64Array(classes), new Float64Array(classes), new Float64Array(classes)];
  const [widths, heights] = [[] as number[], [] as number[]];
  for (const file of chosen) {
    const { data, width, height } = await loadMask(file, { ...options });
    widths.push(width);
    heights.push(height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = y * width + x;
        const code = data[at]!;
        if (code === voidIndex || code >= classes) continue;
        area[code] = area[code]! + 1;
        if (2 * x + 1 < width) left[code] = left[code]! + 1;
        else if (2 * x + 1 > width) right[code] = right[code]! + 1;
        if ((x > 0 && data[at - 1] !== code) || (x + 1 < width && data[at + 1] !== code) || (y > 0 && data[at - width] !== code) || (y + 1 < height && data[at + width] !== code)) edge[code] = edge[code]! + 1;
      }
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const total = area.reduce((sum, value) => sum + value, 0);
  return {
    masks: chosen.length,
    width: median(widths),
    height: median(heights),
    shares: Array.from(area, (value) => (total === 0 ? 0 : value / total)),
    widths: Array.from(area, (value, code) => (value === 0 ? Number.NaN : edge[code] === 0 ? Number.POSITIVE_INFINITY : (2 * value) / edge[code]!)),
    leftShares: Array.from(left, (value, code) => (value + right[code]! === 0 ? Number.NaN : value / (value + right[code]!))),
  };
}

export interface SegmentationOptions {
  /** Class names in index order; a `void` class is ignored by the loss and metrics. */
  codes: string[];
  maskMode?: MaskMode;
  /** Palette masks: one colour per code. */
  palette?: readonly Colour[];
  /** The mask file of an image; default: the file in the masks folder with the same name (any image extension), with `maskSuffix` added before the extension. */
  maskFor?: (imageFile: string) => string;
  maskSuffix?: string;
  /** The side of the square pictures and masks are resized to (default 128), or their width when `height` is given. */
  size?: number;
  /** The height pictures and masks are resized to (default `size`): a set of 4:3 pictures keeps its shape at `size` 192, `height` 144. */
  height?: number;
  method?: ResizeMethod;
  channels?: 1 | 3;
  isValid?: (imageFile: string) => boolean;
  validPct?: number;
  /** Pictures per batch, or a function of the number of training pictures (decided once the split is known). */
  batchSize?: number | ((trainingItems: number) => number);
  seed?: number;
  /** Paired augmentation in training (the same flip, rotation and zoom for image and mask); false turns it off. */
  augment?: AugmentOptions | false;
  /**
   * Mirror pictures and their masks in training (default true). Off for a set whose classes live on one side (a left
   * arm, a lane: `maskStatistics`'s `leftShares` tell), which a mirror image would teach on the wrong side.
   */
  flip?: boolean;
  /** Elastic deformation of each training picture and its mask (a new field every epoch); off by default. */
  elastic?: ElasticOptions | false;
  /**
   * Train on random `crop`×`crop` squares of each (resized) picture and mask (at most its shorter side), a new square every epoch;
   * validation keeps whole pictures (pair with a U-Net built for any size). Off by default.
   */
  crop?: number;
  stats?: Stats;
}

export interface SegmentationDataLoaders {
  train: ItemDataLoader<string>;
  valid: ItemDataLoader<string>;
  /** The training items as validation reads them (in order, not augmented): what the training data looks like. */
  plainTrain(): ItemDataLoader<string>;
  codes: string[];
  /** The void class, which losses and metrics ignore. */
  voidIndex?: number;
  /** `height`: the pictures' height, `size` their width (equal for squares). */
  preprocessing: { size: number; height: number; method: ResizeMethod; channels: 1 | 3; stats: Stats; maskMode: MaskMode; palette?: readonly Colour[] };
  /** Walks one training picture and its mask through every transform. */
  summary(): Promise<string[]>;
}

/**
 * The segmentation data block: pictures and their masks paired by name, resized (bilinear for
 * pictures, nearest for masks), augmented together in training, normalized. Missing masks, masks
 * without pictures, size mismatches and values outside the codes are DataErrors naming the file.
 */
export async function segmentationDataLoaders(imagesRoot: string, masksRoot: string, options: SegmentationOptions): Promise<SegmentationDataLoaders> {
  const { codes, maskMode = 'index', size = 128, height = size, method = 'squish', channels = 3, validPct = 0.2, seed = 42, batchSize = 8, maskSuffix = '' } = options;
  if (codes.length < 2) throw new ConfigError('a segmentation needs at least two codes');
  const stats = options.stats ?? { mean: new Array(channels).fill(0.5), std: new Array(channels).fill(0.25) };
  const voidIndex = voidIndexOf(codes);
  const elastic = options.elastic === false || options.elastic === undefined ? undefined : options.elastic;
  const crop = options.crop;
  if (!(Number.isInteger(height) && height >= 1 && height <= 4096)) throw new ConfigError(`height must be a whole number of pixels from 1 to 4096, not ${height}`);
  const shorter = Math.min(size, height);
  if (crop !== undefined && !(Number.isInteger(crop) && crop >= 8 && crop <= shorter)) throw new ConfigError(`crop must be a whole number from 8 to ${size === height ? 'the size' : "the pictures' shorter side"} (${shorter}), not ${crop}`);
  const stem = (file: string) => basename(file, extname(file));
  let masksByStem = new Map<string, string>();
  const maskFor = options.maskFor ?? ((image: string) => masksByStem.get(`${stem(image)}${maskSuffix}`) ?? join(masksRoot, `${stem(image)}${maskSuffix}.png`));
  const augment = options.augment === false ? undefined : { ...(options.augment ?? { maxRotate: 10, maxZoom: 1.15, maxLighting: 0.15 }), ...(options.flip === false ? { flip: 0, dihedral: false } : {}) };
  // training items that change every epoch (crops, elastic fields): the block decodes each once and varies it per epoch
  const itemTransforms: Array<Transform<Sample, Sample>> = [];
  if (crop !== undefined) {
    itemTransforms.push({
      name: `random ${crop}×${crop} square of picture and mask`,
      random: true,
      encode: (sample, { training, random }) => {
        if (!training || random === undefined) return sample;
        const [top, left] = [random.integer(height - crop + 1), random.integer(size - crop + 1)];
        const [pixels, mask] = [sample.input.data as Uint8Array, (sample.target as ArrayItem).data as Uint8Array];
        return { input: { data: cropSquare(pixels, size, channels, top, left, crop), shape: [crop, crop, channels] }, target: { data: cropSquare(mask, size, 1, top, left, crop), shape: [crop, crop, 1] } };
      },
    });
  }
  if (elastic !== undefined) {
    itemTransforms.push({
      name: 'elastic deformation of picture and mask',
      random: true,
      encode: (sample, { training, random }) => {
        if (!training || random === undefined) return sample;
        const [rows, columns] = sample.input.shape as [number, number, number];
        const { image, mask } = elasticDeform({ data: sample.input.data as Uint8Array, shape: [rows, columns, channels] }, (sample.target as ArrayItem).data as Uint8Array, elastic, random);
        return { input: { data: image, shape: [rows, columns, channels] }, target: { data: mask, shape: [rows, columns, 1] } };
      },
    });
  }
  const block = new DataBlock<string, string>({
    itemsName: 'pictures',
    async getItems(folder) {
      const images = await folderItems(folder, { extensions: EXTENSIONS });
      const masks = await folderItems(masksRoot, { extensions: EXTENSIONS });
      if (images.length === 0) throw new DataError('no pictures in the folder', { file: folder });
      masksByStem = new Map(masks.map((file) => [stem(file), file]));
      const known = new Set(masks);
      const paired = new Set<string>();
      for (const image of images) {
        const mask = maskFor(image);
        if (!known.has(mask)) throw new DataError(`no mask for this picture (looked for ${mask})`, { file: image });
        paired.add(mask);
      }
      const orphan = masks.find((mask) => !paired.has(mask));
      if (orphan !== undefined) throw new DataError(`a mask without a picture: ${images.length} pictures but ${masks.length} masks`, { file: orphan });
      return images;
    },
    // the picture as the segmentation predictor will see it: decoded as serving decodes, then the one resize
    // (squarePixels) training and serving share; the mask by nearest neighbour, so classes stay classes
    input: new Pipeline<string, ArrayItem>([
      {
        name: 'the same size as its mask',
        encode: async (image: string) => {
          const mask = maskFor(image);
          const [imageInfo, maskInfo] = await Promise.all([metadataOf(image), metadataOf(mask)]);
          if (imageInfo.width !== maskInfo.width || imageInfo.height !== maskInfo.height) {
            throw new DataError(`the picture is ${imageInfo.width}×${imageInfo.height} but its mask ${mask} is ${maskInfo.width}×${maskInfo.height}`, { file: image });
          }
          return image;
        },
      },
      ...pictureTransforms(size, method, channels, height),
    ]),
    target: new Pipeline<string, ArrayItem>([
      {
        name: `mask (${maskMode}, ${codes.length} codes), resized ${size}×${height} by nearest neighbour`,
        encode: async (image: string): Promise<ArrayItem> => {
          const decoded = await loadMask(maskFor(image), { mode: maskMode, classes: codes.length, palette: options.palette, voidIndex, size, height, method });
          return { data: decoded.data, shape: [height, size, 1] };
        },
      },
    ]),
    splitter: options.isValid ? functionSplitter<string>((file) => options.isValid!(file)) : randomSplitter<string>({ validPct, seed }),
    itemTransforms,
    batchTransforms: [
      SCALE_STEP,
      {
        name: 'the same flip, rotation and zoom of pictures and masks in training',
        encode: (batch, { training, random }) => {
          if (!training || augment === undefined) return batch; // masks come from the loader as int32 class indices
          const augmented = augmentBatch(batch.inputs as tf.Tensor4D, augment, random, batch.targets as tf.Tensor4D);
          return { inputs: augmented.images, targets: augmented.masks!.toInt() };
        },
      },
      normalizeStep(stats),
    ],
  });
  const loaders = await block.dataLoaders(imagesRoot, { batchSize, seed });
  return { train: loaders.train, valid: loaders.valid, plainTrain: loaders.plainTrain, codes, voidIndex, preprocessing: { size, height, method, channels, stats, maskMode, palette: options.palette }, summary: loaders.summary };
}

/** A `side`×`side` square of a row-major `[height, size, channels]` byte picture (`size` its width). */
function cropSquare(data: Uint8Array, size: number, channels: number, top: number, left: number, side: number): Uint8Array {
  const out = new Uint8Array(side * side * channels);
  for (let row = 0; row < side; row++) out.set(data.subarray(((top + row) * size + left) * channels, ((top + row) * size + left + side) * channels), row * side * channels);
  return out;
}

async function metadataOf(file: string): Promise<{ width: number; height: number }> {
  const sharp = await loadSharp();
  try {
    const { width, height } = await sharp(file).metadata();
    return { width: width ?? 0, height: height ?? 0 };
  } catch (error) {
    throw new DataError(`cannot decode (${(error as Error).message})`, { file }, { cause: error });
  }
}

/** Reads a codes file (one class per line). */
export async function readCodesFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read the codes file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path }, { cause: error });
  }
  return parseCodes(text, path);
}

export const SCENE_CODES = ['background', 'circle', 'square', 'triangle'];

/**
 * Draws the default segmentation set: scenes of 1–4 coloured shapes (circles, squares, triangles) on
 * textured backgrounds, with index masks (`images/N.png`, `masks/N.png`, `codes.txt`). Pixels are
 * computed directly (no anti-aliasing), so the mask is exactly the drawn shapes.
 */
export async function generateSegmentationDataset(directory: string, options: { count?: number; size?: number; seed?: number } = {}): Promise<string> {
  const sharp = await loadSharp();
  const { count = 200, size = 64, seed = 1 } = options;
  const staging = join(dirname(directory), `.${basename(directory)}-${process.pid}-${Date.now()}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'images'), { recursive: true });
  await mkdir(join(staging, 'masks'), { recursive: true });
  const random = new Random(seed);
  for (let n = 0; n < count; n++) {
    const pixels = new Uint8Array(size * size * 3);
    const mask = new Uint8Array(size * size);
    const base = [random.integer(160), random.integer(160), random.integer(160)];
    const stripes = random.uniform(0.1, 0.5);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const texture = 30 * Math.sin((x + y * random.uniform(0.5, 1.5)) * stripes) + random.uniform(-20, 20);
        for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, base[c]! + texture));
      }
    }
    const shapes = 1 + random.integer(4);
    for (let s = 0; s < shapes; s++) {
      const kind = 1 + random.integer(3);
      const radius = random.uniform(size * 0.08, size * 0.2);
      const [cx, cy] = [random.uniform(radius, size - radius), random.uniform(radius, size - radius)];
      const colour = [80 + random.integer(176), 80 + random.integer(176), 80 + random.integer(176)];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const [dx, dy] = [x + 0.5 - cx, y + 0.5 - cy];
          const inside = kind === 1 ? dx * dx + dy * dy <= radius * radius : kind === 2 ? Math.abs(dx) <= radius * 0.85 && Math.abs(dy) <= radius * 0.85 : dy <= radius * 0.8 && dy >= -radius + 1.8 * Math.abs(dx);
          if (!inside) continue;
          mask[y * size + x] = kind;
          for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, colour[c]! + random.uniform(-12, 12)));
        }
      }
    }
    const name = `${String(n).padStart(4, '0')}.png`;
    await writeFile(join(staging, 'images', name), await sharp(Buffer.from(pixels.buffer), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer());
    await writeFile(join(staging, 'masks', name), await sharp(Buffer.from(mask.buffer), { raw: { width: size, height: size, channels: 1 } }).png().toBuffer());
  }
  await writeFile(join(staging, 'codes.txt'), `${SCENE_CODES.join('\n')}\n`);
  await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });
  await rename(staging, directory);
  return directory;
}
