import type * as tf from '@tensorflow/tfjs';
import { loadBundleModel, type Bundle } from './bundle';
import { CollabPredictor } from './collab-predictor';
import { ImagePredictor, SegmentationPredictor, type ImageDecoder } from './image-predictor';
import { PointerPredictor } from './pointer-predictor';
import { SoundPredictor } from './sound-predictor';
import { TabularPredictor } from './tabular-predictor';

/** Every task's predictor; narrow with `predictor.kind`. */
export type AnyPredictor = ImagePredictor | SegmentationPredictor | SoundPredictor | PointerPredictor | TabularPredictor | CollabPredictor;

export interface LoadPredictorOptions {
  /** How image files become pixels (supplied by the Node and browser entry points). */
  decodeImage?: ImageDecoder;
  /** Use this model (e.g. the one just trained) instead of rebuilding it from the bundle's files. */
  model?: tf.LayersModel;
  /** Where the bundle came from, for error messages. */
  source?: string;
}

/** The bundle's model, wrapped in its task's predictor: raw input in, decoded answers out. */
export async function loadPredictor(bundle: Bundle, options: LoadPredictorOptions = {}): Promise<AnyPredictor> {
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
