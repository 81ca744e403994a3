/**
 * The toy modality from its own package, end to end: trained with Kindling's learner through its data block,
 * written as a bundle, served, and predicted by the kindling CLI — after one registration, with nothing in Kindling
 * naming it.
 */
import { initBackend } from '@kindling/backend/node';
import { Random } from '@kindling/data';
import { createBundle, registerTask } from '@kindling/deploy';
import { loadPredictor, saveBundle } from '@kindling/deploy/node';
import { createServer } from '@kindling/deploy/server';
import { classifierLearner } from '@kindling/recipes';
import { runKindling } from '@kindling/trainer';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { bitsBlock, bitsPipeline, bitsTask, LENGTH } from './bits';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

describe('a modality in a package of its own', () => {
  it('trains through its data block, and after one registration is loaded, served and predicted by the CLI like Kindling\'s own', async () => {
    const random = new Random(5);
    const strings = Array.from({ length: 600 }, () => Array.from({ length: LENGTH }, () => (random.next() < 0.5 ? '1' : '0')).join(''));
    const data = await bitsBlock().dataLoaders(strings, { batchSize: 32 });
    expect((await data.summary())[2]).toBe(`as numbers → Float32Array [${LENGTH}]`);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [LENGTH], units: 2 })] });
    const learner = classifierLearner(model, data, { seed: 1 });
    await learner.fitOneCycle(20, 0.1);
    const accuracy = learner.recorder.epochs.at(-1)!.metrics.accuracy!;
    expect(accuracy).toBeGreaterThan(0.9); // held-out bit strings
    learner.dispose();
    const directory = join(mkdtempSync(join(tmpdir(), 'kindling-bits-')), 'bundle');
    await saveBundle(await createBundle(model, { kind: 'bits', labels: [...data.vocab!.labels] }, { metrics: { accuracy } }), directory);
    model.dispose();

    // before the registration the kind is unknown, and the message says what to do
    await expect(loadPredictor(directory)).rejects.toThrow('unknown task kind "bits"');
    await expect(loadPredictor(directory)).rejects.toThrow('a kind of your own needs registerTask');

    // the one line an app adds
    registerTask(bitsTask);

    const predictor = await loadPredictor(directory, { kind: 'bits' });
    expect((await predictor.predict('111111111110')).label).toBe('mostly ones');
    expect((await predictor.predict('000000000001')).label).toBe('mostly zeros');
    await expect(predictor.predict('0102')).rejects.toThrow(`expected ${LENGTH} bits (0 or 1)`);
    // a served input and a training item of the same string are the same numbers: one pipeline
    const item = data.valid.options.items[0]!;
    expect(await predictor.prepare(item)).toEqual((await bitsPipeline.encode(item)).data);
    const app = await createServer(predictor);
    try {
      const answer = await app.inject({ method: 'POST', url: '/predict', payload: { bits: '110111011101' } });
      expect(answer.statusCode).toBe(200);
      expect(answer.json().prediction.label).toBe('mostly ones');
    } finally {
      await app.close(); // the server frees the predictor
    }

    // the kindling CLI reads the bundle too: its own modalities and this one, registered in this process
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    try {
      expect(await runKindling(['predict', directory, '{"bits": "011111111111"}', '--json', '--backend', 'cpu'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const line = printed.find((text) => text.startsWith('{'));
    expect(JSON.parse(line!).prediction.label).toBe('mostly ones');
  });
});
