/**
 * The task kinds `kindling predict` and `kindling serve` read: each modality's Node definition, one line each (a new
 * modality adds its line here and nothing else in the CLI).
 */
import { soundTask } from '@kindling/audio/predict';
import { registerTask } from '@kindling/deploy';
import { imageTask, segmentationTask } from '@kindling/image/node';
import { pointerTask } from '@kindling/pointer/node';
import { collabTask } from '@kindling/tabular';
import { tabularTask } from '@kindling/tabular/node';

const TASKS = [
  imageTask, // pictures, decoded with sharp
  segmentationTask, // masks of pictures; `kindling serve` answers one as a PNG when asked
  soundTask, // recordings (WAV), prepared on the server's worker threads
  pointerTask, // mouse recordings: Kindling JSON and Balabit CSV sessions
  tabularTask, // table rows: every row of a CSV file
  collabTask, // recommendations
];

/** Registers every modality's task kind with the bundle loaders (again is harmless). */
export function registerModalities(): void {
  for (const task of TASKS) registerTask(task);
}
