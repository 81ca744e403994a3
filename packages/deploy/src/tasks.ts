import type { SoundPreprocessing } from '@kindling/audio';
import type { TabularProcessorState } from '@kindling/data';
import type { Colour, ResizeMethod, Stats } from '@kindling/image';
import type { RasterOptions, WindowOptions } from '@kindling/pointer';
import type { Familiarity } from './familiarity';

/** How a picture becomes the model's input: decoded, resized to a square, scaled to [0, 1], normalized. */
export interface ImagePreprocessing {
  size: number;
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

/** A sound classifier: WAV or samples → log-mel spectrogram → classes. */
export interface SoundTask {
  kind: 'sound';
  labels: readonly string[];
  preprocessing: SoundPreprocessing;
  /** What the training spectrograms looked like, for answers marked "not sure". */
  familiarity?: Familiarity;
}

/** A mouse-movement classifier: a recording cut into windows, each drawn as a picture; windows vote. */
export interface PointerTask {
  kind: 'pointer';
  labels: readonly string[];
  /**
   * How a recording becomes pictures; `maxWindows`: the most windows one recording is read by, evenly spaced (as many
   * as training kept of one; bundles without it read at most `MAX_WINDOWS`, 100).
   */
  preprocessing: { window: WindowOptions | 'whole'; raster: RasterOptions; maxWindows?: number };
  /** What the training windows looked like when drawn, for answers marked "not sure". */
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

/** A table row → a class or a value, with the fitted processor (vocabularies, medians, means, stds). */
export interface TabularTask {
  kind: 'tabular';
  processor: TabularProcessorState;
  /**
   * How the training file was laid out, so that `kindling predict` reads a file like it: the column names it was
   * given when it had no header row (`--names`), its delimiter when not a comma.
   */
  file?: { columns?: string[]; delimiter?: string };
}

/** Recommendations: the user and item ids in the model's index order, the rating range, the model kind. */
export interface CollabTask {
  kind: 'collab';
  model: 'dot' | 'neural';
  users: readonly string[];
  items: readonly string[];
  yRange: [number, number];
  /** Trained on clicks/likes only (the score is a probability of liking). */
  implicit: boolean;
}

/**
 * The task records by kind. A modality of your own adds its record here by declaration merging
 * (`declare module '@kindling/deploy' { interface TaskRegistry { text: TextTask } }`) and its loader with
 * `registerTask`; nothing else in Kindling changes.
 */
export interface TaskRegistry {
  image: ImageTask;
  sound: SoundTask;
  pointer: PointerTask;
  segmentation: SegmentationTask;
  tabular: TabularTask;
  collab: CollabTask;
}

/** Everything a bundle needs to turn raw input into an answer, by task kind. */
export type TaskSpec = TaskRegistry[keyof TaskRegistry];

export type TaskKind = TaskSpec['kind'];

/** The task kinds Kindling itself defines (`registeredTaskKinds()` adds those registered since). */
export const TASK_KINDS: readonly TaskKind[] = ['image', 'sound', 'pointer', 'segmentation', 'tabular', 'collab'];
