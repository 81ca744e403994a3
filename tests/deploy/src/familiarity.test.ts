import { Random } from '@kindling/data';
import { resnet } from '@kindling/models';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createBundle, describeValues, familiarityOf, featureFamiliarityOf, loadPredictor, softmaxAndFeatures, taskChecksum, type TaskSpec } from '@kindling/deploy';
import type { RawImage } from '@kindling/image/predict';
import type { TabularAnswer } from '@kindling/tabular';
import { exampleBundle, exampleInputs } from './testing';
import type { PointerRecording } from '@kindling/pointer';

/** A grey 16×16 picture: dark noise around `level` (0–255). */
function picture(random: Random, level: number, spread = 30): RawImage {
  const data = new Uint8Array(16 * 16);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(level + (random.next() - 0.5) * 2 * spread)));
  return { data, width: 16, height: 16, channels: 1 };
}

describe('familiarity of each kind of predictor: "not sure" for inputs unlike the training ones', () => {
  it('an image predictor with feature familiarity reads features and probabilities in one pass, mirrored or not, and leaks nothing', async () => {
    const random = new Random(8);
    const bundle = await exampleBundle('image');
    const pictures = Array.from({ length: 12 }, () => picture(random, 60));
    for (const testTimeAugmentation of [undefined, 'mirror'] as const) {
      // the familiarity of the training pictures' features, as kindling train records it
      const base = await loadPredictor(bundle, { kind: 'image' });
      const prepared = await Promise.all(pictures.map((item) => base.prepare(item)));
      const rows = (await softmaxAndFeatures(base.model, 'head_pool', () => tf.stack(prepared.map((item) => tf.tensor3d(item.features, [16, 16, 3]))))).features!;
      base.dispose();
      const task = { ...bundle.manifest.task, ...(testTimeAugmentation === undefined ? {} : { testTimeAugmentation }), familiarity: { ranges: { level: [-100, 100], contrast: [-100, 100], detail: [-100, 100] }, features: featureFamiliarityOf('head_pool', rows, rows.map(() => 0), 1) } } as TaskSpec;
      const predictor = await loadPredictor({ ...bundle, manifest: { ...bundle.manifest, task, taskSha256: taskChecksum(task) } }, { kind: 'image' });
      const before = tf.memory().numTensors;
      const answers = await predictor.predictBatch(pictures);
      expect(answers.filter((answer) => answer.notSure !== undefined), `${testTimeAugmentation ?? 'plain'}: the training pictures themselves`).toHaveLength(0);
      expect(tf.memory().numTensors).toBe(before);
      predictor.dispose();
    }
    // a feature familiarity that does not fit the model is refused on load, in one line
    const probe = await loadPredictor(bundle, { kind: 'image' });
    const width = probe.model.getLayer('head_pool').outputShape.at(-1) as number;
    probe.dispose();
    const fitting = { layer: 'head_pool', means: [new Array<number>(width).fill(0)], scale: new Array<number>(width).fill(1), limit: 2 };
    for (const [features, reason] of [
      [{ ...fitting, layer: 'nowhere' }, /measures the features of a layer "nowhere" the model does not have/],
      [{ ...fitting, means: [[0, 1]] }, new RegExp(`gives feature means that are not rows of ${width} numbers`)],
      [{ ...fitting, scale: fitting.scale.map(() => 0) }, new RegExp(`gives feature scales that are not ${width} positive numbers`)],
      [{ ...fitting, limit: Number.NaN }, /gives the feature distance limit null \(a positive number expected\)/],
    ] as const) {
      const task = { ...bundle.manifest.task, familiarity: { ranges: { level: [-1, 1], contrast: [0, 2], detail: [0, 1] }, features } } as TaskSpec;
      await expect(loadPredictor({ ...bundle, manifest: { ...bundle.manifest, task, taskSha256: taskChecksum(task) } })).rejects.toThrow(reason);
    }
  });

  it('a pointer predictor reads each window\'s features with its answer and marks a recording the model makes nothing familiar of', async () => {
    const bundle = await exampleBundle('pointer');
    const recordings = exampleInputs('pointer', 8) as PointerRecording[];
    const base = await loadPredictor(bundle, { kind: 'pointer' });
    const { size = 64 } = (bundle.manifest.task as { preprocessing: { raster: { size?: number } } }).preprocessing.raster;
    const windows = (await Promise.all(recordings.map((recording) => base.prepare(recording)))).flat() as Float32Array[];
    const channels = windows[0]!.length / (size * size);
    const rows = (await softmaxAndFeatures(base.model, 'head_pool', () => tf.tensor4d(Float32Array.from(windows.flatMap((window) => Array.from(window))), [windows.length, size, size, channels]))).features!;
    base.dispose();
    const wide: [number, number] = [-100, 100];
    const withFeatures = async (features: ReturnType<typeof featureFamiliarityOf>) => {
      const task = { ...bundle.manifest.task, familiarity: { ranges: { level: wide, contrast: wide, detail: wide }, features } } as TaskSpec;
      return loadPredictor({ ...bundle, manifest: { ...bundle.manifest, task, taskSha256: taskChecksum(task) } }, { kind: 'pointer' });
    };
    const familiar = featureFamiliarityOf('head_pool', rows, rows.map(() => 0), 1);
    const predictor = await withFeatures(familiar);
    const before = tf.memory().numTensors;
    expect((await predictor.predictBatch(recordings)).filter((answer) => answer.notSure !== undefined), 'the training recordings themselves').toHaveLength(0);
    expect(tf.memory().numTensors).toBe(before);
    predictor.dispose();
    // the same recordings against a class whose features lie elsewhere: every one marked, with the features' reason
    const elsewhere = await withFeatures({ ...familiar, means: familiar.means.map((mean) => mean.map((value, index) => value + 50 * familiar.scale[index]!)) });
    for (const answer of await elsewhere.predictBatch(recordings)) expect(answer.notSure).toMatch(/what the model makes of it is far from every class/);
    elsewhere.dispose();
  });

  it('an image predictor marks a picture unlike its dark training pictures "not sure", and not one like them', async () => {
    const random = new Random(7);
    const preprocessing = { size: 16, method: 'squish' as const, channels: 1 as const, stats: { mean: [0.2], std: [0.2] } };
    // the descriptors of the training pictures as the model sees them (normalized), as `kindling train` records them
    const normalized = (image: RawImage) => Float32Array.from(image.data, (value) => (value / 255 - 0.2) / 0.2);
    const familiarity = familiarityOf(Array.from({ length: 200 }, () => describeValues(normalized(picture(random, 40)), [16, 16, 1])));
    const model = resnet({ inputShape: [16, 16, 1], classes: 2, widths: [4], seed: 1 });
    const bundle = await createBundle(model, { kind: 'image', labels: ['a', 'b'], preprocessing, familiarity }, { metrics: {} });
    model.dispose();
    const predictor = await loadPredictor(bundle, { kind: 'image' });
    const before = tf.memory().numTensors;
    const [dark, white] = await predictor.predictBatch([picture(random, 40), picture(random, 230, 5)]);
    expect(dark!.notSure).toBeUndefined();
    expect(white!.notSure).toMatch(/^unlike the training inputs: brighter than any of them \(its level [\d.]+; theirs -?[\d.]+ to -?[\d.]+\)$/);
    expect(['a', 'b']).toContain(white!.label); // the answer is still there, marked
    expect(tf.memory().numTensors).toBe(before);
    predictor.dispose();
  });

  it('a segmentation predictor marks the mask of a picture unlike its training pictures "not sure", and says how sure each mask is', async () => {
    const random = new Random(9);
    const bundle = await exampleBundle('segmentation');
    const { preprocessing } = bundle.manifest.task as { preprocessing: { size: number; stats: { mean: number[]; std: number[] } } };
    const { size, stats } = preprocessing;
    // grey pictures of dark noise, as the model sees them (normalized per channel)
    const asSeen = (image: RawImage) => Float32Array.from({ length: size * size * 3 }, (_, index) => (image.data[Math.floor(index / 3)]! / 255 - stats.mean[index % 3]!) / stats.std[index % 3]!);
    const familiarity = familiarityOf(Array.from({ length: 100 }, () => describeValues(asSeen(picture(random, 40)), [size, size, 3])));
    const task = { ...bundle.manifest.task, familiarity } as TaskSpec;
    const predictor = await loadPredictor({ ...bundle, manifest: { ...bundle.manifest, task, taskSha256: taskChecksum(task) } }, { kind: 'segmentation' });
    const before = tf.memory().numTensors;
    const [dark, white] = await predictor.predictBatch([picture(random, 40), { data: new Uint8Array(16 * 16).fill(255), width: 16, height: 16, channels: 1 }]);
    expect(dark!.notSure).toBeUndefined();
    expect(white!.notSure).toMatch(/^unlike the training inputs: (brighter|flatter|smoother) than any of them/);
    expect(white!.mask.length).toBe(size * size); // the mask is still there, marked
    for (const answer of [dark!, white!]) expect(answer.confidence).toBeGreaterThanOrEqual(1 / 2); // two classes answered (void never is)
    for (const answer of [dark!, white!]) expect(answer.confidence).toBeLessThanOrEqual(1);
    // per pixel: the probability of the class given, 0 to 255, whose mean is the mask's confidence
    for (const answer of [dark!, white!]) {
      expect(answer.confidenceMap).toHaveLength(size * size);
      expect(Math.min(...answer.confidenceMap)).toBeGreaterThanOrEqual(127);
      expect(answer.confidenceMap.reduce((sum, value) => sum + value, 0) / (size * size * 255)).toBeCloseTo(answer.confidence, 2);
    }
    expect(tf.memory().numTensors).toBe(before);
    predictor.dispose();
  });

  it('a tabular predictor names the numbers outside the training range and the categories never seen', async () => {
    const predictor = await loadPredictor(await exampleBundle('tabular'), { kind: 'tabular' });
    const [row] = exampleInputs('tabular', 1) as Array<Record<string, string | number | null>>;
    const usual: TabularAnswer = await predictor.predict(row!);
    expect(usual.notSure).toBeUndefined();
    const odd: TabularAnswer = await predictor.predict({ ...row!, age: -5, hours_per_week: 99_999, region: 'atlantis' });
    expect(odd.notSure).toMatch(/^unlike the training rows: age -5 is outside the \d+ to \d+ seen in training; hours_per_week 99999 is outside .*; region 'atlantis' never appeared in training$/);
    // a missing value is not unusual
    expect((await predictor.predict({ ...row!, age: null })).notSure).toBeUndefined();
    predictor.dispose();
  });
});
