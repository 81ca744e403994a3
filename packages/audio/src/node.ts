/** Node-only sound helpers: reading WAV files, PNG spectrograms, the sound folder data block, the generated set. */
import {
  categoryBlock,
  DataBlock,
  DataError,
  functionSplitter,
  parentFolderLabel,
  Pipeline,
  randomSplitter,
  Random,
  regexLabel,
  samplePerClass,
  type ArrayItem,
  type ItemDataLoader,
  type Labeller,
  type TransformContext,
  type Vocab,
} from '@kindling/data';
import { folderItems, optionalPeer } from '@kindling/data/node';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SOUND_CLASSES, synthesizeSound } from './generate';
import { spectrogramToRgba, type Spectrogram } from './spectrogram';
import { SoundPipeline, speedCheck, type SoundAugmentOptions, type SoundPreprocessing } from './transforms';
import { decodeWav, encodeWav, type AudioData } from './wav';

export const SOUND_EXTENSIONS = ['.wav'];

/** Reads and decodes a WAV file; every problem is a DataError naming the file. */
export async function readSound(path: string): Promise<AudioData> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DataError(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path }, { cause: error });
  }
  return decodeWav(bytes, path);
}

/** sharp, an optional peer, loaded when a spectrogram is first written as a picture. */
const loadSharp = async () => (await optionalPeer('sharp', '@kindling/audio/node (spectrograms as PNG)', () => import('sharp'))).default;

/** A spectrogram as a PNG a person can look at (time left to right, low frequencies at the bottom). */
export async function renderSpectrogramPng(spectrogram: Spectrogram, options: { scale?: number } = {}): Promise<Uint8Array> {
  const { scale = 4 } = options;
  const sharp = await loadSharp();
  const { data, width, height } = spectrogramToRgba(spectrogram);
  return new Uint8Array(
    await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 4 } })
      .resize(width * scale, height * scale, { kernel: 'nearest' })
      .png()
      .toBuffer(),
  );
}

export interface SoundFolderOptions {
  preprocessing?: Partial<SoundPreprocessing>;
  /** Label by parent folder (default) or by the first group of a regular expression on the file name. */
  label?: 'folder' | RegExp;
  /** Which files are validation ones (e.g. a speaker or a recording number); default a random share. */
  isValid?: (file: string) => boolean;
  validPct?: number;
  batchSize?: number;
  seed?: number;
  /** Waveform augmentation in training; false turns it off. Its `speed` wins over `speed` below. */
  augment?: SoundAugmentOptions | false;
  /**
   * Speed perturbation in training when `augment.speed` is not given: `auto` (default) measures how much of it
   * keeps clips in their class (`speedCheck`, on a sample of training clips) and uses the largest share that
   * does, or none; a number is the share.
   */
  speed?: 'auto' | number;
  onError?: 'stop' | 'skip';
}

export interface SoundDataLoaders {
  train: ItemDataLoader<string>;
  valid: ItemDataLoader<string>;
  /** The training items as validation reads them (in order, not augmented): what the training data looks like. */
  plainTrain(): ItemDataLoader<string>;
  vocab: Vocab;
  pipeline: SoundPipeline;
  /** Everything needed to preprocess a recording at inference exactly as in training. */
  preprocessing: SoundPreprocessing;
  /** The speed perturbation training uses (a share, 0 for none), and why (the speed check's finding with `speed: 'auto'`). */
  speed: { share: number; why: string };
  /** Walks one training file through every step. */
  summary(): Promise<string[]>;
}

/** At most this many training clips of a class are checked by `speed: 'auto'`. */
const SPEED_CHECK_PER_CLASS = 100;

export const DEFAULT_SOUND_PREPROCESSING: SoundPreprocessing = {
  sampleRate: 8000,
  duration: 1,
  spectrogram: { nFft: 256, hopLength: 64, mels: 40, melScale: 'htk', topDb: 80 },
  normalize: 'example',
};

/**
 * The sound data block: WAV files under `root` labelled by folder or file name, decoded, mixed to mono
 * and resampled once (kept in memory), then cut to a fixed length (randomly in training), augmented,
 * and turned into normalized log-mel spectrograms `[frames, mels, 1]` for the image models.
 */
