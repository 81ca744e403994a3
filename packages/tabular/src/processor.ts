import * as tf from '@tensorflow/tfjs';
import { DataError, Random } from '@kindling/data';

/** A table row as read from a CSV (strings) or given to `predict` (strings, numbers, dates, null). */
export type TableRow = Readonly<Record<string, string | number | boolean | Date | null | undefined>>;

/** How a column is used. */
export type ColumnKind = 'categorical' | 'continuous' | 'date';

/** The column roles of a table: which columns are inputs of which kind, and what is predicted. */
export interface TabularSchema {
  target: string;
  task: 'classification' | 'regression';
  categorical: string[];
  continuous: string[];
  /** Date columns, each split into parts (year, month, day, weekday, …) before the other steps. */
  dates: string[];
  /**
   * Columns left out when the schema was inferred because they look like identifiers: text whose values hardly
   * recur (most rows their own), so a category of them would only grow with the table and teach nothing. Name such a
   * column as categorical to keep it.
   */
  identifiers?: string[];
}

export interface InferSchemaOptions {
  target: string;
  /** Columns to treat as categorical whatever they hold. */
  categorical?: string[];
  /** Columns to treat as continuous numbers. */
  continuous?: string[];
  /** Columns holding dates. */
  dates?: string[];
  /** Columns to leave out (ids, leaks). */
  ignore?: string[];
  /** Force the task; by default a numeric target with many distinct values is a regression. */
  task?: 'classification' | 'regression';
  /** Whole-number columns with at most this many distinct values are categorical. Default 20. */
  maxCardinality?: number;
  /** Values that mean "missing". Default `''`, `?`, `NA`, `N/A`, `NaN`, `null`, `None`. */
  missing?: string[];
  /** Where the rows came from, for error messages. */
  source?: string;
}

export const DEFAULT_MISSING = ['', '?', 'NA', 'N/A', 'NaN', 'null', 'None'];
/** The vocabulary entry at index 0 of every categorical input: missing or unseen. */
export const NA = '#na#';
export const DATE = /^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Rows are numbered as lines of a CSV file with a header unless told otherwise. */
export interface RowContext {
  source: string;
  /** The file row of each given row (default: index + `firstRow`). */
  rowNumbers?: readonly number[];
  /** The file row of the first row when `rowNumbers` is not given: 2 after a header line (default), 1 without. */
  firstRow?: number;
}

export const rowNumberOf = (context: RowContext, index: number) => context.rowNumbers?.[index] ?? index + (context.firstRow ?? 2);

/**
 * A row's own value of a column, or undefined: a row read from JSON or built in code is a plain object, and a column
 * it lacks must not read what every object inherits (`constructor`, `toString`, `__proto__`).
 */
export function cell(row: TableRow, name: string): TableRow[string] {
  return Object.hasOwn(row, name) ? row[name] : undefined;
}

export function isMissing(value: TableRow[string], missing: ReadonlySet<string>): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'number') return Number.isNaN(value);
  if (value instanceof Date) return Number.isNaN(value.getTime());
  return missing.has(String(value).trim());
}

export const text = (value: TableRow[string]) => (value instanceof Date ? value.toISOString() : String(value).trim());

function toNumber(value: TableRow[string]): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const trimmed = text(value);
  return trimmed === '' ? Number.NaN : Number(trimmed);
}

function columnsOf(rows: readonly TableRow[]): string[] {
  return rows.length === 0 ? [] : Object.keys(rows[0]!);
}

/** A whole-numbered column whose commonest value is at least this share of its values is also categorical. */
const SPIKE_SHARE = 0.5;
/** …when it has at most this many distinct values (the size of its embedding table)… */
const MAX_SPIKE_CATEGORIES = 1000;
/** …and its other values come this many times each, on average. */
const MIN_RECURRENCE = 3;
/** The largest float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
/**
 * A text column is taken for an identifier (a name, an id, a free-text note) and left out when at least this share of
 * its values are distinct and there are at least `MIN_IDENTIFIER_VALUES` of them: a unique id of a 50 MB file made a
 * category of 330,000 levels and took 4 GB.
 */
const IDENTIFIER_SHARE = 0.5;
const MIN_IDENTIFIER_VALUES = 100;

/**
 * Decides what each column is: the target and the task, categorical, continuous and date inputs.
 * Explicit lists win; other columns are inferred from their values (numbers with few distinct whole
 * values are categorical, other numbers continuous — and categorical too when whole, mostly one value and
 * the others recurring —
 * ISO dates are dates, anything else categorical).
 */
