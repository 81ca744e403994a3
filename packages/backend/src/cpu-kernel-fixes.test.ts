import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend';

describe('cpu kernel fixes', () => {
  it('tf.image.transform warps every picture of a batch, as one-by-one and the wasm backend do', async () => {
    const report = await initBackend({ backend: 'cpu', log: false });
    expect(tf.getBackend()).toBe('cpu');
    expect(report.addedKernels.length + (await initBackend({ backend: 'cpu', log: false })).addedKernels.length).toBe(1);
    // three different pictures, three different warps (shift, flip, rotation + zoom)
    const images = tf.tidy(() => tf.randomUniform([3, 9, 7, 2], 0, 1, 'float32', 4)) as tf.Tensor4D;
    const matrices = [
      [1, 0, 1.5, 0, 1, -2, 0, 0],
      [-1, 0, 6, 0, 1, 0, 0, 0],
      [0.8, -0.3, 1, 0.3, 0.8, 0.5, 0, 0],
    ];
    const warp = (interpolation: 'bilinear' | 'nearest') => {
      const batch = tf.tidy(() => tf.image.transform(images, tf.tensor2d(matrices), interpolation, 'reflect').arraySync());
      const single = matrices.map((matrix, index) => tf.tidy(() => tf.image.transform(images.slice(index, 1), tf.tensor2d([matrix]), interpolation, 'reflect').arraySync()[0]));
      return { batch, single };
    };
    const before = tf.memory().numTensors;
    const cpu = { bilinear: warp('bilinear'), nearest: warp('nearest') };
    expect(tf.memory().numTensors).toBe(before);
    expect(cpu.bilinear.batch).toEqual(cpu.bilinear.single);
    expect(cpu.nearest.batch).toEqual(cpu.nearest.single);
    // the last picture is not all fill (the bug returned zeros for every picture after the first)
    expect(Math.max(...cpu.bilinear.batch[2]!.flat(2))).toBeGreaterThan(0.5);
    const saved = images.arraySync();
    await initBackend({ backend: 'wasm', log: false });
    const onWasm = tf.tensor4d(saved);
    // 'constant' fill: wasm's 'reflect' is wrong past the top and left edges (@kindling/image pads instead)
    const wasm = tf.tidy(() => tf.image.transform(onWasm, tf.tensor2d(matrices), 'bilinear', 'constant').arraySync());
    const cpuConstant = await (async () => {
      await initBackend({ backend: 'cpu', log: false });
      return tf.tidy(() => tf.image.transform(images, tf.tensor2d(matrices), 'bilinear', 'constant').arraySync());
    })();
    onWasm.dispose();
    const difference = Math.max(...wasm.flat(3).map((value, index) => Math.abs(value - cpuConstant.flat(3)[index]!)));
    expect(difference).toBeLessThan(1e-5);
    images.dispose();
  });
});
