import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { streamCsvFile } from '@kindling/data/node';
import { generateTable, inferTabularSchema, TabularProcessor, tabularTensors } from './index';

const rows = [
  { age: '20', job: 'a', hours: '10', joined: '2020-01-31', grade: '1', income: '<=50K' },
  { age: '30', job: 'b', hours: '?', joined: '2021-03-01', grade: '2', income: '>50K' },
  { age: '40', job: 'a', hours: '30', joined: '', grade: '1', income: '>50K.' },
  { age: '', job: '?', hours: '50', joined: '2019-12-25', grade: '2', income: '<=50K' },
];

describe('tabular schema', () => {
  it('infers continuous, categorical (few whole values), date columns and the task', () => {
    const schema = inferTabularSchema(rows, { target: 'income', maxCardinality: 2 });
    expect(schema).toEqual({ target: 'income', task: 'classification', categorical: ['job', 'grade'], continuous: ['age', 'hours'], dates: ['joined'] });
    const regression = inferTabularSchema(rows, { target: 'age', ignore: ['income'], maxCardinality: 2 });
    expect(regression.task).toBe('regression');
    expect(inferTabularSchema(rows, { target: 'income', categorical: ['age'], maxCardinality: 2 }).categorical).toEqual(['age', 'job', 'grade']);
  });

  it('makes a whole-numbered column that is mostly one value both continuous and categorical', () => {
    // 300 people: gain is 0 for 210 and one of 25 amounts for the rest (3.6 people each); balance is spiky too
    // but not whole; visits has 60 distinct whole values and no value for more than a few rows
    const table = Array.from({ length: 300 }, (_, index) => ({
      gain: index < 210 ? '0' : String(1000 + (index % 25) * 37),
      balance: index < 210 ? '0' : (index * 1.5).toFixed(2),
      visits: String(index % 60),
      label: index % 3 === 0 ? 'yes' : 'no',
    }));
    const schema = inferTabularSchema(table, { target: 'label' });
    expect(schema.continuous).toEqual(['gain', 'balance', 'visits']);
    expect(schema.categorical).toEqual(['gain']);
    // mostly one value, but under half: a number only
    const half = table.map((row, index) => ({ ...row, gain: index < 135 ? '0' : String(1000 + (index % 25) * 37) }));
    expect(inferTabularSchema(half, { target: 'label' }).categorical).toEqual([]);
    // mostly one value, but the others each once (amounts nearly unique per row): a number only
    const unique = table.map((row, index) => ({ ...row, gain: index < 210 ? '0' : String(1000 + index * 37) }));
    expect(inferTabularSchema(unique, { target: 'label' }).categorical).toEqual([]);
  });

  it('leaves out text columns of identifiers (most values their own) and says which; a named one is kept', () => {
    const table = Array.from({ length: 300 }, (_, index) => ({ id: `order-${index * 7919}`, city: ['Oslo', 'Lima', 'Pune'][index % 3]!, label: index % 2 ? 'yes' : 'no' }));
    const schema = inferTabularSchema(table, { target: 'label' });
    expect(schema.identifiers).toEqual(['id']);
    expect(schema.categorical).toEqual(['city']);
    expect(inferTabularSchema(table, { target: 'label', categorical: ['id'] }).identifiers).toBeUndefined();
    // few rows: 40 distinct names are not yet identifiers
    expect(inferTabularSchema(table.slice(0, 40), { target: 'label' }).categorical).toEqual(['id', 'city']);
  });

  it('reads a row\'s own columns only, and refuses a number past float32 by row and field', () => {
    const table = [
      { constructor: 'a', size: '1', label: 'x' },
      { constructor: 'b', size: '2', label: 'y' },
    ];
    const processor = TabularProcessor.fit(table, inferTabularSchema(table, { target: 'label', categorical: ['constructor'], continuous: ['size'] }), { source: 'train.csv' });
    // a row without the column lacks it: Object's constructor function is no value of it
    expect(() => processor.process([{ size: '1', label: 'x' }], { source: 'rows' })).toThrow("rows, row 2: the row has no column 'constructor'");
    expect(processor.process([{ constructor: 'b', size: '1', label: 'x' }], { source: 'rows' }).categorical[0]).toBe(2);
    expect(() => processor.process([{ constructor: 'a', size: '1e308', label: 'x' }], { source: 'rows.csv', rowNumbers: [7] })).toThrow("rows.csv, row 7, field 'size': '1e308' is beyond the largest number a model computes with (float32's ±3.4e38)");
  });

  it('names a wrong column and an all-missing column', () => {
    expect(() => inferTabularSchema(rows, { target: 'salary', source: 'people.csv' })).toThrow("people.csv: no column 'salary' (columns: age, job, hours, joined, grade, income)");
    const empty = rows.map((row) => ({ ...row, notes: '?' }));
    expect(() => inferTabularSchema(empty, { target: 'income', source: 'people.csv' })).toThrow("people.csv, field 'notes': every value is missing");
  });
});

