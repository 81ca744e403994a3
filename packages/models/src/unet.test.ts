import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, fastestTestBackend } from '@kindling/backend/testing';
import { generateSegmentationDataset, segmentationDataLoaders } from '@kindling/image/node';
import { accuracy, crossEntropyLoss, Learner, iou } from '@kindling/learner';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unet, unetFromPretrained } from './unet';

describe('unet', () => {
  it('maps a picture to per-pixel logits through skip connections, from scratch or on a pretrained encoder', () => {
    const model = unet({ inputShape: [32, 48, 3], classes: 5, widths: [8, 16, 32], seed: 1 });
    expect(model.outputs[0]!.shape).toEqual([null, 32, 48, 5]);
    expect(model.layers.filter((layer) => layer.name.endsWith('_skip'))).toHaveLength(2);
    expect(model.layers.some((layer) => layer.getClassName() === 'Conv2DTranspose')).toBe(true);
    const resized = unet({ inputShape: [32, 32, 1], classes: 2, widths: [8, 16], upsampling: 'resize' });
    expect(resized.layers.some((layer) => layer.getClassName() === 'Conv2DTranspose')).toBe(false);
    expect(() => unet({ inputShape: [30, 30, 3], classes: 2, widths: [8, 16, 32] })).toThrow('divisible by 4');
    // fully convolutional: one model takes 16×16 crops and whole 32×48 pictures
    const anySize = unet({ inputShape: [null, null, 1], classes: 2, widths: [8, 16, 32], seed: 2 });
    expect(anySize.outputs[0]!.shape).toEqual([null, null, null, 2]);
    const [crop, whole] = tf.tidy(() => [(anySize.predict(tf.ones([2, 16, 16, 1])) as tf.Tensor).shape, (anySize.predict(tf.ones([1, 32, 48, 1])) as tf.Tensor).shape]);
    expect([crop, whole]).toEqual([[2, 16, 16, 2], [1, 32, 48, 2]]);
    anySize.dispose();
    // a small "pretrained" encoder, cut at named layers
    const input = tf.input({ shape: [32, 32, 3] });
    const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'stage1' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', name: 'stage2' }).apply(a) as tf.SymbolicTensor;
    const pretrained = tf.model({ inputs: input, outputs: b });
    const transfer = unetFromPretrained(pretrained, { skipLayers: ['stage1'], bottleneckLayer: 'stage2', classes: 3 });
    expect(transfer.outputs[0]!.shape).toEqual([null, 32, 32, 3]);
    expect(() => unetFromPretrained(pretrained, { skipLayers: ['nope'], bottleneckLayer: 'stage2', classes: 3 })).toThrow("no layer 'nope'");
    [model, resized, transfer].forEach((m) => m.dispose());
  });
});

describeEachBackend('unet training', () => {
  it('learns to segment generated scenes from random weights past a mean-IoU bar', async () => {
    const before = tf.memory().numTensors;
    const root = await generateSegmentationDataset(join(mkdtempSync(join(tmpdir(), 'kindling-unet-')), 'scenes'), { count: 200, size: 32, seed: 5 });
    const codes = ['background', 'circle', 'square', 'triangle'];
    const data = await segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes, size: 32, batchSize: 8, validPct: 0.2, seed: 1 });
    const model = unet({ inputShape: [32, 32, 3], classes: 4, widths: [16, 32, 64], seed: 2 });
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), metrics: [accuracy({ name: 'pixelAccuracy' }), iou()], seed: 1 });
    await learner.fitOneCycle(12, 1e-2);
    const final = learner.recorder.epochs.at(-1)!;
    expect(final.trainLoss).toBeLessThan(learner.recorder.epochs[0]!.trainLoss);
    expect(final.metrics.pixelAccuracy!).toBeGreaterThan(0.9);
    expect(final.metrics.meanIoU!).toBeGreaterThan(0.5); // measured 0.62 (background, circle, square, triangle)
    learner.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
}, [fastestTestBackend()]);
