import { DataError } from '@kindling/data';
import {
  cleanLabel,
  DATE_PARTS,
  DEFAULT_MISSING,
  inferTabularSchema,
  isMissing,
  NA,
  naturalCompare,
  parseContinuous,
  parseDate,
  requireTarget,
  rowNumberOf,
  TabularProcessor,
  text,
  type InferSchemaOptions,
  type RowContext,
  type TableRow,
  type TabularData,
  type TabularProcessorState,
  type TabularSchema,
} from './processor';

const CHUNK = 1 << 16;

/** A column of numbers grown in fixed chunks: no copy as it grows, no slack beyond one chunk. */
class ChunkedColumn<T extends Int32Array | Float64Array> {
  private readonly chunks: T[] = [];
  length = 0;

  constructor(private readonly make: (length: number) => T) {}

  push(value: number): void {
    const offset = this.length % CHUNK;
    if (offset === 0) this.chunks.push(this.make(CHUNK));
    this.chunks[this.chunks.length - 1]![offset] = value;
    this.length++;
  }

  get(index: number): number {
    return this.chunks[Math.floor(index / CHUNK)]![index % CHUNK]!;
  }
}

/** A categorical column: each row's code into the values in first-seen order (-1: missing). */
interface CodedColumn {
  codes: ChunkedColumn<Int32Array>;
  values: string[];
  index: Map<string, number>;
}

function codedColumn(): CodedColumn {
  return { codes: new ChunkedColumn((length) => new Int32Array(length)), values: [], index: new Map() };
}

function pushCode(column: CodedColumn, value: string | undefined): void {
  if (value === undefined) {
    column.codes.push(-1);
    return;
  }
  let code = column.index.get(value);
  if (code === undefined) {
    code = column.values.length;
    column.values.push(value);
    column.index.set(value, code);
  }
  column.codes.push(code);
}

const numbers = () => new ChunkedColumn((length) => new Float64Array(length));

export interface TableColumnsOptions extends Omit<InferSchemaOptions, 'source'> {
  /** Where the rows come from, for error messages. */
  source?: string;
  /** The file row of the first row (2 after a header line, the default; 1 without one). */
  firstRow?: number;
  /** Rows read before the column kinds are decided (from those rows, when no `schema` is given). Default 10,000. */
  sampleRows?: number;
  /** Use this schema (a test file read for a fitted processor) instead of inferring one. */
  schema?: TabularSchema;
}

/**
 * A table held as typed columns, read from rows as they stream past (a CSV larger than memory as text
 * or as row objects): a code per row for each categorical column, a float64 per row for numbers and
 * dates, the target encoded the same way. 4–8 bytes a cell, whatever the text was; the rows themselves
 * are not kept (only the first `sampleRows`, for examples). `fit` and `process` give exactly what
 * {@link TabularProcessor.fit} and `process` give on the same rows, without ever holding them.
 *
 * Column kinds are inferred from the first `sampleRows` rows (10,000): a later value that does not fit
 * (text in a numeric column) is a DataError naming its row, as for any row a fitted processor reads.
 */
export class TableColumns {
  private readonly categories = new Map<string, CodedColumn>();
  private readonly numbers = new Map<string, ChunkedColumn<Float64Array>>();
  private readonly dates = new Map<string, ChunkedColumn<Float64Array>>();
  private readonly targetCodes?: CodedColumn;
  private readonly targetValues?: ChunkedColumn<Float64Array>;
  private readonly missing: ReadonlySet<string>;
  /** Where the rows came from; rows are numbered from `firstRow`, as in the file. */
  private readonly context: RowContext & { source: string; firstRow: number };
  /** The first rows as read (for examples and summaries). */
  readonly sample: TableRow[] = [];

  private constructor(
    readonly schema: TabularSchema,
    options: { missing?: string[]; source: string; firstRow: number },
  ) {
    this.missing = new Set(options.missing ?? DEFAULT_MISSING);
    this.context = { source: options.source, firstRow: options.firstRow };
    for (const name of schema.categorical) this.categories.set(name, codedColumn());
    for (const name of schema.continuous) this.numbers.set(name, numbers());
    for (const name of schema.dates) this.dates.set(name, numbers());
    if (schema.task === 'classification') this.targetCodes = codedColumn();
    else this.targetValues = numbers();
  }

  /** Rows stored so far. */
  get size(): number {
    return (this.targetCodes?.codes ?? this.targetValues!).length;
  }

