import * as tf from '@tensorflow/tfjs';
import { encodePng, generateShapesDataset } from '@kindling/image/node';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastestTestBackend } from '@kindling/backend/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predict, useBackend } from './fixtures/test-support';
import { chooseArchitecture, trainImage, type TrainImageOptions } from './train-image';

const options = (out: string): TrainImageOptions => ({
  size: 24,
  method: 'crop',
  epochs: 2,
  lr: 5e-3,
  findLr: false,
  batchSize: 16,
  arch: 'resnet-tiny',
  seed: 1,
  out,
  validPct: 0.25,
  onBadFile: 'stop',
});

beforeAll(async () => {
  await useBackend(fastestTestBackend());
});

describe('kindling train image', () => {
  it('the architecture auto: three stages under 10,000 training pictures, a fourth from there; a name asked for is kept', () => {
    expect(chooseArchitecture('auto', 9_999)).toEqual({ name: 'resnet-small', why: 'resnet-small (16-32-64 filters; 9,999 training pictures, under 10,000)' });
    expect(chooseArchitecture('auto', 60_000)).toEqual({ name: 'resnet-medium', why: 'resnet-medium (16-32-64-128 filters; 60,000 training pictures, at least 10,000)' });
    expect(chooseArchitecture('resnet', 60_000).name).toBe('resnet');
  });

  it('trains on a folder and exports the model, its kindling.json, a confusion matrix and a loss curve', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-trainer-'));
    await generateShapesDataset(join(root, 'shapes'), { perClass: 12, size: 32, seed: 4 });
    writeFileSync(join(root, 'shapes', 'star', 'broken.png'), 'not a png');
    const before = tf.memory().numTensors;
    await expect(trainImage(join(root, 'shapes'), options(join(root, 'out')))).rejects.toThrow(`${join(root, 'shapes', 'star', 'broken.png')}: cannot decode as an image`);
    const result = await trainImage(join(root, 'shapes'), { ...options(join(root, 'out')), onBadFile: 'skip', tta: true });
    expect(result.classes).toEqual(['circle', 'square', 'star', 'triangle']);
    for (const file of ['model.json', 'weights.bin', 'kindling.json', 'confusion-matrix.png', 'loss.png']) {
      expect(existsSync(join(root, 'out', file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.task.labels).toEqual(result.classes);
    expect(manifest.task.preprocessing).toMatchObject({ size: 24, method: 'crop', channels: 3 });
    expect(manifest.metrics.accuracy).toBe(result.accuracy);
    // shapes look like themselves in a mirror: flips on, and with tta the bundle answers by picture and mirror
    expect(manifest.training).toMatchObject({ flip: true, tta: true });
    expect(manifest.task.testTimeAugmentation).toBe('mirror');
    expect(manifest.metrics.accuracyWithoutTta).toBeGreaterThanOrEqual(0);
    // `kindling predict` reads the bundle and answers with the classes for picture files
    const pictures = ['circle/0000.png', 'square/0001.png'].map((file) => join(root, 'shapes', file));
    const answers = await predict(join(root, 'out'), pictures);
    expect(answers.map((answer) => answer.input)).toEqual(pictures);
    for (const { prediction } of answers) {
      const { label, probabilities } = prediction as { label: string; probabilities: Record<string, number> };
      expect(result.classes).toContain(label);
      expect(Object.values(probabilities).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    }
    // the bundle knows its training pictures: a white page is answered, but marked "not sure"
    expect(manifest.task.familiarity.ranges.level[0]).toBeLessThan(manifest.task.familiarity.ranges.level[1]);
    expect(manifest.metrics.notSure.share).toBeGreaterThanOrEqual(0);
    const white = join(root, 'white.png');
    writeFileSync(white, await encodePng({ data: new Uint8Array(40 * 40 * 3).fill(255), shape: [40, 40, 3] }));
    const [blank] = await predict(join(root, 'out'), [white]);
    expect((blank!.prediction as { notSure?: string }).notSure).toMatch(/^unlike the training inputs: (darker|brighter|flatter|more contrasted|smoother|more detailed) than any of them \(its (level|contrast|detail) /);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names bad settings and missing folders instead of failing deep inside', async () => {
    await expect(trainImage('/no/such/folder', options('/tmp/kindling-x'))).rejects.toThrow('/no/such/folder: cannot read the folder: ENOENT');
    await expect(trainImage(undefined, { ...options('/tmp/kindling-x'), method: 'stretch' as 'crop' })).rejects.toThrow("method must be crop, pad or squish, not 'stretch'");
    await expect(trainImage(undefined, { ...options('/tmp/kindling-x'), arch: 'vgg' })).rejects.toThrow("unknown arch 'vgg'");
    await expect(trainImage(undefined, { ...options('/tmp/kindling-x'), flip: 'maybe' as 'yes' })).rejects.toThrow("flip must be auto, yes or no, not 'maybe'");
    await expect(trainImage(undefined, { ...options('/tmp/kindling-x'), pretrained: '/tmp/none/model.json', earlyStop: 2 })).rejects.toThrow('earlyStop watches a run from random weights');
  });
});
