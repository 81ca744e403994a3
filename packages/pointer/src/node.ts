/** Node-only pointer helpers: reading recordings from disk, PNG pictures, the pointer data block, the generated set. */
import {
  categoryBlock,
  DataBlock,
  DataError,
  functionSplitter,
  parentFolderLabel,
  Pipeline,
  randomSplitter,
  Random,
  type ArrayItem,
  type ItemDataLoader,
  type Vocab,
} from '@kindling/data';
import { folderItems, optionalPeer } from '@kindling/data/node';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GESTURE_CLASSES, MOVEMENT_CLASSES, synthesizePointer } from './generate';
import { rasterChannels, rasterize, type RasterOptions } from './rasterize';
import { cleanEvents, parseBalabitCsv, parseRecording, serializeRecording, type CleanReport, type PointerRecording, type PointerSample } from './recording';
import { samplesOf, type WindowOptions } from './windows';

export const POINTER_EXTENSIONS = ['.json', '.csv', ''];

/**
 * Reads a recording: Kindling JSON (`.json`) or a Balabit CSV (a `.csv`, or a file without extension
 * whose first line is Balabit's header). Every problem is a DataError naming the file.
 */
export async function readRecordingFile(path: string): Promise<PointerRecording> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path }, { cause: error });
  }
  if (path.toLowerCase().endsWith('.json') || text.trimStart().startsWith('{')) return parseRecording(text, path);
  if (text.startsWith('record timestamp,client timestamp,button,state,x,y')) return parseBalabitCsv(text, path);
  throw new DataError('neither a Kindling pointer recording (JSON) nor a Balabit CSV (header record timestamp,client timestamp,button,state,x,y)', { file: path });
}

/** sharp, an optional peer, loaded when a picture is first written. */
const loadSharp = async () => (await optionalPeer('sharp', '@kindling/pointer/node (pictures as PNG)', () => import('sharp'))).default;

/** A rasterized sample as a PNG a person can look at; a six-channel (`fit: 'both'`) one shows its two pictures side by side. */
export async function renderPointerPng(image: Float32Array, size: number, options: { scale?: number } = {}): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { scale = 4 } = options;
  const views = image.length / (size * size * 3);
  if (views !== 1 && views !== 2) throw new RangeError(`renderPointerPng: a ${size}×${size} picture has 3 or 6 channels, not ${image.length / (size * size)}`);
  const width = size * views;
  const bytes = new Uint8Array(size * width * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < width; x++) {
      const [view, column] = [Math.floor(x / size), x % size];
      for (let c = 0; c < 3; c++) bytes[(y * width + x) * 3 + c] = Math.round(Math.min(1, Math.max(0, image[(y * size + column) * 3 * views + view * 3 + c]!)) * 255);
    }
  }
  return new Uint8Array(await sharp(Buffer.from(bytes.buffer), { raw: { width, height: size, channels: 3 } }).resize(width * scale, size * scale, { kernel: 'nearest' }).png().toBuffer());
}

/** One sample: a window of a recording file. */
export interface PointerItem {
  file: string;
  window: number;
  events: PointerSample[];
  screen?: { width: number; height: number };
}

export interface PointerFolderOptions {
  /** How recordings are cut into samples; `whole` keeps each recording as one sample. Default whole. */
  window?: WindowOptions | 'whole';
  /** How samples are drawn; with `fit: 'screen'` or `'both'`, `screen` is the size for recordings that carry none (and bounds their coordinates). */
  raster?: RasterOptions;
  /** Label by parent folder (default), or from a map of file name (or path) → label (e.g. read from a CSV). */
  labels?: 'folder' | ReadonlyMap<string, string>;
  /** Files whose samples are validation ones (e.g. whole sessions); default a random share of samples. */
  isValid?: (file: string) => boolean;
  validPct?: number;
  batchSize?: number;
  seed?: number;
  /** Most samples kept per file (evenly spaced), to bound very long sessions. */
  maxPerFile?: number;
}

export interface PointerDataLoaders {
  train: ItemDataLoader<PointerItem>;
  valid: ItemDataLoader<PointerItem>;
  vocab: Vocab;
  /** What cleaning repaired or dropped, summed over every file. */
  cleaning: CleanReport;
  preprocessing: { window: WindowOptions | 'whole'; raster: RasterOptions };
  /** Walks one training sample through rasterizing and labelling. */
  summary(): Promise<string[]>;
}

