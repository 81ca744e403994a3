import { describe, expect, it } from 'vitest';
import { classWeightsByShare, diceByRarity, flipByMasks, segmentSize } from './segment-sizing';

const statistics = (width: number, height: number, shares: number[], widths: number[], leftShares = shares.map(() => 0.5)) => ({ masks: 10, width, height, shares, widths, leftShares });

describe('segmentation sized by its masks', () => {
  it('keeps pictures as large as their thinnest class needs, within 64–384 pixels, in their shape, with training crops above 160', () => {
    // the default scenes: 64 pixels square, shapes at least 5 pixels wide: as they are
    expect(segmentSize(statistics(64, 64, [0.7, 0.1, 0.1, 0.1], [20, 5.2, 6, 5.5]), ['background', 'circle', 'square', 'triangle'], 8)).toEqual({
      size: 64,
      height: 64,
      crop: undefined,
      why: "size 64 (the masks are 64 pixels square; the thinnest class, 'circle', is 5.2 pixels wide: kept at full size)",
    });
    // street scenes, poles 2.4 pixels wide: not shrunk, 4:3 kept; trained on crops
    const streets = segmentSize(statistics(192, 144, [0.4, 0.3, 0.25, 0.01, 0.002, 0.002, 0.036], [50, 20, 40, 2.4, 3, 2.6, 8]), ['sky', 'building', 'road', 'pole', 'sign', 'person', 'car'], 8);
    expect(streets).toMatchObject({ size: 192, height: 144, crop: 128 });
    expect(streets.why).toBe("size 192×144 (the masks are 192×144, their shape kept; the thinnest class, 'pole', is 2.4 pixels wide: kept at full size), trained on random 128×128 squares, validated on whole pictures");
    // large pictures of thick classes shrink until the thinnest is 3 pixels wide: 1000 · 3/30 = 100 → 104, a multiple
    // of 8; the short side in proportion, to the nearest multiple: 104 · 0.8 = 83.2 → 80
    expect(segmentSize(statistics(1000, 800, [0.5, 0.5], [200, 30]), ['a', 'b'], 8)).toMatchObject({ size: 104, height: 80, crop: undefined });
    // portrait pictures: the height is the long side
    expect(segmentSize(statistics(800, 1000, [0.5, 0.5], [200, 30]), ['a', 'b'], 8)).toMatchObject({ size: 80, height: 104 });
    // a thin class in huge pictures: at most 384 pixels, on crops
    const huge = segmentSize(statistics(2000, 1500, [0.9, 0.1], [100, 2]), ['a', 'b'], 8);
    expect(huge).toMatchObject({ size: 384, height: 288, crop: 128 });
    // a wide strip: crops no larger than its short side
    expect(segmentSize(statistics(2000, 200, [0.9, 0.1], [100, 2]), ['a', 'b'], 8)).toMatchObject({ size: 384, height: 40, crop: 40 });
    expect(huge.why).toContain('at most 384');
    // small pictures are never blown up past their own size (but to the U-Net's multiple): 28 → 32
    expect(segmentSize(statistics(28, 28, [0.8, 0.2], [10, 2]), ['a', 'b'], 8).size).toBe(32);
    // void and a class of a few stray pixels do not decide: the next thinnest does (1000 · 3/30)
    expect(segmentSize(statistics(1000, 1000, [0.5, 0.4995, 0.0005, 0], [30, 200, 1, 1]), ['a', 'b', 'specks', 'void'], 8, 3)).toMatchObject({ size: 104 });
    // a deeper U-Net (six levels: a multiple of 32) rounds up to its multiple
    expect(segmentSize(statistics(1000, 800, [0.5, 0.5], [200, 30]), ['a', 'b'], 32)).toMatchObject({ size: 128, height: 96 });
  });

  it('adds the Dice loss when a class (not void) covers under 5% of the pixels, and names the rare ones', () => {
    expect(diceByRarity(statistics(64, 64, [0.9, 0.08, 0.02], [1, 1, 1]), ['background', 'road', 'sign'])).toEqual({ dice: true, why: 'cross-entropy + Dice (rare classes: sign 2.0%)' });
    expect(diceByRarity(statistics(64, 64, [0.5, 0.5, 0], [1, 1, Number.NaN]), ['a', 'b', 'void'], 2)).toEqual({ dice: false, why: 'cross-entropy (every class covers 5.0% of the pixels or more)' });
  });

  it('weights classes by √(commonest share / share), at most 10× the commonest, a mean of 1 over the classes present; void 0', () => {
    // shares 0.64, 0.16, 0.04 (void 0.16 not counted): 1, 2, 4 → mean 7/3 → 0.43, 0.86, 1.71
    const weights = classWeightsByShare(statistics(64, 64, [0.64, 0.16, 0.04, 0.16], [1, 1, 1, 1]), 3);
    expect(weights.map((weight) => Number(weight.toFixed(3)))).toEqual([0.429, 0.857, 1.714, 0]);
    // a class of a millionth of the pixels counts 10× the commonest, not 1000×; an absent class keeps 1
    const capped = classWeightsByShare(statistics(64, 64, [0.999999, 0.000001, 0], [1, 1, 1]));
    expect(capped[1]! / capped[0]!).toBeCloseTo(10, 9);
    expect(capped[0]! + capped[1]!).toBeCloseTo(2, 9);
    expect(capped[2]).toBe(1);
  });

  it('mirrors pictures in training unless a class lies on one side (90% or more of its pixels in one half)', () => {
    const codes = ['background', 'left-arm', 'right-arm', 'specks', 'void'];
    // a left and a right arm: a mirror image would swap them
    expect(flipByMasks(statistics(64, 64, [0.8, 0.1, 0.0995, 0.0005, 0], [1, 1, 1, 1, 1], [0.5, 0.97, 0.04, 1, Number.NaN]), codes, 4)).toEqual({
      flip: false,
      why: "no flips ('left-arm' lies 97% on the left, 'right-arm' lies 96% on the right: a mirror image would teach it on the wrong side)",
    });
    // street scenes: every class on both sides; a few stray pixels (specks) and void do not decide
    expect(flipByMasks(statistics(64, 64, [0.8, 0.1, 0.0995, 0.0005, 0], [1, 1, 1, 1, 1], [0.5, 0.62, 0.45, 1, Number.NaN]), codes, 4)).toEqual({
      flip: true,
      why: "flips (every class lies on both sides; the most one-sided, 'left-arm', 62% on the left)",
    });
  });
});
