import type { Colour, ResizeMethod, Stats } from '@kindling/image';
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

/**
 * The task records by kind. Each modality package adds its records here by declaration merging, as a modality of
 * your own does (`declare module '@kindling/deploy' { interface TaskRegistry { text: TextTask } }`), and its loader
 * with `registerTask`; nothing else in Kindling changes.
 */
export interface TaskRegistry {
  image: ImageTask;
  segmentation: SegmentationTask;
}

/** Everything a bundle needs to turn raw input into an answer, by task kind. */
export type TaskSpec = TaskRegistry[keyof TaskRegistry];

export type TaskKind = TaskSpec['kind'];

/**
 * Where each of Kindling's own task kinds lives: the package, the entry point and the name of the task definition
 * to register (`registerTask(soundTask)`, from `@kindling/audio/predict`). A bundle of a kind that is not registered
 * is refused with these words, so that its message says what to install.
 */
export const TASK_PACKAGES: Readonly<Record<string, { package: string; entry: string; definition: string }>> = {
  image: { package: '@kindling/deploy', entry: '@kindling/deploy', definition: 'imageTask' },
  segmentation: { package: '@kindling/deploy', entry: '@kindling/deploy', definition: 'segmentationTask' },
  sound: { package: '@kindling/audio', entry: '@kindling/audio/predict', definition: 'soundTask' },
  pointer: { package: '@kindling/pointer', entry: '@kindling/pointer/predict', definition: 'pointerTask' },
  tabular: { package: '@kindling/tabular', entry: '@kindling/tabular', definition: 'tabularTask' },
  collab: { package: '@kindling/tabular', entry: '@kindling/tabular', definition: 'collabTask' },
};

/** The task kinds Kindling itself defines, each in its modality's package (`TASK_PACKAGES`; `registeredTaskKinds()` lists those registered now). */
export const TASK_KINDS: readonly string[] = Object.keys(TASK_PACKAGES);
