import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, fastestTestBackend } from '@kindling/backend/testing';
import { randomSplitter, TensorDataLoader } from '@kindling/data';
import { loadLayersModel, saveLayersModel } from '@kindling/models/node';
import { generateTable, inferTabularSchema, TabularProcessor, tabularTensors } from './processor';
import { accuracy, crossEntropyLoss, Learner } from '@kindling/learner';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddingSize, RowPredictor, tabularModel } from './model';

describe('tabularModel', () => {
  it("sizes embeddings by fastai's rule", () => {
    expect([2, 3, 10, 17, 42, 100_000].map(embeddingSize)).toEqual([2, 3, 6, 8, 13, 600]);
    const model = tabularModel({ cardinalities: [3, 10], continuous: 2, outputs: 2, seed: 1 });
    expect(model.inputs.map((input) => input.shape)).toEqual([[null, 2], [null, 2]]);
    expect(model.getLayer('embeddings').getWeights().map((weight) => weight.shape)).toEqual([[3, 3], [10, 6]]);
    expect(model.outputs[0]!.shape).toEqual([null, 2]);
    model.dispose();
  });
});

describeEachBackend('tabular training', () => {
  it('adds a linear path from the features to the output when asked (wide and deep)', () => {
    const options = { cardinalities: [3, 10], continuous: 2, outputs: 2, layers: [8], seed: 1 };
    const deep = tabularModel(options);
    const wide = tabularModel({ ...options, linear: true });
    expect(() => deep.getLayer('linear')).toThrow();
    // the features (3 + 6 embedding values, 2 numbers) go straight to the 2 outputs
    expect(wide.getLayer('linear').getWeights().map((weight) => weight.shape)).toEqual([[11, 2], [2]]);
    const inputs = [tf.tensor2d([[0, 3], [2, 9]], [2, 2], 'int32'), tf.tensor2d([[0.5, -1], [2, 0.1]])];
    const answer = () => (wide.predict(inputs) as tf.Tensor).arraySync() as number[][];
    const before = answer();
    // the linear path contributes: setting its weights changes the answer by exactly its output (bias 1, 0)
    tf.tidy(() => wide.getLayer('linear').setWeights([tf.zeros([11, 2]), tf.tensor1d([1, 0])]));
    const zeroed = answer();
    tf.tidy(() => wide.getLayer('linear').setWeights([tf.zeros([11, 2]), tf.tensor1d([0, 0])]));
    const without = answer();
    zeroed.forEach((row, index) => {
      expect(row[0]! - without[index]![0]!).toBeCloseTo(1, 5);
      expect(row[1]! - without[index]![1]!).toBeCloseTo(0, 5);
    });
    expect(before).not.toEqual(without);
    tf.dispose(inputs);
    deep.dispose();
    wide.dispose();
  });

  it('beats the majority class by a margin on the generated income table, and predicts the same after saving', async () => {
    const before = tf.memory().numTensors;
    const { rows } = generateTable({ rows: 2000, seed: 3 });
    const schema = inferTabularSchema(rows, { target: 'income', source: 'generated' });
    const split = randomSplitter<number>({ validPct: 0.25, seed: 1 })(Array.from(rows.keys()));
    const processor = TabularProcessor.fit(split.train.map((index) => rows[index]!), schema, { source: 'generated', rowNumbers: split.train.map((index) => index + 2) });
    const data = processor.process(rows, { source: 'generated', withTarget: true });
    const train = tabularTensors(data, processor, split.train);
    const valid = tabularTensors(data, processor, split.valid);
    const model = tabularModel({ cardinalities: processor.cardinalities, continuous: processor.continuousNames.length, outputs: 2, layers: [64, 32], seed: 2 });
    const learner = new Learner({
      model,
      data: { train: new TensorDataLoader(train.inputs, train.targets!, { batchSize: 64, shuffle: true, seed: 1 }), valid: new TensorDataLoader(valid.inputs, valid.targets!, { batchSize: 512 }) },
      loss: crossEntropyLoss(),
      metrics: [accuracy()],
      seed: 1,
    });
    await learner.fitOneCycle(5, 1e-2, { weightDecay: 0.01 });
    const validAccuracy = learner.recorder.epochs.at(-1)!.metrics.accuracy!;
    const positives = split.valid.filter((index) => rows[index]!.income === '>50K').length / split.valid.length;
    const majority = Math.max(positives, 1 - positives);
    expect(validAccuracy).toBeGreaterThan(majority + 0.1);
    expect(validAccuracy).toBeGreaterThan(0.85);

    const predictor = new RowPredictor(model, processor);
    const examples = split.valid.slice(0, 20).map((index) => rows[index]!);
    const predictions = predictor.predictBatch(examples);
    const directory = join(mkdtempSync(join(tmpdir(), 'kindling-tabular-')), 'model');
    await saveLayersModel(model, directory);
    const loaded = await loadLayersModel(directory);
    const reloaded = new RowPredictor(loaded, TabularProcessor.fromJSON(JSON.parse(JSON.stringify(processor))));
    expect(reloaded.predictBatch(examples)).toEqual(predictions);
    expect(await reloaded.predictBatchAsync(examples)).toEqual(predictions);
    const one = predictor.predict({ age: 50, education: 'Doctorate', occupation: 'Exec-managerial', hours_per_week: 60, capital_gain: 20_000, start_date: '2011-05-01', region: 'mars' });
    expect(one).toMatchObject({ kind: 'classification', label: '>50K' });
    learner.dispose();
    model.dispose();
    loaded.dispose();
    tf.dispose([...train.inputs, train.targets!, ...valid.inputs, valid.targets!]);
    expect(tf.memory().numTensors).toBe(before);
  });
}, [fastestTestBackend()]);
