import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, fastestTestBackend } from '@kindling/backend/testing';
import { generateShapesDataset, imageFolderDataLoaders } from '@kindling/image/node';
import { accuracy, crossEntropyLoss, fromLayersModel, Learner } from '@kindling/learner';
import { createReadStream, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLayersModel, saveLayersModel } from './node';
import { HEAD_LAYER, resnet, transferModel } from './resnet';

const root = mkdtempSync(join(tmpdir(), 'kindling-models-'));
const widths = [16, 32, 64];

async function trainOn(model: tf.LayersModel, folder: string, epochs: number, options: { fineTune?: boolean; lr?: number; validPct?: number; batchSize?: number } = {}): Promise<number> {
  const data = await imageFolderDataLoaders(folder, { size: 32, batchSize: options.batchSize ?? 16, seed: 3, validPct: options.validPct ?? 0.25 });
  const learner = new Learner({ model: fromLayersModel(model, { splitAt: HEAD_LAYER }), data, loss: crossEntropyLoss(), metrics: [accuracy()], seed: 3 });
  if (options.fineTune) await learner.fineTune(epochs / 2, options.lr ?? 1e-2, { freezeEpochs: epochs / 2 });
  else await learner.fitOneCycle(epochs, options.lr ?? 1e-2);
  learner.dispose();
  return learner.recorder.epochs.at(-1)!.metrics.accuracy!;
}

describe('resnet', () => {
  it('builds a seeded ResNet-style model with a named head and logits out', () => {
    const a = resnet({ inputShape: [32, 32, 3], classes: 5, widths, seed: 7 });
    const b = resnet({ inputShape: [32, 32, 3], classes: 5, widths, seed: 7 });
    expect(a.outputs[0]!.shape).toEqual([null, 5]);
    expect(a.layers.map((l) => l.name)).toContain(HEAD_LAYER);
    expect(a.layers.some((l) => l.name.endsWith('_add'))).toBe(true);
    expect(Array.from(a.weights[0]!.read().dataSync())).toEqual(Array.from(b.weights[0]!.read().dataSync()));
    a.dispose();
    b.dispose();
  });
});

// Training convolutional nets is for torch (wasm where its addon is not built): the cpu backend runs at a fraction
// of an image a second; the kernels themselves are checked on every backend by @kindling/backend's suites.
describeEachBackend(
  'image models on generated pictures',
  () => {
    const shapes = join(root, 'shapes');
    let pretrained: tf.LayersModel;
    let shapesAccuracy = 0;
    beforeAll(async () => {
      await generateShapesDataset(shapes, { perClass: 120, size: 48, seed: 11 });
      pretrained = resnet({ inputShape: [32, 32, 3], classes: 4, widths, seed: 1 });
      shapesAccuracy = await trainOn(pretrained, shapes, 10, { lr: 5e-3 });
    }, 300_000);

    it('a small ResNet trains from random weights past 70% on held-out generated images (chance: 25%)', () => {
      expect(shapesAccuracy).toBeGreaterThan(0.7);
    });

    it('saves and loads through file:// and http://, and transfer learning beats training from scratch', async () => {
      // The shapes model, saved and loaded back as any downloaded pretrained model would be.
      const directory = join(root, 'pretrained');
      await saveLayersModel(pretrained, directory);
      const probe = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 9);
      const expected = (pretrained.predict(probe) as tf.Tensor).dataSync();
      const fromFile = await loadLayersModel(pathToFileURL(join(directory, 'model.json')).href);
      expect(Array.from((fromFile.predict(probe) as tf.Tensor).dataSync())).toEqual(Array.from(expected));
      // tfjs-node's form: file:// and a path relative to the working directory
      const fromRelative = await loadLayersModel(`file://${relative(process.cwd(), directory)}`);
      expect(Array.from((fromRelative.predict(probe) as tf.Tensor).dataSync())).toEqual(Array.from(expected));
      fromRelative.dispose();
      const server = createServer((request, response) => createReadStream(join(directory, request.url!.slice(1))).on('error', () => response.writeHead(404).end()).pipe(response));
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as AddressInfo;
      const fromHttp = await loadLayersModel(`http://127.0.0.1:${port}/model.json`);
      server.close();
      expect(Array.from((fromHttp.predict(probe) as tf.Tensor).dataSync())).toEqual(Array.from(expected));
      await expect(loadLayersModel(join(root, 'nowhere'))).rejects.toThrow(`${join(root, 'nowhere', 'model.json')}: no model here`);

      // A new, small task: stars against triangles, from a few other pictures.
      const small = join(root, 'small');
      await generateShapesDataset(small, { perClass: 40, size: 48, seed: 99 });
      await rm(join(small, 'circle'), { recursive: true });
      await rm(join(small, 'square'), { recursive: true });
      const scratch = resnet({ inputShape: [32, 32, 3], classes: 2, widths, seed: 5 });
      const scratchAccuracy = await trainOn(scratch, small, 10, { lr: 3e-2, validPct: 0.75, batchSize: 8 });
      const transferred = transferModel(fromFile, { classes: 2, seed: 5 });
      // the same number of steps: 5 epochs with the body frozen, 5 with it all training
      const transferAccuracy = await trainOn(transferred, small, 10, { fineTune: true, lr: 3e-2, validPct: 0.75, batchSize: 8 });
      // 10 pictures per class to learn from, 30 per class to judge on
      expect(transferAccuracy).toBeGreaterThan(scratchAccuracy + 0.1);
      expect(transferAccuracy).toBeGreaterThanOrEqual(0.85);
      tf.dispose([probe]);
      for (const model of [pretrained, fromHttp, scratch, transferred]) model.dispose();
    }, 300_000);
  },
  [fastestTestBackend()],
);
