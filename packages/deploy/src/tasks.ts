/**
 * The task records by kind. Each modality package adds its records here by declaration merging, as a modality of
 * your own does (`declare module '@kindling/deploy' { interface TaskRegistry { text: TextTask } }`), and its loader
 * with `registerTask`; nothing else in Kindling changes.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface TaskRegistry {}

/**
 * A task record of some kind: what every record has (a program that registers no kind's types sees only this), and
 * whatever else its kind keeps (labels, preprocessing…), JSON values all.
 */
export interface TaskRecord {
  kind: string;
  [field: string]: unknown;
}

/** Everything a bundle needs to turn raw input into an answer, by task kind: the records of every kind declared. */
export type TaskSpec = [keyof TaskRegistry] extends [never] ? TaskRecord : TaskRegistry[keyof TaskRegistry];

export type TaskKind = TaskSpec['kind'];

/** The record of kind `K`: its declared record, or any record for a kind not declared. */
export type TaskRecordOf<K extends TaskKind> = K extends keyof TaskRegistry ? TaskRegistry[K] : TaskSpec;

/**
 * Where each of Kindling's own task kinds lives: the package, the entry point and the name of the task definition
 * to register (`registerTask(soundTask)`, from `@kindling/audio/predict`); `nodeEntry`, where Node programs import a
 * richer definition of the kind from (pictures, masks, pointer sessions and tables: they also read files). A bundle of a kind that is not registered
 * is refused with these words, so that its message says what to install.
 */
export const TASK_PACKAGES: Readonly<Record<string, { package: string; entry: string; definition: string; nodeEntry?: string }>> = {
  image: { package: '@kindling/image', entry: '@kindling/image/predict', definition: 'imageTask', nodeEntry: '@kindling/image/node' },
  segmentation: { package: '@kindling/image', entry: '@kindling/image/predict', definition: 'segmentationTask', nodeEntry: '@kindling/image/node' },
  sound: { package: '@kindling/audio', entry: '@kindling/audio/predict', definition: 'soundTask' },
  pointer: { package: '@kindling/pointer', entry: '@kindling/pointer/predict', definition: 'pointerTask', nodeEntry: '@kindling/pointer/node' },
  tabular: { package: '@kindling/tabular', entry: '@kindling/tabular', definition: 'tabularTask', nodeEntry: '@kindling/tabular/node' },
  collab: { package: '@kindling/tabular', entry: '@kindling/tabular', definition: 'collabTask' },
};

/** The task kinds Kindling itself defines, each in its modality's package (`TASK_PACKAGES`; `registeredTaskKinds()` lists those registered now). */
export const TASK_KINDS: readonly string[] = Object.keys(TASK_PACKAGES);
