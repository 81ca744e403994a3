import * as tf from '@tensorflow/tfjs';
import { TensorDataLoader } from '@kindling/data';
import { describeEachBackend } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { updateBatchNorm } from './batch-norm';
import { fromLayersModel } from './parameters';

describeEachBackend('updateBatchNorm', () => {
  it('sets the statistics to the plain mean over the batches, also inside a nested model, and changes nothing else', async () => {
    // body: dense(2→2) then batch norm, nested in the outer model, which adds its own batch norm on top
    const body = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 2, kernelInitializer: 'identity', useBias: false, name: 'linear' }), tf.layers.batchNormalization({ momentum: 0.9, name: 'inner_bn' })],
    });
    const input = tf.input({ shape: [2] });
    const output = tf.layers.batchNormalization({ momentum: 0.7, name: 'outer_bn' }).apply(body.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    // three batches of two rows
    const rows = [
      [1, 10],
      [3, 14],
      [5, 0],
      [9, 2],
      [-2, 4],
      [0, 8],
    ];
    const loader = new TensorDataLoader(tf.tensor2d(rows), tf.zeros([6]), { batchSize: 2, shuffle: false });
    const kernelBefore = await body.getLayer('linear').getWeights()[0]!.data();
    const seen = await updateBatchNorm(fromLayersModel(model), loader);
    expect(seen).toBe(3);
    // per batch, per column: mean and (biased) variance; the statistics are their plain means
    const batches = [rows.slice(0, 2), rows.slice(2, 4), rows.slice(4, 6)];
    const column = (batch: number[][], c: number) => batch.map((row) => row[c]!);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const variance = (values: number[]) => mean(values.map((v) => (v - mean(values)) ** 2));
    const expectedMean = [0, 1].map((c) => mean(batches.map((batch) => mean(column(batch, c)))));
    const expectedVariance = [0, 1].map((c) => mean(batches.map((batch) => variance(column(batch, c)))));
    const [, , innerMean, innerVariance] = body.getLayer('inner_bn').getWeights();
    expect(Array.from(await innerMean!.data())).toEqual(expectedMean.map((value) => expect.closeTo(value, 4)));
    expect(Array.from(await innerVariance!.data())).toEqual(expectedVariance.map((value) => expect.closeTo(value, 3)));
    // the outer layer sees the inner one's training-mode output: per batch, mean 0 and variance ≈ 1
    const [, , outerMean, outerVariance] = model.getLayer('outer_bn').getWeights();
    for (const value of await outerMean!.data()) expect(value).toBeCloseTo(0, 4);
    for (const value of await outerVariance!.data()) expect(value).toBeGreaterThan(0.95);
    // the rates are put back, the other weights untouched
    expect((body.getLayer('inner_bn') as unknown as { momentum: number }).momentum).toBe(0.9);
    expect((model.getLayer('outer_bn') as unknown as { momentum: number }).momentum).toBe(0.7);
    expect(Array.from(await body.getLayer('linear').getWeights()[0]!.data())).toEqual(Array.from(kernelBefore));
    model.dispose();
    tf.dispose([loader.inputs as tf.Tensor, loader.targets]);
  });

  it('does nothing without batch norm, and names a model with no layers', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    const loader = new TensorDataLoader(tf.ones([4, 2]), tf.zeros([4]), { batchSize: 2 });
    expect(await updateBatchNorm(model, loader)).toBe(0);
    const plain = { forward: (x: tf.Tensor | tf.Tensor[]) => x as tf.Tensor, parameterGroups: () => [], weights: () => [] };
    await expect(updateBatchNorm(plain, loader)).rejects.toThrow('no layers model underneath');
    const before = tf.memory().numTensors;
    await expect(updateBatchNorm(model, loader, { passes: 0 })).rejects.toThrow('passes must be a whole number');
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    tf.dispose([loader.inputs as tf.Tensor, loader.targets]);
  });
});