export async function soundFolderDataLoaders(root: string, options: SoundFolderOptions = {}): Promise<SoundDataLoaders> {
  const { batchSize = 32, validPct = 0.2, seed = 42, onError = 'stop' } = options;
  const preprocessing: SoundPreprocessing = { ...DEFAULT_SOUND_PREPROCESSING, ...options.preprocessing, spectrogram: { ...DEFAULT_SOUND_PREPROCESSING.spectrogram, ...options.preprocessing?.spectrogram } };
  const pipeline = new SoundPipeline(preprocessing);
  const label: Labeller<string> = options.label === undefined || options.label === 'folder' ? parentFolderLabel() : regexLabel(options.label);
  // each clip is read, mixed to mono and resampled once; training cuts and augments it anew every epoch
  const waveforms = new Map<string, Promise<Float32Array>>();
  const prepared = (file: string) => {
    let waveform = waveforms.get(file);
    if (waveform === undefined) {
      waveform = readSound(file).then((audio) => pipeline.prepare(audio, file));
      waveforms.set(file, waveform);
      waveform.catch(() => waveforms.delete(file));
    }
    return waveform;
  };
  let augment = options.augment === false ? undefined : (options.augment ?? {});
  const { spectrogram } = preprocessing;
  const block = new DataBlock<string, string>({
    itemsName: 'clips',
    async getItems(folder) {
      const files = await folderItems(folder, { extensions: SOUND_EXTENSIONS });
      if (files.length === 0) throw new DataError('no .wav files in the folder', { file: folder });
      return files;
    },
    input: new Pipeline<string, ArrayItem>([
      { name: `read, mono, ${preprocessing.sampleRate} Hz`, encode: (file: string) => prepared(file) },
      {
        name: `spectrogram (n_fft ${spectrogram.nFft}, hop ${spectrogram.hopLength}, ${spectrogram.mels} mel bands)`,
        random: true,
        encode: (samples: Float32Array, { training, random }: TransformContext): ArrayItem => {
          const features = pipeline.features(samples, training ? { random, augment } : {});
          return { data: features.data, shape: [features.frames, features.bins, 1] };
        },
      },
    ]),
    target: categoryBlock(label),
    splitter: options.isValid ? functionSplitter<string>((file) => options.isValid!(file)) : randomSplitter<string>({ validPct, seed }),
    summarizeInput: async (file) => [`file ${file}`, ...pipeline.summary(await readSound(file), file)],
  });
  const loaders = await block.dataLoaders(root, { batchSize, seed, onError });
  const vocab = loaders.vocab!;
  const speed = await decideSpeed();
  if (augment !== undefined) augment = { ...augment, speed: speed.share };
  async function decideSpeed(): Promise<{ share: number; why: string }> {
    if (augment === undefined) return { share: 0, why: 'no augmentation' };
    if (augment.speed !== undefined || typeof options.speed === 'number') {
      const share = augment.speed ?? (options.speed as number);
      return { share, why: share > 0 ? `speed perturbation ±${Math.round(share * 100)}% (asked for)` : 'no speed perturbation (asked for)' };
    }
    // a seeded sample of each class's training clips, prepared as training prepares them
    const chosen = samplePerClass(loaders.train.options.items, (file) => vocab.encode(label(file), { file }), SPEED_CHECK_PER_CLASS, seed);
    const clips: Float32Array[] = [];
    const targets: number[] = [];
    for (const { item: file, label: target } of chosen) {
      const clip = await prepared(file).catch(() => undefined); // a bad file is the loader's to report
      if (clip === undefined) continue;
      clips.push(clip);
      targets.push(target);
    }
    if (clips.length === 0) return { share: 0, why: 'no speed perturbation (no clip to check it on)' };
    const check = speedCheck(pipeline, clips, targets);
    return { share: check.speed, why: check.why };
  }
  return {
    train: loaders.train,
    valid: loaders.valid,
    plainTrain: loaders.plainTrain,
    vocab,
    pipeline,
    preprocessing,
    speed,
    async summary() {
      return [
        ...(await loaders.summary()),
        `training: ${augment === undefined ? 'not augmented' : `random crop, time shift, noise, ${speed.why}${augment.masks && augment.masks.count > 0 ? `, ${augment.masks.count} SpecAugment masks` : ''}`}`,
      ];
    },
  };
}

/**
 * Writes the default sound set: tones, chirps, noise bursts and click trains (`perClass` 16-bit WAVs
 * each, one folder per class), drawn from `seed`. Written beside and renamed into place, so a
 * half-written set is never used.
 */
export async function generateSoundDataset(directory: string, options: { perClass?: number; seed?: number; sampleRate?: number; duration?: number } = {}): Promise<string> {
  const { perClass = 60, seed = 1, sampleRate = 8000, duration = 1 } = options;
  const staging = join(dirname(directory), `.${basename(directory)}-${process.pid}-${Date.now()}`);
  await rm(staging, { recursive: true, force: true });
  const random = new Random(seed);
  for (const kind of SOUND_CLASSES) {
    await mkdir(join(staging, kind), { recursive: true });
    for (let n = 0; n < perClass; n++) {
      const samples = synthesizeSound(kind, random, { sampleRate, duration });
      await writeFile(join(staging, kind, `${kind}-${String(n).padStart(3, '0')}.wav`), encodeWav({ sampleRate, channels: [samples] }, '16'));
    }
  }
  await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });
  await rename(staging, directory);
  return directory;
}
