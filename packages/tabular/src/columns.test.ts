import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomSplitter } from '@kindling/data';
import { streamCsvFile } from '@kindling/data/node';
import { generateTable, inferTabularSchema, TableColumns, TabularProcessor, type TableRow } from './index';

/** The row-object path (TabularProcessor.fit / process) and the column path give the same state and numbers. */
async function expectSameAsRows(rows: TableRow[], target: string, options: { sampleRows?: number; ignore?: string[]; fill?: 'median' | 'mean' } = {}): Promise<void> {
  const table = await TableColumns.read(rows, { target, ignore: options.ignore, source: 'table.csv', sampleRows: options.sampleRows });
  const schema = inferTabularSchema(rows, { target, ignore: options.ignore, source: 'table.csv' });
  expect(table.schema).toEqual(schema);
  expect(table.size).toBe(rows.length);
  const split = randomSplitter<number>({ validPct: 0.25, seed: 3 })(rows.map((_, index) => index));
  const expected = TabularProcessor.fit(split.train.map((index) => rows[index]!), schema, { source: 'table.csv', fill: options.fill });
  const fitted = table.fit(split.train, { fill: options.fill });
  expect(fitted.toJSON()).toEqual(expected.toJSON());
  for (const part of [split.train, split.valid]) {
    const want = expected.process(part.map((index) => rows[index]!), { source: 'table.csv', withTarget: true });
    const got = table.process(fitted, part);
    expect(got.size).toBe(want.size);
    expect(got.categorical).toEqual(want.categorical);
    expect(got.continuous).toEqual(want.continuous);
    expect(got.target).toEqual(want.target);
  }
}

describe('TableColumns', () => {
  it('fits and processes exactly as the row path: categories, numbers with gaps, dates, a class target', async () => {
    const { rows } = generateTable({ rows: 1500, seed: 8 });
    await expectSameAsRows(rows, 'income');
    // column kinds decided from the first 300 rows, the rest streamed into the same columns
    await expectSameAsRows(rows, 'income', { sampleRows: 300 });
    await expectSameAsRows(rows, 'income', { fill: 'mean' });
  });

  it('fits and processes a regression exactly as the row path', async () => {
    const { rows } = generateTable({ rows: 800, seed: 9 });
    await expectSameAsRows(rows, 'hours_per_week', { ignore: ['income'] });
  });

  it('streams a CSV, names the row of a bad value past the sample, and keeps only a sample of rows', async () => {
    const { rows } = generateTable({ rows: 600, seed: 10 });
    const columns = Object.keys(rows[0]!);
    const lines = [columns.join(','), ...rows.map((row) => columns.map((column) => row[column]).join(','))];
    const file = join(mkdtempSync(join(tmpdir(), 'kindling-columns-')), 'table.csv');
    writeFileSync(file, lines.join('\n'));
    const table = await TableColumns.read(streamCsvFile(file), { target: 'income', source: file, sampleRows: 100 });
    expect(table.size).toBe(600);
    expect(table.sample).toHaveLength(100);
    const processor = table.fit(Array.from({ length: 600 }, (_, index) => index));
    expect(table.process(processor).size).toBe(600);
    lines[451] = lines[451]!.replace(/^\d+/, 'old');
    writeFileSync(file, lines.join('\n'));
    await expect(TableColumns.read(streamCsvFile(file), { target: 'income', source: file, sampleRows: 100 })).rejects.toThrow(`${file}, row 452, field 'age': 'old' is not a number`);
    // a validation label never seen in training is named with its row
    const labels = rows.map((row, index) => ({ ...row, income: index === 599 ? 'unknown' : row.income }));
    const odd = await TableColumns.read(labels, { target: 'income', source: 'odd.csv' });
    const fitted = odd.fit(Array.from({ length: 599 }, (_, index) => index));
    expect(() => odd.process(fitted, [599])).toThrow("odd.csv, row 601, field 'income': unknown target 'unknown'");
  });
});
