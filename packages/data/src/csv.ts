// csv-parse's browser build in browsers (no Node Buffer there), its Node build elsewhere: see "imports" in package.json
import { parse } from '#csv-parse-sync';
import { DataError } from './errors';

export interface CsvOptions {
  /** Column names, when the file has no header row. */
  columns?: string[];
  delimiter?: string;
  /** Where the text came from, for error messages. */
  source?: string;
}

/** The delimiter a table file is read with unless told: a tab for a `.tsv` file, else a comma. */
export function delimiterFor(path: string): string {
  return /\.tsv$/i.test(path) ? '\t' : ',';
}

/** Parses CSV text into rows keyed by column, with a clear error naming the row for ragged lines. */
export function parseCsv(text: string, options: CsvOptions = {}): Array<Record<string, string>> {
  const source = options.source ?? 'CSV';
  let records: string[][];
  try {
    records = parse(text, { delimiter: options.delimiter ?? ',', skip_empty_lines: true, trim: true, relax_column_count: true, bom: true });
  } catch (error) {
    throw new DataError(`cannot parse CSV: ${(error as Error).message}`, { file: source }, { cause: error });
  }
  const header = options.columns ?? records.shift();
  if (header === undefined) throw new DataError('the CSV is empty', { file: source });
  checkHeader(header, source, options.columns !== undefined);
  return records.map((record, index) => {
    const row = index + (options.columns ? 1 : 2);
    if (record.length !== header.length) {
      throw new DataError(`has ${record.length} fields but the header has ${header.length}`, { file: source, row });
    }
    return Object.fromEntries(header.map((column, i) => [column, record[i]!]));
  });
}

/**
 * Refuses a header that names a column twice (or an empty name): the rows would keep only the last of the two, and a
 * model would train on the wrong column without a word. A DataError names the columns and their positions.
 */
export function checkHeader(header: readonly string[], source: string, given = false): void {
  const seen = new Map<string, number>();
  for (const [index, name] of header.entries()) {
    const first = seen.get(name);
    if (first !== undefined) {
      const where = `columns ${first + 1} and ${index + 1}`;
      throw new DataError(given ? `the column names given list '${name}' twice (${where}): each name once` : `the header names column '${name}' twice (${where}): rename one, or give the names (--names)`, { file: source, row: given ? undefined : 1 });
    }
    seen.set(name, index);
  }
}
