import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv';
import { ConfigError, DataError } from './errors';
import type * as Errors from './errors';
import { parseIdx } from './idx';
import { columnLabel, parentFolderLabel, regexLabel } from './labellers';
import { batchesOf, ItemDataLoader, TensorDataLoader, type Batch } from './loaders';
import { folderItems, readIdxFile } from './node';
import { Pipeline } from './pipeline';
import { folderSplitter, groupSplitter, randomSplitter } from './splitters';
import { Vocab } from './vocab';

describe('vocabularies, labellers and splitters', () => {
  it('a vocabulary encodes and decodes, sorted, and names an unknown label and where it came from', () => {
    const vocab = Vocab.fromLabels(['dog', 'cat', 'dog', 'bird']);
    expect(vocab.labels).toEqual(['bird', 'cat', 'dog']);
    expect(vocab.encode('dog')).toBe(2);
    expect(vocab.decode(1)).toBe('cat');
    expect(Vocab.fromJSON(vocab.toJSON()).labels).toEqual(vocab.labels);
    expect(() => vocab.encode('fox', { file: 'pets/fox/1.png' })).toThrow("pets/fox/1.png: unknown label 'fox' (known: bird, cat, dog)");
  });

  it('a CSV whose header names a column twice is refused, naming both columns', () => {
    expect(() => parseCsv('age,income,age\n1,x,2\n', { source: 'people.csv' })).toThrow("people.csv, row 1: the header names column 'age' twice (columns 1 and 3): rename one, or give the names (--names)");
    expect(() => parseCsv('1,x,2\n', { source: 'people.csv', columns: ['a', 'b', 'a'] })).toThrow("people.csv: the column names given list 'a' twice (columns 1 and 3): each name once");
  });

  it('labellers read the parent folder, a regex on the name, or a column', () => {
    expect(parentFolderLabel()('data/train/cat/1.png')).toBe('cat');
    expect(regexLabel(/^(\d)_/)('fsdd/7_george_3.wav')).toBe('7');
    expect(() => regexLabel(/^(\d)_/)('x/readme.txt')).toThrow(DataError);
    expect(columnLabel('income')({ income: ' >50K ' })).toBe('>50K');
    expect(() => columnLabel('income')({ income: '' })).toThrow("field 'income': the label is empty or missing");
  });

  it('the random splitter is the same for the same seed and covers every item once', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = randomSplitter({ validPct: 0.2, seed: 3 })(items);
    const b = randomSplitter({ validPct: 0.2, seed: 3 })(items);
    const c = randomSplitter({ validPct: 0.2, seed: 4 })(items);
    expect(a).toEqual(b);
    expect(a.valid).not.toEqual(c.valid);
    expect(a.valid).toHaveLength(10);
    expect([...a.train, ...a.valid].sort((x, y) => x - y)).toEqual(items);
  });

  it('the group splitter keeps each group on one side, and with one item a group splits as the random splitter', () => {
    // 12 recordings of 1 to 5 windows each
    const items = Array.from({ length: 12 }, (_, recording) => Array.from({ length: 1 + (recording % 5) }, () => `r${recording}`)).flat();
    const split = groupSplitter((item: string) => item, { validPct: 0.25, seed: 7 })(items);
    const side = new Map<string, Set<string>>();
    split.train.forEach((index) => side.set(items[index]!, (side.get(items[index]!) ?? new Set()).add('train')));
    split.valid.forEach((index) => side.set(items[index]!, (side.get(items[index]!) ?? new Set()).add('valid')));
    expect([...side.values()].every((sides) => sides.size === 1)).toBe(true);
    expect(new Set(split.valid.map((index) => items[index])).size).toBe(3); // a quarter of the 12 recordings
    expect([...split.train, ...split.valid].sort((x, y) => x - y)).toEqual(items.map((_, index) => index));
    const single = Array.from({ length: 50 }, (_, i) => i);
    expect(groupSplitter((item: number) => String(item), { validPct: 0.2, seed: 3 })(single)).toEqual(randomSplitter({ validPct: 0.2, seed: 3 })(single));
    expect(() => groupSplitter((item: number) => String(item), { validPct: 1 })).toThrow('groupSplitter: validPct must be between 0 and 1, not 1');
  });

  it('the folder splitter follows train/ and valid/ folders', () => {
    const split = folderSplitter()(['d/train/a/1.png', 'd/valid/a/2.png', 'd/train/b/3.png']);
    expect(split).toEqual({ train: [0, 2], valid: [1] });
  });
});