export function inferTabularSchema(rows: readonly TableRow[], options: InferSchemaOptions): TabularSchema {
  const source = options.source ?? 'table';
  const missing = new Set(options.missing ?? DEFAULT_MISSING);
  const maxCardinality = options.maxCardinality ?? 20;
  if (rows.length === 0) throw new DataError('the table has no rows', { file: source });
  const columns = columnsOf(rows);
  const named = [options.target, ...(options.categorical ?? []), ...(options.continuous ?? []), ...(options.dates ?? []), ...(options.ignore ?? [])];
  for (const name of named) {
    if (!columns.includes(name)) throw new DataError(`no column '${name}' (columns: ${columns.join(', ')})`, { file: source });
  }
  const explicit = new Set(named);
  const schema: TabularSchema = {
    target: options.target,
    task: 'classification',
    categorical: [...(options.categorical ?? [])],
    continuous: [...(options.continuous ?? [])],
    dates: [...(options.dates ?? [])],
  };
  const describeColumn = (name: string) => {
    const present = rows.map((row) => cell(row, name)).filter((value) => !isMissing(value, missing));
    const numbers = present.map(toNumber);
    const numeric = present.length > 0 && numbers.every(Number.isFinite);
    const counts = new Map<string, number>();
    for (const value of present) counts.set(text(value), (counts.get(text(value)) ?? 0) + 1);
    const commonest = Math.max(0, ...counts.values());
    // how many rows each value other than the commonest has, on average: a category needs its value to recur
    const othersPerValue = counts.size > 1 ? (present.length - commonest) / (counts.size - 1) : 0;
    return { present, numeric, whole: numeric && numbers.every(Number.isInteger), distinct: counts.size, commonestShare: present.length === 0 ? 0 : commonest / present.length, othersPerValue };
  };
  for (const name of columns) {
    if (explicit.has(name)) continue;
    const column = describeColumn(name);
    if (column.present.length === 0) throw new DataError(`every value is missing; pass it in 'ignore' or fill it`, { file: source, field: name });
    if (column.numeric && column.whole && column.distinct <= maxCardinality) schema.categorical.push(name);
    else if (column.numeric) {
      schema.continuous.push(name);
      // a count or amount that is mostly one value (capital gain: 0 for 92% of people) is also a category: each
      // value gets an embedding of its own beside the number, thresholds a network finds hard from one input
      // (Adult: 85.7% → 87.4%, the gradient-boosting peer's 87.2%; bench/README.md, `defaults`)
      // — when its other values recur (3 rows each on average), so an amount that is nearly unique per row is not
      // made a vocabulary that grows with the table
      if (column.whole && column.commonestShare >= SPIKE_SHARE && column.distinct <= MAX_SPIKE_CATEGORIES && column.othersPerValue >= MIN_RECURRENCE) schema.categorical.push(name);
    }
    else if (column.present.every((value) => value instanceof Date || DATE.test(text(value)))) schema.dates.push(name);
    else if (column.distinct >= MIN_IDENTIFIER_VALUES && column.distinct >= IDENTIFIER_SHARE * column.present.length) (schema.identifiers ??= []).push(name);
    else schema.categorical.push(name);
  }
  const target = describeColumn(options.target);
  if (target.present.length === 0) throw new DataError('every value of the target is missing', { file: source, field: options.target });
  schema.task = options.task ?? (target.numeric && !(target.whole && target.distinct <= maxCardinality) ? 'regression' : 'classification');
  return schema;
}

