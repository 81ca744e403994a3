import type * as tf from '@tensorflow/tfjs';
import type { Bundle } from './bundle-manifest';
import type { Predictor, SomePredictor } from './predictor';
import { TASK_PACKAGES, type TaskKind, type TaskRecordOf, type TaskSpec } from './tasks';
import type { Familiarity } from './familiarity';

/** A predictor's input as the registry sees it: each kind's own (inputs reach a predictor only through its kind). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type KindInput = any;

/**
 * Everything the bundle loaders need to know of a task kind, like the IO routers of TF.js: how to check a task
 * record against the model it came with, and how to build its predictor. Kindling's kinds are registered here;
 * a modality of your own calls `registerTask` once (and declares its record in `TaskRegistry`).
 */
export interface TaskDefinition<K extends TaskKind = TaskKind> {
  kind: K;
  /** Calls `fail` with what is wrong when the record does not describe the model (labels against outputs, input size…). */
  check?(task: TaskRecordOf<K>, model: tf.LayersModel, fail: (message: string) => never): void;
  /** The predictor for a bundle of this kind. */
  createPredictor(bundle: Bundle, model: tf.LayersModel): Predictor<KindInput, unknown, unknown, TaskRecordOf<K>>;
  /**
   * Where the prediction server's preparation workers find this definition, for a kind whose `prepare` is
   * JavaScript work that grows with the input (a spectrogram, a drawn recording): the URL of a module
   * (`import.meta.url` of the module that exports it) and the name it is exported under. Without it, inputs are
   * prepared on the server's own thread.
   */
  preparedOffThread?: { module: string; name: string };
  /**
   * Node only: the inputs a file holds for this kind (`readInputFile`, `kindling predict`), for a kind whose files
   * are not one input each (every row of a CSV, a session in a CSV of events). Set by a modality's Node entry point;
   * without it a `.json` file is one JSON input and any other file its bytes.
   */
  readInputFile?(path: string, predictor: SomePredictor): Promise<FileInput[]>;
  /**
   * Node only: the answer in another media type, for a request to the prediction server that asks for it in its
   * `Accept` header (a segmentation mask as a PNG, from `@kindling/image/node`); one input's answer only.
   */
  answerAs?: { mediaType: string; render(answer: unknown, predictor: SomePredictor): Promise<Uint8Array> };
}

/** One input read from a file, named for messages and output (`table.csv:3` for the third row of a table). */
export interface FileInput {
  name: string;
  input: unknown;
}

/** A classifier's record fits its model: at least two labels, as many as the model's outputs (for `TaskDefinition.check`). */
export function checkLabels(task: { labels: readonly string[] }, model: tf.LayersModel, fail: (message: string) => never): void {
  const outputs = model.outputs[0]?.shape.at(-1);
  if (!Array.isArray(task.labels) || task.labels.length < 2 || task.labels.some((label) => typeof label !== 'string')) fail('needs a list of at least two labels');
  if (task.labels.length !== outputs) fail(`lists ${task.labels.length} labels but the model answers ${outputs} classes`);
}

/** A familiarity of the model's features (`familiarity.features`) fits the model: its layer, as many numbers as that layer gives (for `TaskDefinition.check`). */
export function checkFeatures(task: { familiarity?: Familiarity }, model: tf.LayersModel, fail: (message: string) => never): void {
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

const registry = new Map<string, TaskDefinition>();

/**
 * Registers a task kind with the bundle loaders (`loadPredictor`, `loadBundle`, the server): bundles of this kind are
 * then read, checked against their model and served. Each modality package exports its definitions (`soundTask`
 * from `@kindling/audio/predict`; in Node, `pointerTask` and `tabularTask` from the packages' `/node` entries, which
 * also read files), and a modality of your own makes one. Registering a kind again replaces its definition.
 */
export function registerTask<K extends TaskKind>(definition: TaskDefinition<K>): void {
  if (typeof definition?.kind !== 'string' || (definition.kind as string) === '') throw new TypeError('registerTask needs a task kind (a non-empty string)');
  registry.set(definition.kind, definition as unknown as TaskDefinition);
}

/** Why a bundle of `kind` cannot be read here: for Kindling's own kinds, which package to install and what to register. */
export function unregisteredKind(kind: unknown): string {
  const home = typeof kind === 'string' && Object.hasOwn(TASK_PACKAGES, kind) ? TASK_PACKAGES[kind] : undefined;
  if (home !== undefined) return `its task kind '${kind}' is not registered: install ${home.package} and call registerTask(${home.definition}), with ${home.definition} imported from ${home.entry}${home.nodeEntry === undefined ? '' : ` (in Node, from ${home.nodeEntry})`}`;
  return `unknown task kind ${JSON.stringify(kind)} (known: ${registeredTaskKinds().join(', ') || 'none registered'}; a kind of your own needs registerTask)`;
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
