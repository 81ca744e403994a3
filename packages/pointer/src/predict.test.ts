import { describe, expect, it } from 'vitest';
import { combineWindows } from './predict';

describe('pointer windows', () => {
  it('combine as independent evidence: one window is itself, and a class one window rules out firmly loses', () => {
    const one = combineWindows([0.2, 0.5, 0.3], 3);
    [0.2, 0.5, 0.3].forEach((value, k) => expect(one[k]).toBeCloseTo(value, 6));
    // the arithmetic mean would answer the first class (0.6); the windows together say the second
    const combined = combineWindows([0.9, 0.1, 0.9, 0.1, 0.0001, 0.9999], 2);
    expect(combined[1]!).toBeGreaterThan(combined[0]!);
    expect(combined[0]! + combined[1]!).toBeCloseTo(1, 6);
    // the same windows in another order give the same answer
    expect(Array.from(combineWindows([0.0001, 0.9999, 0.9, 0.1, 0.9, 0.1], 2))).toEqual(Array.from(combined));
  });
});

