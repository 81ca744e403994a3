import { soundTask } from '@kindling/audio/predict';
import { registerTask } from '@kindling/deploy';
import { loadPredictor } from '@kindling/deploy/node';
import { imageTask, segmentationTask } from '@kindling/image/node';
import { pointerTask } from '@kindling/pointer/predict';
import { collabTask, tabularTask } from '@kindling/tabular';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { offDistributionViews } from '../../apps/demo/e2e/off-distribution';
import { printTable } from './table';
import { backendLabel, startBenchBackend } from './threads';

// the demo's bundles are of every kind
for (const task of [imageTask, segmentationTask, soundTask, pointerTask, tabularTask, collabTask]) registerTask(task);

/** The demo's committed bundles and samples (held out from their training data). */
const DEMO = fileURLToPath(new URL('../../apps/demo/public', import.meta.url));
/** The naive rule beside Kindling's: an answer less sure than this is "not sure" (the model's top probability). */
const BASELINE_CONFIDENCE = 0.5;

type Answer = { notSure?: string; confidence?: number };

/**
 * "Not sure" on inputs unlike the training data (issue 42): for each of the demo's bundles, the share of a set of
 * off-distribution inputs answered "not sure", beside the share of its held-out samples that are (the goal: at
 * least 90% and at most 10%), and beside the naive rule (top probability under 50%) on the same inputs.
 */
export async function benchNotSure(): Promise<void> {
  const report = await startBenchBackend();
  console.log(`\n## "Not sure" on inputs unlike the training data (the demo's bundles; ${backendLabel(report)})\n`);
  const views = await offDistributionViews(DEMO);
  const table: string[][] = [];
  for (const { view, bundle, off, held } of views) {
    const predictor = await loadPredictor(join(DEMO, 'models', bundle));
    try {
      const offAnswers = (await predictor.predictBatch(Object.values(off) as never[])) as Answer[];
      const heldAnswers = (await predictor.predictBatch(held as never[])) as Answer[];
      const marked = (answers: Answer[]) => answers.filter((answer) => answer.notSure !== undefined).length;
      const naive = (answers: Answer[]) => answers.filter((answer) => (answer.confidence ?? 1) < BASELINE_CONFIDENCE).length;
      const share = (count: number, answers: Answer[]) => `${count}/${answers.length} (${((100 * count) / answers.length).toFixed(0)}%)`;
      const missed = Object.keys(off).filter((_, index) => offAnswers[index]!.notSure === undefined);
      table.push([view, share(marked(offAnswers), offAnswers), share(marked(heldAnswers), heldAnswers), share(naive(offAnswers), offAnswers), share(naive(heldAnswers), heldAnswers), missed.join(', ') || '—']);
    } finally {
      predictor.dispose();
    }
  }
  printTable(['bundle', 'off-distribution "not sure"', 'held-out "not sure"', `naive (< ${BASELINE_CONFIDENCE * 100}%) off`, 'naive held-out', 'answered plainly (missed)'], table);
  console.log(`\ngoal: off-distribution ≥ 90%, held-out ≤ 10%`);
}
