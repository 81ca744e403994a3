import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { TensorDataLoader } from '@kindling/data';
import { ClassificationInterpretation, lossChart, lrFindChart } from './interpretation';
import { Learner } from './learner';
import { crossEntropyLoss } from './losses';
import { fromFunction } from './parameters';
import { progressBar, renderChartPng, renderConfusionMatrixPng } from './node';
import { blobLoaders, mlp } from './test-fixtures';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

describeEachBackend('interpretation', () => {
  it('confusion matrix, most confused pairs and top losses match a hand-made case', async () => {
    // The "model" returns its input as logits, so predictions are exactly what the test says.
    const logits = tf.tensor2d([
      [5, 0, 0], // actual 0 → 0
      [0, 5, 0], // actual 0 → 1 (confident and wrong: top loss)
      [0, 1, 0], // actual 1 → 1
      [0, 2, 1], // actual 2 → 1
      [0, 1, 2], // actual 2 → 2
      [0, 3, 0], // actual 2 → 1
    ]);
    const targets = tf.tensor1d([0, 0, 1, 2, 2, 2], 'int32');
    const identity = fromFunction({ weights: { unused: tf.variable(tf.zeros([1])) } }, (x) => (x as tf.Tensor).clone());
    const learner = new Learner({
      model: identity,
      data: { train: new TensorDataLoader(logits, targets), valid: new TensorDataLoader(logits, targets, { batchSize: 4 }) },
      loss: crossEntropyLoss(),
    });
    const interpretation = await ClassificationInterpretation.fromLearner(learner, ['cat', 'dog', 'fox']);
    expect(interpretation.confusionMatrix).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [0, 2, 1],
    ]);
    expect(interpretation.mostConfused()).toEqual([
      { actual: 'fox', predicted: 'dog', count: 2 },
      { actual: 'cat', predicted: 'dog', count: 1 },
    ]);
    const [top] = interpretation.topLosses(1);
    expect(top).toMatchObject({ index: 1, actual: 'cat', predicted: 'dog' });
    expect(top!.loss).toBeCloseTo(-(0 - Math.log(Math.exp(5) + 2)), 4);
    const png = await renderConfusionMatrixPng(interpretation.classes, interpretation.confusionMatrix);
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    learner.dispose();
    tf.dispose([logits, targets]);
  });

  it('test-time augmentation averages the class probabilities of each view, without leaking tensors', async () => {
    // the identity "model" again: a view's logits are the view itself
    const logits = tf.tensor2d([
      [2, 0],
      [0, 1],
      [1, 1],
    ]);
    const targets = tf.tensor1d([0, 1, 0], 'int32');
    const identity = fromFunction({ weights: { unused: tf.variable(tf.zeros([1])) } }, (x) => (x as tf.Tensor).clone());
    const learner = new Learner({ model: identity, data: { train: new TensorDataLoader(logits, targets), valid: new TensorDataLoader(logits, targets, { batchSize: 2 }) }, loss: crossEntropyLoss() });
    const before = tf.memory().numTensors;
    // views: the logits and the logits with their columns swapped (a "mirror")
    const { probabilities, targets: seen } = await learner.tta((inputs) => [inputs.clone(), tf.reverse(inputs, 1)]);
    const softmax = (row: number[]) => row.map((value) => Math.exp(value) / row.reduce((sum, other) => sum + Math.exp(other), 0));
    const expected = [
      [2, 0],
      [0, 1],
      [1, 1],
    ].map((row) => softmax(row).map((value, k) => (value + softmax(row.slice().reverse())[k]!) / 2));
    const values = (await probabilities.array()) as number[][];
    values.forEach((row, i) => row.forEach((value, k) => expect(value).toBeCloseTo(expected[i]![k]!, 5)));
    expect(Array.from(await seen.data())).toEqual([0, 1, 0]);
    tf.dispose([probabilities, seen]);
    expect(tf.memory().numTensors).toBe(before);
    learner.dispose();
    tf.dispose([logits, targets]);
  });

  it('loss and lr-finder curves render as PNG, and the progress bar draws to a stream', async () => {
    const data = blobLoaders(7);
    const model = mlp(61);
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 }); // cli-progress draws bars on terminals only
    let written = '';
    stream.on('data', (chunk) => (written += chunk));
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), callbacks: [progressBar({ stream })] });
    await learner.fit(2);
    const fitOutput = written;
    const chart = lossChart(learner);
    expect(chart.series[0]!.points).toHaveLength(2 * data.train.length);
    expect(chart.series[2]!.points).toHaveLength(2);
    const png = await renderChartPng(chart);
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    const width = new DataView(png.buffer, png.byteOffset).getUint32(16);
    expect(width).toBe(640);
    const finder = await learner.lrFind({ iterations: 30 });
    expect(Array.from((await renderChartPng(lrFindChart(finder))).subarray(0, 8))).toEqual(PNG_SIGNATURE);
    // a long run's per-batch series: more points than a function call takes arguments
    const long = { ...chart, series: [{ ...chart.series[0]!, points: Array.from({ length: 300_000 }, (_, i): [number, number] => [i, 1 / (i + 1)]) }] };
    expect(Array.from((await renderChartPng(long)).subarray(0, 8))).toEqual(PNG_SIGNATURE);
    expect(written).toMatch(/epoch 1 {2}train loss \d\.\d{4} {2}valid loss \d\.\d{4}/);
    expect(written).toMatch(/epoch 2\/2 train/);
    // said once, early (in the second epoch, whose steps run at the pace of the rest): the whole fit's time
    expect(fitOutput.match(/training: about (\d+ min )?\d+ s to go \(16 steps at (\d+ ms|\d+\.\d s) each, and validation; at the pace of the latest steps\)\n/g)).toHaveLength(1);
    expect(fitOutput.indexOf('training: about')).toBeLessThan(fitOutput.indexOf('epoch 2  train loss'));
    learner.dispose();
    model.dispose();
    data.dispose();
  });
});