describe('file formats', () => {
  it('IDX files parse, gzipped or not, and a truncated one names the file', async () => {
    const header = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3];
    const bytes = Uint8Array.from([...header, ...Array.from({ length: 12 }, (_, i) => i * 10)]);
    const parsed = parseIdx(bytes);
    expect(parsed.shape).toEqual([2, 2, 3]);
    expect(Array.from(parsed.data)).toEqual(Array.from({ length: 12 }, (_, i) => i * 10));
    const directory = mkdtempSync(join(tmpdir(), 'kindling-idx-'));
    writeFileSync(join(directory, 'images.idx.gz'), gzipSync(bytes));
    expect((await readIdxFile(join(directory, 'images.idx.gz'))).shape).toEqual([2, 2, 3]);
    writeFileSync(join(directory, 'short.idx'), bytes.subarray(0, 20));
    await expect(readIdxFile(join(directory, 'short.idx'))).rejects.toThrow(`${join(directory, 'short.idx')}: IDX data is truncated`);
  });

  it('CSV rows come keyed by column; a ragged row is named', () => {
    expect(parseCsv('a,b\n1,"x, y"\n2,z\n\n')).toEqual([{ a: '1', b: 'x, y' }, { a: '2', b: 'z' }]);
    expect(() => parseCsv('a,b\n1,2\n3\n', { source: 'table.csv' })).toThrow('table.csv, row 3: has 1 fields but the header has 2');
  });

  it('folderItems lists files recursively in a stable order, filtered by extension', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-folder-'));
    for (const path of ['b/2.png', 'a/10.png', 'a/1.PNG', 'a/notes.txt', 'a/.hidden.png']) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), '');
    }
    const files = await folderItems(root, { extensions: ['png'] });
    expect(files.map((file) => file.slice(root.length + 1))).toEqual(['a/1.PNG', 'a/10.png', 'b/2.png']);
    await expect(folderItems(join(root, 'missing'))).rejects.toThrow(`${join(root, 'missing')}: cannot read the folder: ENOENT`);
  });
});

