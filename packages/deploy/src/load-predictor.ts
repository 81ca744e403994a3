import { warnIfBareCpu } from '@kindling/data';
import type * as tf from '@tensorflow/tfjs';
import { loadBundleModel, type Bundle } from './bundle';
import { BundleError } from './errors';
import type { TaskKind } from './tasks';
import type { Predictor, SomePredictor } from './predictor';
import { taskDefinition, unregisteredKind } from './registry';

/** Every registered kind's predictor (as its package declares it); narrow with `predictor.kind`. */
export type AnyPredictor = [keyof PredictorByKind] extends [never] ? SomePredictor : PredictorByKind[keyof PredictorByKind];

/** Each task kind's predictor (each modality package adds its predictors here by declaration merging, as its records to `TaskRegistry`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface PredictorByKind {}

/** The predictor of kind `K`, or any predictor when the kind is not known in advance. */
export type PredictorFor<K extends TaskKind> = TaskKind extends K ? AnyPredictor : K extends keyof PredictorByKind ? PredictorByKind[K] : Predictor<unknown, unknown>;

export interface LoadPredictorOptions<K extends TaskKind = TaskKind> {
  /**
   * The task the bundle must be (`'image'`, `'tabular'`…): the predictor's type narrows to it, and a bundle of
   * another kind is refused with a BundleError naming both.
   */
  kind?: K;
  /** Use this model (e.g. the one just trained) instead of rebuilding it from the bundle's files. */
  model?: tf.LayersModel;
  /** Where the bundle came from, for error messages. */
  source?: string;
  /** How many classes a classifier's answer lists in `top`, most likely first (default 5; `Infinity` for all). */
  topK?: number;
}

/** The bundle's model, wrapped in its task's predictor: raw input in, decoded answers out. */
export async function loadPredictor<K extends TaskKind = TaskKind>(bundle: Bundle, options: LoadPredictorOptions<K> = {}): Promise<PredictorFor<K>> {
  warnIfBareCpu('prediction');
  const actual = bundle.manifest.task.kind;
  if (options.kind !== undefined && options.kind !== actual) throw new BundleError(`this is a bundle of kind '${actual}', not '${options.kind}'`, options.source);
  return (await predictorOfBundle(bundle, options)) as PredictorFor<K>;
}

async function predictorOfBundle(bundle: Bundle, options: LoadPredictorOptions<TaskKind>): Promise<AnyPredictor> {
  const definition = taskDefinition(bundle.manifest.task.kind);
  if (definition === undefined) throw new BundleError(unregisteredKind(bundle.manifest.task.kind), options.source);
  const model = options.model ?? (await loadBundleModel(bundle, options.source));
  const predictor = definition.createPredictor(bundle, model) as unknown as AnyPredictor;
  if (options.topK !== undefined) predictor.topK = options.topK;
  return predictor;
}
