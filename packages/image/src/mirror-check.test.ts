import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@kindling/backend';
import { batchesOf, Random } from '@kindling/data';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { mirrorCheck } from './mirror-check';
import { imageFolderDataLoaders } from './node';

const SIDE = 16;

/** A 16×16 grey glyph with noise and a shift of up to a pixel: `b` (stem left, bowl right), its mirror `d`, a vertical `bar`, a horizontal `slab`. */
function glyph(kind: 'b' | 'd' | 'bar' | 'slab', random: Random): Uint8Array {
  const picture = new Uint8Array(SIDE * SIDE);
  const dx = random.integer(3) - 1;
  const dy = random.integer(3) - 1;
  const paint = (x0: number, x1: number, y0: number, y1: number) => {
    for (let y = y0 + dy; y <= y1 + dy; y++) for (let x = x0 + dx; x <= x1 + dx; x++) picture[y * SIDE + x] = 230;
  };
  if (kind === 'b') {
    paint(3, 4, 1, 14);
    paint(5, 10, 8, 14);
  } else if (kind === 'd') {
    paint(11, 12, 1, 14);
    paint(5, 10, 8, 14);
  } else if (kind === 'bar') paint(7, 8, 2, 13);
  else paint(2, 13, 7, 8);
  for (let i = 0; i < picture.length; i++) picture[i] = Math.min(255, picture[i]! + random.integer(40));
  return picture;
}

function glyphs(kinds: readonly ('b' | 'd' | 'bar' | 'slab')[], perClass: number, seed: number) {
  const random = new Random(seed);
  const pictures: Uint8Array[] = [];
  const labels: number[] = [];
  kinds.forEach((kind, label) => {
    for (let i = 0; i < perClass; i++) {
      pictures.push(glyph(kind, random));
      labels.push(label);
    }
  });
  return { pictures, labels, height: SIDE, width: SIDE, channels: 1 };
}

describe('the mirror check (flip: auto)', () => {
  it('keeps flips off for classes that are each other’s mirror image, and says why', () => {
    const check = mirrorCheck(glyphs(['b', 'd', 'bar'], 40, 1));
    expect(check.recognised).toBeGreaterThan(0.95);
    expect(check.recognisedChanged).toBeLessThan(0.4);
    expect(check.flip).toBe(false);
    expect(check.why).toMatch(/^horizontal flips off: 120 training pictures .* the change moves examples out of their class\)$/);
  });

  it('turns flips on for classes whose mirror images stay in the class', () => {
    const check = mirrorCheck(glyphs(['bar', 'slab'], 60, 2));
    expect(check.recognisedChanged).toBeGreaterThan(0.95);
    expect(check.flip).toBe(true);
    expect(check.why).toMatch(/^horizontal flips on: .* \(at least 50%\)$/);
  });

  it('leaves flips on when the pictures themselves are recognised barely above chance', () => {
    const random = new Random(3);
    const pictures = Array.from({ length: 200 }, () => Uint8Array.from({ length: 64 }, () => random.integer(256)));
    const labels = pictures.map((_, i) => i % 2);
    const check = mirrorCheck({ pictures, labels, height: 8, width: 8, channels: 1 });
    // a class mean of noise is noise: pictures are nearest their own mean only by the chance of having shaped it
    expect(check.flip).toBe(true);
    expect(check.why).toMatch(/too close to chance to judge by \(flips stay on\)$/);
  });

  it('refuses inputs that do not fit', () => {
    expect(() => mirrorCheck({ pictures: [new Uint8Array(3)], labels: [0], height: 2, width: 2, channels: 1 })).toThrow('picture 0 has 3 bytes, not 2×2×1');
    expect(() => mirrorCheck({ pictures: [], labels: [], height: 2, width: 2, channels: 1 })).toThrow('a mirror check needs pictures');
  });
});

