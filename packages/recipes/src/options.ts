import { ConfigError } from '@kindling/data';

/**
 * One setting of a recipe, described once: its type, default, help and how it is checked. The recipe fills its
 * defaults and checks what it is given from these (`settle`); the `kindling` CLI derives each flag, its parsing and
 * its help from the same description, so no second table repeats them.
 */
export interface OptionDescription<T = unknown, Defaulted extends boolean = boolean> {
  /** What the setting does, in a few words (the CLI's help). */
  readonly help: string;
  /** What the value is called in help (`n`, `rate`, `dir`); none for a switch. */
  readonly placeholder?: string;
  /** The value when none is given (undefined: none). */
  readonly default: Defaulted extends true ? T : undefined;
  /** The default as help shows it, when not the value itself (a list as `16,32,64,128`). */
  readonly defaultText?: string;
  /** A switch: true when named (on the command line the setting's name, or its negation for one that is on by default); it takes no value. */
  readonly switch?: boolean;
  /** The value the setting takes when named without one (the Dice loss's flag alone); undefined: a value is required. */
  readonly alone?: T;
  /** The value from text (the command line); throws `OptionProblem` saying what it must be. */
  parse(text: string): T;
  /** What is wrong with a value, as "must be …" words; undefined when it is fine. */
  problem(value: unknown): string | undefined;
}

/** A recipe's settings by name. */
export type OptionDescriptions = Record<string, OptionDescription<any, boolean>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The values a recipe may be given: each one optional (its default stands in). */
export type OptionsGiven<D extends OptionDescriptions> = { [K in keyof D]?: D[K] extends OptionDescription<infer T, boolean> ? T : never };

/** The values a recipe runs with: those with a default always there. */
export type OptionsSettled<D extends OptionDescriptions> = {
  [K in keyof D]: D[K] extends OptionDescription<infer T, infer Defaulted> ? (Defaulted extends true ? T : T | undefined) : never;
};

/** A value's problem from `parse`: what it must be ("must be a whole number of at least 1"). */
export class OptionProblem extends Error {
  override name = 'OptionProblem';
}

/** How a recipe names its settings in messages: the CLI passes its flags; by default the option's own name (`batchSize`). */
export type OptionNamer = (option: string) => string;

/** `a, b or c`. */
function either(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** A value as a message shows it: text quoted. */
function shown(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? `'${value.join(',')}'` : String(value);
}

/** A description from its parts (typed by the builder that calls it). */
function described(description: { help: string; placeholder?: string; default: unknown; defaultText?: string; switch?: boolean; alone?: unknown; problem: (value: unknown) => string | undefined }, parse: (text: string) => unknown): never {
  return { ...description, parse } as never;
}

/** Checks a parsed value with the description's own words. */
function parsedWith<T>(problem: (value: unknown) => string | undefined, convert: (text: string) => unknown): (text: string) => T {
  return (text) => {
    const value = convert(text);
    const wrong = problem(value);
    if (wrong !== undefined) throw new OptionProblem(wrong);
    return value as T;
  };
}

/** How a number setting is bounded and worded (`wholeNumber`, `realNumber`). */
export interface NumberShape<Auto extends boolean> {
  help: string;
  placeholder?: string;
  /** Smallest value allowed (whole numbers: default 1; null: none). */
  min?: number | null;
  /** Values must stay above this one. */
  above?: number;
  /** Largest value allowed. */
  max?: number;
  /** Values must stay below this one. */
  below?: number;
  /** What the numbers count, in messages (`pixels`). */
  unit?: string;
  /** `auto` is a value too (sized by the data). */
  auto?: Auto;
}

/** The words of a number's bounds: "of at least 1", "from 1 to 4096", "from 0 to below 1". */
function bounds(min: number | undefined, max: number | undefined, below: number | undefined, above: number | undefined): string {
  if (above !== undefined) return `above ${above}`;
  if (below !== undefined) return `from ${min ?? 0} to below ${below}`;
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  if (min !== undefined) return `of at least ${min}`;
  return max === undefined ? '' : `of at most ${max}`;
}

function numberOption<Auto extends boolean, Defaulted extends boolean>(shape: NumberShape<Auto> & { default?: unknown }, whole: boolean): OptionDescription<Auto extends true ? number | 'auto' : number, Defaulted> {
  const min = shape.min === null ? undefined : (shape.min ?? (whole && shape.above === undefined ? 1 : undefined));
  const words = `${whole ? 'a whole number' : 'a number'}${shape.unit === undefined ? '' : ` of ${shape.unit}`}${[bounds(min, shape.max, shape.below, shape.above)].filter(Boolean).map((text) => ` ${text}`).join('')}${shape.auto ? ', or auto' : ''}`;
  const problem = (value: unknown): string | undefined => {
    if (shape.auto && value === 'auto') return undefined;
    const fine =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!whole || Number.isInteger(value)) &&
      (min === undefined || value >= min) &&
      (shape.max === undefined || value <= shape.max) &&
      (shape.below === undefined || value < shape.below) &&
      (shape.above === undefined || value > shape.above);
    return fine ? undefined : `must be ${words}, not ${shown(value)}`;
  };
  const convert = (text: string) => (shape.auto && text === 'auto' ? 'auto' : text.trim() === '' ? Number.NaN : Number(text));
  return described({ help: shape.help, placeholder: shape.placeholder ?? 'n', default: shape.default, problem }, parsedWith(problem, convert));
}

