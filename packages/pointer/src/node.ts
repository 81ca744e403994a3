/** Node-only pointer helpers: reading recordings from disk, PNG pictures, the pointer data block, the generated set. */
import {
  categoryBlock,
  DataBlock,
  DataError,
  functionSplitter,
  groupSplitter,
  parentFolderLabel,
  Pipeline,
  Random,
  type ArrayItem,
  type ItemDataLoader,
  type Vocab,
} from '@kindling/data';
import { folderItems, optionalPeer } from '@kindling/data/node';
import type { TaskDefinition } from '@kindling/deploy';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GESTURE_CLASSES, MOVEMENT_CLASSES, synthesizePointer } from './generate';
import { pointerTask as pointerTaskAnywhere } from './predict';
import { rasterChannels, rasterize, type RasterOptions } from './rasterize';
import { cleanEvents, parseBalabitCsv, parseRecording, serializeRecording, type CleanReport, type PointerRecording, type PointerSample } from './recording';
import { keepEvenly, samplesOf, type WindowOptions } from './windows';

// the task record and predictor as well, so that the types of this entry carry the kind's record (`TaskRegistry`)
export type { PointerPredictor, PointerTask } from './predict';

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
  /**
   * How recordings are cut into samples; `whole` keeps each recording as one sample. `auto`: whole recordings
   * when the median recording holds at most {@link AUTO_WINDOW_EVENTS} usable events, else windows of 50 events
   * (a picture of thousands of strokes is a blot). Default whole.
   */
  window?: WindowOptions | 'whole' | 'auto';
  /**
   * How samples are drawn; with `fit: 'screen'` or `'both'`, `screen` is the size for recordings that carry none
   * (and bounds their coordinates). `fit: 'auto'`: the bounding box for whole recordings; for windows both the box
   * and the screen (a window in its own box no longer shows where it was) when every recording's screen size is
   * known, else the box. `size: 'auto'`: 48 pixels for whole recordings, 32 for windows.
   */
  raster?: Omit<RasterOptions, 'fit' | 'size'> & { fit?: RasterOptions['fit'] | 'auto'; size?: number | 'auto' };
  /** Label by parent folder (default), or from a map of file name (or path) → label (e.g. read from a CSV). */
  labels?: 'folder' | ReadonlyMap<string, string>;
  /** Files whose samples are validation ones; default a random share of the recordings, each with all its windows. */
  isValid?: (file: string) => boolean;
  validPct?: number;
  batchSize?: number | ((trainItems: number) => number);
  seed?: number;
  /** Most samples kept per file (evenly spaced), to bound very long sessions. */
  maxPerFile?: number;
}

/** `window: 'auto'` cuts recordings into windows when the median one holds more usable events than this. */
export const AUTO_WINDOW_EVENTS = 500;

export interface PointerDataLoaders {
  train: ItemDataLoader<PointerItem>;
  valid: ItemDataLoader<PointerItem>;
  /** The training items as validation reads them (in order, not augmented): what the training data looks like. */
  plainTrain(): ItemDataLoader<PointerItem>;
  vocab: Vocab;
  /** What cleaning repaired or dropped, summed over every file. */
  cleaning: CleanReport;
  /** How a recording becomes pictures; `maxWindows`: the most windows of one recording kept (evenly spaced). */
  preprocessing: { window: WindowOptions | 'whole'; raster: RasterOptions; maxWindows?: number };
  /** What the `auto` choices chose, and why, in words. */
  why: string[];
  /** Walks one training sample through rasterizing and labelling. */
  summary(): Promise<string[]>;
}

/**
 * The pointer data block: recordings under `root` (one folder per class, or labelled by a map), cleaned,
 * cut into windows and rasterized into `[size, size, 3]` pictures (6 channels for `fit: 'both'`) for the image models.
 */
