import { ConfigError } from '@kindling/data';
import { distributedTrainer, trainingBudget, type Callback, type ProcessGroup, type TrainingBudget } from '@kindling/learner';
import type { CheckpointFlags } from './checkpointing';
import type { OptionNamer } from './options';

/**
 * What every recipe takes besides its own settings. A recipe never chooses a backend (start one first, with
 * `initBackend` from `@kindling/backend`) and prints nothing itself: its report goes to `log`, line by line.
 */
export interface RecipeOptions extends CheckpointFlags {
  /** Each line of the run's report: what was found, the schedule and why, the epoch table, where the bundle went. Default: nowhere. */
  log?: (line: string) => void;
  /** A warning that the run should not be trusted as it is (a model no better than the trivial answer). Default: `log`. */
  warn?: (line: string) => void;
  /** Callbacks added to the learner, such as `progressBar()` from `@kindling/learner/node`. */
  callbacks?: Callback[];
  /**
   * Data-parallel training: this process is one worker of a group training one model (`joinProcessGroup` from
   * `@kindling/backend-torch`). Every worker trains on its share of each batch (the batch size is the whole step's);
   * the worker of rank 0 alone reports to `log`, writes the bundle, checkpoints and charts; every worker returns the
   * run's result (rank 0's). Default: this process alone.
   */
  group?: ProcessGroup;
  /**
   * How messages and the report name a setting: the `kindling` CLI passes its flags (`batchSize` as the flag for it).
   * Default: the option's own name.
   */
  optionName?: OptionNamer;
}

/** Whether this process reports and writes: always, but for the workers of rank 1 and up in data-parallel training. */
export function leads(options: { group?: ProcessGroup }): boolean {
  return options.group === undefined || options.group.rank === 0;
}

/** The `log` and `warn` of a recipe's options, each a function (silent on the workers that do not lead). */
export function reporters(options: RecipeOptions): { say: (line: string) => void; warn: (line: string) => void } {
  const say = (leads(options) ? options.log : undefined) ?? (() => {});
  return { say, warn: (leads(options) ? options.warn : undefined) ?? say };
}

/** The callbacks a recipe's learners get: the distributed trainer in a group, then the caller's. */
export function recipeCallbacks(options: RecipeOptions): Callback[] {
  return [...(options.group === undefined || options.group.size === 1 ? [] : [distributedTrainer(options.group)]), ...(options.callbacks ?? [])];
}

/** In a group, the line saying how each step's batch is shared out ("2 workers × 16 pictures = 32 a step"); else undefined. */
export function workersLine(options: RecipeOptions, batchSize: number, items: string): string | undefined {
  const { group } = options;
  if (group === undefined || group.size === 1) return undefined;
  const each = Math.ceil(batchSize / group.size);
  return `data-parallel: ${group.size} workers × ${each} ${items} = ${each * group.size} a step, gradients averaged before each (rank 0 reports and writes)`;
}

/**
 * A picture recipe's schedule: epochs and batch size as given, or sized by the training items when `auto`
 * (batches of about a 32nd of the items, or `batchesPerEpoch`, within `batchBounds`, at least `minSteps` steps within `epochBounds`).
 */
export function sizedSchedule(
  items: number,
  options: { epochs: number | 'auto'; batchSize: number | 'auto'; optionName?: OptionNamer },
  sizing: { batchBounds: readonly [number, number]; minSteps: number; epochBounds: readonly [number, number]; batchesPerEpoch?: number },
): TrainingBudget {
  // a value given is said to come from its flag on the command line, else "asked for"
  const source = options.optionName;
  return trainingBudget({ items, batchSize: options.batchSize === 'auto' ? undefined : options.batchSize, batchSource: source?.('batchSize'), epochs: options.epochs === 'auto' ? undefined : options.epochs, epochsSource: source?.('epochs'), ...sizing });
}

/** A regular expression a setting gives (`labelRegex`, `validRegex`), or a one-line error naming the setting (`name`: as the caller calls it). */
export function settingRegex(value: string, name: string): RegExp {
  try {
    return new RegExp(value);
  } catch (error) {
    throw new ConfigError(`${name} is not a regular expression: ${(error as Error).message}`);
  }
}

/**
 * The `validRegex` setting as a test on file names (undefined without it) and `loaded(loading)`, which waits for the
 * data loaders built with that test and turns the error of a split with no validation side into one naming the regex
 * (a typo in it is the likely cause); any other error, and every error without it, passes unchanged. `name`: the
 * setting as the caller calls it.
 */
export function validByName(source: string | undefined, nameOf: (file: string) => string, name = 'validRegex'): { isValid?: (file: string) => boolean; loaded: <T>(loading: Promise<T>) => Promise<T> } {
  if (source === undefined) return { loaded: (loading) => loading };
  const pattern = settingRegex(source, name);
  let [asked, matched] = [false, false];
  return {
    isValid: (file) => {
      const hit = pattern.test(nameOf(file));
      [asked, matched] = [true, matched || hit];
      return hit;
    },
    // only an error of the split itself (every file read and asked, none matched); one before it is its own
    loaded: (loading) =>
      loading.catch((error: unknown) => {
        throw asked && !matched ? new ConfigError(`${name} '${source}' matches no file name in the folder: nothing would be held out for validation`) : error;
      }),
  };
}
