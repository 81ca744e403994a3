/**
 * "Not sure": a classifier answers every input with some class, a photograph given to a model of clothes
 * sketches too. A bundle can carry what its training inputs looked like and how sure its held-out answers had to
 * be to be right; the predictors then flag an answer that is not worth trusting instead of only giving it.
 */

/** Numbers that describe a model input (`[height, width, channels]` values, as the model sees them). */
export interface InputDescriptors {
  /** The mean value (a picture's brightness, a spectrogram's loudness). */
  level: number;
  /** The standard deviation of the values. */
  contrast: number;
  /** The mean absolute difference between neighbouring values, across and down (texture, detail). */
  detail: number;
  /** The mean absolute difference between neighbours side by side (along the width: a spectrogram's pitches). */
  across: number;
  /** The mean absolute difference between neighbours one above the other (along the height: a spectrogram's time). */
  down: number;
  /**
   * The mean value of the outer border (a sixteenth of the side, at least one value deep): the background of a
   * product photo or a garment on black, a spectrogram's first and last moments and its lowest and highest pitches.
   */
  frame: number;
}

/** The descriptors in the order reasons name them. */
export const DESCRIPTOR_NAMES: ReadonlyArray<keyof InputDescriptors> = ['level', 'contrast', 'detail', 'down', 'across', 'frame'];

/**
 * What the training inputs looked like and how sure held-out answers had to be: stored in a classifier's task
 * (`familiarity`) by `kindling train`, read by the predictors.
 */
export interface Familiarity {
  /**
   * Per descriptor, the range that held the training inputs (their 0.1st to 99.9th percentile, widened by a tenth of
   * it on each side). `across`, `down` and `frame` are absent from bundles written before Kindling measured them.
   */
  ranges: Record<'level' | 'contrast' | 'detail', [number, number]> & Partial<Record<'across' | 'down' | 'frame', [number, number]>>;
  /** Answers less sure than this are "not sure": below it, held-out answers were more often wrong than right. */
  minConfidence?: number;
  /** What the model itself made of the training inputs: an input whose features are far from every class's is "not sure". */
  features?: FeatureFamiliarity;
}

/**
 * The model's features (the output of `layer`, the pooling before its head) of the training inputs, summed up: each
 * class's mean, the spread around it per feature, and how far from its class a training input came at most.
 */
export interface FeatureFamiliarity {
  layer: string;
  /** Per class (in label order), the mean of its training inputs' features. */
  means: number[][];
  /** Per feature, the standard deviation of the training features around their class's mean (floored above 0). */
  scale: number[];
  /** The distance to the nearest class mean that 99.5% of the training (and held-out) inputs stay within, widened by a fifth. */
  limit: number;
}

/** How far features are from the nearest class mean: the root mean square of their scaled differences. */
export function featureDistance(familiarity: FeatureFamiliarity, features: ArrayLike<number>): number {
  let nearest = Infinity;
  for (const mean of familiarity.means) {
    let sum = 0;
    for (let k = 0; k < mean.length; k++) sum += ((features[k]! - mean[k]!) / familiarity.scale[k]!) ** 2;
    nearest = Math.min(nearest, Math.sqrt(sum / mean.length));
  }
  return nearest;
}

/**
 * A feature familiarity from the training inputs' features (rows of equal length) and their class indices. With
 * `heldOut` features (20 or more), the limit is also at least where 99.5% of those stay, widened by a fifth: a model
 * places its training inputs closer to their class than inputs it never saw, even ones just like them.
 */