export async function pointerFolderDataLoaders(root: string, options: PointerFolderOptions = {}): Promise<PointerDataLoaders> {
  const { batchSize = 32, validPct = 0.2, seed = 42 } = options;
  const byFolder = parentFolderLabel();
  const labelOf = (item: PointerItem) => {
    if (options.labels === undefined || options.labels === 'folder') return byFolder(item.file);
    const label = options.labels.get(item.file) ?? options.labels.get(basename(item.file));
    if (label === undefined) throw new DataError('no label for this recording in the labels file', { file: item.file });
    return label;
  };
  // every recording read and cleaned first: the auto choices look at all of them
  const files = (await folderItems(root)).filter((file) => /\.(json|csv)$/i.test(file) || !/\.[^/\\]+$/.test(basename(file)));
  if (files.length === 0) throw new DataError('no pointer recordings (.json, .csv or Balabit session files) in the folder', { file: root });
  const cleaning: CleanReport = { reordered: 0, duplicates: 0, invalid: 0, outOfRange: 0 };
  const recordings: Array<{ file: string; events: PointerSample[]; screen?: { width: number; height: number } }> = [];
  for (const file of files) {
    const recording = await readRecordingFile(file);
    // a recording without its screen size (Balabit) is bounded by the raster's screen, when one is given
    const screen = recording.screen ?? options.raster?.screen;
    const { events, report } = cleanEvents(recording.events, screen);
    for (const key of Object.keys(cleaning) as Array<keyof CleanReport>) cleaning[key] += report[key];
    recordings.push({ file, events, screen });
  }
  const { window, raster, why } = resolvePointerChoices(recordings, options);
  const shape = [raster.size!, raster.size!, rasterChannels(raster)];
  const block = new DataBlock<string, PointerItem>({
    itemsName: 'samples',
    getItems() {
      const items: PointerItem[] = [];
      for (const { file, events, screen } of recordings) {
        const windows = keepEvenly(samplesOf(events, window), options.maxPerFile ?? Infinity);
        windows.forEach((sample, index) => items.push({ file, window: index, events: sample, screen }));
      }
      if (items.length === 0) throw new DataError('the recordings hold no samples (every file is empty or shorter than a window)', { file: root });
      return items;
    },
    itemName: (item) => `${item.file} (window ${item.window})`,
    input: new Pipeline<PointerItem, ArrayItem>([
      { name: `rasterize ${raster.size}×${raster.size}, ${shape[2]} channels`, encode: (item: PointerItem): ArrayItem => ({ data: rasterize(item.events, { ...raster, screen: item.screen }), shape }) },
    ]),
    target: categoryBlock(labelOf),
    // the windows of one recording stay together, so validation reads recordings the model never saw
    splitter: options.isValid ? functionSplitter<PointerItem>((item) => options.isValid!(item.file)) : groupSplitter<PointerItem>((item) => item.file, { validPct, seed }),
  });
  const loaders = await block.dataLoaders(root, { batchSize, seed });
  recordings.length = 0; // the windows keep what they need
  // the bundle reads a recording by as many windows as training kept of one
  const preprocessing = { window, raster, ...(window !== 'whole' && options.maxPerFile !== undefined ? { maxWindows: options.maxPerFile } : {}) };
  return { train: loaders.train, valid: loaders.valid, plainTrain: loaders.plainTrain, vocab: loaders.vocab!, cleaning, preprocessing, why, summary: loaders.summary };
}

/** The `auto` window, fit and size of {@link pointerFolderDataLoaders}, from the recordings, with the reasons. */
function resolvePointerChoices(
  recordings: ReadonlyArray<{ events: readonly PointerSample[]; screen?: { width: number; height: number } }>,
  options: PointerFolderOptions,
): { window: WindowOptions | 'whole'; raster: RasterOptions; why: string[] } {
  const why: string[] = [];
  let window = options.window ?? 'whole';
  if (window === 'auto') {
    const counts = recordings.map((recording) => recording.events.length).sort((a, b) => a - b);
    const median = counts[Math.floor(counts.length / 2)] ?? 0;
    window = median > AUTO_WINDOW_EVENTS ? { by: 'events', size: 50 } : 'whole';
    why.push(`window: ${window === 'whole' ? 'whole recordings' : 'windows of 50 events'} (the median recording has ${median} usable events; windows above ${AUTO_WINDOW_EVENTS})`);
  }
  const windowed = window !== 'whole';
  const { fit: fitOption = 'bbox', size: sizeOption = 64, ...rest } = options.raster ?? {};
  let fit = fitOption;
  if (fit === 'auto') {
    const screens = recordings.every((recording) => recording.screen !== undefined);
    fit = windowed && screens ? 'both' : 'bbox';
    why.push(
      `fit: ${fit === 'both' ? 'both the box and the screen (six channels: a window in its own box no longer shows where it was)' : 'each sample in its own box'}${windowed && !screens ? ' (some recordings carry no screen size: --screen WxH draws them on the screen too)' : ''}`,
    );
  }
  let size = sizeOption;
  if (size === 'auto') {
    size = windowed ? 32 : 48;
    why.push(`size: ${size}×${size} pixels (${windowed ? 'windows' : 'whole recordings'})`);
  }
  return { window, raster: { ...rest, fit, size }, why };
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

/**
 * The pointer task for `registerTask` in Node: the definition from `@kindling/pointer/predict`, with its file reader,
 * so that `readInputFile` (`kindling predict`) reads Kindling JSON recordings and Balabit CSV sessions alike.
 */
export const pointerTask: TaskDefinition<'pointer'> = {
  ...pointerTaskAnywhere,
  readInputFile: async (path) => [{ name: path, input: await readRecordingFile(path) }],
};
