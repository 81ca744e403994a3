/** Node-only data sources: folders of files, IDX and CSV files on disk; atomic writes; optional peers. */
export { checkWritableFolder, optionalPeer, removeStaleTemporaries, writeFileAtomic } from './node-files';
import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkHeader, parseCsv, type CsvOptions } from './csv';
import { DataError } from './errors';
import { parseIdx } from './idx';

/** A file-system error's code (ENOENT, EACCES…), or its message when it has none. */
function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** An entry of a folder walk that was left out, and why. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/**
 * Every file under `root` (recursively) whose extension is listed, sorted so the order is stable.
 * Symbolic links are followed (to files and to folders, as dataset managers and shared caches use
 * them); a folder reached twice through links (a loop) is walked once. Broken links and loops are
 * left out and reported: to `onSkip` when given, else as a process warning naming them. Hidden
 * entries (`.name`) are left out silently.
 */
export async function folderItems(root: string, options: { extensions?: string[]; onSkip?: (skipped: SkippedEntry[]) => void } = {}): Promise<string[]> {
  const extensions = options.extensions?.map((extension) => extension.toLowerCase().replace(/^\.?/, '.'));
  const files: string[] = [];
  const skipped: SkippedEntry[] = [];
  const visited = new Set<string>();
  const walk = async (folder: string, isRoot: boolean): Promise<void> => {
    let entries;
    try {
      const real = await realpath(folder);
      if (visited.has(real)) {
        skipped.push({ path: folder, reason: `a link back to ${real}, already walked (a loop, or a second link to the same folder)` });
        return;
      }
      visited.add(real);
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isRoot) throw new DataError(`cannot read the folder: ${errorCode(error)}`, { file: root }, { cause: error });
      skipped.push({ path: folder, reason: `cannot read the folder (${errorCode(error)})` });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      let isFile = entry.isFile();
      let isDirectory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path);
          [isFile, isDirectory] = [target.isFile(), target.isDirectory()];
        } catch (error) {
          skipped.push({ path, reason: `a broken symbolic link (${errorCode(error)})` });
          continue;
        }
      }
      if (isDirectory) await walk(path, false);
      else if (isFile && (extensions === undefined || extensions.some((extension) => path.toLowerCase().endsWith(extension)))) files.push(path);
    }
  };
  await walk(root, true);
  if (skipped.length > 0) {
    if (options.onSkip) options.onSkip(skipped);
    else process.emitWarning(`${root}: left out ${skipped.length} entr${skipped.length === 1 ? 'y' : 'ies'}: ${skipped.slice(0, 5).map((entry) => `${entry.path} (${entry.reason})`).join('; ')}${skipped.length > 5 ? '; …' : ''}`, 'KindlingWarning');
  }
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
  await requireFile(path, 'a CSV file');
  return parseCsv(await readFile(path, 'utf8'), { ...options, source: path });
}

/** A DataError naming `path` unless it is a readable file (not missing, not a folder). */
export async function requireFile(path: string, what = 'a file'): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new DataError((error as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file (expected ${what})` : `cannot read it (${errorCode(error)})`, { file: path }, { cause: error });
  }
  if (info.isDirectory()) throw new DataError(`is a folder, not ${what}`, { file: path });
  if (!info.isFile()) throw new DataError(`is not a regular file (expected ${what})`, { file: path });
}

/**
 * Streams a CSV file row by row (for files too big to hold as text), keyed by the header or by
 * `columns`. Blank lines are skipped; a ragged row is a DataError naming its line.
 */
export async function* streamCsvFile(path: string, options: Omit<CsvOptions, 'source'> = {}): AsyncGenerator<Record<string, string>> {
  await requireFile(path, 'a CSV file');
  const source = createReadStream(path);
  const parser = parse({ delimiter: options.delimiter ?? ',', skip_empty_lines: true, trim: true, relax_column_count: true, bom: true, info: true });
  // a read error (the file vanished, a device error) ends the parse with that error instead of escaping as an unhandled event
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  let header = options.columns;
  if (header !== undefined) checkHeader(header, path, true);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header === undefined) {
        header = record;
        checkHeader(header, path);
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
    source.destroy();
  }
  if (header === undefined) throw new DataError('the CSV is empty', { file: path });
}