export function featureFamiliarityOf(layer: string, features: readonly ArrayLike<number>[], labels: readonly number[], classes: number, heldOut: readonly ArrayLike<number>[] = []): FeatureFamiliarity {
  if (features.length === 0) throw new Error('featureFamiliarityOf needs the features of at least one training input');
  const width = features[0]!.length;
  const means = Array.from({ length: classes }, () => new Array<number>(width).fill(0));
  const counts = new Array<number>(classes).fill(0);
  features.forEach((row, index) => {
    const label = labels[index]!;
    counts[label]!++;
    for (let k = 0; k < width; k++) means[label]![k]! += row[k]!;
  });
  means.forEach((mean, label) => mean.forEach((_, k) => (mean[k]! /= Math.max(1, counts[label]!))));
  const variance = new Array<number>(width).fill(0);
  features.forEach((row, index) => {
    for (let k = 0; k < width; k++) variance[k]! += (row[k]! - means[labels[index]!]![k]!) ** 2;
  });
  const spread = variance.map((sum) => Math.sqrt(sum / features.length));
  // a feature that never varies (a dead unit) would divide by zero: floor it at a thousandth of the typical spread
  const floor = 1e-3 * (spread.reduce((sum, value) => sum + value, 0) / width || 1);
  const familiarity: FeatureFamiliarity = { layer, means: means.filter((_, label) => counts[label]! > 0), scale: spread.map((value) => Math.max(value, floor)), limit: Infinity };
  const limitOf = (rows: readonly ArrayLike<number>[]) => 1.2 * percentile(rows.map((row) => featureDistance(familiarity, row)).sort((a, b) => a - b), 0.995);
  return { ...familiarity, limit: Math.max(limitOf(features), heldOut.length >= 20 ? limitOf(heldOut) : 0) };
}

/** The descriptors of one input laid out `[height, width, channels]`. */
export function describeValues(values: ArrayLike<number>, shape: readonly [number, number, number]): InputDescriptors {
  const [height, width, channels] = shape;
  const count = height * width * channels;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += values[i]!;
  const level = sum / count;
  let squares = 0;
  for (let i = 0; i < count; i++) squares += (values[i]! - level) ** 2;
  let [across, acrossPairs, down, downPairs, border, borderValues] = [0, 0, 0, 0, 0, 0];
  const [deepDown, deepAcross] = [Math.max(1, Math.round(height / 16)), Math.max(1, Math.round(width / 16))];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const onBorder = y < deepDown || y >= height - deepDown || x < deepAcross || x >= width - deepAcross;
      for (let c = 0; c < channels; c++) {
        const here = values[(y * width + x) * channels + c]!;
        if (onBorder) {
          border += here;
          borderValues++;
        }
        if (x + 1 < width) {
          across += Math.abs(values[(y * width + x + 1) * channels + c]! - here);
          acrossPairs++;
        }
        if (y + 1 < height) {
          down += Math.abs(values[((y + 1) * width + x) * channels + c]! - here);
          downPairs++;
        }
      }
    }
  }
  const pairs = acrossPairs + downPairs;
  return {
    level,
    contrast: Math.sqrt(squares / count),
    detail: pairs === 0 ? 0 : (across + down) / pairs,
    across: acrossPairs === 0 ? 0 : across / acrossPairs,
    down: downPairs === 0 ? 0 : down / downPairs,
    frame: borderValues === 0 ? level : border / borderValues,
  };
}

