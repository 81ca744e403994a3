import * as tf from '@tensorflow/tfjs';
import { countLeakedTensors, describeEachBackend } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL, batchNormalization } from './batch-norm';

/** Values in [-2, 2) from a seed, the same on every backend. */
function seeded(shape: number[], seed: number, offset = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32) * 4 - 2 + offset;
  }
  return tf.tensor(values, shape);
}

async function expectClose(got: tf.Tensor, want: tf.Tensor, what: string, tolerance = 1e-4): Promise<void> {
  expect(got.shape, what).toEqual(want.shape);
  const [a, b] = [await got.data(), await want.data()]; // no synchronous reads: webgpu in Node refuses them
  let scale = 1;
  for (const value of b) scale = Math.max(scale, Math.abs(value));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst / scale, `${what}: largest difference ${worst} (scale ${scale})`).toBeLessThan(tolerance);
}

/** A layer of each kind on the same weights (gamma, beta and moving statistics away from their defaults). */
function twinLayers(shape: number[]): { fused: tf.layers.Layer; plain: tf.layers.Layer } {
  const channels = shape[shape.length - 1]!;
  const fused = batchNormalization({ momentum: 0.9 });
  const plain = tf.layers.batchNormalization({ momentum: 0.9 });
  for (const layer of [fused, plain]) {
    layer.build([null, ...shape.slice(1)]);
    layer.setWeights([seeded([channels], 1), seeded([channels], 2), seeded([channels], 3), tf.abs(seeded([channels], 4, 0.1))]);
  }
  return { fused, plain };
}

/** A training pass through `layer` with a loss that weighs each output: [loss, dGamma, dBeta, dx] (two passes: the moving statistics move twice). */
function trainingPass(layer: tf.layers.Layer, x: tf.Tensor, weights: tf.Tensor): tf.Tensor[] {
  const loss = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, weights)) as tf.Scalar;
  const [gamma, beta] = layer.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => loss(x), [gamma!, beta!]);
  const dx = tf.grad(loss)(x);
  return [value, grads[gamma!.name]!, grads[beta!.name]!, dx];
}

describeEachBackend('batchNormalization', (backend) => {
  for (const shape of [
    [6, 5, 4, 3],
    [9, 5],
  ]) {
    it(`trains as TF.js's layer on [${shape.join(',')}]: outputs, every gradient and the moving statistics${backend === 'torch' ? ', in one kernel each way' : ''}`, async () => {
      const { fused, plain } = twinLayers(shape);
      const x = seeded(shape, 5, 1.5);
      const weights = seeded(shape, 6);
      const [got, want] = [trainingPass(fused, x, weights), trainingPass(plain, x, weights)];
      for (const [index, what] of ['loss', 'dGamma', 'dBeta', 'dx'].entries()) await expectClose(got[index]!, want[index]!, what);
      const [, , fusedMean, fusedVariance] = fused.getWeights();
      const [, , plainMean, plainVariance] = plain.getWeights();
      await expectClose(fusedMean!, plainMean!, 'moving mean');
      await expectClose(fusedVariance!, plainVariance!, 'moving variance');
      // inference is TF.js's own, on the moving statistics
      const [fusedInference, plainInference] = [fused.apply(x) as tf.Tensor, plain.apply(x) as tf.Tensor];
      await expectClose(fusedInference, plainInference, 'inference');
      tf.dispose([fusedInference, plainInference]);
      expect(await countLeakedTensors(() => tf.dispose(trainingPass(fused, x, weights)))).toBe(0);
      if (backend === 'torch') {
        const profile = await tf.profile(() => tf.grad((input: tf.Tensor) => tf.sum(fused.apply(input, { training: true }) as tf.Tensor))(x));
        const names = profile.kernels.map((kernel) => kernel.name);
        expect(names).toContain(BATCH_NORM_TRAINING_KERNEL);
        expect(names).toContain(BATCH_NORM_TRAINING_GRAD_KERNEL);
        expect(names).not.toContain('FusedBatchNorm');
      }
      tf.dispose([...got, ...want, x, weights]);
      for (const layer of [fused, plain]) for (const weight of layer.weights) weight.dispose();
    });
  }

  it("saves as TF.js's BatchNormalization, so a saved model loads anywhere as the plain layer", async () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const model = tf.model({ inputs: input, outputs: batchNormalization({ name: 'bn' }).apply(input) as tf.SymbolicTensor });
    const layers = (model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string }> } }).config.layers;
    expect(layers.map((layer) => layer.class_name)).toEqual(['InputLayer', 'BatchNormalization']);
    expect(model.getLayer('bn').getClassName()).toBe('BatchNormalization');
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.getLayer('bn').getClassName()).toBe('BatchNormalization');
    model.dispose();
    loaded.dispose();
  });
});
