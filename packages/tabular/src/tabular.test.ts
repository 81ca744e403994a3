import { BundleError, createBundle, loadPredictor as loadInMemory, registerTask } from '@kindling/deploy';
import { loadPredictor, readInputFile, saveBundle } from '@kindling/deploy/node';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collabTask, dotProductBias, generateTable, inferTabularSchema, TabularProcessor, tabularModel, type CollabAnswer, type TableRow, type TabularAnswer } from './index';
import { tabularTask } from './node';

async function tableBundle(columns?: string[]) {
  const { rows } = generateTable({ rows: 300, seed: 1 });
  const processor = TabularProcessor.fit(rows, inferTabularSchema(rows, { target: 'income', source: 'example' }), { source: 'example' });
  const model = tabularModel({ cardinalities: processor.cardinalities, continuous: processor.continuousNames.length, outputs: processor.targetLabels!.length, layers: [8], seed: 1 });
  const bundle = await createBundle(model, { kind: 'tabular', processor: processor.toJSON(), ...(columns === undefined ? {} : { file: { columns } }) });
  return { bundle, model, rows };
}

describe('tables and ratings as @kindling/deploy reads them', () => {
  it('a table bundle is refused until its kind is registered, then reads every row of a CSV and answers each', async () => {
    const { bundle, model, rows } = await tableBundle();
    await expect(loadInMemory(bundle)).rejects.toThrow(BundleError);
    await expect(loadInMemory(bundle)).rejects.toThrow("its task kind 'tabular' is not registered: install @kindling/tabular and call registerTask(tabularTask)");
    registerTask(tabularTask);
    const directory = join(mkdtempSync(join(tmpdir(), 'kindling-tabular-')), 'bundle');
    await saveBundle(bundle, directory);
    const before = tf.memory().numTensors;
    const predictor = await loadPredictor(directory, { kind: 'tabular' });
    const columns = Object.keys(rows[0]!).filter((name) => name !== 'income');
    const csv = join(directory, '..', 'people.csv');
    writeFileSync(csv, [columns.join(','), ...rows.slice(0, 5).map((row) => columns.map((name) => String(row[name] ?? '')).join(','))].join('\n'));
    const inputs = await readInputFile(predictor, csv);
    expect(inputs.map((input) => input.name)).toEqual([2, 3, 4, 5, 6].map((line) => `${csv}:${line}`));
    const answers: TabularAnswer[] = await predictor.predictBatch(inputs.map((input) => input.input as TableRow));
    expect(answers).toHaveLength(5);
    for (const answer of answers) {
      expect(answer.kind).toBe('classification');
      if (answer.kind === 'classification') expect(predictor.processor.targetLabels).toContain(answer.label);
    }
    // the same answers as the model the bundle was made from, one row at a time
    const live = await loadInMemory(bundle, { kind: 'tabular', model });
    for (let index = 0; index < 5; index++) expect(await live.predict(inputs[index]!.input as TableRow)).toEqual(answers[index]);
    predictor.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('reads a headerless CSV with the column names the training file was given', async () => {
    registerTask(tabularTask);
    const { rows } = generateTable({ rows: 10, seed: 4 });
    const columns = Object.keys(rows[0]!);
    const { bundle, model } = await tableBundle(columns);
    const predictor = await loadInMemory(bundle, { kind: 'tabular', model });
    const csv = join(mkdtempSync(join(tmpdir(), 'kindling-tabular-')), 'plain.csv');
    writeFileSync(csv, rows.slice(0, 3).map((row) => columns.map((name) => String(row[name] ?? '')).join(',')).join('\n'));
    const inputs = await readInputFile(predictor, csv);
    expect(inputs.map((input) => input.name)).toEqual([1, 2, 3].map((line) => `${csv}:${line}`));
    expect((inputs[0]!.input as TableRow).age).toBe(String(rows[0]!.age));
    // a .json file is one row; one that is not JSON is named
    const json = join(csv, '..', 'row.json');
    writeFileSync(json, JSON.stringify({ age: 40 }));
    expect(await readInputFile(predictor, json)).toEqual([{ name: json, input: { age: 40 } }]);
    writeFileSync(json, '{"age": 4');
    await expect(readInputFile(predictor, json)).rejects.toThrow(`${json}: not JSON`);
    model.dispose();
  });

  it('a recommender scores a pair, ranks a user\'s items and refuses an unknown user by name', async () => {
    registerTask(collabTask);
    const users = ['ann', 'bob', 'cy'];
    const items = ['film a', 'film b', 'film c', 'film d'];
    const model = dotProductBias({ users: users.length, items: items.length, factors: 2, yRange: [0, 5.5], seed: 2 });
    const predictor = await loadInMemory(await createBundle(model, { kind: 'collab', model: 'dot', users, items, yRange: [0, 5.5], implicit: false }), { kind: 'collab' });
    const score: CollabAnswer = await predictor.predict({ user: 'bob', item: 'film c' });
    expect(score.kind).toBe('score');
    if (score.kind === 'score') expect(score.score).toBeGreaterThanOrEqual(0);
    const ranked = await predictor.predict({ user: 'ann', count: 2 });
    expect(ranked.kind === 'items' && ranked.items.length).toBe(2);
    await expect(predictor.predict({ user: 'zed', item: 'film a' })).rejects.toThrow(/zed/);
    predictor.dispose();
    model.dispose();
  });
});