function percentile(sorted: readonly number[], share: number): number {
  const position = share * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/**
 * The confidence under which held-out answers were mostly wrong: of the answers in order of confidence, the least
 * sure ones with the most more wrong than right among them (at least 3 more: a stray mistake or two is not a
 * level). None with fewer than 10 held-out answers, or when no such group exists.
 */
export function calibrateConfidence(confidences: ArrayLike<number>, correct: ArrayLike<boolean>): number | undefined {
  const count = confidences.length;
  if (count < 10) return undefined;
  const order = Array.from({ length: count }, (_, index) => index).sort((a, b) => confidences[a]! - confidences[b]!);
  let [net, best, below] = [0, 0, 0];
  order.forEach((index, position) => {
    net += correct[index] ? -1 : 1; // wrong minus right among the position + 1 least sure
    if (net > best) [best, below] = [net, position + 1];
  });
  if (best < 3) return undefined;
  return below < count ? confidences[order[below]!]! : 1;
}

/** A bundle's familiarity from the descriptors of its training inputs and, optionally, its held-out answers. */
export function familiarityOf(training: readonly InputDescriptors[], heldOut?: { confidences: ArrayLike<number>; correct: ArrayLike<boolean> }): Familiarity {
  if (training.length === 0) throw new Error('familiarityOf needs the descriptors of at least one training input');
  const ranges = Object.fromEntries(
    // every descriptor the training inputs have (those described before `across`, `down` and `frame` have fewer)
    DESCRIPTOR_NAMES.filter((name) => training.every((descriptors) => typeof descriptors[name] === 'number')).map((name) => {
      const sorted = training.map((descriptors) => descriptors[name]).sort((a, b) => a - b);
      const [low, high] = [percentile(sorted, 0.001), percentile(sorted, 0.999)];
      // a tenth of the range on each side, and never less than rounding (a descriptor that normalization fixes,
      // such as the level of a spectrogram normalized per example, is the same up to float error in every input)
      const margin = 0.1 * (high - low) + 1e-4 * (1 + Math.max(Math.abs(low), Math.abs(high)));
      return [name, [low - margin, high + margin]];
    }),
  ) as Familiarity['ranges'];
  const minConfidence = heldOut === undefined ? undefined : calibrateConfidence(heldOut.confidences, heldOut.correct);
  return minConfidence === undefined ? { ranges } : { ranges, minConfidence };
}

const format = (value: number) => (Math.abs(value) >= 100 || value === 0 ? value.toFixed(0) : value.toPrecision(3));

/**
 * How a kind of input reads each descriptor, in words: `[lower, higher]` ("darker", "brighter" for pictures). A
 * reason says the word, then the numbers.
 */
export type DescriptorWords = Record<keyof InputDescriptors, readonly [string, string]>;

/** For any input. */
export const PLAIN_WORDS: DescriptorWords = {
  level: ['lower in level', 'higher in level'],
  contrast: ['flatter', 'more contrasted'],
  detail: ['smoother', 'more detailed'],
  across: ['smoother from side to side', 'busier from side to side'],
  down: ['smoother from top to bottom', 'busier from top to bottom'],
  frame: ['lower at its edges', 'higher at its edges'],
};

/**
 * Why an input is unlike every training input (a descriptor out of its range), in words, or undefined:
 * `unlike the training inputs: smoother than any of them (its detail 0.00431; theirs 0.0801 to 0.650)`.
 */
export function unfamiliar(familiarity: Familiarity | undefined, descriptors: InputDescriptors, words: DescriptorWords = PLAIN_WORDS): string | undefined {
  if (familiarity === undefined) return undefined;
  for (const name of DESCRIPTOR_NAMES) {
    const range = familiarity.ranges[name];
    if (range === undefined) continue; // a bundle from before this descriptor was measured
    const [low, high] = range;
    const value = descriptors[name];
    if (!(value >= low && value <= high)) {
      const word = Number.isNaN(value) ? 'not a number' : words[name][value < low ? 0 : 1];
      return `unlike the training inputs: ${word}${Number.isNaN(value) ? '' : ' than any of them'} (its ${name} ${format(value)}; theirs ${format(low)} to ${format(high)})`;
    }
  }
  return undefined;
}

/** Why an input's features are unlike every training input's (bundles with `familiarity.features`), or undefined. */
export function unfamiliarFeatures(familiarity: Familiarity | undefined, features: ArrayLike<number> | undefined): string | undefined {
  if (familiarity?.features === undefined || features === undefined) return undefined;
  const distance = featureDistance(familiarity.features, features);
  if (distance <= familiarity.features.limit) return undefined;
  return `unlike the training inputs: what the model makes of it is far from every class (distance ${format(distance)}; the training inputs' at most ${format(familiarity.features.limit)})`;
}

/**
 * Why an answer is not worth trusting (an unfamiliar input or model features, or too little confidence), in words,
 * or undefined.
 */
export function doubtOf(familiarity: Familiarity | undefined, descriptors: InputDescriptors | undefined, confidence: number, words: DescriptorWords = PLAIN_WORDS, features?: ArrayLike<number>): string | undefined {
  if (familiarity === undefined) return undefined;
  const unlike = (descriptors === undefined ? undefined : unfamiliar(familiarity, descriptors, words)) ?? unfamiliarFeatures(familiarity, features);
  if (unlike !== undefined) return unlike;
  if (familiarity.minConfidence !== undefined && confidence < familiarity.minConfidence) {
    return `too unsure: ${(confidence * 100).toFixed(0)}% for its best answer, and below ${(familiarity.minConfidence * 100).toFixed(0)}% held-out answers were more often wrong than right`;
  }
  return undefined;
}
