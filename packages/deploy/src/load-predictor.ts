import type * as tf from '@tensorflow/tfjs';
import { loadBundleModel, type Bundle } from './bundle';
import { BundleError } from './errors';
import type { TaskKind } from './tasks';
import { CollabPredictor } from './collab-predictor';
import { ImagePredictor, SegmentationPredictor, type ImageDecoder } from './image-predictor';
import { PointerPredictor } from './pointer-predictor';
import { SoundPredictor } from './sound-predictor';
import { TabularPredictor } from './tabular-predictor';

/** Every task's predictor; narrow with `predictor.kind`. */
export type AnyPredictor = ImagePredictor | SegmentationPredictor | SoundPredictor | PointerPredictor | TabularPredictor | CollabPredictor;

/** Each task kind's predictor. */
export interface PredictorByKind {
  image: ImagePredictor;
  segmentation: SegmentationPredictor;
  sound: SoundPredictor;
  pointer: PointerPredictor;
  tabular: TabularPredictor;
  collab: CollabPredictor;
}

/** The predictor of kind `K`, or any predictor when the kind is not known in advance. */
export type PredictorFor<K extends TaskKind> = TaskKind extends K ? AnyPredictor : PredictorByKind[K];

export interface LoadPredictorOptions<K extends TaskKind = TaskKind> {
  /**
   * The task the bundle must be (`'image'`, `'tabular'`…): the predictor's type narrows to it, and a bundle of
   * another kind is refused with a BundleError naming both.
   */
  kind?: K;
  /** How image files become pixels (supplied by the Node and browser entry points). */
  decodeImage?: ImageDecoder;
  /** Use this model (e.g. the one just trained) instead of rebuilding it from the bundle's files. */
  model?: tf.LayersModel;
  /** Where the bundle came from, for error messages. */
  source?: string;
}

/** The bundle's model, wrapped in its task's predictor: raw input in, decoded answers out. */
export async function loadPredictor<K extends TaskKind = TaskKind>(bundle: Bundle, options: LoadPredictorOptions<K> = {}): Promise<PredictorFor<K>> {
  const actual = bundle.manifest.task.kind;
  if (options.kind !== undefined && options.kind !== actual) throw new BundleError(`this is a bundle of kind '${actual}', not '${options.kind}'`, options.source);
  return (await predictorOfBundle(bundle, options)) as PredictorFor<K>;
}

async function predictorOfBundle(bundle: Bundle, options: LoadPredictorOptions<TaskKind>): Promise<AnyPredictor> {
  const model = options.model ?? (await loadBundleModel(bundle, options.source));
  switch (bundle.manifest.task.kind) {
    case 'image':
      return new ImagePredictor(bundle, model).useDecoder(options.decodeImage);
    case 'segmentation':
      return new SegmentationPredictor(bundle, model).useDecoder(options.decodeImage);
    case 'sound':
      return new SoundPredictor(bundle, model);
    case 'pointer':
      return new PointerPredictor(bundle, model);
    case 'tabular':
      return new TabularPredictor(bundle, model);
    case 'collab':
      return new CollabPredictor(bundle, model);
  }
}
