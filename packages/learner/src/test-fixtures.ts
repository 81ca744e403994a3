import * as tf from '@tensorflow/tfjs';
import { TensorDataLoader } from '@kindling/data';
import { stableWeights } from './parameters';
import { Random } from '@kindling/data';

/**
 * A learnable synthetic task for tests: 3 classes of points in 6 dimensions, each class a Gaussian
 * blob around its own centre; 2 of the dimensions are noise.
 */
export function blobs(count: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const random = new Random(seed);
  const centres = [
    [2, 0, 0, 1],
    [0, 2, 0, -1],
    [0, 0, 2, 0],
  ];
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const features: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    for (const value of centres[label]!) features.push(value + gaussian() * 0.8);
    features.push(gaussian(), gaussian());
    labels.push(label);
  }
  return { x: tf.tensor2d(features, [count, 6]), y: tf.tensor1d(labels, 'int32') };
}

/** A small MLP with seeded initial weights, so two builds with one seed are the same model. */
export function mlp(seed: number, units = 16): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** Train and validation loaders over blobs. */
export function blobLoaders(seed = 1, batchSize = 32): { train: TensorDataLoader; valid: TensorDataLoader; dispose: () => void } {
  const train = blobs(240, seed);
  const valid = blobs(120, seed + 100);
  return {
    train: new TensorDataLoader(train.x, train.y, { batchSize, shuffle: true, seed }),
    valid: new TensorDataLoader(valid.x, valid.y, { batchSize: 60 }),
    dispose: () => tf.dispose([train.x, train.y, valid.x, valid.y]),
  };
}

/** The model's weights as plain arrays, in creation order (stable when layers are frozen). */
export async function weightValues(model: tf.LayersModel): Promise<number[][]> {
  // asynchronous reads: the suites also run on WebGPU in Node, where a synchronous one cannot
  return Promise.all(stableWeights(model).map(async (weight) => Array.from(await weight.read().data())));
}
