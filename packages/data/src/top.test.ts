import { describe, expect, it } from 'vitest';
import { checkTopK, DEFAULT_TOP_K, topLabels } from './top';

describe('topLabels', () => {
  it('lists the most likely classes first, as many as asked, ties in the labels order', () => {
    const labels = ['cat', 'dog', 'owl', 'fox', 'eel', 'yak', 'ant'];
    const scores = [0.1, 0.4, 0.05, 0.2, 0.05, 0.15, 0.05];
    expect(topLabels(labels, scores)).toEqual([
      { label: 'dog', score: 0.4 },
      { label: 'fox', score: 0.2 },
      { label: 'yak', score: 0.15 },
      { label: 'cat', score: 0.1 },
      { label: 'owl', score: 0.05 },
    ]);
    expect(topLabels(labels, scores).length).toBe(DEFAULT_TOP_K);
    expect(topLabels(labels, scores, 2).map((entry) => entry.label)).toEqual(['dog', 'fox']);
    expect(topLabels(labels, scores, Infinity).map((entry) => entry.label)).toEqual(['dog', 'fox', 'yak', 'cat', 'owl', 'eel', 'ant']);
  });

  it('reads one row of a batch from its offset', () => {
    expect(topLabels(['a', 'b'], Float32Array.of(0.9, 0.1, 0.3, 0.7), 1, 2)).toEqual([{ label: 'b', score: Float32Array.of(0.7)[0] }]);
  });

  it('refuses a topK that is not a whole number of at least 1', () => {
    expect(() => checkTopK(0)).toThrow(/topK must be a whole number of at least 1/);
    expect(() => checkTopK(2.5)).toThrow(/not 2.5/);
    expect(checkTopK(Infinity)).toBe(Infinity);
  });
});
