import { describeEachBackend } from '@kindling/backend/testing';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { plainAnswer } from './fixtures/plain-answer';
import { loadPredictor } from '@kindling/deploy/node';
import { exampleInputs, KINDS } from './testing';

/** Bundles written by an earlier Kindling (`scripts/write-format-fixtures.ts`), committed: they must still load and answer. */
const FORMATS = [{ version: 1, folder: new URL('./fixtures/format-1/', import.meta.url) }];

/** Whether two answers agree: the same labels and structure, numbers within `tolerance` (backends round differently). */
function agree(actual: unknown, expected: unknown, tolerance: number, path = 'answer'): string | undefined {
  if (typeof expected === 'number' && typeof actual === 'number') return Math.abs(actual - expected) <= tolerance ? undefined : `${path}: ${actual} against ${expected}`;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (actual.length !== expected.length) return `${path}: ${actual.length} entries against ${expected.length}`;
    for (let index = 0; index < expected.length; index++) {
      const wrong = agree(actual[index], expected[index], tolerance, `${path}[${index}]`);
      if (wrong !== undefined) return wrong;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
    for (const key of keys) {
      const wrong = agree((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], tolerance, `${path}.${key}`);
      if (wrong !== undefined) return wrong;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : `${path}: ${JSON.stringify(actual)} against ${JSON.stringify(expected)}`;
}

describeEachBackend('bundles of earlier formats', () => {
  for (const { version, folder } of FORMATS) {
    const answers = JSON.parse(readFileSync(new URL('answers.json', folder), 'utf8')) as Record<string, unknown[]>;
    for (const kind of KINDS) {
      it(`format ${version}, ${kind}: the committed bundle loads and answers the example inputs as it did when it was written`, async () => {
        const before = tf.memory().numTensors;
        const predictor = await loadPredictor(join(folder.pathname, `${kind}.kindling`));
        expect(predictor.kind).toBe(kind);
        const inputs = exampleInputs(kind, 3) as never[];
        const answered = plainAnswer(await predictor.predictBatch(inputs));
        predictor.dispose();
        expect(tf.memory().numTensors).toBe(before);
        // a mask is compared pixel by pixel; a probability near a tie could flip a pixel on another backend, so the
        // numbers get 1e-3 and the masks must agree on all but 1% of their pixels
        const expected = answers[kind]!;
        if (kind === 'segmentation') {
          for (const [index, answer] of (answered as Array<{ mask: number[]; confidenceMap: number[]; coverage: unknown }>).entries()) {
            const { mask, confidenceMap, coverage, ...rest } = expected[index] as { mask: number[]; confidenceMap: number[]; coverage: unknown };
            expect(answer.mask.length).toBe(mask.length);
            expect(answer.mask.filter((value, pixel) => value !== mask[pixel]).length).toBeLessThanOrEqual(mask.length / 100);
            expect(answer.confidenceMap.filter((value, pixel) => Math.abs(value - confidenceMap[pixel]!) > 1e-3).length).toBeLessThanOrEqual(mask.length / 100);
            expect(agree(answer.coverage, coverage, 0.01)).toBeUndefined();
            expect(agree({ ...answer, mask: undefined, confidenceMap: undefined, coverage: undefined }, { ...rest, mask: undefined, confidenceMap: undefined, coverage: undefined }, 1e-3)).toBeUndefined();
          }
          return;
        }
        expect(agree(answered, expected, 1e-3)).toBeUndefined();
      });
    }
  }
});
