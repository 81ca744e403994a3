import { ConfigError } from './errors';
import { Random } from './random';

/** Splits items into training and validation indices. */
export type Splitter<Item> = (items: readonly Item[]) => { train: number[]; valid: number[] };

/** A random share of the items for validation, the same for the same seed. */
export function randomSplitter<Item>(options: { validPct?: number; seed?: number } = {}): Splitter<Item> {
  const { validPct = 0.2, seed = 42 } = options;
  if (!(validPct > 0 && validPct < 1)) throw new ConfigError(`randomSplitter: validPct must be between 0 and 1, not ${validPct}`);
  return (items) => {
    const order = new Random(seed).shuffleInPlace(items.map((_, i) => i));
    const cut = Math.round(items.length * validPct);
    return { train: order.slice(cut).sort((a, b) => a - b), valid: order.slice(0, cut).sort((a, b) => a - b) };
  };
}

/**
 * A random share of the groups for validation, each group whole on one side (scikit-learn's `GroupShuffleSplit`):
 * the windows of one recording, the pictures of one patient. With one item per group it splits exactly as
 * {@link randomSplitter} does with the same seed.
 */
export function groupSplitter<Item>(groupOf: (item: Item, index: number) => string, options: { validPct?: number; seed?: number } = {}): Splitter<Item> {
  const { validPct = 0.2, seed = 42 } = options;
  if (!(validPct > 0 && validPct < 1)) throw new ConfigError(`groupSplitter: validPct must be between 0 and 1, not ${validPct}`);
  return (items) => {
    const groups = new Map<string, number>();
    const groupIndex = items.map((item, index) => {
      const key = groupOf(item, index);
      let found = groups.get(key);
      if (found === undefined) groups.set(key, (found = groups.size));
      return found;
    });
    const order = new Random(seed).shuffleInPlace(Array.from({ length: groups.size }, (_, i) => i));
    const inValid = new Set(order.slice(0, Math.round(groups.size * validPct)));
    const result = { train: [] as number[], valid: [] as number[] };
    groupIndex.forEach((group, index) => (inValid.has(group) ? result.valid : result.train).push(index));
    return result;
  };
}

/** Splits by a function of each item: true for validation. */
export function functionSplitter<Item>(isValid: (item: Item, index: number) => boolean): Splitter<Item> {
  return (items) => {
    const train: number[] = [];
    const valid: number[] = [];
    items.forEach((item, index) => (isValid(item, index) ? valid : train).push(index));
    return { train, valid };
  };
}

/** Splits file paths by a folder in their path, such as `train/…` and `valid/…`. */
export function folderSplitter(options: { train?: string; valid?: string } = {}): Splitter<string> {
  const { train = 'train', valid = 'valid' } = options;
  return (paths) => {
    const result = { train: [] as number[], valid: [] as number[] };
    paths.forEach((path, index) => {
      const parts = path.split(/[\\/]/);
      if (parts.includes(valid)) result.valid.push(index);
      else if (parts.includes(train)) result.train.push(index);
    });
    if (result.valid.length === 0) throw new ConfigError(`folderSplitter: no file is under a '${valid}' folder`);
    return result;
  };
}

/** Splits rows by a column: rows whose value is truthy ('1', 'true', 'yes', 'valid') go to validation. */
export function columnSplitter(column: string): Splitter<Record<string, string>> {
  return functionSplitter((row) => /^(1|true|yes|valid)$/i.test((row[column] ?? '').trim()));
}
