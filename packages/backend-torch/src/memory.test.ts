import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { torchSkipReason } from './test-support';

// one libtorch thread: under CI's parallel test processes, spinning OpenMP threads on 2 cores made this 10× slower
const reason = torchSkipReason('torch memory test', 1);

describe.skipIf(reason !== undefined)('1,000 training steps on torch', () => {
  it('leave the tensor count and the resident memory flat, and the loss falls', { timeout: 600_000 }, async () => {
    tf.enableProdMode();
    await tf.setBackend('torch');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, activation: 'relu', padding: 'same' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([16, 16, 16, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
    const losses: number[] = [];
    let tensorsAt = 0;
    let residentAt = 0;
    for (let step = 1; step <= 1000; step++) {
      const loss = (await model.trainOnBatch(x, y)) as number;
      if (step === 1 || step === 1000) losses.push(loss);
      if (step === 200) {
        tensorsAt = tf.memory().numTensors;
        residentAt = process.memoryUsage().rss;
      }
    }
    expect(tf.memory().numTensors).toBe(tensorsAt);
    const grown = (process.memoryUsage().rss - residentAt) / 2 ** 20;
    expect(grown, `resident memory grew ${grown.toFixed(1)} MiB over 800 steps`).toBeLessThan(32);
    expect(losses[1]!).toBeLessThan(losses[0]! * 0.5);
    tf.dispose([x, y]);
    model.dispose();
  });
});