describeEachBackend('ItemDataLoader', () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  const load = (item: number) => ({ input: { data: Float32Array.from([item, item * 2]), shape: [2] }, target: item % 3 });
  const firstColumn = async (loader: ItemDataLoader<number>) => {
    const seen: number[] = [];
    for await (const batch of batchesOf(loader)) {
      seen.push(...tf.tidy(() => Array.from((batch.inputs as tf.Tensor).slice([0, 0], [-1, 1]).dataSync())));
      tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
    }
    return seen;
  };

  it('shuffles the same way for the same seed and epoch, differently across epochs, and covers every item', async () => {
    const make = (seed: number) => new ItemDataLoader({ items, load, batchSize: 4, shuffle: true, seed });
    const a = make(1);
    const b = make(1);
    const first = await firstColumn(a);
    expect(await firstColumn(b)).toEqual(first);
    a.setEpoch(1);
    const second = await firstColumn(a);
    expect(second).not.toEqual(first);
    expect(second.slice().sort((x, y) => x - y)).toEqual(items);
    expect(a.length).toBe(3);
  });

  it('a shard deals the epoch out: the workers\' k-th batches together are the whole order\'s k-th batch, training parts padded to equal steps', async () => {
    const whole = new ItemDataLoader({ items, load, batchSize: 4, shuffle: true, seed: 5 });
    whole.setEpoch(2);
    const order = await firstColumn(whole);
    const batchesOfWorker = async (index: number, even: boolean) => {
      const worker = new ItemDataLoader({ items, load, batchSize: 4, shuffle: true, seed: 5 });
      worker.setEpoch(2);
      worker.setShard({ index, count: 2, even });
      const batches: number[][] = [];
      for await (const batch of batchesOf(worker)) {
        batches.push(tf.tidy(() => Array.from((batch.inputs as tf.Tensor).slice([0, 0], [-1, 1]).dataSync())));
        tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
      }
      expect(worker.length).toBe(batches.length);
      return batches;
    };
    const [first, second] = [await batchesOfWorker(0, true), await batchesOfWorker(1, true)];
    // 10 items, 2 workers × 2 a batch: 3 steps each, the whole order's batches of 4 (the last of 2)
    expect(first.map((batch) => batch.length)).toEqual([2, 2, 1]);
    expect(second.map((batch) => batch.length)).toEqual([2, 2, 1]);
    for (let k = 0; k < 3; k++) expect([...first[k]!, ...second[k]!].sort((a, b) => a - b)).toEqual(order.slice(k * 4, k * 4 + 4).sort((a, b) => a - b));
    // three workers: 10 items padded to 12 with the order's first two, so every worker steps as often
    const three = await Promise.all([0, 1, 2].map(async (index) => {
      const worker = new ItemDataLoader({ items, load, batchSize: 6, shuffle: true, seed: 5 });
      worker.setEpoch(2);
      worker.setShard({ index, count: 3, even: true });
      return firstColumn(worker);
    }));
    expect(three.map((part) => part.length)).toEqual([4, 4, 4]);
    expect(three.flat().sort((a, b) => a - b)).toEqual([...items, order[0]!, order[1]!].sort((a, b) => a - b));
    // validation: no item twice, parts of 4, 3 and 3
    const uneven = await Promise.all([0, 1, 2].map(async (index) => {
      const worker = new ItemDataLoader({ items, load, batchSize: 4 });
      worker.setShard({ index, count: 3, even: false });
      return firstColumn(worker);
    }));
    expect(uneven.map((part) => part.length)).toEqual([4, 3, 3]);
    expect(uneven.flat().sort((a, b) => a - b)).toEqual(items);
    expect(() => whole.setShard({ index: 2, count: 2, even: true })).toThrow('not index 2 of 2');
    whole.setShard(undefined);
    expect(await firstColumn(whole)).toEqual(order);
  });

  it('loads each item once across epochs (cache) and keeps batches in order without shuffling', async () => {
    let loads = 0;
    const loader = new ItemDataLoader({ items, load: (item: number) => (loads++, load(item)), batchSize: 3, prefetch: 3 });
    expect(await firstColumn(loader)).toEqual(items);
    expect(await firstColumn(loader)).toEqual(items);
    expect(loads).toBe(10);
  });

  it('stops on a bad item with its name, or skips and reports it', async () => {
    const bad = (item: number) => {
      if (item === 4) throw new DataError('not an image', { file: `img/${item}.png` });
      return load(item);
    };
    await expect(firstColumn(new ItemDataLoader({ items, load: bad, batchSize: 4 }))).rejects.toThrow('img/4.png: not an image');
    const skipping = new ItemDataLoader({ items, load: bad, batchSize: 4, onError: 'skip', name: (item) => `img/${item}.png` });
    expect(await firstColumn(skipping)).toEqual(items.filter((item) => item !== 4));
    expect(skipping.skipped).toEqual([{ index: 4, name: 'img/4.png', message: 'img/4.png: not an image' }]);
  });

  it('applies a batch transform on the backend without leaking tensors', async () => {
    const loader = new ItemDataLoader({
      items,
      load,
      batchSize: 5,
      batchTransform: (batch: Batch, { training }) => ({ inputs: (batch.inputs as tf.Tensor).mul(training ? -1 : 10), targets: batch.targets }),
    });
    const before = tf.memory().numTensors;
    expect((await firstColumn(loader)).slice(0, 3)).toEqual([0, 10, 20]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('summary walks one item through every step', async () => {
    const pipeline = new Pipeline<string, number>([
      { name: 'read', encode: (path: string) => `${path}:contents` },
      { name: 'measure', encode: (text: string) => ({ data: new Float32Array(text.length), shape: [text.length] }) },
      { name: 'count', encode: (item: { data: Float32Array }) => item.data.length },
    ]);
    expect(await pipeline.summary('a.txt')).toEqual(['input → "a.txt"', 'read → "a.txt:contents"', 'measure → Float32Array [14]', 'count → 14']);
  });
});

describe('errors across copies of the package', () => {
  it('instanceof recognises a DataError or ConfigError made by another copy (CommonJS beside ESM), and subclasses keep their own', async () => {
    // a second instance of the module: its classes are other objects, as the CommonJS build's are to the ESM build's
    const specifier = './errors?another-copy'; // a query makes Vite load the module again, as a second copy
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof Errors;
    expect(copy.DataError).not.toBe(DataError);
    const fromCopy = new copy.DataError('bad row', { row: 3 });
    expect(fromCopy instanceof DataError).toBe(true);
    expect(new DataError('x') instanceof copy.DataError).toBe(true);
    expect(new copy.ConfigError('x') instanceof ConfigError).toBe(true);
    expect(fromCopy instanceof ConfigError).toBe(false);
    expect(new Error('x') instanceof DataError).toBe(false);
    expect((null as unknown as object) instanceof DataError).toBe(false);
    class RowError extends DataError {}
    expect(new RowError('x') instanceof DataError).toBe(true);
    expect(new DataError('x') instanceof RowError).toBe(false);
    expect(new RowError('x') instanceof RowError).toBe(true);
  });
});

describeEachBackend('TensorDataLoader shards', () => {
  it('gives each worker its rows of the seeded order, and dropLast drops the same step everywhere', async () => {
    const inputs = tf.range(0, 14).reshape([14, 1]);
    const targets = tf.range(0, 14, 1, 'int32');
    const rowsOf = async (loader: TensorDataLoader) => {
      const batches: number[][] = [];
      for await (const batch of batchesOf(loader)) {
        batches.push(Array.from(await batch.targets.data()));
        tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
      }
      return batches;
    };
    const options = { batchSize: 4, shuffle: true, seed: 9, dropLast: true };
    const whole = new TensorDataLoader(inputs, targets, options);
    const order = whole.order();
    const workers = [0, 1].map((index) => {
      const loader = new TensorDataLoader(inputs, targets, options);
      loader.setShard({ index, count: 2, even: true });
      return loader;
    });
    // 14 rows, 7 a worker, 2 a batch: 3 whole batches each (the whole loader drops its last 2 rows too)
    expect(workers.map((loader) => loader.length)).toEqual([3, 3]);
    expect(whole.length).toBe(3);
    const [first, second] = await Promise.all(workers.map(rowsOf));
    for (let k = 0; k < 3; k++) expect([...first![k]!, ...second![k]!].sort((a, b) => a - b)).toEqual(order.slice(k * 4, k * 4 + 4).sort((a, b) => a - b));
    tf.dispose([inputs, targets]);
  });
});
