import type * as tf from '@tensorflow/tfjs';
import type { Bundle } from './bundle-manifest';
import { CollabPredictor } from './collab-predictor';
import { ImagePredictor, SegmentationPredictor, type ImageDecoder } from './image-predictor';
import { PointerPredictor } from './pointer-predictor';
import type { Predictor } from './predictor';
import { SoundPredictor } from './sound-predictor';
import { TabularPredictor } from './tabular-predictor';
import type { TaskKind, TaskRegistry, TaskSpec } from './tasks';
import type { Familiarity } from './familiarity';

/** A predictor's input as the registry sees it: each kind's own (inputs reach a predictor only through its kind). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type KindInput = any;

/** What a predictor factory gets besides the bundle and its model: the platform's picture decoder. */
export interface PredictorContext {
  decodeImage?: ImageDecoder;
}

/**
 * Everything the bundle loaders need to know of a task kind, like the IO routers of TF.js: how to check a task
 * record against the model it came with, and how to build its predictor. Kindling's kinds are registered here;
 * a modality of your own calls `registerTask` once (and declares its record in `TaskRegistry`).
 */
export interface TaskDefinition<K extends TaskKind = TaskKind> {
  kind: K;
  /** Calls `fail` with what is wrong when the record does not describe the model (labels against outputs, input size…). */
  check?(task: TaskRegistry[K], model: tf.LayersModel, fail: (message: string) => never): void;
  /** The predictor for a bundle of this kind. */
  createPredictor(bundle: Bundle, model: tf.LayersModel, context: PredictorContext): Predictor<KindInput, unknown, unknown, TaskRegistry[K]>;
}

function checkLabels(task: { labels: readonly string[] }, model: tf.LayersModel, fail: (message: string) => never): void {
  const outputs = model.outputs[0]?.shape.at(-1);
  if (!Array.isArray(task.labels) || task.labels.length < 2 || task.labels.some((label) => typeof label !== 'string')) fail('needs a list of at least two labels');
  if (task.labels.length !== outputs) fail(`lists ${task.labels.length} labels but the model answers ${outputs} classes`);
}

/** A familiarity of the model's features (`familiarity.features`) fits the model: its layer, as many numbers as that layer gives. */
function checkFeatures(task: { familiarity?: Familiarity }, model: tf.LayersModel, fail: (message: string) => never): void {
  const features = task.familiarity?.features;
  if (features === undefined) return;
  const layer = model.layers.find((candidate) => candidate.name === features.layer);
  if (layer === undefined) fail(`measures the features of a layer ${JSON.stringify(features.layer)} the model does not have`);
  const width = (layer!.outputShape as number[]).at(-1);
  const fits = (row: unknown) => Array.isArray(row) && row.length === width && row.every((value) => Number.isFinite(value));
  if (!Array.isArray(features.means) || features.means.length === 0 || !features.means.every(fits)) fail(`gives feature means that are not rows of ${width} numbers (the output of ${features.layer})`);
  if (!fits(features.scale) || features.scale.some((value) => !(value > 0))) fail(`gives feature scales that are not ${width} positive numbers`);
  if (!(features.limit > 0 && Number.isFinite(features.limit))) fail(`gives the feature distance limit ${JSON.stringify(features.limit)} (a positive number expected)`);
}

function checkPicture(task: TaskRegistry['image'] | TaskRegistry['segmentation'], model: tf.LayersModel, fail: (message: string) => never): void {
  const { size, channels } = task.preprocessing ?? {};
  if (!(Number.isInteger(size) && size >= 1 && size <= 4096)) fail(`gives the picture size ${JSON.stringify(size)} (a whole number of pixels from 1 to 4096 expected)`);
  if (channels !== 1 && channels !== 3) fail(`gives ${JSON.stringify(channels)} channels (1 or 3 expected)`);
  const [, height, width, depth] = model.inputs[0]?.shape ?? [];
  if ((height !== null && height !== undefined && height !== size) || (width !== null && width !== undefined && width !== size)) fail(`gives the picture size ${size} but the model takes ${width}×${height}`);
  if (depth !== null && depth !== undefined && depth !== channels) fail(`gives ${channels} channel(s) but the model takes ${depth}`);
}

