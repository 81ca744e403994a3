import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { makeStripes, trainDefault } from './train-default';

describe('the default training job', () => {
  it('generates the same images for the same seed, with balanced classes', () => {
    const a = makeStripes(30, 7);
    const b = makeStripes(30, 7);
    expect(a.images.shape).toEqual([30, 32, 32, 1]);
    expect(Array.from(a.images.dataSync())).toEqual(Array.from(b.images.dataSync()));
    expect(Array.from(a.labels.dataSync()).filter((label) => label === 2)).toHaveLength(10);
    tf.dispose([a.images, a.labels, b.images, b.labels]);
  });

  it('trains from random weights past 90% accuracy on held-out images, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const accuracy = await trainDefault({ backend: 'wasm', epochs: 4, seed: 42, quiet: true });
    expect(accuracy).toBeGreaterThan(0.9);
    expect(tf.memory().numTensors).toBe(before);
  });
});
