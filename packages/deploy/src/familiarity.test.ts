import { Random } from '@kindling/data';
import { resnet } from '@kindling/models';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { calibrateConfidence, describeValues, doubtOf, familiarityOf, featureDistance, featureFamiliarityOf, type InputDescriptors } from './familiarity';
import { taskChecksum } from './bundle';
import { createBundle, loadPredictor, softmaxAndFeatures, type RawImage, type TabularAnswer, type TaskSpec } from './index';
import { exampleBundle, exampleInputs } from './testing';
import type { PointerRecording } from '@kindling/pointer';

/** A grey 16×16 picture: dark noise around `level` (0–255). */
function picture(random: Random, level: number, spread = 30): RawImage {
  const data = new Uint8Array(16 * 16);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(level + (random.next() - 0.5) * 2 * spread)));
  return { data, width: 16, height: 16, channels: 1 };
}

describe('familiarity: "not sure" for inputs unlike the training ones and uncertain answers', () => {
  it('describes an input by its mean, standard deviation and neighbour differences', () => {
    // 2×2, one channel: [0 2; 4 6]
    const described = describeValues([0, 2, 4, 6], [2, 2, 1]);
    expect(described.level).toBe(3);
    expect(described.contrast).toBeCloseTo(Math.sqrt(5), 10);
    expect(described.detail).toBe((2 + 4 + 2 + 4) / 4); // across: |2-0|, |6-4|; down: |4-0|, |6-2|
    expect(described.across).toBe(2);
    expect(described.down).toBe(4);
    // the border of a 2×2 picture is all of it; of a 32×32 one (dark, a bright square in the middle) its outer two rows and columns
    expect(described.frame).toBe(3);
    const square = Array.from({ length: 32 * 32 }, (_, index) => (Math.abs((index % 32) - 15.5) < 8 && Math.abs(Math.floor(index / 32) - 15.5) < 8 ? 1 : 0));
    expect(describeValues(square, [32, 32, 1]).frame).toBe(0);
    expect(describeValues(square.map((value) => 1 - value), [32, 32, 1]).frame).toBe(1);
  });

  it('calibrates the confidence under which held-out answers were mostly wrong', () => {
    // the 10 least sure answers: 2 right; above 0.6 all right
    const confidences = [0.2, 0.25, 0.3, 0.32, 0.35, 0.4, 0.45, 0.5, 0.55, 0.58, 0.6, 0.7, 0.8, 0.9, 0.95];
    const correct = [false, false, true, false, false, false, true, false, false, false, true, true, true, true, true];
    expect(calibrateConfidence(confidences, correct)).toBe(0.6);
    // a model whose least sure answers are still mostly right has no such level
    expect(calibrateConfidence(confidences, confidences.map(() => true))).toBeUndefined();
    // two wrong answers among the least sure are not a level, nor are fewer than 10 answers
    expect(calibrateConfidence(confidences, confidences.map((_, index) => index > 1))).toBeUndefined();
    expect(calibrateConfidence([0.3, 0.4, 0.5, 0.6, 0.9, 0.95], [false, false, false, false, true, true])).toBeUndefined();
    // a model wrong everywhere: every answer is unsure
    expect(calibrateConfidence(confidences, confidences.map(() => false))).toBe(1);
  });

  it('takes the 0.1st to 99.9th percentile of the training descriptors, widened by a tenth, and never less than rounding', () => {
    const training: InputDescriptors[] = Array.from({ length: 1001 }, (_, index) => ({ level: index, contrast: 1, detail: 2 * index, across: 3 * index, down: index + 1, frame: index / 2 }));
    const { ranges, minConfidence } = familiarityOf(training);
    const margin = 0.1 * 998 + 1e-4 * (1 + 999);
    expect(ranges.level[0]).toBeCloseTo(1 - margin, 6);
    expect(ranges.level[1]).toBeCloseTo(999 + margin, 6);
    // a descriptor every input shares (normalized per example) still lets float error through
    expect(ranges.contrast[0]).toBeCloseTo(1 - 2e-4, 10);
    expect(ranges.contrast[1]).toBeCloseTo(1 + 2e-4, 10);
    const typical = { level: 500, contrast: 1, detail: 1000, across: 1500, down: 501, frame: 250 };
    expect(doubtOf({ ranges }, { ...typical, contrast: 1 + 1e-7 }, 0.9)).toBeUndefined();
    expect(minConfidence).toBeUndefined();
    expect(doubtOf({ ranges }, typical, 0.9)).toBeUndefined();
    expect(doubtOf({ ranges }, { ...typical, level: 2000 }, 0.9)).toBe('unlike the training inputs: higher in level than any of them (its level 2000; theirs -98.9 to 1099)');
    const words = { level: ['darker', 'brighter'], contrast: ['flatter', 'starker'], detail: ['smoother', 'busier'], across: ['even across', 'jagged across'], down: ['steadier over time', 'changing faster'], frame: ['darker at its edges', 'brighter at its edges'] } as const;
    expect(doubtOf({ ranges }, { ...typical, detail: -500 }, 0.9, words)).toBe('unlike the training inputs: smoother than any of them (its detail -500; theirs -198 to 2198)');
    // one direction out of its range while the other and the mean are not (a tone: steady over time, sharp across pitches)
    expect(doubtOf({ ranges }, { ...typical, down: -200 }, 0.9, words)).toBe('unlike the training inputs: steadier over time than any of them (its down -200; theirs -97.9 to 1100)');
    // a garment's picture with a bright background
    expect(doubtOf({ ranges }, { ...typical, frame: 900 }, 0.9, words)).toBe('unlike the training inputs: brighter at its edges than any of them (its frame 900; theirs -49.5 to 549)');
    // a bundle from before `across`, `down` and `frame` were measured has three ranges: the others are not checked
    const { across: _across, down: _down, frame: _frame, ...older } = ranges;
    expect(doubtOf({ ranges: older }, { ...typical, down: -200, frame: 900 }, 0.9)).toBeUndefined();
    expect(doubtOf({ ranges, minConfidence: 0.6 }, typical, 0.5)).toMatch(/^too unsure: 50% for its best answer/);
  });

  it('sums up the model\'s features per class, and marks features far from every class', () => {
    const random = new Random(4);
    // two classes of 8 features around (0…) and (10…), spread 1
    const rows = Array.from({ length: 400 }, (_, index) => Float32Array.from({ length: 8 }, () => (index % 2) * 10 + (random.next() - 0.5) * 2 * Math.sqrt(3)));
    const labels = rows.map((_, index) => index % 2);
    const familiarity = featureFamiliarityOf('head_pool', rows, labels, 2);
    expect(familiarity.means[1]![0]).toBeCloseTo(10, 0);
    for (const scale of familiarity.scale) expect(scale).toBeCloseTo(1, 0);
    expect(featureDistance(familiarity, new Float32Array(8).fill(10))).toBeCloseTo(0, 0);
    // every training row within the limit; a row midway between the classes, or far off, beyond it
    expect(Math.max(...rows.map((row) => featureDistance(familiarity, row)))).toBeLessThanOrEqual(familiarity.limit);
    const ranges = familiarityOf([{ level: 0, contrast: 1, detail: 0, across: 0, down: 0, frame: 0 }]).ranges;
    expect(doubtOf({ ranges: { level: [-1, 1], contrast: [0, 2], detail: [-1, 1] }, features: familiarity }, undefined, 0.9, undefined, new Float32Array(8).fill(5))).toMatch(/^unlike the training inputs: what the model makes of it is far from every class \(distance 5\.\d+; the training inputs' at most \d\.\d+\)$/);
    expect(doubtOf({ ranges, features: familiarity }, undefined, 0.9, undefined, rows[3])).toBeUndefined();
    // held-out features spread wider than the training ones raise the limit to where 99.5% of them stay
    const heldOut = Array.from({ length: 100 }, (_, index) => Float32Array.from({ length: 8 }, () => (index % 2) * 10 + (random.next() - 0.5) * 6));
    const calibrated = featureFamiliarityOf('head_pool', rows, labels, 2, heldOut);
    expect(calibrated.limit).toBeGreaterThan(familiarity.limit);
    expect(heldOut.filter((row) => featureDistance(calibrated, row) > calibrated.limit).length).toBe(0);
    expect(featureFamiliarityOf('head_pool', rows, labels, 2, heldOut.slice(0, 19)).limit).toBe(familiarity.limit); // too few to calibrate on
  });

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
