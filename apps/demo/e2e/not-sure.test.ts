/**
 * "Not sure" on the demo's committed bundles (issue 42): for every view, a set of inputs unlike what its model learnt
 * from (noise, blanks, patterns, shapes, microscope sections for the clothes model, tones, traced lines, impossible
 * table rows) is mostly answered "not sure", while the view's held-out samples mostly are not.
 */
import { initBackend } from '@kindling/backend';
import { loadPredictor } from '@kindling/deploy/node';
import { registerTask } from '@kindling/deploy';
import { imageTask, segmentationTask } from '@kindling/image/node';
import { registerModalities } from '../src/modalities';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { offDistributionViews, type OffDistributionView } from './off-distribution';

// the kinds the pages read, registered in Node as in the page; pictures decoded with sharp here
registerModalities();
registerTask(imageTask);
registerTask(segmentationTask);

const PUBLIC = fileURLToPath(new URL('../public', import.meta.url));

describe('"not sure" on inputs unlike the training data, per view', () => {
  let views: OffDistributionView[];
  beforeAll(async () => {
    await initBackend({ log: false });
    views = await offDistributionViews(PUBLIC);
  });

  it.each(['image', 'segmentation', 'sound', 'pointer', 'tabular'])('%s: at least 90 percent of the off-distribution set, at most 10 percent of the held-out samples', async (bundle) => {
    const { off, held } = views.find((view) => view.bundle === bundle)!;
    const predictor = await loadPredictor(join(PUBLIC, 'models', bundle));
    try {
      const marked = async (inputs: unknown[]) => ((await predictor.predictBatch(inputs as never[])) as Array<{ notSure?: string }>).map((answer) => answer.notSure !== undefined);
      const offMarks = await marked(Object.values(off));
      const plain = Object.keys(off).filter((_, index) => !offMarks[index]);
      expect(offMarks.filter(Boolean).length / offMarks.length, `answered plainly: ${plain.join(', ')}`).toBeGreaterThanOrEqual(0.9);
      const heldMarks = await marked(held);
      expect(heldMarks.filter(Boolean).length / heldMarks.length).toBeLessThanOrEqual(0.1);
    } finally {
      predictor.dispose();
    }
  });
});
