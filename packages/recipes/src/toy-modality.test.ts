/**
 * A modality of one's own, written entirely in this file, from items to a served answer: a data block for it
 * (`@kindling/data`), a learner (`@kindling/recipes`), a task record, its predictor and one registration
 * (`@kindling/deploy`). The input is encoded by the same pipeline in training and in serving. Nothing else in
 * Kindling knows of it.
 */
import { categoryBlock, DataBlock, Pipeline, randomSplitter, Random, type ArrayItem } from '@kindling/data';
import { bundleFiles, bundleFromFiles, classify, createBundle, InputError, loadPredictor, Predictor, registerTask, type Classification } from '@kindling/deploy';
import { createServer } from '@kindling/deploy/server';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierLearner } from './learners';
import { useBackend } from './fixtures/test-support';

const LENGTH = 12;

/** The toy modality: a string of bits ("0110…"); its class says whether most bits are ones. */
const bitsPipeline = new Pipeline<string, ArrayItem>([
  {
    name: `read ${LENGTH} bits`,
    encode: (text: string) => {
      if (!new RegExp(`^[01]{${LENGTH}}$`).test(text)) throw new InputError(`expected ${LENGTH} bits (0 or 1), got ${JSON.stringify(text)}`, 'bits');
      return text;
    },
  },
  { name: 'as numbers', encode: (text: string): ArrayItem => ({ data: Float32Array.from(text, (bit) => Number(bit)), shape: [LENGTH] }), decode: (item: ArrayItem) => Array.from(item.data).join('') },
]);

interface BitsTask {
  kind: 'bits';
  labels: readonly string[];
}

declare module '@kindling/deploy' {
  interface TaskRegistry {
    bits: BitsTask;
  }
}

class BitsPredictor extends Predictor<string, Classification, Float32Array, BitsTask> {
  readonly kind = 'bits';

  async prepare(input: string): Promise<Float32Array> {
    return (await bitsPipeline.encode(input)).data as Float32Array; // the training pipeline, unchanged
  }

  async run(prepared: readonly Float32Array[]): Promise<Classification[]> {
    const probabilities = tf.tidy(() => tf.softmax(this.model.predict(tf.stack(prepared.map((bits) => tf.tensor1d(bits)))) as tf.Tensor2D));
    const values = (await probabilities.data()) as Float32Array;
    probabilities.dispose();
    return classify(values, this.task.labels, prepared.length);
  }

  inputFromJson(value: unknown): string {
    return (value as { bits: string }).bits;
  }

  describeInput(): string {
    return `${LENGTH} bits as a string`;
  }
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('a modality of your own, from items to a served answer', () => {
  it('trains through a data block and a learner, and serves through one registration with the same encoding', async () => {
    const random = new Random(5);
    const strings = Array.from({ length: 600 }, () => Array.from({ length: LENGTH }, () => (random.next() < 0.5 ? '1' : '0')).join(''));
    const ones = (text: string) => [...text].filter((bit) => bit === '1').length;
    const block = new DataBlock<readonly string[], string>({
      itemsName: 'bit strings',
      getItems: (source) => source.filter((text) => ones(text) !== LENGTH / 2), // no ties
      input: bitsPipeline,
      target: categoryBlock((text: string) => (ones(text) > LENGTH / 2 ? 'mostly ones' : 'mostly zeros')),
      splitter: randomSplitter({ validPct: 0.25, seed: 1 }),
    });
    const data = await block.dataLoaders(strings, { batchSize: 32 });
    expect((await data.summary())[2]).toBe(`as numbers → Float32Array [${LENGTH}]`);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [LENGTH], units: 2 })] });
    const learner = classifierLearner(model, data, { seed: 1 });
    await learner.fitOneCycle(20, 0.1);
    const accuracy = learner.recorder.epochs.at(-1)!.metrics.accuracy!;
    expect(accuracy).toBeGreaterThan(0.9); // held-out bit strings
    learner.dispose();

    registerTask({ kind: 'bits', check: (_task, tfModel, fail) => void (tfModel.inputs[0]!.shape[1] !== LENGTH && fail(`the model does not take ${LENGTH} bits`)), createPredictor: (bundle, tfModel) => new BitsPredictor(bundle, tfModel) });
    const files = bundleFiles(await createBundle(model, { kind: 'bits', labels: [...data.vocab!.labels] }, { metrics: { accuracy } }));
    model.dispose();
    const predictor = (await loadPredictor(bundleFromFiles({ manifest: files['kindling.json']!, modelJson: files['model.json']!, weights: files['weights.bin']! }, 'toy'), { kind: 'bits' })) as BitsPredictor;
    expect((await predictor.predict('111111111110')).label).toBe('mostly ones');
    expect((await predictor.predict('000000000001')).label).toBe('mostly zeros');
    await expect(predictor.predict('0102')).rejects.toThrow(`expected ${LENGTH} bits (0 or 1)`);
    // a served input and a training item of the same string are the same numbers: one pipeline
    const item = data.valid.options.items[0]!;
    expect(await predictor.prepare(item)).toEqual((await bitsPipeline.encode(item)).data);
    expect(await bitsPipeline.decode(await bitsPipeline.encode(item))).toBe(item);
    const app = await createServer(predictor);
    try {
      const answer = await app.inject({ method: 'POST', url: '/predict', payload: { bits: '110111011101' } });
      expect(answer.statusCode).toBe(200);
      expect(JSON.stringify(answer.json())).toContain('mostly ones');
    } finally {
      await app.close(); // the server frees the predictor
    }
  });
});