/** Parts a date column is split into, fastai's `add_datepart`: name suffix and kind. */
export const DATE_PARTS: ReadonlyArray<[string, 'categorical' | 'continuous', (date: Date) => number]> = [
  ['year', 'continuous', (d) => d.getUTCFullYear()],
  ['month', 'categorical', (d) => d.getUTCMonth() + 1],
  ['day', 'categorical', (d) => d.getUTCDate()],
  ['dayofweek', 'categorical', (d) => d.getUTCDay()],
  ['dayofyear', 'continuous', (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1],
  ['is_month_start', 'categorical', (d) => Number(d.getUTCDate() === 1)],
  ['is_month_end', 'categorical', (d) => Number(new Date(d.getTime() + 86_400_000).getUTCDate() === 1)],
  ['elapsed', 'continuous', (d) => d.getTime() / 86_400_000],
];

/** The state of a fitted processor: everything needed to turn a raw row into model inputs again. */
export interface TabularProcessorState {
  format: 'kindling-tabular@1';
  schema: TabularSchema;
  missing: string[];
  /** Each categorical input (including `_na` indicators and date parts) with its vocabulary; index 0 is `#na#`. */
  categorical: Array<{ name: string; labels: string[] }>;
  /**
   * Each continuous input with its fill value (training median) and normalization, and the smallest and largest
   * value in training (absent from processors fitted before Kindling 0.2).
   */
  continuous: Array<{ name: string; fill: number; mean: number; std: number; indicator: boolean; min?: number; max?: number }>;
  /** Classification: the target's labels. Regression: none. */
  targetLabels?: string[];
}

export interface TabularProcessorOptions extends RowContext {
  /** How missing continuous values are filled: the training median (fastai's default) or mean. */
  fill?: 'median' | 'mean';
  /** Values that mean "missing". Default {@link DEFAULT_MISSING}. */
  missing?: string[];
}

/** Processed rows: model inputs in row-major typed arrays, and targets where the rows had them. */
export interface TabularData {
  size: number;
  /** `[size, categoricalNames.length]` indices into each column's vocabulary (0 = missing/unknown). */
  categorical: Int32Array;
  /** `[size, continuousNames.length]` filled and normalized numbers. */
  continuous: Float32Array;
  /** Class indices (classification) or values (regression); absent when the rows had no target. */
  target?: Int32Array | Float32Array;
}

/** A target label as stored: trimmed, with a stray final period removed (UCI Adult's test set writes `>50K.`). */
export function cleanLabel(value: string): string {
  return value.trim().replace(/\.$/, '');
}

/**
 * fastai's tabular processors: dates split into parts, FillMissing (median by default, plus a `_na`
 * indicator for columns that had gaps in training), Categorify (a vocabulary per column with `#na#`
 * at 0 for missing and unseen values) and Normalize (training mean and standard deviation).
 * Fit on the training rows only; `toJSON` stores the state with a model and `process` reapplies it.
 */
export class TabularProcessor {
  private readonly missingSet: ReadonlySet<string>;
  private readonly categoricalIndex: Array<Map<string, number>>;
  private readonly targetIndex?: Map<string, number>;

  private constructor(readonly state: TabularProcessorState) {
    this.missingSet = new Set(state.missing);
    this.categoricalIndex = state.categorical.map((column) => new Map(column.labels.map((label, index) => [label, index])));
    if (state.targetLabels) this.targetIndex = new Map(state.targetLabels.map((label, index) => [label, index]));
  }

  get schema(): TabularSchema {
    return this.state.schema;
  }

  /** Names of the categorical inputs, in model order. */
  get categoricalNames(): string[] {
    return this.state.categorical.map((column) => column.name);
  }

  /** Names of the continuous inputs, in model order. */
  get continuousNames(): string[] {
    return this.state.continuous.map((column) => column.name);
  }

  /** Vocabulary size of each categorical input (the embedding table sizes). */
  get cardinalities(): number[] {
    return this.state.categorical.map((column) => column.labels.length);
  }

  /** Classification labels, or undefined for a regression. */
  get targetLabels(): readonly string[] | undefined {
    return this.state.targetLabels;
  }

  /** Fits every step on `rows` (the training split only) and returns the processor. */
  static fit(rows: readonly TableRow[], schema: TabularSchema, options: TabularProcessorOptions): TabularProcessor {
    const missing = new Set(options.missing ?? DEFAULT_MISSING);
    if (rows.length === 0) throw new DataError('no training rows to fit the preprocessing on', { file: options.source });
    const expanded = rows.map((row, index) => expandDates(row, schema.dates, missing, options, index));
    const dateParts = schema.dates.flatMap((name) => DATE_PARTS.map(([part, kind]) => ({ name: `${name}_${part}`, kind })));
    const categoricalNames = [...schema.categorical, ...dateParts.filter((part) => part.kind === 'categorical').map((part) => part.name)];
    const continuousNames = [...schema.continuous, ...dateParts.filter((part) => part.kind === 'continuous').map((part) => part.name)];

    const continuous: TabularProcessorState['continuous'] = continuousNames.map((name) => {
      const values: number[] = [];
      expanded.forEach((row, index) => {
        const value = cell(row, name);
        if (isMissing(value, missing)) return;
        values.push(parseContinuous(value, name, options, index));
      });
      if (values.length === 0) throw new DataError('every training value is missing', { file: options.source, field: name });
      const fill = options.fill === 'mean' ? mean(values) : median(values);
      const indicator = values.length < rows.length;
      const filled = indicator ? [...values, ...new Array<number>(rows.length - values.length).fill(fill)] : values;
      const average = mean(filled);
      const std = Math.sqrt(filled.reduce((sum, value) => sum + (value - average) ** 2, 0) / Math.max(1, filled.length - 1));
      const [min, max] = values.reduce(([low, high], value) => [Math.min(low, value), Math.max(high, value)], [Infinity, -Infinity]);
      return { name, fill, mean: average, std: std > 0 ? std : 1, indicator, min, max };
    });
    const categorical: TabularProcessorState['categorical'] = categoricalNames.map((name) => {
      const labels = new Set<string>();
      for (const row of expanded) if (!isMissing(cell(row, name), missing)) labels.add(text(cell(row, name)));
      if (labels.size === 0) throw new DataError('every training value is missing', { file: options.source, field: name });
      return { name, labels: [NA, ...[...labels].sort(naturalCompare)] };
    });
    for (const column of continuous) if (column.indicator) categorical.push({ name: `${column.name}_na`, labels: [NA, 'false', 'true'] });

    let targetLabels: string[] | undefined;
    if (schema.task === 'classification') {
      const labels = new Set<string>();
      rows.forEach((row, index) => labels.add(cleanLabel(requireTarget(row, schema.target, missing, options, index))));
      if (labels.size < 2) throw new DataError(`the target has one class only ('${[...labels][0]}'): nothing to learn`, { file: options.source, field: schema.target });
      targetLabels = [...labels].sort(naturalCompare);
    }
    return new TabularProcessor({ format: 'kindling-tabular@1', schema, missing: [...missing], categorical, continuous, targetLabels });
  }

  static fromJSON(state: TabularProcessorState): TabularProcessor {
    if (state?.format !== 'kindling-tabular@1') throw new DataError(`not a Kindling tabular processor (format '${String(state?.format)}')`);
    return new TabularProcessor(state);
  }

  toJSON(): TabularProcessorState {
    return this.state;
  }

  /**
   * What in a row training never saw, one phrase each: a number outside the column's training range, a category
   * not in its vocabulary. Missing values (the processor's own missing tokens) are not unseen; columns derived
   * from dates are not checked; processors fitted before the ranges were kept check categories only.
   */
  unseen(row: TableRow): string[] {
    const phrases: string[] = [];
    for (const column of this.state.continuous) {
      const value = cell(row, column.name);
      if (column.min === undefined || column.max === undefined || isMissing(value, this.missingSet) || value instanceof Date) continue;
      const number = Number(value);
      if (number < column.min || number > column.max) phrases.push(`${column.name} ${number} is outside the ${column.min} to ${column.max} seen in training`);
    }
    this.state.categorical.forEach((column, index) => {
      const value = cell(row, column.name);
      if (!Object.hasOwn(row, column.name) || isMissing(value, this.missingSet)) return;
      if (!this.categoricalIndex[index]!.has(text(value))) phrases.push(`${column.name} '${text(value)}' never appeared in training`);
    });
    return phrases;
  }

  /**
   * Applies the fitted steps to rows. Unknown categories and missing values become `#na#`;
   * missing numbers are filled as in training. With `withTarget`, each row's target is encoded too.
   */
  process(rows: readonly TableRow[], options: RowContext & { withTarget?: boolean }): TabularData {
    const { categorical: categoricalColumns, continuous: continuousColumns, schema } = this.state;
    const size = rows.length;
    const categorical = new Int32Array(size * categoricalColumns.length);
    const continuous = new Float32Array(size * continuousColumns.length);
    const target = options.withTarget ? (schema.task === 'classification' ? new Int32Array(size) : new Float32Array(size)) : undefined;
    const indicators = new Map<string, number>(continuousColumns.map((column) => [`${column.name}_na`, -1] as const));
    const indexOf = new Map(categoricalColumns.map((column, index) => [column.name, index]));
    const required = [...schema.categorical, ...schema.continuous, ...schema.dates];
    rows.forEach((raw, r) => {
      for (const column of required) {
        if (!Object.hasOwn(raw, column)) throw new DataError(`the row has no column '${column}'`, { file: options.source, row: rowNumberOf(options, r) });
      }
      const row = expandDates(raw, schema.dates, this.missingSet, options, r);
      continuousColumns.forEach((column, c) => {
        const value = cell(row, column.name);
        const absent = isMissing(value, this.missingSet);
        const number = absent ? column.fill : parseContinuous(value, column.name, options, r);
        continuous[r * continuousColumns.length + c] = (number - column.mean) / column.std;
        if (column.indicator) indicators.set(`${column.name}_na`, absent ? 2 : 1);
      });
      categoricalColumns.forEach((column, c) => {
        const indicator = indicators.get(column.name);
        if (indicator !== undefined && indicator >= 0) {
          categorical[r * categoricalColumns.length + c] = indicator;
          return;
        }
        const value = cell(row, column.name);
        categorical[r * categoricalColumns.length + c] = isMissing(value, this.missingSet) ? 0 : (this.categoricalIndex[indexOf.get(column.name)!]!.get(text(value)) ?? 0);
      });
      if (target) {
        const value = requireTarget(raw, schema.target, this.missingSet, options, r);
        if (this.targetIndex) {
          const index = this.targetIndex.get(cleanLabel(value));
          if (index === undefined) {
            throw new DataError(`unknown target '${value}' (known: ${this.state.targetLabels!.join(', ')})`, { file: options.source, row: rowNumberOf(options, r), field: schema.target });
          }
          target[r] = index;
        } else {
          target[r] = parseContinuous(value, schema.target, options, r);
        }
      }
    });
    return { size, categorical, continuous, target };
  }

  /** Decodes a class index back to its label. */
  decodeTarget(index: number): string {
    const label = this.state.targetLabels?.[index];
    if (label === undefined) throw new RangeError(`no target label at index ${index}`);
    return label;
  }

  /** One processed row, column by column: the best debugging aid when a prediction looks wrong. */
  summary(row: TableRow): string {
    const data = this.process([row], { source: 'row', rowNumbers: [1] });
    const lines = this.state.categorical.map((column, c) => `${column.name} (categorical): ${JSON.stringify(cell(row, column.name) ?? null)} → ${data.categorical[c]} '${column.labels[data.categorical[c]!]}'`);
    lines.push(...this.state.continuous.map((column, c) => `${column.name} (continuous): ${JSON.stringify(cell(row, column.name) ?? null)} → ${data.continuous[c]!.toFixed(4)}`));
    return lines.join('\n');
  }
}

/** Model inputs (`[categorical int32, continuous float32]`, leaving out an empty kind) and targets. */
export function tabularTensors(data: TabularData, processor: TabularProcessor, rows?: readonly number[]): { inputs: tf.Tensor2D[]; targets?: tf.Tensor } {
  const picked = rows ?? Array.from({ length: data.size }, (_, index) => index);
  const nCategorical = processor.categoricalNames.length;
  const nContinuous = processor.continuousNames.length;
  // every row in order: the arrays as they are (a big table is not copied once more on its way to the backend)
  let categorical = data.categorical;
  let continuous = data.continuous;
  if (rows !== undefined) {
    categorical = new Int32Array(picked.length * nCategorical);
    continuous = new Float32Array(picked.length * nContinuous);
    picked.forEach((row, index) => {
      categorical.set(data.categorical.subarray(row * nCategorical, (row + 1) * nCategorical), index * nCategorical);
      continuous.set(data.continuous.subarray(row * nContinuous, (row + 1) * nContinuous), index * nContinuous);
    });
  }
  const inputs: tf.Tensor2D[] = [];
  if (nCategorical > 0) inputs.push(tf.tensor2d(categorical, [picked.length, nCategorical], 'int32'));
  if (nContinuous > 0) inputs.push(tf.tensor2d(continuous, [picked.length, nContinuous], 'float32'));
  let targets: tf.Tensor | undefined;
  if (data.target) {
    const values = rows === undefined ? data.target : picked.map((row) => data.target![row]!);
    targets = data.target instanceof Int32Array ? tf.tensor1d(values, 'int32') : tf.tensor2d(values, [picked.length, 1], 'float32');
  }
  return { inputs, targets };
}

export function requireTarget(row: TableRow, target: string, missing: ReadonlySet<string>, context: RowContext, index: number): string {
  const value = cell(row, target);
  if (isMissing(value, missing)) throw new DataError('the target is missing', { file: context.source, row: rowNumberOf(context, index), field: target });
  return text(value);
}

export function parseContinuous(value: TableRow[string], name: string, context: RowContext, index: number): number {
  const number = toNumber(value);
  if (!Number.isFinite(number)) {
    throw new DataError(`'${text(value)}' is not a number (the column is continuous; pass it as categorical if it is a category)`, { file: context.source, row: rowNumberOf(context, index), field: name });
  }
  // a model computes in float32: a number past its largest would become Infinity, and the answer NaN
  if (Math.abs(number) > FLOAT32_MAX) throw new DataError(`'${text(value)}' is beyond the largest number a model computes with (float32's ±3.4e38)`, { file: context.source, row: rowNumberOf(context, index), field: name });
  return number;
}

/** A date cell (an ISO date or date-time, or a Date) as a Date; anything else is a DataError naming the row. */
export function parseDate(value: TableRow[string], name: string, context: RowContext, index: number): Date {
  const date = value instanceof Date ? value : DATE.test(text(value)) ? new Date(/[T ]\d/.test(text(value)) ? text(value).replace(' ', 'T') : `${text(value)}T00:00:00Z`) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new DataError(`'${text(value)}' is not a date (expected YYYY-MM-DD)`, { file: context.source, row: rowNumberOf(context, index), field: name });
  }
  return date;
}

