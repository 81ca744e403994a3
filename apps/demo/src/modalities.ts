/**
 * The task kinds the demo's pages read, each registered from its modality's package: one line each (pictures and
 * masks are built into @kindling/deploy). A page that shows one kind would register that one only, and its bundle
 * would carry no other modality's code.
 */
import { soundTask } from '@kindling/audio/predict';
import { registerTask } from '@kindling/deploy';
import { pointerTask } from '@kindling/pointer/predict';
import { collabTask, tabularTask } from '@kindling/tabular';

/** Registers the demo's task kinds with the bundle loaders. */
export function registerModalities(): void {
  registerTask(soundTask);
  registerTask(pointerTask);
  registerTask(tabularTask);
  registerTask(collabTask);
}