  /** Reads rows (an array, a generator, a CSV stream) into columns. */
  static async read(rows: AsyncIterable<TableRow> | Iterable<TableRow>, options: TableColumnsOptions): Promise<TableColumns> {
    const source = options.source ?? 'table';
    const sampleRows = options.sampleRows ?? 10_000;
    const iterator = (Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : (rows as Iterable<TableRow>)[Symbol.iterator]()) as AsyncIterator<TableRow> | Iterator<TableRow>;
    const sample: TableRow[] = [];
    let next = await iterator.next();
    while (!next.done && sample.length < sampleRows) {
      sample.push(next.value);
      next = await iterator.next();
    }
    const schema = options.schema ?? inferTabularSchema(sample, { ...options, source });
    const table = new TableColumns(schema, { missing: options.missing, source, firstRow: options.firstRow ?? 2 });
    table.sample.push(...sample);
    for (const row of sample) table.push(row);
    for (; !next.done; next = await iterator.next()) table.push(next.value);
    if (table.size === 0) throw new DataError('the table has no rows', { file: source });
    return table;
  }

  private push(row: TableRow): void {
    const index = this.size;
    const present = (name: string) => {
      if (!Object.hasOwn(row, name)) throw new DataError(`the row has no column '${name}'`, { file: this.context.source, row: index + this.context.firstRow });
      return row[name];
    };
    for (const [name, column] of this.categories) {
      const value = present(name);
      pushCode(column, isMissing(value, this.missing) ? undefined : text(value));
    }
    for (const [name, column] of this.numbers) {
      const value = present(name);
      column.push(isMissing(value, this.missing) ? Number.NaN : parseContinuous(value, name, this.context, index));
    }
    for (const [name, column] of this.dates) {
      const value = present(name);
      column.push(isMissing(value, this.missing) ? Number.NaN : parseDate(value, name, this.context, index).getTime());
    }
    const target = requireTarget(row, this.schema.target, this.missing, this.context, index);
    if (this.targetCodes) pushCode(this.targetCodes, cleanLabel(target));
    else this.targetValues!.push(parseContinuous(target, this.schema.target, this.context, index));
  }

  /** The inputs a processor sees, by name: numbers (NaN: missing) or a category's text (undefined: missing). */
  private inputs(): { continuous: Array<{ name: string; value: (row: number) => number }>; categorical: Array<{ name: string; value: (row: number) => string | undefined }> } {
    const continuous: Array<{ name: string; value: (row: number) => number }> = [...this.numbers].map(([name, column]) => ({ name, value: (row) => column.get(row) }));
    const categorical: Array<{ name: string; value: (row: number) => string | undefined }> = [...this.categories].map(([name, column]) => ({
      name,
      value: (row) => {
        const code = column.codes.get(row);
        return code < 0 ? undefined : column.values[code];
      },
    }));
    // date parts, in the order TabularProcessor.fit lists them
    const parts = this.schema.dates.flatMap((name) => DATE_PARTS.map(([part, kind, read]) => ({ name: `${name}_${part}`, kind, value: (row: number) => {
      const time = this.dates.get(name)!.get(row);
      return Number.isNaN(time) ? Number.NaN : read(new Date(time));
    } })));
    for (const part of parts) {
      if (part.kind === 'continuous') continuous.push({ name: part.name, value: part.value });
      else categorical.push({ name: part.name, value: (row) => {
        const value = part.value(row);
        return Number.isNaN(value) ? undefined : String(value);
      } });
    }
    return { continuous, categorical };
  }

