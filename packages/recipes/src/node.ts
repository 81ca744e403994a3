/**
 * Whole-run recipes for Node, what `kindling train …` runs: from a folder or a file (or the generated default data)
 * to a bundle written atomically with its charts, the schedule sized by the data, and a report line by line to
 * `log`. They never choose a backend: start one first (`initBackend` from `@kindling/backend/node`).
 *
 * @packageDocumentation
 */
export { checkpointing, planOf } from './checkpointing';
export type { CheckpointFlags } from './checkpointing';
export { epochTable, notSureLine, reportClassifierRun, writeClassifierRun } from './classifier-report';
export type { RecipeOptions } from './recipe';
export { defaultDatasetDirectory, MEDIUM_MODEL_PICTURES, trainImage } from './train-image';
export type { TrainImageOptions, TrainImageResult } from './train-image';
export { defaultSoundDirectory, trainSound } from './train-sound';
export type { TrainSoundOptions, TrainSoundResult } from './train-sound';
export { defaultPointerDirectory, parseScreen, parseWindow, trainPointer } from './train-pointer';
export type { TrainPointerOptions, TrainPointerResult } from './train-pointer';
export { defaultScenesDirectory, trainSegment } from './train-segment';
export type { TrainSegmentOptions, TrainSegmentResult } from './train-segment';
export { trainTabular } from './train-tabular';
export type { TrainTabularOptions, TrainTabularResult } from './train-tabular';
export { trainCollab } from './train-collab';
export type { TrainCollabOptions } from './train-collab';
