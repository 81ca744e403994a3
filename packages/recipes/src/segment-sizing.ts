import type { MaskStatistics } from '@kindling/image/node';

/**
 * How `kindling train segment` sizes a run by its data when its size, Dice loss, epochs or batch size are
 * `auto`. The pictures keep their shape and are kept as large as their thinnest class needs: their longer side
 * shrunk only while that class stays `thinPixels` wide, from `minSide` (or the pictures' own size, when smaller) up
 * to `maxSide`; above `cropAbove`, training takes random `crop`-pixel squares (validation sees whole pictures), so a
 * step costs the same whatever the resolution.
 */
export const SEGMENT_SIZING = {
  minSide: 64,
  maxSide: 384,
  thinPixels: 3,
  /** A class rarer than this share of the pixels is left out of the thinnest-class rule (a few stray pixels). */
  noiseShare: 0.001,
  cropAbove: 160,
  crop: 128,
  /** Dice `auto`: the Dice loss joins the cross-entropy when a class covers less than this share of the pixels. */
  rareShare: 0.05,
  /** Flips `auto`: training mirrors pictures unless a class has this share of its pixels or more on one side. */
  sidedShare: 0.9,
  /** Class weights (`classWeightsByShare`): the most a class counts against the commonest one. */
  maxClassWeight: 10,
  /**
   * The schedule: about 16 batches an epoch of 2–8 pictures, at least 720 steps, 12–60 epochs. At 360 steps three
   * seeds of the default shapes spread from 0.773 to 0.867 mean IoU (the PyTorch twin 0.827–0.883); at 720 steps
   * 0.910–0.920 (the twin 0.903–0.915): `pnpm bench defaults`, segmentation rows, bench/README.md.
   */
  batchesPerEpoch: 16,
  batchBounds: [2, 8] as const,
  minSteps: 720,
  epochBounds: [12, 60] as const,
};

/** The width and height a set's pictures are resized to (their shape kept), whether training crops them, and why, in words. */
export interface SegmentSize {
  /** The width (the `size` of the bundle's preprocessing). */
  size: number;
  height: number;
  crop?: number;
  why: string;
}

const roundUp = (value: number, divisor: number) => Math.ceil(value / divisor) * divisor;

/**
 * Size `auto`: the longer side for pictures of the measured size whose thinnest class (not void, not a few stray
 * pixels) is `widths[c]` pixels wide, a multiple of the U-Net's `divisor`; the shorter side in the pictures'
 * proportion (the nearest multiple of `divisor`), so nothing is squished; with training crops above `cropAbove`
 * (squares of at most the shorter side).
 */
export function segmentSize(statistics: MaskStatistics, codes: readonly string[], divisor: number, voidIndex?: number): SegmentSize {
  const { minSide, maxSide, thinPixels, noiseShare, cropAbove, crop } = SEGMENT_SIZING;
  const long = Math.max(statistics.width, statistics.height);
  let thinnest: { code: string; width: number } | undefined;
  statistics.widths.forEach((width, index) => {
    if (index === voidIndex || !(statistics.shares[index]! >= noiseShare) || !Number.isFinite(width)) return;
    if (thinnest === undefined || width < thinnest.width) thinnest = { code: codes[index]!, width };
  });
  const wanted = long * Math.min(1, thinnest === undefined ? 1 : thinPixels / thinnest.width);
  const longSide = roundUp(Math.min(maxSide, Math.max(Math.min(long, minSide), wanted)), divisor);
  const shortSide = Math.max(divisor, Math.round((longSide * Math.min(statistics.width, statistics.height)) / long / divisor) * divisor);
  const [size, height] = statistics.width >= statistics.height ? [longSide, shortSide] : [shortSide, longSide];
  const squareModel = size === height;
  const shape = statistics.width === statistics.height ? `${statistics.width} pixels square` : `${statistics.width}×${statistics.height}, their shape kept`;
  const width = thinnest === undefined ? '' : `the thinnest class, '${thinnest.code}', is ${thinnest.width.toFixed(1)} pixels wide`;
  const reason =
    thinnest === undefined
      ? 'no class is thin: as they are'
      : longSide >= long
        ? `${width}: kept at full size`
        : wanted > maxSide
          ? `${width}: shrunk to at most ${maxSide}`
          : wanted < minSide
            ? `${width}: shrunk to the smallest size, ${minSide}`
            : `${width}: shrunk while it stays ${thinPixels} pixels wide`;
  const square = Math.min(crop, shortSide);
  const cropped = longSide > cropAbove && square % divisor === 0 ? square : undefined;
  return {
    size,
    height,
    crop: cropped,
    why: `size ${squareModel ? size : `${size}×${height}`} (the masks are ${shape}; ${reason})${cropped === undefined ? '' : `, trained on random ${cropped}×${cropped} squares, validated on whole pictures`}`,
  };
}

