import { generateSegmentationDataset } from '@kindling/image/node';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { fastestTestBackend } from '@kindling/backend/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predict, useBackend } from './fixtures/test-support';
import { trainSegment, type TrainSegmentOptions } from './train-segment';

const options = (out: string): TrainSegmentOptions => ({
  maskMode: 'index',
  maskSuffix: '',
  size: 32,
  widths: [8, 16, 32],
  upsampling: 'transpose',
  dice: true,
  epochs: 4,
  lr: 1e-2,
  batchSize: 8,
  validPct: 0.2,
  seed: 1,
  out,
});

beforeAll(async () => {
  await useBackend(fastestTestBackend());
});

describe('kindling train segment', () => {
  it('trains a U-Net on generated scenes and writes the model, the coloured prediction and its overlay', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-segment-cli-'));
    const scenes = await generateSegmentationDataset(join(root, 'scenes'), { count: 120, size: 32, seed: 3 });
    const result = await trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(scenes, 'codes.txt'), epochs: 8 });
    expect(result.pixelAccuracy).toBeGreaterThan(0.75); // background alone is about 0.7 of the pixels
    expect(result.beatsBaseline).toBe(true);
    // a run that cannot learn (one epoch at a vanishing rate) is flagged: no better than every pixel 'background'
    const untrained = await trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'untrained')), codes: join(scenes, 'codes.txt'), epochs: 1, lr: 1e-9 });
    expect(untrained.beatsBaseline).toBe(false);
    expect(Object.keys(result.dicePerClass)).toEqual(['background', 'circle', 'square', 'triangle']);
    // per-class IoU beside the mean: in the result and the bundle, and the mean is theirs
    expect(Object.keys(result.iouPerClass)).toEqual(['background', 'circle', 'square', 'triangle']);
    const ious = Object.values(result.iouPerClass).filter((value) => !Number.isNaN(value));
    expect(result.meanIoU).toBeCloseTo(ious.reduce((sum, value) => sum + value, 0) / ious.length, 5);
    for (const [code, value] of Object.entries(result.iouPerClass)) expect(value, code).toBeLessThanOrEqual(result.dicePerClass[code]! + 1e-9); // IoU ≤ Dice, always
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.task.codes).toHaveLength(4);
    expect(manifest.metrics.iou).toEqual(JSON.parse(JSON.stringify(result.iouPerClass)));
    for (const file of ['model.json', 'prediction.png', 'overlay.png', 'loss.png']) expect(existsSync(join(root, 'out', file)), file).toBe(true);
    expect((await sharp(join(root, 'out', 'overlay.png')).metadata()).width).toBe(32);
    const [answer] = await predict(join(root, 'out'), [join(scenes, 'images', '0000.png')]);
    expect(Object.keys((answer!.prediction as { coverage: object }).coverage)).toEqual(['background', 'circle', 'square', 'triangle']);
    // the bundle knows what its training scenes looked like: a scene is answered plainly, a blank page and noise "not sure"
    expect(manifest.task.familiarity.ranges.detail).toHaveLength(2);
    expect((answer!.prediction as { notSure?: string }).notSure).toBeUndefined();
    const blank = join(root, 'blank.png');
    const noise = join(root, 'noise.png');
    await sharp(Buffer.alloc(32 * 32 * 3, 255), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(blank);
    await sharp(Buffer.from(Array.from({ length: 32 * 32 * 3 }, (_, index) => (index * 7919) % 251)), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(noise);
    for (const { prediction } of await predict(join(root, 'out'), [blank, noise])) expect((prediction as { notSure?: string }).notSure).toMatch(/^unlike the training inputs: /);
  });

  it('trains on random crops with averaged weights, validating every third epoch and the last, and names a crop the U-Net cannot take', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-segment-crop-'));
    const scenes = await generateSegmentationDataset(join(root, 'scenes'), { count: 120, size: 32, seed: 5 });
    const lines: string[] = [];
    {
      const result = await trainSegment(join(scenes, 'images'), join(scenes, 'masks'), {
        ...options(join(root, 'out')),
        codes: join(scenes, 'codes.txt'),
        epochs: 8,
        crop: 16,
        average: true,
        validateEvery: 3,
        log: (line) => void lines.push(line),
      });
      expect(result.pixelAccuracy).toBeGreaterThan(0.8); // the averaged weights' score; background alone is about 0.7
      const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
      expect(manifest.training).toMatchObject({ crop: 16, averagedWeights: true });
      expect(manifest.preprocessing?.size ?? manifest.task.preprocessing.size).toBe(32); // whole pictures at prediction
      const table = lines.find((line) => line.includes('pixel accuracy') && line.includes('│'))!;
      const rows = table.split('\n').filter((line) => /^│ \d+ /.test(line));
      expect(rows).toHaveLength(8);
      expect(rows.map((row) => !row.includes('—'))).toEqual([false, false, true, false, false, true, false, true]); // epochs 3, 6 and the last validated
      expect(lines.some((line) => line.startsWith('weights averaged over the second half: pixel accuracy'))).toBe(true);
    }
    await expect(trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(scenes, 'codes.txt'), crop: 18 })).rejects.toThrow('crop must be a whole number up to size (32) and divisible by 4 for 3 levels (got 18)');
    await expect(trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(scenes, 'codes.txt'), average: true, earlyStop: 2 })).rejects.toThrow('average and earlyStop each choose the weights the run ends with');
    await expect(trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(scenes, 'codes.txt'), size: 1_000_000 })).rejects.toThrow('size must be a whole number of pixels from 1 to 4096, or auto, not 1000000');
  });

  it('sizes a run by its masks: the size from the thinnest class, their shape kept, the Dice loss for a rare one, the batch from the pictures', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-segment-auto-'));
    // 80×60 pictures: background, and a bar two pixels wide (2.5% of the pixels) somewhere across each
    for (const folder of ['images', 'masks']) mkdirSync(join(root, folder));
    for (let index = 0; index < 12; index++) {
      const [pixels, mask] = [new Uint8Array(80 * 60 * 3).fill(40), new Uint8Array(80 * 60)];
      const x = 5 + ((index * 11) % 70);
      for (let y = 0; y < 60; y++) {
        for (const column of [x, x + 1]) {
          mask[y * 80 + column] = 1;
          pixels.fill(220, (y * 80 + column) * 3, (y * 80 + column) * 3 + 3);
        }
      }
      const name = `${String(index).padStart(2, '0')}.png`;
      await sharp(Buffer.from(pixels), { raw: { width: 80, height: 60, channels: 3 } }).png().toFile(join(root, 'images', name));
      await sharp(Buffer.from(mask), { raw: { width: 80, height: 60, channels: 1 } }).png().toFile(join(root, 'masks', name));
    }
    writeFileSync(join(root, 'codes.txt'), 'background\nbar\n');
    const lines: string[] = [];
    await trainSegment(join(root, 'images'), join(root, 'masks'), { ...options(join(root, 'out')), codes: join(root, 'codes.txt'), size: 'auto', dice: 'auto', batchSize: 'auto', epochs: 2, classWeights: true, log: (line) => void lines.push(line) });
    expect(lines).toContain(
      "size 80×60 (the masks are 80×60, their shape kept; the thinnest class, 'bar', is 2.0 pixels wide: kept at full size); loss: cross-entropy + Dice (rare classes: bar 2.5%), class weights background 0.28, bar 1.72; schedule: 10 training items → batch 2 (about 16 batches an epoch, within 2–8), 2 epochs (asked for): 10 steps",
    );
    // bars on both sides of the pictures: mirror images keep their class
    expect(lines.find((line) => line.startsWith('augmentation: '))).toMatch(/^augmentation: flips \(every class lies on both sides; the most one-sided, '\w+', \d+% on the (left|right)\), small rotations, zoom and lighting$/);
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.task.preprocessing).toMatchObject({ size: 80, height: 60 });
    expect((await sharp(join(root, 'out', 'prediction.png')).metadata())).toMatchObject({ width: 80, height: 60 });
    // the predictor takes the pictures in their shape too: a mask of 80×60 for an 80×60 picture, and for a 160×120 one
    const bigger = join(root, 'bigger.png');
    await sharp(join(root, 'images', '03.png')).resize(160, 120, { kernel: 'nearest' }).toFile(bigger);
    for (const { prediction } of await predict(join(root, 'out'), [join(root, 'images', '03.png'), bigger])) {
      const { mask, width, height, inputWidth } = prediction as { mask: ArrayLike<number>; width: number; height: number; inputWidth: number };
      expect({ width, height, pixels: mask.length }).toEqual({ width: 80, height: 60, pixels: 4800 });
      expect([80, 160]).toContain(inputWidth);
    }
    expect(manifest.training).toMatchObject({ epochs: 2, batchSize: 2, diceLoss: true, crop: null, flip: true, classWeights: [expect.closeTo(2 / (1 + Math.sqrt(39)), 6), expect.closeTo((2 * Math.sqrt(39)) / (1 + Math.sqrt(39)), 6)] });
  });

  it('reads colour masks from a codes file with colours, and names a mask value outside the codes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-segment-bad-'));
    const scenes = await generateSegmentationDataset(join(root, 'scenes'), { count: 10, size: 16, seed: 4 });
    writeFileSync(join(root, 'two.txt'), 'background\nshape\n');
    const run = trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(root, 'two.txt'), epochs: 1, validRegex: '^000[0-4]' });
    await expect(run).rejects.toThrow(/masks[/\\]\d{4}\.png: mask value [23] at \(x \d+, y \d+\) is not a class: the codes name 2 \(0–1\)/);
    writeFileSync(join(root, 'colours.txt'), 'background #000000\nshape\n');
    await expect(trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(root, 'colours.txt') })).rejects.toThrow("'shape' has no colour, but other classes do");
    await expect(trainSegment(join(scenes, 'images'), undefined, options(join(root, 'out')))).rejects.toThrow('give both the pictures folder and the masks folder');
    await expect(trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(root, 'two.txt'), validRegex: '(' })).rejects.toThrow(/^validRegex is not a regular expression/);
    await expect(trainSegment(join(scenes, 'images'), join(scenes, 'masks'), { ...options(join(root, 'out')), codes: join(scenes, 'codes.txt'), validRegex: '^section-' })).rejects.toThrow("validRegex '^section-' matches no file name in the folder: nothing would be held out for validation");
  });
});
