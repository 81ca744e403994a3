/**
 * Writes the bundles a later Kindling must still read (`src/format-compat.test.ts`): one small bundle of every task
 * kind, as one `.kindling` file each, and the answers it gave to the example inputs when it was written. Run once per
 * bundle format, from the repository root: `bench/node_modules/.bin/tsx tests/deploy/scripts/write-format-fixtures.ts
 * tests/deploy/src/fixtures/format-<BUNDLE_FORMAT_VERSION>` (Kindling 0.1 wrote format 1); the files are
 * committed, never rewritten by the tests.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPredictor, saveBundle } from '@kindling/deploy/node';
import { exampleBundle, exampleInputs, KINDS } from '../src/testing';
import { plainAnswer } from '../src/fixtures/plain-answer';

const folder = resolve(process.argv[2] ?? 'src/fixtures/format-1');
mkdirSync(folder, { recursive: true });
await tf.setBackend('cpu');
const answers: Record<string, unknown> = {};
for (const kind of KINDS) {
  const file = join(folder, `${kind}.kindling`);
  await saveBundle(await exampleBundle(kind), file);
  const predictor = await loadPredictor(file);
  answers[kind] = plainAnswer(await predictor.predictBatch(exampleInputs(kind, 3) as never[]));
  predictor.dispose();
}
writeFileSync(join(folder, 'answers.json'), `${JSON.stringify(answers, null, 1)}\n`);
console.log(`wrote ${KINDS.length} bundles and their answers to ${folder}`);
