import { DataError } from './errors';

/** Reads a label from an item. */
export type Labeller<Item> = (item: Item) => string;

/** The name of the folder a file is in: `pets/cat/1.png` → `cat`. */
export function parentFolderLabel(): Labeller<string> {
  return (path) => {
    const parts = path.split(/[\\/]/).filter((part) => part !== '');
    const parent = parts.at(-2);
    if (parent === undefined) throw new DataError('the file is not inside a class folder', { file: path });
    return parent;
  };
}

/** The first capture group of a regular expression on the file name: `/^(\d)_/` on `7_george_3.wav` → `7`. */
export function regexLabel(pattern: RegExp): Labeller<string> {
  return (path) => {
    const name = path.split(/[\\/]/).at(-1) ?? path;
    const match = pattern.exec(name);
    if (match === null || match[1] === undefined) throw new DataError(`the file name does not match ${pattern}`, { file: path });
    return match[1];
  };
}

/** A column of a row read from a CSV. */
export function columnLabel(column: string): Labeller<Record<string, string>> {
  return (row) => {
    const value = row[column];
    if (value === undefined || value.trim() === '') throw new DataError('the label is empty or missing', { field: column });
    return value.trim();
  };
}
