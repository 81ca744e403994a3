import { ConfigError, DataError } from '@kindling/data';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Random } from '@kindling/data';
import { colorizeMask, defaultPalette, elasticDeform, maskFromPixels, overlayMask, parseCodes, voidIndexOf } from './index';
import { generateSegmentationDataset, loadMask, maskStatistics, readCodesFile, segmentationDataLoaders } from './node';

const png = (pixels: Uint8Array, width: number, height: number, channels: 1 | 3) => sharp(Buffer.from(pixels), { raw: { width, height, channels } }).png().toBuffer();

describe('maskStatistics', () => {
  it('measures each class at the masks\' own size: its share of the pixels that are not void, and how wide it is', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-mask-statistics-'));
    try {
      // 20×10: background, a bar two pixels wide (class 1) from top to bottom, a 4×4 square of class 2, a void column
      const mask = new Uint8Array(20 * 10);
      for (let y = 0; y < 10; y++) {
        mask[y * 20 + 5] = 1;
        mask[y * 20 + 6] = 1;
        mask[y * 20 + 19] = 255;
      }
      for (let y = 3; y < 7; y++) for (let x = 10; x < 14; x++) mask[y * 20 + x] = 2;
      writeFileSync(join(root, 'a.png'), await png(mask, 20, 10, 1));
      writeFileSync(join(root, 'b.png'), await png(mask, 20, 10, 1));
      const statistics = await maskStatistics(root, { mode: 'index', classes: 4, voidIndex: 3 });
      expect(statistics).toMatchObject({ masks: 2, width: 20, height: 10 });
      // 190 pixels not void: the bar 20, the square 16, background 154, nothing of class 3
      expect(statistics.shares.map((share) => share * 190)).toEqual([154, 20, 16, 0].map((count) => expect.closeTo(count, 9)));
      expect(statistics.widths[1]).toBeCloseTo(2, 9); // every pixel of the bar is on its edge
      expect(statistics.widths[2]).toBeCloseTo((2 * 16) / 12, 9); // a square's 12 edge pixels of 16
      expect(Number.isNaN(statistics.widths[3]!)).toBe(true);
      // which side each class lies on: the bar all left, the square all right, background 80 of its 154 pixels left
      expect(statistics.leftShares.slice(0, 3)).toEqual([expect.closeTo(80 / 154, 9), 1, 0]);
      expect(Number.isNaN(statistics.leftShares[3]!)).toBe(true);
      await expect(maskStatistics(join(root, 'none'), { mode: 'index', classes: 4 })).rejects.toThrow(DataError);
      // a limit that would read no mask is refused, not answered with empty statistics
      for (const limit of [0, Number.NaN, 1.5]) await expect(maskStatistics(root, { mode: 'index', classes: 4, limit })).rejects.toThrow(ConfigError);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('masks', () => {
  it('decodes index, binary and palette masks and names values outside the codes', () => {
    expect(Array.from(maskFromPixels(Uint8Array.from([0, 2, 1, 255]), 1, 2, { mode: 'index', classes: 3, voidIndex: 2 }))).toEqual([0, 2, 1, 2]);
    expect(Array.from(maskFromPixels(Uint8Array.from([0, 255, 127, 128]), 1, 2, { mode: 'binary', classes: 2 }))).toEqual([0, 1, 0, 1]);
    const palette = [[0, 0, 0], [255, 0, 0], [0, 0, 255]] as const;
    expect(Array.from(maskFromPixels(Uint8Array.from([255, 0, 0, 0, 0, 255, 0, 0, 0]), 3, 3, { mode: 'palette', classes: 3, palette }))).toEqual([1, 2, 0]);
    expect(() => maskFromPixels(Uint8Array.from([0, 1, 7, 0]), 1, 2, { mode: 'index', classes: 3, source: 'm.png' })).toThrow('m.png: mask value 7 at (x 0, y 1) is not a class: the codes name 3 (0–2)');
    expect(() => maskFromPixels(Uint8Array.from([9, 9, 9]), 3, 1, { mode: 'palette', classes: 3, palette, source: 'm.png' })).toThrow('m.png: colour rgb(9, 9, 9) at (x 0, y 0) is not in the palette');
  });

  it('reads codes with a void class, and colourizes and overlays predictions', async () => {
    expect(parseCodes('sky\nroad\n\nVoid\n')).toEqual(['sky', 'road', 'Void']);
    expect(voidIndexOf(['sky', 'road', 'Void'])).toBe(2);
    expect(() => parseCodes('sky\nsky\n', 'codes.txt')).toThrow("codes.txt, row 2: class 'sky' is listed twice");
    const palette = defaultPalette(3);
    expect(palette[0]).toEqual([0, 0, 0]);
    expect(new Set(palette.map((colour) => colour.join())).size).toBe(3);
    expect(Array.from(colorizeMask([1, 0], palette))).toEqual([...palette[1]!, 0, 0, 0]);
    expect(Array.from(overlayMask(Uint8Array.from([200, 200, 200]), [0], palette, 0.25))).toEqual([150, 150, 150]);
    const root = mkdtempSync(join(tmpdir(), 'kindling-codes-'));
    writeFileSync(join(root, 'codes.txt'), 'a\nb\n');
    expect(await readCodesFile(join(root, 'codes.txt'))).toEqual(['a', 'b']);
  });

  it('resizes masks with nearest neighbour, so classes stay classes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-mask-'));
    const pixels = new Uint8Array(16 * 16).map((_, i) => ((i % 16) < 8 ? 1 : 2));
    writeFileSync(join(root, 'mask.png'), await png(pixels, 16, 16, 1));
    const mask = await loadMask(join(root, 'mask.png'), { mode: 'index', classes: 3, size: 5, method: 'squish' });
    expect(new Set(mask.data)).toEqual(new Set([1, 2]));
    expect([mask.width, mask.height]).toEqual([5, 5]);
  });
});

describe('segmentation data block', () => {
  it('pairs pictures and masks, keeps them aligned through augmentation, and names bad files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-segmentation-'));
    mkdirSync(join(root, 'images'));
    mkdirSync(join(root, 'masks'));
    // pictures whose brightness is their mask: after flips, rotations and zooms they must still agree
    for (let n = 0; n < 6; n++) {
      const mask = new Uint8Array(32 * 32).map((_, i) => (Math.hypot((i % 32) - 10 - n, Math.floor(i / 32) - 16) < 7 || (i % 32) > 24 ? 1 : 0));
      writeFileSync(join(root, 'images', `${n}.png`), await png(mask.map((value) => value * 255), 32, 32, 1));
      writeFileSync(join(root, 'masks', `${n}_P.png`), await png(mask, 32, 32, 1));
    }
    // squares, and 32×24 rectangles (the pictures' shape kept, 4:3)
    for (const [elastic, crop, height] of [[false, undefined, 32], [{ grid: 3, magnitude: 3 }, undefined, 32], [{ grid: 3, magnitude: 3 }, 16, 32], [{ grid: 3, magnitude: 3 }, undefined, 24], [false, 16, 24]] as const) {
      const data = await segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), {
        codes: ['background', 'thing'], maskSuffix: '_P', size: 32, height, channels: 1, stats: { mean: [0], std: [1] }, batchSize: 6, validPct: 0.34, seed: 3,
        augment: { maxRotate: 30, maxZoom: 1.3, flip: 0.5, maxLighting: 0, probability: 1 },
        elastic,
        crop,
      });
      for (let epoch = 0; epoch < 2; epoch++) {
        for await (const batch of data.train) {
          expect(batch.inputs instanceof tf.Tensor && batch.inputs.shape.slice(1, 3)).toEqual(crop ? [16, 16] : [height, 32]);
          expect(batch.targets.shape.slice(1, 3)).toEqual(crop ? [16, 16] : [height, 32]);
          const agreement = tf.tidy(() => (batch.inputs as tf.Tensor).greater(0.5).toInt().equal(batch.targets).toFloat().mean().dataSync()[0]!);
          expect(agreement, `elastic ${JSON.stringify(elastic)}, height ${height}`).toBeGreaterThan(0.97);
          expect(batch.targets.dtype).toBe('int32');
          tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
        }
      }
    }
    for await (const batch of (await segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes: ['background', 'thing'], maskSuffix: '_P', size: 32, channels: 1, crop: 16, validPct: 0.34, seed: 3 })).valid) {
      expect((batch.inputs as tf.Tensor).shape.slice(1, 3)).toEqual([32, 32]); // validation keeps whole pictures
      tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    }
    for await (const batch of (await segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes: ['background', 'thing'], maskSuffix: '_P', size: 32, height: 24, channels: 1, crop: 16, validPct: 0.34, seed: 3 })).valid) {
      expect([(batch.inputs as tf.Tensor).shape.slice(1, 3), batch.targets.shape.slice(1, 3)]).toEqual([[24, 32], [24, 32]]); // whole, in their shape
      tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    }
    await expect(segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes: ['background', 'thing'], maskSuffix: '_P', size: 32, crop: 40 })).rejects.toThrow('crop must be a whole number from 8 to the size (32), not 40');
    await expect(segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes: ['background', 'thing'], maskSuffix: '_P', size: 32, height: 24, crop: 28 })).rejects.toThrow("crop must be a whole number from 8 to the pictures' shorter side (24), not 28");
    const codes = ['background', 'thing'];
    writeFileSync(join(root, 'masks', 'stray_P.png'), await png(new Uint8Array(4), 2, 2, 1));
    await expect(segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes, maskSuffix: '_P' })).rejects.toThrow(`${join(root, 'masks', 'stray_P.png')}: a mask without a picture`);
    rmSync(join(root, 'masks', 'stray_P.png'));
    writeFileSync(join(root, 'images', 'lonely.png'), await png(new Uint8Array(4), 2, 2, 1));
    await expect(segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes, maskSuffix: '_P' })).rejects.toThrow(`${join(root, 'images', 'lonely.png')}: no mask for this picture`);
    writeFileSync(join(root, 'masks', 'lonely_P.png'), await png(new Uint8Array(9), 3, 3, 1));
    const mismatched = await segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes, maskSuffix: '_P', isValid: (file) => file.includes('lonely') });
    const consume = async () => {
      for await (const batch of mismatched.valid) tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    };
    await expect(consume()).rejects.toThrow(`${join(root, 'images', 'lonely.png')}: the picture is 2×2 but its mask ${join(root, 'masks', 'lonely_P.png')} is 3×3`);
    await expect(consume()).rejects.toThrow(DataError);
  });

  it('deforms a picture and its mask elastically with one field: they stay aligned, and no deformation is the identity', () => {
    const size = 64;
    // a disc: picture 200 inside, 20 outside; mask 1 inside
    const mask = new Uint8Array(size * size);
    const picture = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = (x - 30) ** 2 + (y - 34) ** 2 < 18 ** 2 ? 1 : 0;
        mask[y * size + x] = inside;
        picture.fill(inside ? 200 : 20, (y * size + x) * 3, (y * size + x) * 3 + 3);
      }
    }
    const still = elasticDeform({ data: picture, shape: [size, size, 3] }, mask, { magnitude: 0 }, new Random(1));
    expect(still.image).toEqual(picture);
    const moved = elasticDeform({ data: picture, shape: [size, size, 3] }, mask, { grid: 4, magnitude: 6 }, new Random(5));
    const changed = moved.mask.filter((value, index) => value !== mask[index]).length;
    expect(changed).toBeGreaterThan(40); // the disc really moved
    let agree = 0;
    for (let index = 0; index < size * size; index++) if ((moved.image[index * 3]! > 110 ? 1 : 0) === moved.mask[index]) agree++;
    expect(agree / (size * size)).toBeGreaterThan(0.98);
    // the same seed gives the same field
    expect(elasticDeform({ data: picture, shape: [size, size, 3] }, mask, { grid: 4, magnitude: 6 }, new Random(5)).mask).toEqual(moved.mask);
    expect(() => elasticDeform({ data: picture, shape: [size, size, 3] }, undefined, { grid: 1 }, new Random(1))).toThrow('elastic grid must be a whole number ≥ 2, not 1');
  });

  it('generates scenes whose masks are exactly the drawn shapes', async () => {
    const root = await generateSegmentationDataset(join(mkdtempSync(join(tmpdir(), 'kindling-scenes-')), 'scenes'), { count: 4, size: 32, seed: 2 });
    expect(readdirSync(join(root, 'images'))).toHaveLength(4);
    expect(await readCodesFile(join(root, 'codes.txt'))).toEqual(['background', 'circle', 'square', 'triangle']);
    const mask = await loadMask(join(root, 'masks', '0000.png'), { mode: 'index', classes: 4 });
    expect(mask.data.some((value) => value > 0)).toBe(true);
  });
});
