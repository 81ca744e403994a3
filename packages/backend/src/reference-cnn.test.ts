import * as tf from '@tensorflow/tfjs';

import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendName } from './init-backend';
import { initBackend } from './init-backend-node';
import { swiftShaderAvailability } from './webgpu-node';

/**
 * The reference CNN of the benchmark: 64×64×3 → conv32 3×3 relu → maxpool → conv64 3×3 relu → maxpool → dense 10.
 * Seeded weights: with random ones, a pre-activation now and then lands within rounding of zero, where
 * cpu and wasm may take different sides of the ReLU and the gradients part by far more than rounding.
 */
function referenceCnn(): tf.Sequential {
  const model = tf.sequential();
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
  model.add(tf.layers.conv2d({ inputShape: [64, 64, 3], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(1) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(2) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seeded(3) }));
  return model;
}

/** Read asynchronously: a synchronous read cannot run on WebGPU in Node. */
async function gradients(model: tf.Sequential, x: tf.Tensor, y: tf.Tensor): Promise<Float32Array[]> {
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
  const values = await Promise.all(model.trainableWeights.map(async (weight) => (await grads[weight.originalName]!.data()) as Float32Array));
  tf.dispose([value, ...Object.values(grads)]);
  return values;
}

const webgpu = swiftShaderAvailability();
if (!webgpu.available) console.warn(`kindling: the reference CNN is not checked on Node WebGPU: ${webgpu.reason}`);
/** wasm, and WebGPU in Node through Dawn on SwiftShader (a software adapter: correct, slow) where it can start. */
/** The cpu backend's gradients (pure JavaScript: the slow half of the comparison), shared by every backend's block. */
let cpuGradients: Promise<Float32Array[]> | undefined;

const backends: Array<[BackendName, { gpuAdapter?: string; epochs: number; pictures: number }]> = [
  ['wasm', { epochs: 8, pictures: 32 }],
  ...(webgpu.available ? [['webgpu', { gpuAdapter: 'SwiftShader', epochs: 3, pictures: 4 }] as [BackendName, { gpuAdapter: string; epochs: number; pictures: number }]] : []),
];

describe.each(backends)('the reference CNN trains on %s', (backend, { gpuAdapter, epochs, pictures }) => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
    await initBackend({ backend, gpuAdapter, log: false, wasmThreads: 1 });
  });

  it('gives gradients that match cpu within 1e-4 relative, for every weight', async () => {
    await tf.setBackend('cpu');
    const model = referenceCnn();
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10);
    cpuGradients ??= gradients(model, x, y); // the same seeded model and inputs in every block: computed once
    const onCpu = await cpuGradients;
    await tf.setBackend(backend);
    const onBackend = await gradients(model, x, y);
    expect(onBackend).toHaveLength(6);
    for (const [index, expected] of onCpu.entries()) {
      const actual = onBackend[index]!;
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
        scale = Math.max(scale, Math.abs(expected[i]!));
      }
      expect(scale, model.trainableWeights[index]!.name).toBeGreaterThan(0);
      expect(worst / scale, model.trainableWeights[index]!.name).toBeLessThan(1e-4);
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('fits: the loss falls on a learnable batch, without leaking tensors', async () => {
    await tf.setBackend(backend);
    const model = referenceCnn();
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    // Ten classes told apart by which colour channel is bright in which quadrant.
    const x = tf.tidy(() => {
      const images: tf.Tensor[] = [];
      for (let k = 0; k < pictures; k++) {
        const label = k % 10;
        images.push(tf.randomUniform([64, 64, 3], 0, 0.3, 'float32', k).add(tf.oneHot(label % 3, 3).mul(label / 10 + 0.3)));
      }
      return tf.stack(images);
    });
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: pictures }, (_, k) => k % 10), 'int32'), 10);
    // The first fit creates Adam's moment tensors, which rightly outlive it; the second must add nothing.
    const first = await model.fit(x, y, { epochs: 1, batchSize: pictures, verbose: 0 });
    const before = tf.memory().numTensors;
    const history = await model.fit(x, y, { epochs, batchSize: pictures, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan((first.history.loss![0] as number) * 0.7);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  }, backend === 'webgpu' ? 300_000 : undefined); // SwiftShader runs every kernel on the CPU: four pictures (the loss falls to ~0.3× in 3 steps) take ~11 s alone, 10 took 27 s
});
