import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '@kindling/backend';
import { TensorDataLoader } from '@kindling/data';
import { accuracy, crossEntropyLoss, Learner } from '@kindling/learner';
import { progressBar } from '@kindling/learner/node';

/**
 * A small generated image set: 32×32 pictures of stripes that run horizontally, vertically or
 * diagonally, at random phases, widths and brightness, with noise. Learnable, but only from the
 * spatial pattern, so it needs the convolutions.
 */
export function makeStripes(count: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor1D; classes: string[] } {
  const classes = ['horizontal', 'vertical', 'diagonal'];
  const size = 32;
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pixels = new Float32Array(count * size * size);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % classes.length;
    labels[n] = label;
    const period = 4 + Math.floor(random() * 6);
    const phase = random() * period;
    const contrast = 0.4 + random() * 0.6;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const t = label === 0 ? y : label === 1 ? x : x + y;
        const stripe = Math.sin(((t + phase) / period) * 2 * Math.PI) > 0 ? contrast : 0;
        pixels[(n * size + y) * size + x] = stripe + (random() - 0.5) * 0.5;
      }
    }
  }
  return {
    images: tf.tensor4d(pixels, [count, size, size, 1]),
    labels: tf.tensor1d(labels, 'int32'),
    classes,
  };
}

export async function trainDefault(options: { backend: string; epochs: number; seed: number; quiet?: boolean }): Promise<number> {
  await initBackend({ backend: options.backend as BackendName | 'auto', log: options.quiet ? false : undefined });
  const train = makeStripes(300, options.seed);
  const valid = makeStripes(90, options.seed + 1);
  const seed = options.seed;
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 8, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: train.classes.length, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
  const learner = new Learner({
    model,
    data: {
      train: new TensorDataLoader(train.images, train.labels, { batchSize: 32, shuffle: true, seed }),
      valid: new TensorDataLoader(valid.images, valid.labels, { batchSize: 90 }),
    },
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    callbacks: options.quiet ? [] : [progressBar()],
    seed,
  });
  await learner.fitOneCycle(options.epochs, 2e-2);
  const result = learner.recorder.epochs.at(-1)!.metrics.accuracy!;
  if (!options.quiet) {
    console.log(`validation accuracy ${(result * 100).toFixed(1)}% on ${valid.labels.shape[0]} held-out images (${train.classes.join(', ')})`);
  }
  learner.dispose();
  tf.dispose([train.images, train.labels, valid.images, valid.labels]);
  model.dispose();
  return result;
}