/** A whole number (of at least `min`, default 1), or `auto` too when `auto` is set. */
export function wholeNumber<Auto extends boolean = false>(shape: NumberShape<Auto> & { default: Auto extends true ? number | 'auto' : number }): OptionDescription<Auto extends true ? number | 'auto' : number, true>;
export function wholeNumber<Auto extends boolean = false>(shape: NumberShape<Auto>): OptionDescription<Auto extends true ? number | 'auto' : number, false>;
export function wholeNumber<Auto extends boolean>(shape: NumberShape<Auto> & { default?: unknown }): OptionDescription<Auto extends true ? number | 'auto' : number, boolean> {
  return numberOption(shape, true);
}

/** A number (finite, within the bounds given), or `auto` too when `auto` is set. */
export function realNumber<Auto extends boolean = false>(shape: NumberShape<Auto> & { default: Auto extends true ? number | 'auto' : number }): OptionDescription<Auto extends true ? number | 'auto' : number, true>;
export function realNumber<Auto extends boolean = false>(shape: NumberShape<Auto>): OptionDescription<Auto extends true ? number | 'auto' : number, false>;
export function realNumber<Auto extends boolean>(shape: NumberShape<Auto> & { default?: unknown }): OptionDescription<Auto extends true ? number | 'auto' : number, boolean> {
  return numberOption(shape, false);
}

/** Free text: a path, a column, a regular expression (checked where it is used). */
export function text(shape: { help: string; placeholder: string; default: string }): OptionDescription<string, true>;
export function text(shape: { help: string; placeholder: string }): OptionDescription<string, false>;
export function text(shape: { help: string; placeholder: string; default?: string }): OptionDescription<string, boolean> {
  const problem = (value: unknown) => (typeof value === 'string' ? undefined : `must be text, not ${shown(value)}`);
  return described({ help: shape.help, placeholder: shape.placeholder, default: shape.default, problem }, (value) => value);
}

/** One of a few words. */
export function choice<const C extends string>(shape: { help: string; placeholder: string; choices: readonly C[]; default: NoInfer<C> }): OptionDescription<C, true>;
export function choice<const C extends string>(shape: { help: string; placeholder: string; choices: readonly C[] }): OptionDescription<C, false>;
export function choice<const C extends string>(shape: { help: string; placeholder: string; choices: readonly C[]; default?: C }): OptionDescription<C, boolean> {
  const problem = (value: unknown) => ((shape.choices as readonly unknown[]).includes(value) ? undefined : `must be ${either(shape.choices)}, not ${shown(value)}`);
  return described({ help: shape.help, placeholder: shape.placeholder, default: shape.default, problem }, parsedWith(problem, (value) => value));
}

/** On or off: named to turn it on (or, on by default, its negation to turn it off). */
export function toggle(shape: { help: string; default: boolean }): OptionDescription<boolean, true> {
  const problem = (value: unknown) => (typeof value === 'boolean' ? undefined : `must be true or false, not ${shown(value)}`);
  return described({ help: shape.help, switch: true, default: shape.default, problem }, parsedWith(problem, (value) => value === 'true' || value === 'yes'));
}

