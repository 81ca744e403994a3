/**
 * Whole-run recipes for Node, what `kindling train …` runs: from a folder or a file (or the generated default data)
 * to a bundle written atomically with its charts, the schedule sized by the data, and a report line by line to
 * `log`. They never choose a backend: start one first (`initBackend` from `@kindling/backend/node`).
 *
 * @packageDocumentation
 */
export { CHECKPOINT_OPTIONS, checkpointing, planOf } from './checkpointing';
export type { CheckpointFlags } from './checkpointing';
export { epochTable, notSureLine, reportClassifierRun, writeClassifierRun } from './classifier-report';
export type { RecipeOptions } from './recipe';
export { defaultDatasetDirectory, MEDIUM_MODEL_PICTURES, trainImage, TRAIN_IMAGE_OPTIONS } from './train-image';
export type { TrainImageOptions, TrainImageResult } from './train-image';
export { defaultSoundDirectory, trainSound, TRAIN_SOUND_OPTIONS } from './train-sound';
export type { TrainSoundOptions, TrainSoundResult } from './train-sound';
export { defaultPointerDirectory, parseScreen, parseWindow, trainPointer, TRAIN_POINTER_OPTIONS } from './train-pointer';
export type { TrainPointerOptions, TrainPointerResult } from './train-pointer';
export { defaultScenesDirectory, trainSegment, TRAIN_SEGMENT_OPTIONS } from './train-segment';
export type { TrainSegmentOptions, TrainSegmentResult } from './train-segment';
export { trainTabular, TRAIN_TABULAR_OPTIONS } from './train-tabular';
export type { TrainTabularOptions, TrainTabularResult } from './train-tabular';
export { trainCollab, TRAIN_COLLAB_OPTIONS } from './train-collab';
export type { TrainCollabOptions } from './train-collab';
