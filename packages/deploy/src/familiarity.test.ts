import { Random } from '@kindling/data';
import { describe, expect, it } from 'vitest';
import { calibrateConfidence, describeValues, doubtOf, familiarityOf, featureDistance, featureFamiliarityOf, type InputDescriptors } from './familiarity';

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
});
