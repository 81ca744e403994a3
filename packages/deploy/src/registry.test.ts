/**
 * A modality of one's own, written entirely in this file: its task record, its predictor and one registration.
 * Bundles of it are then written, read back from memory, checked against their model, predicted with and served
 * like Kindling's own — nothing else in Kindling knows of it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BundleError, bundleFiles, bundleFromFiles, classify, createBundle, InputError, loadPredictor, Predictor, registeredTaskKinds, registerTask, type Classification } from './index';
import { readInputFile } from './node';
import { createServer } from './server';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The toy task: is a list of bits of even or odd parity? The record holds the labels and the list length. */
interface ParityTask {
  kind: 'parity';
  labels: readonly string[];
  length: number;
}

declare module './tasks' {
  interface TaskRegistry {
    parity: ParityTask;
  }
}

class ParityPredictor extends Predictor<readonly number[], Classification, Float32Array, ParityTask> {
  readonly kind = 'parity';

  async prepare(input: readonly number[]): Promise<Float32Array> {
    if (!Array.isArray(input) || input.length !== this.task.length || input.some((bit) => bit !== 0 && bit !== 1)) {
      throw new InputError(`expected ${this.task.length} bits (0 or 1), got ${JSON.stringify(input)}`, 'bits');
    }
    return Float32Array.from(input);
  }

  async run(prepared: readonly Float32Array[]): Promise<Classification[]> {
    const logits = tf.tidy(() => tf.softmax(this.model.predict(tf.stack(prepared.map((bits) => tf.tensor1d(bits)))) as tf.Tensor2D));
    const values = (await logits.data()) as Float32Array;
    logits.dispose();
    return classify(values, this.task.labels, prepared.length);
  }

  inputFromJson(value: unknown): readonly number[] {
    return (value as { bits: number[] }).bits;
  }

  describeInput(): string {
    return `${this.task.length} bits`;
  }
}

/** A tiny model: bits in, two logits out. */
function parityModel(length: number): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [length], units: 2, kernelInitializer: 'glorotUniform' })] });
  return model;
}

describe('a task registered from outside: one registration, nothing else', () => {
  it('writes, reads, checks, predicts and serves a bundle of a kind Kindling does not know', async () => {
    // not registered yet: a manifest of this kind is refused, naming how to register it
    const early = parityModel(4);
    const files = bundleFiles(await createBundle(early, { kind: 'parity', labels: ['even', 'odd'], length: 4 }, { metrics: {} }));
    early.dispose();
    expect(() => bundleFromFiles({ manifest: files['kindling.json']!, modelJson: files['model.json']!, weights: files['weights.bin']! }, 'toy')).toThrow(BundleError);
    expect(() => bundleFromFiles({ manifest: files['kindling.json']!, modelJson: files['model.json']!, weights: files['weights.bin']! }, 'toy')).toThrow('unknown task kind "parity" (known: none registered; a kind of your own needs registerTask)');

    // the one registration
    registerTask({
      kind: 'parity',
      check(task, model, fail) {
        if (model.inputs[0]!.shape[1] !== task.length) fail(`says lists of ${task.length} bits but the model takes ${model.inputs[0]!.shape[1]}`);
      },
      createPredictor: (bundle, model) => new ParityPredictor(bundle, model),
    });
    expect(registeredTaskKinds()).toContain('parity');

    const model = parityModel(4);
    const bundle = await createBundle(model, { kind: 'parity', labels: ['even', 'odd'], length: 4 }, { metrics: {} });
    model.dispose();
    const written = bundleFiles(bundle);
    const read = bundleFromFiles({ manifest: written['kindling.json']!, modelJson: written['model.json']!, weights: written['weights.bin']! }, 'toy');
    const predictor = await loadPredictor(read, { kind: 'parity' });
    expect(predictor.kind).toBe('parity');
    expect(predictor.describeInput()).toBe('4 bits');
    await expect(predictor.predict([1, 0, 2, 0])).rejects.toThrow('expected 4 bits (0 or 1)');

    // its own check runs on load: a record that does not describe the model is refused
    const other = parityModel(4);
    const wrong = await createBundle(other, { kind: 'parity', labels: ['even', 'odd'], length: 5 }, { metrics: {} });
    other.dispose();
    await expect(loadPredictor(wrong)).rejects.toThrow('says lists of 5 bits but the model takes 4');

    // read from files like any other kind (as `kindling predict` reads them): a .json file is its JSON input
    const folder = mkdtempSync(join(tmpdir(), 'kindling-parity-'));
    writeFileSync(join(folder, 'bits.json'), JSON.stringify({ bits: [1, 1, 0, 1] }));
    expect(await readInputFile(predictor, join(folder, 'bits.json'))).toEqual([{ name: join(folder, 'bits.json'), input: [1, 1, 0, 1] }]);

    // served like any other kind: JSON in, the predictor's answer out
    const app = await createServer(predictor);
    try {
      const answer = await app.inject({ method: 'POST', url: '/predict', payload: { bits: [1, 1, 0, 1] } });
      expect(answer.statusCode).toBe(200);
      const body = answer.json() as Classification | { prediction: Classification };
      expect('prediction' in body ? body.prediction.label : body.label).toMatch(/^(even|odd)$/);
      expect(await predictor.predict([1, 1, 0, 1])).toEqual('prediction' in body ? body.prediction : body);
      expect((await app.inject({ method: 'GET', url: '/info' })).json()).toMatchObject({ task: 'parity', input: '4 bits' });
    } finally {
      await app.close();
    }
  });
});
