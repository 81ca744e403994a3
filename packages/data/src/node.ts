/** Node-only data sources: folders of files, IDX and CSV files on disk. */
import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseCsv, type CsvOptions } from './csv';
import { DataError } from './errors';
import { parseIdx } from './idx';

/** Every file under `root` (recursively) whose extension is listed, sorted so the order is stable. */
export async function folderItems(root: string, options: { extensions?: string[] } = {}): Promise<string[]> {
  const extensions = options.extensions?.map((extension) => extension.toLowerCase().replace(/^\.?/, '.'));
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new DataError(`cannot read the folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: root }, { cause: error });
  }
  const files = entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => extensions === undefined || extensions.some((extension) => path.toLowerCase().endsWith(extension)));
  return files.sort((a, b) => relative(root, a).split(sep).join('/').localeCompare(relative(root, b).split(sep).join('/'), 'en'));
}

/** Reads an IDX file, gzipped (`.gz`) or not. */
export async function readIdxFile(path: string): Promise<ReturnType<typeof parseIdx>> {
  let bytes: Uint8Array = await readFile(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataError(`cannot gunzip: ${(error as Error).message}`, { file: path }, { cause: error });
    }
  }
  return parseIdx(bytes, path);
}

/** Reads a CSV file into rows keyed by column. */
export async function readCsvFile(path: string, options: Omit<CsvOptions, 'source'> = {}): Promise<Array<Record<string, string>>> {
  return parseCsv(await readFile(path, 'utf8'), { ...options, source: path });
}

/**
 * Streams a CSV file row by row (for files too big to hold as text), keyed by the header or by
 * `columns`. Blank lines are skipped; a ragged row is a DataError naming its line.
 */
export async function* streamCsvFile(path: string, options: Omit<CsvOptions, 'source'> = {}): AsyncGenerator<Record<string, string>> {
  const parser = createReadStream(path).pipe(
    parse({ delimiter: options.delimiter ?? ',', skip_empty_lines: true, trim: true, relax_column_count: true, bom: true, info: true }),
  );
  let header = options.columns;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header === undefined) {
        header = record;
        continue;
      }
      if (record.length !== header.length) {
        throw new DataError(`has ${record.length} fields but the header has ${header.length}`, { file: path, row: info.lines });
      }
      yield Object.fromEntries(header.map((column, i) => [column, record[i]!]));
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read the CSV: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { file: path }, { cause: error });
  } finally {
    parser.destroy();
  }
  if (header === undefined) throw new DataError('the CSV is empty', { file: path });
}