describe('the image folder data block decides flips by the check', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
  });

  /** `b`, `d` and `bar` glyphs as PNG folders. */
  async function glyphFolder(): Promise<string> {
    const root = mkdtempSync(join(tmpdir(), 'kindling-glyphs-'));
    const set = glyphs(['b', 'd', 'bar'], 48, 4);
    const names = ['b', 'd', 'bar'];
    for (const name of names) mkdirSync(join(root, name));
    for (const [i, picture] of set.pictures.entries()) {
      await sharp(Buffer.from(picture), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toFile(join(root, names[set.labels[i]!]!, `${i}.png`));
    }
    return root;
  }

  /** How many training pictures come out of the batches mirrored (no other augmentation). */
  async function mirroredInTraining(root: string, flip: 'auto' | boolean): Promise<{ mirrored: number; total: number; why: string }> {
    const data = await imageFolderDataLoaders(root, { size: SIDE, channels: 1, batchSize: 64, validPct: 0.25, seed: 5, flip, augment: { maxRotate: 0, maxZoom: 1, maxLighting: 0 }, stats: { mean: [0], std: [1] } });
    const originals = await Promise.all(data.train.options.items.map(async (file) => (await sharp(file).greyscale().raw().toBuffer()).map((value) => value)));
    let mirrored = 0;
    let total = 0;
    for await (const batch of batchesOf(data.train)) {
      const pictures = (await (batch.inputs as tf.Tensor).mul(255).round().data()) as Float32Array;
      for (let k = 0; k < pictures.length / (SIDE * SIDE); k++) {
        const picture = pictures.subarray(k * SIDE * SIDE, (k + 1) * SIDE * SIDE);
        const same = (original: Uint8Array, flipped: boolean) => original.every((value, i) => Math.abs(picture[flipped ? Math.floor(i / SIDE) * SIDE + SIDE - 1 - (i % SIDE) : i]! - value) <= 1);
        const plain = originals.some((original) => same(original, false));
        const flippedMatch = originals.some((original) => same(original, true));
        expect(plain || flippedMatch).toBe(true);
        if (!plain) mirrored++;
        total++;
      }
      tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    }
    return { mirrored, total, why: data.flip.why };
  }

  it('mirrored glyphs: auto trains on no mirrored picture; flip: true mirrors about half', async () => {
    const root = await glyphFolder();
    const auto = await mirroredInTraining(root, 'auto');
    expect(auto.why).toMatch(/^horizontal flips off: 108 training pictures/);
    expect(auto.total).toBe(108);
    expect(auto.mirrored).toBe(0);
    const asked = await mirroredInTraining(root, true);
    expect(asked.why).toBe('horizontal flips on (asked for)');
    expect(asked.mirrored).toBeGreaterThan(30);
    expect(asked.mirrored).toBeLessThan(78);
  });
});

describe('the image folder data block sizes augmentation by the pictures a class has', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
  });

  /** `bar` and `slab` glyphs as `train/` (perClass each) and `valid/` (4 each) PNG folders. */
  async function barsAndSlabs(perClass: number): Promise<string> {
    const root = mkdtempSync(join(tmpdir(), 'kindling-bars-'));
    for (const [split, count, seed] of [['train', perClass, 6], ['valid', 4, 7]] as const) {
      const set = glyphs(['bar', 'slab'], count, seed);
      for (const name of ['bar', 'slab']) mkdirSync(join(root, split, name), { recursive: true });
      await Promise.all(set.pictures.map((picture, i) => sharp(Buffer.from(picture), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toFile(join(root, split, set.labels[i] === 0 ? 'bar' : 'slab', `${i}.png`))));
    }
    return root;
  }

  /** The share of one training batch's pictures that are exactly a training picture or its mirror image. */
  async function untouchedShare(root: string): Promise<{ share: number; affine: { on: boolean; why: string } }> {
    const data = await imageFolderDataLoaders(root, { size: SIDE, channels: 1, batchSize: 64, seed: 5, stats: { mean: [0], std: [1] } });
    const key = (picture: ArrayLike<number>) => Array.from(picture, (value) => Math.round(value)).join(',');
    const known = new Set<string>();
    for (const file of data.train.options.items) {
      const original = new Uint8Array(await sharp(file).greyscale().raw().toBuffer());
      known.add(key(original));
      known.add(key(original.map((_, i) => original[Math.floor(i / SIDE) * SIDE + SIDE - 1 - (i % SIDE)]!)));
    }
    const batches = batchesOf(data.train)[Symbol.asyncIterator]();
    const batch = (await batches.next()).value as { inputs: tf.Tensor; targets: tf.Tensor };
    await batches.return?.(undefined);
    const pixels = (await batch.inputs.mul(255).data()) as Float32Array;
    tf.dispose([batch.inputs, batch.targets]);
    const count = pixels.length / (SIDE * SIDE);
    let untouched = 0;
    for (let k = 0; k < count; k++) if (known.has(key(pixels.subarray(k * SIDE * SIDE, (k + 1) * SIDE * SIDE)))) untouched++;
    return { share: untouched / count, affine: data.affine };
  }

  it('a small set is rotated, zoomed and relit in training; from 1,000 pictures a class, only flipped', async () => {
    const small = await untouchedShare(await barsAndSlabs(40));
    expect(small.affine).toEqual({ on: true, why: 'rotation, zoom and lighting (40 training pictures a class, under 1,000)' });
    expect(small.share).toBeLessThan(0.3);
    const big = await untouchedShare(await barsAndSlabs(1000));
    expect(big.affine).toEqual({ on: false, why: 'no rotation, zoom or lighting (1,000 training pictures a class, at least 1,000)' });
    expect(big.share).toBe(1);
  });
});
