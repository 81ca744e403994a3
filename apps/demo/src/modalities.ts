/**
 * The task kinds the demo's pages read, each registered from its modality's package: one line each. A page that
 * shows one kind would register that one only, and its bundle would carry no other modality's code.
 */
import { soundTask } from '@kindling/audio/predict';
import { registerTask } from '@kindling/deploy';
import { imageTask, segmentationTask } from '@kindling/image/predict';
import { pointerTask } from '@kindling/pointer/predict';
import { collabTask, tabularTask } from '@kindling/tabular';

/** Registers the demo's task kinds with the bundle loaders. */
export function registerModalities(): void {
  registerTask(imageTask);
  registerTask(segmentationTask);
  registerTask(soundTask);
  registerTask(pointerTask);
  registerTask(tabularTask);
  registerTask(collabTask);
}
