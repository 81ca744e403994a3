import { describe, expect, it } from 'vitest';
import { labelSafety, labelSafetyWhy } from './index';

/** Two classes of 3-value vectors around (10, 0, 0) and (0, 0, 10), with a little spread. */
function twoClasses(): { examples: number[][]; labels: number[] } {
  const examples: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 60; i++) {
    const wobble = (i % 5) - 2;
    examples.push([10 + wobble, wobble, 0], [0, -wobble, 10 + wobble]);
    labels.push(0, 1);
  }
  return { examples, labels };
}

describe('labelSafety', () => {
  it('a change that keeps examples near their class keeps labels; one that swaps them does not', () => {
    const { examples, labels } = twoClasses();
    const nudged = labelSafety({ examples, changed: examples.map(([a, b, c]) => [a! + 1, b!, c! + 1]), labels });
    expect(nudged).toMatchObject({ keepsLabels: true, recognised: 1, recognisedChanged: 1, chance: 0.5, keptMargin: 1 });
    const reversed = labelSafety({ examples, changed: examples.map((vector) => vector.slice().reverse()), labels });
    expect(reversed).toMatchObject({ keepsLabels: false, recognised: 1, recognisedChanged: 0 });
    expect(labelSafetyWhy('reversal', reversed, false, '')).toBe("reversal off: 120 examples are nearest their class's mean 100% of the time, changed 0% (chance 50%); that keeps 0% of the margin over chance (under 50%: the change moves examples out of their class)");
  });

  it('leaves an example out of its own class mean, and cannot tell when the examples are not recognised', () => {
    // both classes have the mean 1.5; taken without the example, its own class's mean is always the farther one
    const lonely = labelSafety({ examples: [[0], [3], [1], [2]], changed: [[0], [3], [1], [2]], labels: [0, 0, 1, 1] });
    expect(lonely.recognised).toBe(0);
    expect(lonely).toMatchObject({ keepsLabels: undefined, undecided: 'few examples' });
    expect(labelSafetyWhy('flips', lonely, true, 'flips stay on')).toMatch(/^flips on: 4 examples .* too few to judge by \(under 100\) \(flips stay on\)$/);
    const many = Array.from({ length: 30 }, () => [[0], [3], [1], [2]]).flat();
    const nearChance = labelSafety({ examples: many, changed: many, labels: many.map((_, i) => (i % 4 < 2 ? 0 : 1)) });
    expect(nearChance).toMatchObject({ keepsLabels: undefined, undecided: 'near chance' });
    expect(labelSafetyWhy('flips', nearChance, true, 'flips stay on')).toMatch(/too close to chance to judge by \(flips stay on\)$/);
  });

  it('refuses mismatched input', () => {
    expect(() => labelSafety({ examples: [[1]], changed: [], labels: [0] })).toThrow('1 examples, 0 changed examples and 1 labels');
    expect(() => labelSafety({ examples: [[1], [1, 2]], changed: [[1], [1, 2]], labels: [0, 1] })).toThrow('example 1 is not 1 values long');
    expect(() => labelSafety({ examples: [], changed: [], labels: [] })).toThrow('needs examples');
  });
});
