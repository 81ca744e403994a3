import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { adam, sgd } from './optimizer';
import type { Parameter } from './parameters';

function parameterOf(variable: tf.Variable): Parameter {
  return { name: variable.name, variable, trainable: true, isBatchNorm: false };
}

describeEachBackend('optimizers', () => {
  it('AdamW matches the update rule by hand over two steps, with decoupled weight decay', async () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const optimizer = adam({ lr: 0.1, momentum: 0.9, squareMomentum: 0.99, epsilon: 1e-5, weightDecay: 0.5 });
    optimizer.setGroupCount(1);
    const gradients = [[0.5, -1], [0.25, 2]];
    let m = [0, 0];
    let v = [0, 0];
    let expected = [1, -2];
    gradients.forEach((g, stepIndex) => {
      const step = stepIndex + 1;
      const gradient = tf.tensor1d(g);
      optimizer.step([[parameterOf(w)]], { [w.name]: gradient });
      gradient.dispose();
      m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]!);
      v = v.map((vi, i) => 0.99 * vi + 0.01 * g[i]! ** 2);
      expected = expected.map((p, i) => p * (1 - 0.1 * 0.5) - (0.1 * (m[i]! / (1 - 0.9 ** step))) / (Math.sqrt(v[i]! / (1 - 0.99 ** step)) + 1e-5));
    });
    const actual = Array.from(await w.data());
    expect(actual[0]).toBeCloseTo(expected[0]!, 5);
    expect(actual[1]).toBeCloseTo(expected[1]!, 5);
    optimizer.dispose();
    w.dispose();
  });

  it('SGD with momentum, and a frozen parameter does not move', async () => {
    const w = tf.variable(tf.tensor1d([1]));
    const frozen = tf.variable(tf.tensor1d([5]));
    const optimizer = sgd({ lr: 0.1, momentum: 0.5 });
    optimizer.setGroupCount(1);
    for (let i = 0; i < 2; i++) {
      const gradients = { [w.name]: tf.tensor1d([1]), [frozen.name]: tf.tensor1d([1]) };
      optimizer.step([[parameterOf(w), { ...parameterOf(frozen), trainable: false }]], gradients);
      tf.dispose(Object.values(gradients));
    }
    // velocity 1 then 1.5: w = 1 − 0.1 − 0.15
    expect((await w.data())[0]).toBeCloseTo(0.75, 6);
    expect((await frozen.data())[0]).toBe(5);
    optimizer.dispose();
    tf.dispose([w, frozen]);
  });
});
