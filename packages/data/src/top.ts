import { ConfigError } from './errors';

/** One class and its score (a probability), as a ranked answer lists them. */
export interface LabelScore {
  label: string;
  score: number;
}

/** How many classes a ranked answer lists unless told otherwise (transformers.js's classifiers list five too). */
export const DEFAULT_TOP_K = 5;

/** Checks a `topK` setting: a whole number ≥ 1 (`Infinity` lists every class). */
export function checkTopK(topK: number): number {
  if (!(topK === Infinity || (Number.isInteger(topK) && topK >= 1))) throw new ConfigError(`topK must be a whole number of at least 1 (or Infinity for every class), not ${topK}`);
  return topK;
}

/**
 * The `topK` most likely classes, most likely first (ties in the labels' order): `scores[i]` is `labels[i]`'s,
 * from `offset` on (one row of a batch's flat scores).
 */
export function topLabels(labels: readonly string[], scores: ArrayLike<number>, topK = DEFAULT_TOP_K, offset = 0): LabelScore[] {
  const order = labels.map((_, index) => index);
  order.sort((a, b) => scores[offset + b]! - scores[offset + a]! || a - b);
  return order.slice(0, Math.min(topK, labels.length)).map((index) => ({ label: labels[index]!, score: scores[offset + index]! }));
}
