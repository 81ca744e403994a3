import * as tf from '@tensorflow/tfjs';
import { backendLabel, startBenchBackend } from './threads';
import { TensorDataLoader } from '@kindling/data';
import { adam, crossEntropyLoss, Learner } from '@kindling/learner';
import { printTable } from './table';

/** A small CNN for 32×32 grey images: small enough that per-step overhead would show. */
function smallCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 16, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

const BATCHES = 24;
const BATCH_SIZE = 32;

async function rawFit(x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = smallCnn();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) });
  const oneHot = tf.oneHot(y, 10);
  await model.fit(x, oneHot, { epochs: 1, batchSize: BATCH_SIZE, shuffle: false, verbose: 0 }); // warm-up
  const start = performance.now();
  await model.fit(x, oneHot, { epochs: 2, batchSize: BATCH_SIZE, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  model.optimizer.dispose();
  model.dispose();
  oneHot.dispose();
  return (2 * BATCHES * BATCH_SIZE) / seconds;
}

async function learnerFit(x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = smallCnn();
  const learner = new Learner({
    model,
    data: { train: new TensorDataLoader(x, y, { batchSize: BATCH_SIZE, shuffle: true, seed: 1 }) },
    loss: crossEntropyLoss(),
    optimizer: adam({ lr: 1e-3, momentum: 0.9, squareMomentum: 0.999, epsilon: 1e-7, weightDecay: 0 }),
  });
  await learner.fit(1); // warm-up
  const start = performance.now();
  await learner.fit(2);
  const seconds = (performance.now() - start) / 1000;
  learner.dispose();
  model.dispose();
  return (2 * BATCHES * BATCH_SIZE) / seconds;
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The Learner's overhead over tf.LayersModel.fit: same model, data, optimizer and backend, alternating runs. */
export async function benchLearnerOverhead(): Promise<void> {
  const report = await startBenchBackend();
  console.log(`\n## Learner overhead over tf.LayersModel.fit (small CNN, 32×32×1, batch 32, Adam, ${backendLabel(report)})\n`);
  const x = tf.randomUniform([BATCHES * BATCH_SIZE, 32, 32, 1], 0, 1, 'float32', 5);
  const y = tf.randomUniform([BATCHES * BATCH_SIZE], 0, 10, 'int32', 6);
  const raw: number[] = [];
  const learner: number[] = [];
  for (let round = 0; round < 3; round++) {
    raw.push(await rawFit(x, y));
    learner.push(await learnerFit(x, y));
  }
  tf.dispose([x, y]);
  const [rawMedian, learnerMedian] = [median(raw), median(learner)];
  printTable(
    ['loop', 'images/s (median of 3)', 'runs', 'overhead'],
    [
      ['tf.LayersModel.fit (baseline)', rawMedian.toFixed(1), raw.map((v) => v.toFixed(0)).join(' '), ''],
      ['Kindling Learner.fit', learnerMedian.toFixed(1), learner.map((v) => v.toFixed(0)).join(' '), `${((rawMedian / learnerMedian - 1) * 100).toFixed(1)}%`],
    ],
  );
}
