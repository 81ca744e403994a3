import { describeEachBackend } from '@kindling/backend/testing';
import { encodePng } from '@kindling/image/node';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleError, bundleFromFiles, createBundle, loadBundle, loadBundleModel, loadPredictor as loadInMemory, saveBundle, registeredTaskKinds, taskChecksum, TASK_KINDS, type Bundle, type Classification } from '@kindling/deploy';
import type { RawImage } from '@kindling/image/predict';
import { loadBundle as loadFromDisk, loadPredictor, saveBundle as saveToDisk } from '@kindling/deploy/node';
import { exampleBundle, exampleInputs, KINDS } from './testing';
import { resnet } from '@kindling/models';

const temporary = () => mkdtempSync(join(tmpdir(), 'kindling-deploy-'));

describeEachBackend(
  'bundles',
  () => {
    for (const kind of KINDS) {
      it(`${kind}: a bundle saved to a directory and loaded back predicts exactly what the original model predicts`, async () => {
        const bundle = await exampleBundle(kind);
        const original = await loadBundleModel(bundle);
        const before = tf.memory().numTensors;
        const live = await loadInMemory(bundle, { model: original });
        const directory = join(temporary(), 'bundle');
        await saveToDisk(bundle, directory);
        const loaded = await loadPredictor(directory);
        expect(loaded.kind).toBe(kind);
        expect(loaded.manifest).toEqual(bundle.manifest);
        const inputs = exampleInputs(kind, 3) as never[];
        const expected = await live.predictBatch(inputs);
        const actual = await loaded.predictBatch(inputs);
        expect(actual).toEqual(expected);
        // one at a time gives what the batch gives
        for (let index = 0; index < inputs.length; index++) expect(await loaded.predict(inputs[index]!)).toEqual(expected[index]);
        loaded.dispose();
        expect(tf.memory().numTensors).toBe(before);
        original.dispose();
      });
    }

    for (const kind of ['image', 'sound', 'pointer', 'tabular'] as const) {
      it(`${kind}: an answer lists its likeliest classes in \`top\`, most likely first, as many as topK asks`, async () => {
        const bundle = await exampleBundle(kind);
        const predictor = await loadInMemory(bundle);
        const [input] = exampleInputs(kind, 1) as never[];
        const answer = (await predictor.predict(input!)) as { label: string; probabilities: Record<string, number>; top: Array<{ label: string; score: number }> };
        const ranked = Object.entries(answer.probabilities).sort((a, b) => b[1] - a[1]);
        expect(answer.top).toEqual(ranked.slice(0, 5).map(([label, score]) => ({ label, score })));
        expect(answer.top[0]!.label).toBe(answer.label);
        predictor.dispose();
        const one = await loadInMemory(bundle, { topK: 1 });
        expect(((await one.predict(input!)) as { top: unknown[] }).top).toEqual([{ label: answer.label, score: answer.top[0]!.score }]);
        expect(() => (one.topK = 0)).toThrow(/topK must be a whole number of at least 1/);
        one.dispose();
      });
    }

    it('image files (PNG bytes) decode to the same answer as their pixels', async () => {
      const predictor = await loadPredictor(await exampleBundle('image'));
      const [image] = exampleInputs('image', 1) as RawImage[];
      const png = await encodePng({ data: image!.data as Uint8Array, shape: [image!.height, image!.width, 3] });
      expect(await predictor.predict(png as never)).toEqual(await predictor.predict(image as never));
      const result = (await predictor.predict(png as never)) as { label: string; probabilities: Record<string, number> };
      expect(Object.keys(result.probabilities)).toEqual(['cat', 'dog', 'fox']);
      expect(Object.values(result.probabilities).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
      await expect(predictor.predict(new Uint8Array([1, 2, 3, 4]) as never)).rejects.toThrow(/^image: cannot decode as an image/);
      predictor.dispose();
    });

    it('an edited kindling.json is refused: by its task checksum, which cannot be removed, and (edited with its checksum recomputed) against the model', async () => {
      const directory = join(temporary(), 'bundle');
      await saveToDisk(await exampleBundle('image'), directory);
      const manifestFile = join(directory, 'kindling.json');
      const original = JSON.parse(readFileSync(manifestFile, 'utf8'));
      expect(original.taskSha256).toMatch(/^[0-9a-f]{64}$/);
      const edit = (change: (manifest: typeof original) => void) => {
        const manifest = structuredClone(original);
        change(manifest);
        writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
      };
      // reformatting the file (another key order, other spacing) is not an edit of the task
      const reordered = { ...original, task: Object.fromEntries(Object.entries(original.task).reverse()) };
      writeFileSync(manifestFile, JSON.stringify(reordered));
      (await loadPredictor(directory)).dispose();
      for (const labels of [['cat', 'dog'], ['cat', 'dog', 'fox', 'owl', 'emu']]) {
        edit((manifest) => (manifest.task.labels = labels));
        await expect(loadPredictor(directory)).rejects.toThrow(/kindling.json \(labels, preprocessing…\) does not match its checksum/);
        // removing the checksum is no way past it (the older format without one was never released)
        edit((manifest) => {
          manifest.task.labels = labels;
          delete manifest.taskSha256;
        });
        await expect(loadPredictor(directory)).rejects.toThrow('kindling.json has no task checksum (taskSha256), which every bundle Kindling writes has: the file was edited or damaged; re-export the bundle');
        edit((manifest) => {
          manifest.task.labels = labels;
          manifest.taskSha256 = taskChecksum(manifest.task);
        });
        await expect(loadPredictor(directory)).rejects.toThrow(new RegExp(`lists ${labels.length} labels but the model answers 3 classes`));
      }
      for (const size of [20000, 0, 8]) {
        edit((manifest) => {
          manifest.task.preprocessing.size = size;
          manifest.taskSha256 = taskChecksum(manifest.task);
        });
        await expect(loadPredictor(directory)).rejects.toThrow(size === 8 ? /picture size 8 but the model takes 16×16/ : new RegExp(`picture size ${size} \\(a whole number`));
      }
      const before = tf.memory().numTensors;
      await expect(loadPredictor(directory)).rejects.toThrow(/BundleError|picture size/);
      expect(tf.memory().numTensors).toBe(before);
      const tabular = join(temporary(), 'tabular');
      await saveToDisk(await exampleBundle('tabular'), tabular);
      const state = JSON.parse(readFileSync(join(tabular, 'kindling.json'), 'utf8'));
      state.task.processor.targetLabels.push('maybe');
      state.taskSha256 = taskChecksum(state.task);
      writeFileSync(join(tabular, 'kindling.json'), JSON.stringify(state));
      await expect(loadPredictor(tabular)).rejects.toThrow(/lists 3 target labels but the model answers 2 classes/);
    });

    it('test-time augmentation (mirror): each answer averages the picture and its mirror image', async () => {
      const preprocessing = { size: 16, method: 'crop' as const, channels: 3 as const, stats: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } };
      const model = resnet({ inputShape: [16, 16, 3], classes: 3, widths: [4, 8], seed: 3 });
      const labels: readonly string[] = ['cat', 'dog', 'fox']; // a Vocab's labels are readonly, and tasks take them as they are
      const plain = await loadPredictor(await createBundle(model, { kind: 'image', labels, preprocessing }));
      const averaging = await loadPredictor(await createBundle(model, { kind: 'image', labels, preprocessing, testTimeAugmentation: 'mirror' }));
      model.dispose();
      const data = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 37) % 256);
      const mirrored = new Uint8Array(data.length);
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) for (let c = 0; c < 3; c++) mirrored[(y * 16 + x) * 3 + c] = data[(y * 16 + 15 - x) * 3 + c]!;
      type Answer = { probabilities: Record<string, number> };
      const picture = (await plain.predict({ data, width: 16, height: 16 } as never)) as Answer;
      const mirror = (await plain.predict({ data: mirrored, width: 16, height: 16 } as never)) as Answer;
      const before = tf.memory().numTensors;
      const both = (await averaging.predict({ data, width: 16, height: 16 } as never)) as Answer;
      expect(tf.memory().numTensors).toBe(before);
      for (const label of labels) expect(both.probabilities[label]).toBeCloseTo((picture.probabilities[label]! + mirror.probabilities[label]!) / 2, 5);
      expect(picture.probabilities.cat).not.toBeCloseTo(mirror.probabilities.cat!, 5);
      plain.dispose();
      averaging.dispose();
    });

    it('says what it expected: a file path instead of a picture, a row without columns, a file URL with a host', async () => {
      const image = await loadPredictor(await exampleBundle('image'));
      await expect(image.predict('photos/cat.png' as never)).rejects.toThrow("got a file path ('photos/cat.png'), not the file's contents: read the file first");
      await expect(image.predict('%%%' as never)).rejects.toThrow('not valid base64: pass bytes (a Uint8Array or ArrayBuffer) or base64 text');
      image.dispose();
      const tabular = await loadPredictor(await exampleBundle('tabular'));
      await expect(tabular.predict({ age: 30 } as never)).rejects.toThrow(/^row: no column 'education', .*: a row needs the columns the model was trained on \(.*age.*\); give null for a value you do not know$/);
      tabular.dispose();
      await expect(loadPredictor('file://out/image')).rejects.toThrow('file://out/image: not a local file URL: write file:///absolute/path (three slashes) or a plain path such as out/image');
    });

    it('loadPredictor narrows to the kind asked for, and refuses a bundle of another kind', async () => {
      const directory = join(temporary(), 'bundle');
      await saveToDisk(await exampleBundle('image'), directory);
      const image = await loadPredictor(directory, { kind: 'image' });
      const [picture] = exampleInputs('image', 1) as RawImage[];
      // typed as the image predictor's answer: no instanceof needed (this line does not compile with the union)
      const answer: Classification = await image.predict(picture!);
      expect(['cat', 'dog', 'fox']).toContain(answer.label);
      image.dispose();
      await expect(loadPredictor(directory, { kind: 'tabular' })).rejects.toThrow(`${directory}: this is a bundle of kind 'image', not 'tabular'`);
      await expect(loadPredictor(directory, { kind: 'tabular' })).rejects.toBeInstanceOf(BundleError);
    });

    it('predicting a thousand times leaves no tensors behind', async () => {
      const predictor = await loadPredictor(await exampleBundle('image'));
      const inputs = exampleInputs('image', 4);
      await predictor.predictBatch(inputs as never[]);
      const before = tf.memory().numTensors;
      for (let round = 0; round < 250; round++) await predictor.predictBatch(inputs as never[]);
      expect(tf.memory().numTensors).toBe(before);
      predictor.dispose();
    });
  },
  ['cpu'],
);