/**
 * The pointer data block: recordings under `root` (one folder per class, or labelled by a map), cleaned,
 * cut into windows and rasterized into `[size, size, 3]` pictures (6 channels for `fit: 'both'`) for the image models.
 */
export async function pointerFolderDataLoaders(root: string, options: PointerFolderOptions = {}): Promise<PointerDataLoaders> {
  const { window = 'whole', batchSize = 32, validPct = 0.2, seed = 42 } = options;
  const raster: RasterOptions = { size: 64, ...options.raster };
  const byFolder = parentFolderLabel();
  const labelOf = (item: PointerItem) => {
    if (options.labels === undefined || options.labels === 'folder') return byFolder(item.file);
    const label = options.labels.get(item.file) ?? options.labels.get(basename(item.file));
    if (label === undefined) throw new DataError('no label for this recording in the labels file', { file: item.file });
    return label;
  };
  const cleaning: CleanReport = { reordered: 0, duplicates: 0, invalid: 0, outOfRange: 0 };
  const shape = [raster.size!, raster.size!, rasterChannels(raster)];
  const block = new DataBlock<string, PointerItem>({
    itemsName: 'samples',
    async getItems(folder) {
      const files = (await folderItems(folder)).filter((file) => /\.(json|csv)$/i.test(file) || !/\.[^/\\]+$/.test(basename(file)));
      if (files.length === 0) throw new DataError('no pointer recordings (.json, .csv or Balabit session files) in the folder', { file: folder });
      const items: PointerItem[] = [];
      for (const file of files) {
        const recording = await readRecordingFile(file);
        // a recording without its screen size (Balabit) is bounded by the raster's screen, when one is given
        const screen = recording.screen ?? raster.screen;
        const { events, report } = cleanEvents(recording.events, screen);
        for (const key of Object.keys(cleaning) as Array<keyof CleanReport>) cleaning[key] += report[key];
        let windows = samplesOf(events, window);
        if (options.maxPerFile !== undefined && windows.length > options.maxPerFile) {
          const step = windows.length / options.maxPerFile;
          windows = Array.from({ length: options.maxPerFile }, (_, index) => windows[Math.floor(index * step)]!);
        }
        windows.forEach((sample, index) => items.push({ file, window: index, events: sample, screen }));
      }
      if (items.length === 0) throw new DataError('the recordings hold no samples (every file is empty or shorter than a window)', { file: folder });
      return items;
    },
    itemName: (item) => `${item.file} (window ${item.window})`,
    input: new Pipeline<PointerItem, ArrayItem>([
      { name: `rasterize ${raster.size}×${raster.size}, ${shape[2]} channels`, encode: (item: PointerItem): ArrayItem => ({ data: rasterize(item.events, { ...raster, screen: item.screen }), shape }) },
    ]),
    target: categoryBlock(labelOf),
    splitter: options.isValid ? functionSplitter<PointerItem>((item) => options.isValid!(item.file)) : randomSplitter<PointerItem>({ validPct, seed }),
  });
  const loaders = await block.dataLoaders(root, { batchSize, seed });
  return { train: loaders.train, valid: loaders.valid, vocab: loaders.vocab!, cleaning, preprocessing: { window, raster }, summary: loaders.summary };
}

/**
 * Writes the default pointer set: `human` and `bot` sessions (and, with `gestures`, circle, zigzag,
 * check and swipe gestures), `perClass` JSON recordings per class folder. Written beside and renamed
 * into place.
 */
export async function generatePointerDataset(directory: string, options: { perClass?: number; seed?: number; gestures?: boolean } = {}): Promise<string> {
  const { perClass = 100, seed = 1, gestures = false } = options;
  const staging = join(dirname(directory), `.${basename(directory)}-${process.pid}-${Date.now()}`);
  await rm(staging, { recursive: true, force: true });
  const random = new Random(seed);
  for (const kind of gestures ? GESTURE_CLASSES : MOVEMENT_CLASSES) {
    await mkdir(join(staging, kind), { recursive: true });
    for (let n = 0; n < perClass; n++) {
      await writeFile(join(staging, kind, `${kind}-${String(n).padStart(3, '0')}.json`), serializeRecording(synthesizePointer(kind, random)));
    }
  }
  await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });
  await rename(staging, directory);
  return directory;
}