/**
 * Flips `auto`: whether training may mirror the pictures (and their masks). A mirror image keeps every class's
 * label unless a class lives on one side — a left arm, the left lane — which the mirror would teach on the wrong
 * side: flips are off when a class (not void, not a few stray pixels) has `sidedShare` of its pixels or more in one
 * half of the masks, and on otherwise.
 */
export function flipByMasks(statistics: MaskStatistics, codes: readonly string[], voidIndex?: number): { flip: boolean; why: string } {
  const { noiseShare, sidedShare } = SEGMENT_SIZING;
  const sided = codes
    .map((code, index) => ({ code, index, left: statistics.leftShares[index]! }))
    .filter(({ index, left }) => index !== voidIndex && statistics.shares[index]! >= noiseShare && Number.isFinite(left));
  const lopsided = (left: number) => Math.max(left, 1 - left);
  const side = (left: number) => `${Math.round(lopsided(left) * 100)}% on the ${left >= 0.5 ? 'left' : 'right'}`;
  const onOneSide = sided.filter(({ left }) => lopsided(left) >= sidedShare);
  if (onOneSide.length > 0) return { flip: false, why: `no flips (${onOneSide.map(({ code, left }) => `'${code}' lies ${side(left)}`).join(', ')}: a mirror image would teach it on the wrong side)` };
  const most = sided.reduce<(typeof sided)[number] | undefined>((best, each) => (best === undefined || lopsided(each.left) > lopsided(best.left) ? each : best), undefined);
  return { flip: true, why: `flips (every class lies on both sides${most === undefined ? '' : `; the most one-sided, '${most.code}', ${side(most.left)}`})` };
}

/**
 * Class weights for the cross-entropy from the pixels' shares: √(commonest share / share) — a class of 0.3% of the
 * pixels counts 10× one of 30%, not 100× — at most `maxClassWeight` times the commonest class's, then scaled to a
 * mean of 1 over the classes present. Void gets 0, a class in none of the masks 1.
 */
export function classWeightsByShare(statistics: MaskStatistics, voidIndex?: number): number[] {
  const present = statistics.shares.map((share, index) => index !== voidIndex && share > 0);
  const commonest = Math.max(0, ...statistics.shares.filter((_, index) => present[index]));
  const raw = statistics.shares.map((share, index) => (present[index] ? Math.min(SEGMENT_SIZING.maxClassWeight, Math.sqrt(commonest / share)) : 0));
  const mean = raw.reduce((sum, value) => sum + value, 0) / Math.max(1, present.filter(Boolean).length);
  return raw.map((value, index) => (present[index] ? value / mean : index === voidIndex ? 0 : 1));
}

/** Dice `auto`: whether a class (not void) covers less than `rareShare` of the pixels, and which. */
export function diceByRarity(statistics: MaskStatistics, codes: readonly string[], voidIndex?: number): { dice: boolean; why: string } {
  const rare = codes.filter((_, index) => index !== voidIndex && statistics.shares[index]! < SEGMENT_SIZING.rareShare);
  const percent = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 2 : 1)}%`;
  if (rare.length === 0) return { dice: false, why: `cross-entropy (every class covers ${percent(SEGMENT_SIZING.rareShare)} of the pixels or more)` };
  return { dice: true, why: `cross-entropy + Dice (rare classes: ${rare.map((code) => `${code} ${percent(statistics.shares[codes.indexOf(code)]!)}`).join(', ')})` };
}
