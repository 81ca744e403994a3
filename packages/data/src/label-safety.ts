import { Random } from './random';

/**
 * Whether an augmentation keeps examples in their class, measured on the training examples themselves: the rule
 * behind Kindling's `auto` augmentation defaults (image flips, sound speed perturbation).
 *
 * Each class is summarised by its mean example; an example is "recognised" when it is nearest (squared
 * distance) to its own class's mean, taken without it (an example always looks like a mean it is part of). The
 * check compares how often the changed examples (mirrored pictures, faster clips) are recognised with how often
 * the examples themselves are, both above chance (the commonest class's share). When the change keeps less
 * than half of that margin it moves examples out of their class (a mirrored 3 is no digit; a note played 20%
 * faster is another note) and the augmentation stays off. When the examples themselves are recognised barely
 * above chance (photos, where a class is no single shape), or when there are fewer than 100 examples, the
 * check cannot tell. Plain TypeScript: the same
 * answer in Node and the browser.
 */

export interface LabelSafetyInput {
  /** The examples as vectors of one length. */
  examples: readonly ArrayLike<number>[];
  /** The same examples changed by the augmentation, in the same order. */
  changed: readonly ArrayLike<number>[];
  /** Class indices, one per example. */
  labels: readonly number[];
}

export interface LabelSafety {
  /** true: the change keeps examples in their class; false: it does not; undefined: too close to chance to tell. */
  keepsLabels: boolean | undefined;
  /** Share of examples nearest their own class's mean. */
  recognised: number;
  /** The same share for the changed examples. */
  recognisedChanged: number;
  /** The commonest class's share. */
  chance: number;
  /** Share of the margin over chance the change keeps (undefined when undecidable). */
  keptMargin?: number;
  /** Why the check could not tell: too few examples, or examples recognised too close to chance. */
  undecided?: 'few examples' | 'near chance';
  /** What was measured, in words: `n examples are nearest … x% of the time, changed y% (chance z%)`. */
  measured: string;
}

/** With fewer examples the shares move too much from one draw to the next to judge a change by. */
export const MIN_EXAMPLES = 100;
/** Below this margin over chance the examples' own recognition is too weak to judge a change by. */
export const UNDECIDABLE_MARGIN = 0.1;
/** A change must keep at least this share of the margin over chance. */
export const KEPT_MARGIN = 0.5;

export function labelSafety(input: LabelSafetyInput, words: { examples: string; changed: string } = { examples: 'examples', changed: 'changed' }): LabelSafety {
  const { examples, changed, labels } = input;
  if (examples.length !== labels.length || changed.length !== labels.length) {
    throw new RangeError(`${examples.length} examples, ${changed.length} changed examples and ${labels.length} labels: one of each per example`);
  }
  if (examples.length === 0) throw new RangeError('a label-safety check needs examples');
  const length = examples[0]!.length;
  const classes = labels.reduce((most, label) => Math.max(most, label), 0) + 1;
  const sums = Array.from({ length: classes }, () => new Float64Array(length));
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < examples.length; i++) {
    if (examples[i]!.length !== length || changed[i]!.length !== length) throw new RangeError(`example ${i} is not ${length} values long like the first`);
    const sum = sums[labels[i]!]!;
    const example = examples[i]!;
    for (let k = 0; k < length; k++) sum[k]! += example[k]!;
    counts[labels[i]!]!++;
  }
  /** The class whose mean is nearest `vector`; example `index`'s own class's mean leaves it out. */
  const nearest = (vector: ArrayLike<number>, index: number): number => {
    const own = labels[index]!;
    const example = examples[index]!;
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let label = 0; label < classes; label++) {
      const count = counts[label]! - (label === own ? 1 : 0);
      if (count === 0) continue;
      const sum = sums[label]!;
      let distance = 0;
      for (let k = 0; k < length; k++) {
        const difference = vector[k]! - (sum[k]! - (label === own ? example[k]! : 0)) / count;
        distance += difference * difference;
      }
      if (distance < bestDistance) {
        bestDistance = distance;
        best = label;
      }
    }
    return best;
  };
  let plain = 0;
  let kept = 0;
  for (let i = 0; i < examples.length; i++) {
    if (nearest(examples[i]!, i) === labels[i]) plain++;
    if (nearest(changed[i]!, i) === labels[i]) kept++;
  }
  const recognised = plain / examples.length;
  const recognisedChanged = kept / examples.length;
  const chance = counts.reduce((most, count) => Math.max(most, count), 0) / examples.length;
  const share = (value: number) => `${(value * 100).toFixed(0)}%`;
  const measured = `${examples.length} ${words.examples} are nearest their class's mean ${share(recognised)} of the time, ${words.changed} ${share(recognisedChanged)} (chance ${share(chance)})`;
  const margin = recognised - chance;
  if (examples.length < MIN_EXAMPLES) return { keepsLabels: undefined, recognised, recognisedChanged, chance, measured, undecided: 'few examples' };
  if (margin < UNDECIDABLE_MARGIN) return { keepsLabels: undefined, recognised, recognisedChanged, chance, measured, undecided: 'near chance' };
  const keptMargin = (recognisedChanged - chance) / margin;
  return { keepsLabels: keptMargin >= KEPT_MARGIN, recognised, recognisedChanged, chance, keptMargin, measured };
}

/**
 * At most `perClass` items of each class, drawn by a seeded generator (all of a class that has fewer), with their
 * class: the sample a label-safety check measures on, so that a big class does not decide alone.
 */
export function samplePerClass<T>(items: readonly T[], classOf: (item: T) => number, perClass: number, seed: number): { item: T; label: number }[] {
  const byClass = new Map<number, T[]>();
  for (const item of items) {
    const label = classOf(item);
    const members = byClass.get(label);
    if (members === undefined) byClass.set(label, [item]);
    else members.push(item);
  }
  const random = new Random(seed);
  return [...byClass].flatMap(([label, members]) => (members.length <= perClass ? members : random.shuffle(members).slice(0, perClass)).map((item) => ({ item, label })));
}

/** The decision in one line: `<what> on|off: <measured>; <verb> keeps x% of the margin over chance (…)`. */
export function labelSafetyWhy(what: string, check: LabelSafety, on: boolean, undecided: string): string {
  if (check.keepsLabels === undefined) {
    const reason = check.undecided === 'few examples' ? `too few to judge by (under ${MIN_EXAMPLES})` : 'too close to chance to judge by';
    return `${what} ${on ? 'on' : 'off'}: ${check.measured}, ${reason} (${undecided})`;
  }
  const share = (value: number) => `${(value * 100).toFixed(0)}%`;
  return `${what} ${on ? 'on' : 'off'}: ${check.measured}; that keeps ${share(Math.max(0, check.keptMargin!))} of the margin over chance (${check.keepsLabels ? 'at least' : 'under'} ${share(KEPT_MARGIN)}${check.keepsLabels ? '' : ': the change moves examples out of their class'})`;
}