/** yes, no or auto (`true`, `false`, `'auto'`); named alone: yes. */
export function yesNoAuto(shape: { help: string; placeholder: string; default: boolean | 'auto' }): OptionDescription<boolean | 'auto', true> {
  const problem = (value: unknown) => (typeof value === 'boolean' || value === 'auto' ? undefined : `must be yes, no or auto, not ${shown(value)}`);
  const convert = (value: string) => (value === 'yes' ? true : value === 'no' ? false : value);
  return described({ help: shape.help, placeholder: shape.placeholder, default: shape.default, alone: true, problem }, parsedWith(problem, convert));
}

/** Whole numbers separated by commas (`16,32,64,128`), each at least 1; `auto` too when `auto` is set. */
export function wholeNumbers<Auto extends boolean = false>(shape: { help: string; placeholder: string; default: Auto extends true ? number[] | 'auto' : number[]; auto?: Auto; example: string; max: number; most: number }): OptionDescription<Auto extends true ? number[] | 'auto' : number[], true> {
  const problem = (value: unknown) =>
    (shape.auto && value === 'auto') || (Array.isArray(value) && value.length > 0 && value.length <= shape.most && value.every((each) => Number.isInteger(each) && each >= 1 && each <= shape.max))
      ? undefined
      : `must be ${shape.auto ? 'auto or ' : ''}up to ${shape.most} whole numbers from 1 to ${shape.max} separated by commas, like ${shape.example}, not ${shown(value)}`;
  const convert = (value: string) => (shape.auto && value === 'auto' ? 'auto' : value.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part))));
  const fallback = shape.default;
  return described({ help: shape.help, placeholder: shape.placeholder, default: fallback, defaultText: Array.isArray(fallback) ? fallback.join(',') : undefined, problem }, parsedWith(problem, convert));
}

/**
 * A recipe's settings: the defaults where nothing was given, each value given checked against its description. A
 * wrong one is a ConfigError naming the setting as the caller calls it (`name`: the CLI's flags, else the option's
 * own name). Settings the descriptions do not list pass through unchanged.
 */
export function settle<D extends OptionDescriptions, G extends OptionsGiven<D> & { optionName?: OptionNamer }>(descriptions: D, given: G): Omit<G, keyof D> & OptionsSettled<D> {
  const name = namer(given);
  const settled: Record<string, unknown> = { ...given };
  for (const [key, description] of Object.entries(descriptions)) {
    const value = (given as Record<string, unknown>)[key];
    if (value === undefined) {
      settled[key] = description.default;
      continue;
    }
    const problem = description.problem(value);
    if (problem !== undefined) throw new ConfigError(`${name(key)} ${problem}`);
  }
  return settled as Omit<G, keyof D> & OptionsSettled<D>;
}

/** How a recipe's options name a setting in its messages and report. */
export function namer(options: { optionName?: OptionNamer }): OptionNamer {
  return options.optionName ?? ((option) => option);
}

/** The settings several recipes share, each with the recipe's own default and words. */
export const sharedOptions = {
  epochs: <F extends number | 'auto'>(fallback: F, auto?: string) =>
    wholeNumber<F extends 'auto' ? true : false>({ help: `epochs to train${auto === undefined ? '' : ` (default auto: ${auto})`}`, default: fallback as never, auto: (fallback === 'auto') as never, max: 10_000 }),
  lr: (fallback: number) => realNumber({ help: 'maximum learning rate of the one-cycle schedule', placeholder: 'rate', default: fallback, above: 0 }),
  optionalLr: () => realNumber({ help: 'maximum learning rate of the one-cycle schedule', placeholder: 'rate', above: 0 }),
  wd: () => realNumber({ help: 'weight decay', placeholder: 'decay', default: 0.1, min: 0 }),
  batchSize: <F extends number | 'auto'>(items: string, fallback: F, auto?: string) =>
    wholeNumber<F extends 'auto' ? true : false>({ help: `${items} per batch${auto === undefined ? '' : ` (default auto: ${auto})`}`, default: fallback as never, auto: (fallback === 'auto') as never, max: 65_536 }),
  validPct: (help: string, fallback = 0.2) => realNumber({ help, placeholder: 'share', default: fallback, min: 0, below: 1 }),
  onBadFile: (item: string) => choice({ help: `stop at an unreadable ${item}, or skip it and report it`, placeholder: 'what', choices: ['stop', 'skip'], default: 'stop' }),
  seed: () => wholeNumber({ help: 'random seed', default: 42, min: null }),
  out: (task: string, what = ', its kindling.json and the pictures') => text({ help: `where the model${what} go`, placeholder: 'dir', default: `runs/${task}` }),
  validRegex: (help: string) => text({ help, placeholder: 'regex' }),
};