  /** Fits the preprocessing on these rows (the training split), as `TabularProcessor.fit` does on them. */
  fit(rows: readonly number[], options: { fill?: 'median' | 'mean' } = {}): TabularProcessor {
    const source = this.context.source;
    if (rows.length === 0) throw new DataError('no training rows to fit the preprocessing on', { file: source });
    const inputs = this.inputs();
    // two buffers reused by every column (a big table's numbers are never copied into growing arrays)
    const values = new Float64Array(rows.length);
    const sorted = new Float64Array(rows.length);
    const continuous: TabularProcessorState['continuous'] = inputs.continuous.map(({ name, value }) => {
      let count = 0;
      let sum = 0;
      for (const row of rows) {
        const number = value(row);
        if (Number.isNaN(number)) continue;
        values[count++] = number;
        sum += number;
      }
      if (count === 0) throw new DataError('every training value is missing', { file: source, field: name });
      // the same numbers as TabularProcessor.fit: its median (sorted copy) or mean, then the sums in row order, fills last
      let fill: number;
      if (options.fill === 'mean') fill = sum / count;
      else {
        const ordered = sorted.subarray(0, count);
        ordered.set(values.subarray(0, count));
        ordered.sort();
        const middle = count >> 1;
        fill = count % 2 === 1 ? ordered[middle]! : (ordered[middle - 1]! + ordered[middle]!) / 2;
      }
      const indicator = count < rows.length;
      for (let k = count; k < rows.length; k++) sum += fill;
      const average = sum / rows.length;
      let squares = 0;
      for (let k = 0; k < count; k++) squares += (values[k]! - average) ** 2;
      for (let k = count; k < rows.length; k++) squares += (fill - average) ** 2;
      const std = Math.sqrt(squares / Math.max(1, rows.length - 1));
      let [min, max] = [Infinity, -Infinity];
      for (let k = 0; k < count; k++) {
        if (values[k]! < min) min = values[k]!;
        if (values[k]! > max) max = values[k]!;
      }
      return { name, fill, mean: average, std: std > 0 ? std : 1, indicator, min, max };
    });
    const categorical: TabularProcessorState['categorical'] = inputs.categorical.map(({ name, value }) => {
      const labels = new Set<string>();
      for (const row of rows) {
        const label = value(row);
        if (label !== undefined) labels.add(label);
      }
      if (labels.size === 0) throw new DataError('every training value is missing', { file: source, field: name });
      return { name, labels: [NA, ...[...labels].sort(naturalCompare)] };
    });
    for (const column of continuous) if (column.indicator) categorical.push({ name: `${column.name}_na`, labels: [NA, 'false', 'true'] });
    let targetLabels: string[] | undefined;
    if (this.targetCodes) {
      const seen = new Set<number>();
      for (const row of rows) seen.add(this.targetCodes.codes.get(row));
      const labels = [...seen].map((code) => this.targetCodes!.values[code]!);
      if (labels.length < 2) throw new DataError(`the target has one class only ('${labels[0]}'): nothing to learn`, { file: source, field: this.schema.target });
      targetLabels = labels.sort(naturalCompare);
    }
    return TabularProcessor.fromJSON({ format: 'kindling-tabular@1', schema: this.schema, missing: [...this.missing], categorical, continuous, targetLabels });
  }

  /**
   * These rows (default: all) through a fitted processor, as `processor.process(rows, { withTarget: true })`
   * gives: model inputs and encoded targets in row-major typed arrays.
   */
  process(processor: TabularProcessor, rows?: readonly number[]): TabularData {
    const state = processor.toJSON();
    const size = rows?.length ?? this.size;
    const rowAt = rows === undefined ? (k: number) => k : (k: number) => rows[k]!;
    const inputs = this.inputs();
    const continuousByName = new Map(inputs.continuous.map((input) => [input.name, input.value]));
    const categoricalByName = new Map(inputs.categorical.map((input) => [input.name, input.value]));
    const continuous = new Float32Array(size * state.continuous.length);
    state.continuous.forEach((column, c) => {
      const value = continuousByName.get(column.name);
      if (value === undefined) throw new DataError(`the table has no column '${column.name}' for this model`, { file: this.context.source });
      for (let k = 0; k < size; k++) {
        const number = value(rowAt(k));
        continuous[k * state.continuous.length + c] = ((Number.isNaN(number) ? column.fill : number) - column.mean) / column.std;
      }
    });
    const categorical = new Int32Array(size * state.categorical.length);
    const indicators = new Map(state.continuous.filter((column) => column.indicator).map((column) => [`${column.name}_na`, continuousByName.get(column.name)!]));
    state.categorical.forEach((column, c) => {
      const width = state.categorical.length;
      const indicator = indicators.get(column.name);
      if (indicator !== undefined) {
        for (let k = 0; k < size; k++) categorical[k * width + c] = Number.isNaN(indicator(rowAt(k))) ? 2 : 1;
        return;
      }
      const value = categoricalByName.get(column.name);
      if (value === undefined) throw new DataError(`the table has no column '${column.name}' for this model`, { file: this.context.source });
      const index = new Map(column.labels.map((label, position) => [label, position]));
      for (let k = 0; k < size; k++) {
        const label = value(rowAt(k));
        categorical[k * width + c] = label === undefined ? 0 : (index.get(label) ?? 0);
      }
    });
    let target: Int32Array | Float32Array;
    if (state.targetLabels) {
      const labelIndex = new Map(state.targetLabels.map((label, position) => [label, position]));
      const remap = this.targetCodes!.values.map((label) => labelIndex.get(label) ?? -1);
      target = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const row = rowAt(k);
        const index = remap[this.targetCodes!.codes.get(row)]!;
        if (index < 0) {
          const label = this.targetCodes!.values[this.targetCodes!.codes.get(row)]!;
          throw new DataError(`unknown target '${label}' (known: ${state.targetLabels.join(', ')})`, { file: this.context.source, row: rowNumberOf(this.context, row), field: this.schema.target });
        }
        target[k] = index;
      }
    } else {
      target = new Float32Array(size);
      for (let k = 0; k < size; k++) target[k] = this.targetValues!.get(rowAt(k));
    }
    return { size, categorical, continuous, target };
  }
}
