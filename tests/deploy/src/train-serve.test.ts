import { decodeImageWithSharp, encodePng, imageFolderDataLoaders, segmentationDataLoaders } from '@kindling/image/node';
import type { ResizeMethod } from '@kindling/image';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImagePreparation } from '@kindling/image/predict';

/** A colour picture with detail at every scale: gradients and a checkerboard. */
function picture(width: number, height: number, seed: number): { data: Uint8Array; shape: [number, number, number] } {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = ((Math.floor(x / (3 + seed)) + Math.floor(y / 5)) % 2) * 200 + seed * 7;
    }
  }
  return { data, shape: [height, width, 3] };
}

describe('one preprocessing from training to serving', () => {
  // a small picture (decoded as it is), a wide one and a large one (shrunk while decoding, 1,500 px > 256)
  const sizes: Array<[number, number]> = [[40, 60], [300, 200], [1500, 900]];

  for (const [method, channels] of [['crop', 3], ['pad', 3], ['squish', 1]] as Array<[ResizeMethod, 1 | 3]>) {
    it(`a picture trains exactly as it is served (${method}, ${channels} channel${channels === 1 ? '' : 's'}): the training item equals the served input`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'kindling-train-serve-'));
      const files: string[] = [];
      for (const split of ['train', 'valid']) {
        for (const label of ['a', 'b']) {
          mkdirSync(join(root, split, label), { recursive: true });
          for (const [index, [width, height]] of sizes.entries()) {
            const file = join(root, split, label, `${index}.png`);
            writeFileSync(file, await encodePng(picture(width, height, index + (label === 'b' ? 3 : 0))));
            if (split === 'valid') files.push(file);
          }
        }
      }
      const data = await imageFolderDataLoaders(root, { size: 24, method, channels, batchSize: 64, flip: false });
      const served = new ImagePreparation(data.preprocessing, decodeImageWithSharp);
      const before = tf.memory().numTensors;
      // the validation loader keeps the items' order: one batch of all six
      const items = data.valid.options.items;
      expect([...items].sort()).toEqual([...files].sort());
      for await (const batch of data.valid) {
        const training = (await (batch.inputs as tf.Tensor).data()) as Float32Array;
        tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
        const area = 24 * 24 * channels;
        for (const [index, file] of items.entries()) {
          const { features } = await served.prepare(new Uint8Array(readFileSync(file)));
          expect(Array.from(features), file).toEqual(Array.from(training.subarray(index * area, (index + 1) * area)));
        }
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a segmentation picture trains exactly as it is served: the training item equals the served input', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-train-serve-segmentation-'));
    mkdirSync(join(root, 'images'));
    mkdirSync(join(root, 'masks'));
    const files: string[] = [];
    for (const [index, [width, height]] of ([[64, 64], [90, 60], [700, 700]] as Array<[number, number]>).entries()) {
      for (const split of ['train', 'valid']) {
        const name = `${split}-${index}.png`;
        writeFileSync(join(root, 'images', name), await encodePng(picture(width, height, index)));
        const mask = new Uint8Array(width * height).map((_, pixel) => ((pixel % width) < width / 2 ? 0 : 255));
        writeFileSync(join(root, 'masks', name), await encodePng({ data: mask, shape: [height, width, 1] }));
        if (split === 'valid') files.push(join(root, 'images', name));
      }
    }
    const data = await segmentationDataLoaders(join(root, 'images'), join(root, 'masks'), { codes: ['left', 'right'], maskMode: 'binary', size: 32, method: 'crop', channels: 3, batchSize: 16, isValid: (file) => file.includes('valid-') });
    const { size, method, channels, stats } = data.preprocessing;
    const served = new ImagePreparation({ size, method, channels, stats }, decodeImageWithSharp);
    const items = data.valid.options.items;
    expect([...items].sort()).toEqual([...files].sort());
    for await (const batch of data.valid) {
      const training = (await (batch.inputs as tf.Tensor).data()) as Float32Array;
      tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
      const area = 32 * 32 * 3;
      for (const [index, file] of items.entries()) {
        const { features } = await served.prepare(new Uint8Array(readFileSync(file)));
        expect(Array.from(features), file).toEqual(Array.from(training.subarray(index * area, (index + 1) * area)));
      }
    }
  });
});
