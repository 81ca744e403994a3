import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerGradientFixes } from './gradient-fixes';
import { initBackend } from './init-backend';

describe('gradient fixes', () => {
  it("Mean's and Sum's gradients equal tfjs's exactly, over axes and keepDims, on cpu and wasm", async () => {
    const cases: Array<{ shape: number[]; axis?: number | number[]; keepDims?: boolean }> = [
      { shape: [4, 3, 5, 2], axis: [0, 1, 2] },
      { shape: [4, 3, 5, 2], axis: -1, keepDims: true },
      { shape: [6, 7], axis: 0 },
      { shape: [6, 7] },
      { shape: [5], axis: 0, keepDims: true },
      { shape: [2, 3, 4], axis: [2, 0] },
    ];
    const gradients = () =>
      tf.tidy(() =>
        cases.flatMap(({ shape, axis, keepDims }) => {
          const x = tf.randomUniform(shape, -2, 2, 'float32', 7);
          const weights = tf.randomUniform(tf.mean(x, axis, keepDims).shape, -1, 1, 'float32', 8);
          const ofMean = tf.grad((v: tf.Tensor) => tf.mean(v, axis, keepDims).mul(weights).sum())(x);
          const ofSum = tf.grad((v: tf.Tensor) => tf.sum(v, axis, keepDims).mul(weights).sum())(x);
          return [ofMean.arraySync(), ofSum.arraySync()];
        }),
      );
    const original = [tf.getGradient('Mean'), tf.getGradient('Sum')]; // tfjs's own: no initBackend has run in this file
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend({ backend, log: false }); // registers the fixes
      expect(tf.getBackend()).toBe(backend);
      expect(tf.getGradient('Mean')).not.toBe(original[0]);
      expect(registerGradientFixes()).toEqual([]);
      const before = tf.memory().numTensors;
      const fixed = gradients();
      expect(tf.memory().numTensors).toBe(before);
      for (const config of original) tf.registerGradient(config);
      const reference = gradients();
      expect(fixed).toEqual(reference);
      expect(registerGradientFixes()).toEqual(['Mean', 'Sum']);
    }
  });
});