const BUILT_IN: TaskDefinition[] = [
  {
    kind: 'image',
    check(task, model, fail) {
      checkLabels(task as TaskRegistry['image'], model, fail);
      checkPicture(task as TaskRegistry['image'], model, fail);
      checkFeatures(task as TaskRegistry['image'], model, fail);
    },
    createPredictor: (bundle, model, context) => new ImagePredictor(bundle, model).useDecoder(context.decodeImage),
  },
  {
    kind: 'segmentation',
    check(task, model, fail) {
      const { codes } = task as TaskRegistry['segmentation'];
      const outputs = model.outputs[0]?.shape.at(-1);
      if (!Array.isArray(codes) || codes.length !== outputs) fail(`lists ${codes?.length} codes but the model answers ${outputs} classes per pixel`);
      checkPicture(task as TaskRegistry['segmentation'], model, fail);
    },
    createPredictor: (bundle, model, context) => new SegmentationPredictor(bundle, model).useDecoder(context.decodeImage),
  },
  {
    kind: 'sound',
    check(task, model, fail) {
      checkLabels(task as TaskRegistry['sound'], model, fail);
      checkFeatures(task as TaskRegistry['sound'], model, fail);
    },
    createPredictor: (bundle, model) => new SoundPredictor(bundle, model),
  },
  { kind: 'pointer', check: (task, model, fail) => checkLabels(task as TaskRegistry['pointer'], model, fail), createPredictor: (bundle, model) => new PointerPredictor(bundle, model) },
  {
    kind: 'tabular',
    check(task, model, fail) {
      const labels = (task as TaskRegistry['tabular']).processor?.targetLabels;
      const outputs = model.outputs[0]?.shape.at(-1);
      const expected = labels === undefined ? 1 : labels.length;
      if (expected !== outputs) fail(labels === undefined ? `describes a regression (one value) but the model answers ${outputs}` : `lists ${labels.length} target labels but the model answers ${outputs} classes`);
    },
    createPredictor: (bundle, model) => new TabularPredictor(bundle, model),
  },
  {
    kind: 'collab',
    check(task, _model, fail) {
      const { users, items } = task as TaskRegistry['collab'];
      if (!Array.isArray(users) || !Array.isArray(items)) fail('lists no users or items');
    },
    createPredictor: (bundle, model) => new CollabPredictor(bundle, model),
  },
];

const registry = new Map<string, TaskDefinition>(BUILT_IN.map((definition) => [definition.kind, definition]));

/**
 * Registers a task kind with the bundle loaders (`loadPredictor`, `loadBundle`, the server): bundles of this
 * kind are then read, checked against their model and served like Kindling's own. Registering a kind again
 * replaces its definition.
 */
export function registerTask<K extends TaskKind>(definition: TaskDefinition<K>): void {
  if (typeof definition.kind !== 'string' || (definition.kind as string) === '') throw new TypeError('registerTask needs a task kind (a non-empty string)');
  registry.set(definition.kind, definition as unknown as TaskDefinition);
}

/** Every task kind the loaders read now: Kindling's and those registered. */
export function registeredTaskKinds(): string[] {
  return [...registry.keys()];
}

/** The definition of a task kind, or undefined when none is registered. */
export function taskDefinition(kind: string): TaskDefinition | undefined {
  return registry.get(kind);
}

/** Whether `task` is of a registered kind (a manifest read from anywhere is checked with it). */
export function isRegisteredTask(task: unknown): task is TaskSpec {
  return typeof task === 'object' && task !== null && typeof (task as { kind?: unknown }).kind === 'string' && registry.has((task as { kind: string }).kind);
}
