import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@kindling/backend';
import { describeEachBackend } from '@kindling/backend/testing';
import { batchesOf, DataError, Random } from '@kindling/data';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, generateShapesDataset, imageFolderDataLoaders, loadImage } from './node';
import { affineMatrices, applyAffine, augmentBatch, drawAffine, resizeImage } from './transforms';

/** A smooth 40×60 RGB test picture: gradients, so resampling kernels agree closely. */
function gradient(height = 40, width = 60): { data: Uint8Array; shape: number[] } {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((x / (width - 1)) * 255);
      data[i + 1] = Math.round((y / (height - 1)) * 255);
      data[i + 2] = Math.round(((x + y) / (width + height - 2)) * 200);
    }
  }
  return { data, shape: [height, width, 3] };
}

function meanAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('decoding with sharp', () => {
  it('PNG decodes losslessly; JPEG within 3/255 on average', async () => {
    const picture = gradient();
    const png = await encodePng(picture);
    const decoded = await loadImage(png);
    expect(decoded.shape).toEqual([40, 60, 3]);
    expect(Array.from(decoded.data)).toEqual(Array.from(picture.data));
    const jpeg = await sharp(Buffer.from(picture.data), { raw: { width: 60, height: 40, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    expect(meanAbsoluteDifference((await loadImage(new Uint8Array(jpeg))).data, picture.data)).toBeLessThan(3);
  });

  it('converts grey and RGBA to the channels asked for', async () => {
    const grey = await sharp({ create: { width: 5, height: 4, channels: 3, background: { r: 90, g: 90, b: 90 } } }).grayscale().png().toBuffer();
    const rgb = await loadImage(new Uint8Array(grey), { channels: 3 });
    expect(rgb.shape).toEqual([4, 5, 3]);
    expect(Array.from(rgb.data.subarray(0, 3))).toEqual([90, 90, 90]);
    const rgba = await sharp({ create: { width: 3, height: 3, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
    expect((await loadImage(new Uint8Array(rgba))).shape).toEqual([3, 3, 3]);
    expect((await loadImage(new Uint8Array(rgba), { channels: 1 })).shape).toEqual([3, 3, 1]);
  });

  it('a corrupt file, a text file and a huge image are DataErrors naming the file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'kindling-bad-images-'));
    const png = await encodePng(gradient());
    writeFileSync(join(directory, 'truncated.png'), png.subarray(0, 60));
    writeFileSync(join(directory, 'notes.png'), 'these are my notes');
    await expect(loadImage(join(directory, 'truncated.png'))).rejects.toThrow(new RegExp(`${join(directory, 'truncated.png')}: cannot decode as an image`));
    await expect(loadImage(join(directory, 'notes.png'))).rejects.toBeInstanceOf(DataError);
    writeFileSync(join(directory, 'big.png'), png);
    await expect(loadImage(join(directory, 'big.png'), { maxPixels: 1000 })).rejects.toThrow(`${join(directory, 'big.png')}: image is larger than 1000 pixels`);
  });

  it('refuses from the header alone a strip of extreme sides, and a picture decoded whole (GIF) past its own limit', async () => {
    const sharp = (await import('sharp')).default;
    const strip = await sharp({ create: { width: 400, height: 4, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
    await expect(loadImage(new Uint8Array(strip), { maxAspect: 64, source: 'upload' })).rejects.toThrow('upload: the picture is 400×4 pixels: its sides are more than 64 times apart, which no picture a model reads is');
    expect((await loadImage(new Uint8Array(strip), { maxAspect: 100 })).shape).toEqual([4, 400, 3]);
    const gif = await sharp({ create: { width: 100, height: 100, channels: 3, background: { r: 9, g: 9, b: 9 } } }).gif().toBuffer();
    await expect(loadImage(new Uint8Array(gif), { maxWholeDecodePixels: 5000 })).rejects.toThrow(/image bytes: a GIF picture of 100×100 pixels \(0\.0 megapixels\) is decoded whole before it can be shrunk/);
    // a PNG of as many pixels streams: the same limit does not apply to it
    const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
    expect((await loadImage(new Uint8Array(png), { maxWholeDecodePixels: 5000 })).shape).toEqual([100, 100, 3]);
  });
});

describeEachBackend('resizing and augmentation', () => {
  it('sharp resize (squish, crop, pad) matches the tensor reference within 2/255 on average, to a square and a rectangle', async () => {
    const picture = gradient();
    const png = await encodePng(picture);
    const original = tf.tensor3d(Float32Array.from(picture.data), [40, 60, 3]);
    for (const method of ['squish', 'crop', 'pad'] as const) {
      const fromSharp = await loadImage(png, { size: 20, method });
      expect(fromSharp.shape).toEqual([20, 20, 3]);
      const reference = resizeImage(original, 20, method);
      expect(meanAbsoluteDifference(fromSharp.data, await reference.data()), method).toBeLessThan(2);
      reference.dispose();
      // to a rectangle (24 wide, 10 tall: wider than the 60×40 picture, so crop cuts rows and pad adds columns)
      const fit = method === 'crop' ? 'cover' : method === 'pad' ? 'contain' : 'fill';
      const rectangle = await sharp(png).resize(24, 10, { fit, kernel: 'linear', background: { r: 0, g: 0, b: 0, alpha: 1 } }).removeAlpha().raw().toBuffer();
      const shaped = resizeImage(original, 24, method, 10);
      expect(shaped.shape).toEqual([10, 24, 3]);
      expect(meanAbsoluteDifference(rectangle, await shaped.data()), `${method}, 24×10`).toBeLessThan(2);
      shaped.dispose();
    }
    original.dispose();
  });

  it('a flip moves a pixel to its mirror, and a mask gets the same geometry as its image', async () => {
    const image = tf.buffer([1, 8, 8, 1]);
    image.set(1, 0, 2, 1, 0);
    const flipped = applyAffine(image.toTensor() as tf.Tensor4D, [{ flip: true, angle: 0, zoom: 1, shiftX: 0, shiftY: 0 }]);
    const values = await flipped.data();
    expect(values[2 * 8 + 6]).toBeCloseTo(1, 5);
    expect(values[2 * 8 + 1]).toBeCloseTo(0, 5);
    flipped.dispose();
    // A bright square and its mask: after random flips, rotations and zooms they still coincide.
    const picture = tf.tidy(() => tf.zeros([4, 32, 32, 1]).add(tf.pad(tf.ones([4, 10, 10, 1]), [[0, 0], [5, 17], [12, 10], [0, 0]])));
    const mask = tf.tidy(() => picture.toInt().toFloat());
    const { images, masks } = augmentBatch(picture as tf.Tensor4D, { maxRotate: 30, maxZoom: 1.3, maxLighting: 0, flip: 0.5, probability: 1 }, new Random(5), mask as tf.Tensor4D);
    const agreeing = tf.tidy(() => images.greater(0.5).equal(masks!.greater(0.5)).toFloat().mean());
    const agreement = (await agreeing.data())[0]!;
    agreeing.dispose();
    expect(agreement).toBeGreaterThan(0.97);
    const maskValues = new Set(Array.from(await masks!.data()));
    expect([...maskValues].every((v) => v === 0 || v === 1)).toBe(true); // nearest-neighbour keeps class indices
    tf.dispose([picture, mask, images, masks!]);
  });

  it('dihedral augmentation: the eight flips and quarter turns, each an exact permutation of the pixels', async () => {
    // a 6×6 picture with every pixel distinct: each symmetry must move (x, y) exactly where the group says
    const picture = tf.tidy(() => tf.range(0, 36).reshape([1, 6, 6, 1]).tile([64, 1, 1, 1]) as tf.Tensor4D);
    const choices = drawAffine(64, { dihedral: true, maxRotate: 0, maxZoom: 1 }, new Random(9));
    const images = applyAffine(picture, choices);
    const values = await images.data();
    const seen = new Set<string>();
    choices.forEach((choice, index) => {
      seen.add(`${choice.flip}${choice.flipVertical}${choice.transpose}`);
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 6; x++) {
          // output (x, y) reads input (sx, sy): swap the axes or not, mirror as chosen
          const sx = choice.transpose ? (choice.flipVertical ? 5 - y : y) : choice.flip ? 5 - x : x;
          const sy = choice.transpose ? (choice.flip ? 5 - x : x) : choice.flipVertical ? 5 - y : y;
          expect(values[index * 36 + y * 6 + x]).toBeCloseTo(sy * 6 + sx, 3);
        }
      }
    });
    expect(seen.size).toBe(8);
    tf.dispose([picture, images]);
  });
});

describe('affine warps agree across backends', () => {
  it('a rotated, shifted batch reflects at every edge, and cpu and wasm give the same pixels', async () => {
    // corners of a 25° rotation and a shift reach outside the picture on all four sides
    const values = Array.from({ length: 3 * 10 * 12 }, (_, index) => (index * 37) % 101);
    const choices = [
      { flip: false, angle: (25 * Math.PI) / 180, zoom: 1, shiftX: 0, shiftY: 0 },
      { flip: true, angle: -0.3, zoom: 1.1, shiftX: -0.04, shiftY: 0.04 },
      { flip: false, angle: 0, zoom: 1, shiftX: 0.3, shiftY: -0.3 },
    ];
    const warped: Record<string, number[]> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend({ backend, log: false });
      const before = tf.memory().numTensors;
      const images = tf.tensor4d(values, [3, 10, 12, 1]);
      const result = applyAffine(images, choices);
      warped[backend] = Array.from(await result.data());
      tf.dispose([images, result]);
      expect(tf.memory().numTensors).toBe(before);
      if (backend === 'cpu') {
        // the reference: TensorFlow's own 'reflect' fill, as the (fixed) cpu kernel computes it
        const reference = tf.tidy(() => Array.from(tf.image.transform(tf.tensor4d(values, [3, 10, 12, 1]), affineMatrices(choices, 10, 12), 'bilinear', 'reflect').dataSync()));
        expect(Math.max(...reference.map((value, index) => Math.abs(value - warped.cpu![index]!)))).toBeLessThan(1e-3);
      }
    }
    expect(Math.max(...warped.cpu!.map((value, index) => Math.abs(value - warped.wasm![index]!)))).toBeLessThan(1e-3);
  });
});

describeEachBackend('the image folder data block', () => {
  it('loads a generated set: classes from folders, deterministic split, summary, cached decoding', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'kindling-shapes-')), 'shapes');

    await generateShapesDataset(root, { perClass: 10, size: 32, seed: 3 });
    expect(readdirSync(root).sort()).toEqual(['circle', 'square', 'star', 'triangle']);
    const data = await imageFolderDataLoaders(root, { size: 24, batchSize: 8, seed: 1 });
    expect(data.vocab.labels).toEqual(['circle', 'square', 'star', 'triangle']);
    expect(data.train.size + data.valid.size).toBe(40);
    expect(data.valid.size).toBe(8);
    const summary = await data.summary();
    // the picture as decoded, then the resize training and serving share
    expect(summary[1]).toBe('decode (at most 256 pixels a side) → Uint8Array [32, 32, 3]');
    expect(summary[2]).toBe('resize 24×24 (crop, bilinear), 3 channel(s) → Uint8Array [24, 24, 3]');
    expect(summary[3]).toMatch(/^label → "(circle|square|star|triangle)" → \d of 4/);
    for await (const batch of batchesOf(data.valid)) {
      expect((batch.inputs as tf.Tensor).shape).toEqual([8, 24, 24, 3]);
      tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    }
    const again = await imageFolderDataLoaders(root, { size: 24, batchSize: 8, seed: 1 });
    expect(again.valid.options.items).toEqual(data.valid.options.items);
    // a batch size sized by the number of training pictures (the CLI's --batch-size auto)
    const sized = await imageFolderDataLoaders(root, { size: 24, batchSize: (items) => items / 4, seed: 1 });
    expect(sized.train.batchSize).toBe(8);
  });

  it('names an empty class folder, refuses a single class, and skips a corrupt file when asked', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-folders-'));
    const png = await encodePng(gradient(16, 16));
    mkdirSync(join(root, 'cat'));
    mkdirSync(join(root, 'dog'));
    for (let i = 0; i < 4; i++) writeFileSync(join(root, 'cat', `${i}.png`), png);
    await expect(imageFolderDataLoaders(root)).rejects.toThrow(`${join(root, 'dog')}: this class folder has no image files`);
    const single = mkdtempSync(join(tmpdir(), 'kindling-one-class-'));
    mkdirSync(join(single, 'cat'));
    writeFileSync(join(single, 'cat', '1.png'), png);
    await expect(imageFolderDataLoaders(single)).rejects.toThrow("found only one class ('cat')");
    for (let i = 0; i < 4; i++) writeFileSync(join(root, 'dog', `${i}.png`), png);
    writeFileSync(join(root, 'dog', 'broken.png'), 'not a picture');
    const data = await imageFolderDataLoaders(root, { size: 16, batchSize: 16, onError: 'skip', validPct: 0.5 });
    for (const loader of [data.train, data.valid]) {
      for await (const batch of batchesOf(loader)) tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    }
    expect([...data.train.skipped, ...data.valid.skipped].map((entry) => entry.name)).toEqual([join(root, 'dog', 'broken.png')]);
    const stopping = await imageFolderDataLoaders(root, { size: 16, batchSize: 16, validPct: 0.5 });
    const drain = async () => {
      for (const loader of [stopping.train, stopping.valid]) for await (const batch of batchesOf(loader)) tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    };
    await expect(drain()).rejects.toThrow(`${join(root, 'dog', 'broken.png')}: cannot decode as an image`);
  });
});