describe('TabularProcessor', () => {
  const schema = { target: 'income', task: 'classification' as const, categorical: ['job'], continuous: ['age', 'hours'], dates: [] };

  it('fills with the training median, adds _na indicators, categorifies and normalizes (hand-computed)', () => {
    const processor = TabularProcessor.fit(rows, schema, { source: 'train.csv' });
    // age: 20, 30, 40 and one missing → median 30; filled [20,30,40,30]: mean 30, sample std √(200/3)
    const age = processor.state.continuous[0]!;
    expect(age).toMatchObject({ name: 'age', fill: 30, mean: 30, indicator: true });
    expect(age.std).toBeCloseTo(Math.sqrt(200 / 3), 10);
    // hours: 10, 30, 50 → median 30, filled [10,30,30,50]: mean 30, std √(800/3)
    expect(processor.state.continuous[1]).toMatchObject({ fill: 30, mean: 30 });
    expect(processor.categoricalNames).toEqual(['job', 'age_na', 'hours_na']);
    expect(processor.state.categorical[0]!.labels).toEqual(['#na#', 'a', 'b']);
    expect(processor.targetLabels).toEqual(['<=50K', '>50K']);

    const data = processor.process(rows, { source: 'train.csv', withTarget: true });
    expect(Array.from(data.categorical)).toEqual([1, 1, 1, 2, 1, 2, 1, 1, 1, 0, 2, 1]);
    const std = Math.sqrt(200 / 3);
    const hoursStd = Math.sqrt(800 / 3);
    const expected = [-10 / std, -20 / hoursStd, 0, 0, 10 / std, 0, 0, 20 / hoursStd];
    Array.from(data.continuous).forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 5));
    expect(Array.from(data.target!)).toEqual([0, 1, 1, 0]);
  });

  it('reapplies exactly what it stored; unseen categories and missing values go to #na# and the fill', () => {
    const processor = TabularProcessor.fit(rows, schema, { source: 'train.csv' });
    const restored = TabularProcessor.fromJSON(JSON.parse(JSON.stringify(processor.toJSON())));
    const unseen = [{ age: 60, job: 'zebra', hours: null }, { age: '25', job: 'b', hours: 45 }];
    const a = processor.process(unseen, { source: 'request' });
    const b = restored.process(unseen, { source: 'request' });
    expect(Array.from(b.categorical)).toEqual(Array.from(a.categorical));
    expect(Array.from(b.continuous)).toEqual(Array.from(a.continuous));
    expect(Array.from(a.categorical.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(a.continuous[1]).toBeCloseTo(0, 6); // hours missing → training median 30 → (30 − 30)/std
    expect(a.target).toBeUndefined();
    expect(processor.summary({ age: 60, job: 'zebra', hours: null })).toContain("job (categorical): \"zebra\" → 0 '#na#'");
  });

  it('splits dates into parts', () => {
    const processor = TabularProcessor.fit(rows, { ...schema, continuous: [], categorical: [], dates: ['joined'] }, { source: 'train.csv' });
    expect(processor.continuousNames).toEqual(['joined_year', 'joined_dayofyear', 'joined_elapsed']);
    expect(processor.categoricalNames).toEqual(['joined_month', 'joined_day', 'joined_dayofweek', 'joined_is_month_start', 'joined_is_month_end', 'joined_year_na', 'joined_dayofyear_na', 'joined_elapsed_na']);
    const data = processor.process([{ joined: '2020-01-31' }], { source: 'x' });
    const label = (column: number) => processor.state.categorical[column]!.labels[data.categorical[column]!];
    expect([label(0), label(1), label(2), label(3), label(4)]).toEqual(['1', '31', '5', '0', '1']); // Friday, month end
    expect(() => processor.process([{ joined: 'last tuesday' }], { source: 'x.csv' })).toThrow("x.csv, row 2, field 'joined': 'last tuesday' is not a date");
  });

  it('names the row and column of a non-number in a continuous column, and refuses a one-class target', () => {
    const bad = [...rows.slice(0, 2), { ...rows[2]!, hours: 'thirty' }];
    expect(() => TabularProcessor.fit(bad, schema, { source: 'train.csv' })).toThrow("train.csv, row 4, field 'hours': 'thirty' is not a number");
    const oneClass = rows.map((row) => ({ ...row, income: '>50K' }));
    expect(() => TabularProcessor.fit(oneClass, schema, { source: 'train.csv' })).toThrow("train.csv, field 'income': the target has one class only ('>50K')");
    const processor = TabularProcessor.fit(rows, schema, { source: 'train.csv' });
    expect(() => processor.process([{ ...rows[0]!, income: 'rich' }], { source: 'test.csv', rowNumbers: [7], withTarget: true })).toThrow("test.csv, row 7, field 'income': unknown target 'rich'");
    expect(() => processor.process([{ age: '1' }], { source: 'test.csv' })).toThrow("test.csv, row 2: the row has no column 'job'");
  });

  it('builds model tensors, leaving out nothing and leaking nothing', () => {
    const before = tf.memory().numTensors;
    const processor = TabularProcessor.fit(rows, schema, { source: 'train.csv' });
    const data = processor.process(rows, { source: 'train.csv', withTarget: true });
    const { inputs, targets } = tabularTensors(data, processor, [3, 1]);
    expect(inputs.map((input) => input.shape)).toEqual([[2, 3], [2, 2]]);
    expect(inputs[0]!.dtype).toBe('int32');
    expect(Array.from(inputs[0]!.dataSync())).toEqual([0, 2, 1, 2, 1, 2]);
    expect(Array.from(targets!.dataSync())).toEqual([0, 1]);
    tf.dispose([...inputs, targets!]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('streamCsvFile', () => {
  it('streams a headerless file with a names list, `?` values and trailing blank lines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kindling-csv-')), 'adult.csv');
    writeFileSync(file, '39, State-gov, <=50K\n50, ?, ">50K."\n\n\n');
    const read: Array<Record<string, string>> = [];
    for await (const row of streamCsvFile(file, { columns: ['age', 'workclass', 'income'] })) read.push(row);
    expect(read).toEqual([{ age: '39', workclass: 'State-gov', income: '<=50K' }, { age: '50', workclass: '?', income: '>50K.' }]);
    const processor = TabularProcessor.fit(read, inferTabularSchema(read, { target: 'income' }), { source: file });
    expect(processor.targetLabels).toEqual(['<=50K', '>50K']);
  });

  it('names the line of a ragged row', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kindling-csv-')), 'ragged.csv');
    writeFileSync(file, 'a,b,c\n1,2,3\n4,5\n');
    const consume = async () => {
      for await (const row of streamCsvFile(file)) void row;
    };
    await expect(consume()).rejects.toThrow(`${file}, row 3: has 2 fields but the header has 3`);
  });
});

describe('generateTable', () => {
  it('makes an income table with missing values and a learnable rule', () => {
    const { rows: table, ruleAccuracy } = generateTable({ rows: 500, seed: 1 });
    expect(table).toHaveLength(500);
    expect(table.some((row) => row.capital_gain === '')).toBe(true);
    expect(table.some((row) => row.occupation === '?')).toBe(true);
    const positives = table.filter((row) => row.income === '>50K').length / table.length;
    expect(positives).toBeGreaterThan(0.2);
    expect(positives).toBeLessThan(0.5);
    expect(ruleAccuracy).toBeGreaterThan(0.95);
    const schema = inferTabularSchema(table, { target: 'income' });
    expect(schema.dates).toEqual(['start_date']);
    expect(schema.continuous).toEqual(['age', 'hours_per_week', 'capital_gain']);
  });
});