describe('bundle checks', () => {
  it('refuses a tampered, truncated or missing weight file and names it', async () => {
    const directory = join(temporary(), 'bundle');
    await saveToDisk(await exampleBundle('pointer'), directory);
    const weights = readFileSync(join(directory, 'weights.bin'));
    const tampered = Buffer.from(weights);
    tampered[100] = tampered[100]! ^ 0xff;
    writeFileSync(join(directory, 'weights.bin'), tampered);
    await expect(loadFromDisk(directory)).rejects.toThrow(/weights\.bin does not match its checksum in kindling\.json/);
    writeFileSync(join(directory, 'weights.bin'), weights.subarray(0, 64));
    await expect(loadFromDisk(directory)).rejects.toThrow(/weights\.bin has 64 bytes but the manifest says \d+/);
    await expect(loadFromDisk(join(directory, 'nowhere'))).rejects.toThrow(/no kindling\.json here: not a Kindling bundle/);
  });

  it('refuses a bundle from a newer format, a changed topology, an unknown task, and says what to do', async () => {
    const bundle = await exampleBundle('collab');
    const newer = { ...bundle.manifest, formatVersion: 2, kindlingVersion: '9.0.0' };
    expect(() => bundleFromFiles({ manifest: JSON.stringify(newer), modelJson: bundle.modelJson, weights: bundle.weights }, 'there')).toThrow(/there: the bundle has format version 2 \(written by Kindling 9\.0\.0\); this Kindling \(\d+\.\d+\.\d+\) reads version 1: upgrade @kindling\/deploy/);
    const unknown = { ...bundle.manifest, task: { kind: 'poetry' } };
    expect(() => bundleFromFiles({ manifest: JSON.stringify(unknown), modelJson: bundle.modelJson, weights: bundle.weights }, 'there')).toThrow(/unknown task kind "poetry"/);
    const topology = new TextEncoder().encode(`${new TextDecoder().decode(bundle.modelJson).slice(0, -1)} }`);
    expect(() => bundleFromFiles({ manifest: JSON.stringify(bundle.manifest), modelJson: topology, weights: bundle.weights }, 'there')).toThrow(/model\.json/);
    expect(() => bundleFromFiles({ manifest: '{"format": "something-else"}', modelJson: bundle.modelJson, weights: bundle.weights }, 'there')).toThrow(/not a Kindling bundle manifest/);
    expect(() => bundleFromFiles({ manifest: 'not json', modelJson: bundle.modelJson, weights: bundle.weights }, 'there')).toThrow(/kindling\.json is not JSON/);
  });

  it('knows where each of Kindling\'s task kinds lives, every one of them registered here from its package', () => {
    expect([...TASK_KINDS].sort()).toEqual([...KINDS].sort());
    for (const kind of KINDS) expect(registeredTaskKinds()).toContain(kind);
  });

  it('keeps bundles in memory:// and fetches them from http(s)://', async () => {
    const bundle = await exampleBundle('tabular');
    await saveBundle(bundle, 'memory://tabular');
    const again: Bundle = await loadBundle('memory://tabular');
    expect(again.manifest).toEqual(bundle.manifest);
    await expect(loadBundle('memory://nothing')).rejects.toThrow(/memory:\/\/nothing: no bundle saved here/);
    await expect(loadBundle('ftp://example/bundle')).rejects.toThrow(/no adapter for this location/);
    await expect(saveBundle(bundle, 'https://example.com/bundle')).rejects.toThrow(/the http adapter cannot save/);
  });

  it('writes kindling.json, model.json and weights.bin, and leaves other files in the directory alone', async () => {
    const directory = temporary();
    writeFileSync(join(directory, 'loss.png'), 'mine');
    await saveToDisk(await exampleBundle('image'), directory);
    const manifest = JSON.parse(readFileSync(join(directory, 'kindling.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'kindling-bundle', formatVersion: 1, task: { kind: 'image', labels: ['cat', 'dog', 'fox'] } });
    expect(manifest.files['weights.bin'].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(join(directory, 'model.json'), 'utf8')).weightsManifest[0].paths).toEqual(['./weights.bin']);
    expect(readFileSync(join(directory, 'loss.png'), 'utf8')).toBe('mine');
    // the files are a plain tfjs model too
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: JSON.parse(readFileSync(join(directory, 'model.json'), 'utf8')).modelTopology }));
    expect(model.inputs[0]!.shape).toEqual([null, 16, 16, 3]);
    model.dispose();
  });
});
