import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { softmaxOf } from './predictor';

describe('answering a big batch', () => {
  it('runs it in parts with a turn of the event loop between them, each row answered as in one call', async () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) })] });
    const inputs = tf.randomUniform([40, 16, 16, 3], 0, 1, 'float32', 9);
    const whole = tf.tidy(() => tf.softmax(model.predict(inputs) as tf.Tensor));
    const expected = await whole.data();
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const before = tf.memory().numTensors;
    const parts = await softmaxOf(model, () => inputs.clone());
    clearInterval(ticking);
    expect(tf.memory().numTensors).toBe(before);
    expect(parts.length).toBe(expected.length);
    expect(Math.max(...Array.from(parts, (value, index) => Math.abs(value - expected[index]!)))).toBeLessThan(1e-5);
    expect(turns, 'the event loop ran between the parts').toBeGreaterThan(0);
    tf.dispose([inputs, whole]);
    model.dispose();
  });
});