function expandDates(row: TableRow, dates: readonly string[], missing: ReadonlySet<string>, context: RowContext, index: number): TableRow {
  if (dates.length === 0) return row;
  const expanded: Record<string, TableRow[string]> = { ...row };
  for (const name of dates) {
    const value = cell(row, name);
    const date = isMissing(value, missing) ? undefined : parseDate(value, name, context, index);
    for (const [part, , read] of DATE_PARTS) expanded[`${name}_${part}`] = date ? read(date) : null;
  }
  return expanded;
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

export function median(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function naturalCompare(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b, 'en');
}

export interface GeneratedTable {
  rows: Array<Record<string, string>>;
  /** Accuracy of the planted rule on these rows, before label noise: the best a model can hope for. */
  ruleAccuracy: number;
}

/**
 * An income-like table with a learnable rule, missing values (`?` and empty) and categories: age,
 * education, occupation, hours per week, capital gain, a start date, a region; target `income`
 * (`>50K` or `<=50K`). The embedded default data of the tabular task.
 */
export function generateTable(options: { rows?: number; seed?: number; labelNoise?: number } = {}): GeneratedTable {
  const { rows: count = 2000, seed = 0, labelNoise = 0.03 } = options;
  const random = new Random(seed);
  const educations: Array<[string, number]> = [['HS-grad', 0], ['Some-college', 0.6], ['Bachelors', 1.6], ['Masters', 2.2], ['Doctorate', 2.8], ['11th', -1.2]];
  const occupations: Array<[string, number]> = [['Exec-managerial', 1.4], ['Prof-specialty', 1.1], ['Sales', 0.2], ['Craft-repair', -0.2], ['Other-service', -1.5], ['Adm-clerical', -0.5], ['Tech-support', 0.5]];
  const regions = ['north', 'south', 'east', 'west'];
  const rows: Array<Record<string, string>> = [];
  let agree = 0;
  for (let index = 0; index < count; index++) {
    const age = Math.round(18 + random.next() * 50);
    const [education, educationEffect] = educations[Math.floor(random.next() * educations.length)]!;
    const [occupation, occupationEffect] = occupations[Math.floor(random.next() * occupations.length)]!;
    const hours = Math.round(Math.max(5, Math.min(80, 40 + random.normal() * 10)));
    const gain = random.next() < 0.1 ? Math.round(5000 + random.next() * 20_000) : 0;
    const start = new Date(Date.UTC(2010, 0, 1) + Math.floor(random.next() * 365 * 10) * 86_400_000);
    const seniority = (Date.UTC(2020, 0, 1) - start.getTime()) / (365 * 86_400_000);
    const score = 0.06 * (age - 40) - 0.004 * (age - 45) ** 2 + educationEffect + occupationEffect + 0.06 * (hours - 40) + (gain > 0 ? 3 : 0) + 0.15 * seniority - 2;
    const rule = score > 0;
    const label = random.next() < labelNoise ? !rule : rule;
    if (label === rule) agree++;
    rows.push({
      age: String(age),
      education,
      occupation: random.next() < 0.05 ? '?' : occupation,
      hours_per_week: String(hours),
      capital_gain: random.next() < 0.08 ? '' : String(gain),
      start_date: start.toISOString().slice(0, 10),
      region: regions[Math.floor(random.next() * regions.length)]!,
      income: label ? '>50K' : '<=50K',
    });
  }
  return { rows, ruleAccuracy: agree / count };
}
