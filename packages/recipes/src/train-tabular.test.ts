import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastestTestBackend } from '@kindling/backend/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predict, useBackend } from './fixtures/test-support';
import { trainTabular, type TrainTabularOptions } from './train-tabular';
import { generateTable } from '@kindling/tabular';

const options = (out: string): TrainTabularOptions => ({
  layers: [64, 32],
  dropout: 0,
  epochs: 4,
  lr: 1e-2,
  wd: 0.01,
  batchSize: 64,
  validPct: 0.2,
  seed: 1,
  out,
});

const toCsv = (rows: Array<Record<string, string>>) => [Object.keys(rows[0]!).join(','), ...rows.map((row) => Object.values(row).join(','))].join('\n');

beforeAll(async () => {
  await useBackend(fastestTestBackend());
});

describe('kindling train tabular', () => {
  it('trains on the generated income table past the majority baseline and writes the model with its preprocessing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-cli-'));
    const result = await trainTabular(undefined, options(join(root, 'out')));
    expect(result.metrics.accuracy!).toBeGreaterThan(result.majorityAccuracy! + 0.15);
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.task.processor.schema.dates).toEqual(['start_date']);
    expect(manifest.task.processor.continuous.find((column: { name: string }) => column.name === 'capital_gain').indicator).toBe(true);
    expect(existsSync(join(root, 'out', 'model.json'))).toBe(true);
    // the bundle reads a CSV of new rows (its target column is ignored) and beats the majority there too
    const { rows: fresh } = generateTable({ rows: 400, seed: 31 });
    writeFileSync(join(root, 'new.csv'), toCsv(fresh));
    const results = await predict(join(root, 'out'), [join(root, 'new.csv')]);
    expect(results[0]!.input).toBe(`${join(root, 'new.csv')}:2`);
    const correct = results.filter((result, index) => (result.prediction as { label: string }).label === fresh[index]!.income).length / fresh.length;
    const majority = Math.max(...['<=50K', '>50K'].map((label) => fresh.filter((row) => row.income === label).length / fresh.length));
    expect(correct).toBeGreaterThan(majority + 0.1);
    const inline = await predict(join(root, 'out'), [JSON.stringify({ ...fresh[0], income: undefined })]);
    // one row alone and the same row in a batch of 400: the same answer (the sums of a batched product may round
    // differently in the last bits)
    type Answer = { label: string; probabilities: Record<string, number> };
    const [alone, batched] = [inline[0]!.prediction as Answer, results[0]!.prediction as Answer];
    expect(alone.label).toBe(batched.label);
    for (const [label, probability] of Object.entries(batched.probabilities)) expect(alone.probabilities[label]).toBeCloseTo(probability, 6);
  });

  it('reads a headerless file with a names list and scores a test file whose labels end with a period', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-names-'));
    const { rows } = generateTable({ rows: 1500, seed: 8 });
    const names = Object.keys(rows[0]!);
    writeFileSync(join(root, 'train.data'), rows.slice(0, 1200).map((row) => Object.values(row).join(', ')).join('\n') + '\n\n');
    writeFileSync(join(root, 'test.data'), rows.slice(1200).map((row) => `${Object.values(row).join(', ')}.`).join('\n') + '\n');
    const result = await trainTabular(join(root, 'train.data'), { ...options(join(root, 'out')), names: names.join(','), target: 'income', test: join(root, 'test.data') });
    expect(result.testMetrics!.accuracy!).toBeGreaterThan(0.8);
  });

  it('sizes a small table\'s run by its rows with the defaults: small batches, enough epochs, more dropout', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-small-'));
    const { rows } = generateTable({ rows: 500, seed: 12 });
    writeFileSync(join(root, 'small.csv'), toCsv(rows));
    // the CLI's defaults, as a user runs it first: no schedule, layer, dropout or refit flags
    const defaults = { layers: 'auto', dropout: 'auto', epochs: 'auto', lr: 1e-2, wd: 'auto', batchSize: 'auto', validPct: 0.2, seed: 1, out: join(root, 'out') } as const;
    const before = tf.memory().numTensors;
    const result = await trainTabular(join(root, 'small.csv'), { ...defaults, target: 'income' });
    expect(tf.memory().numTensors).toBe(before); // the refit's model, learner and every-row tensors are given back too
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    // 400 training rows: batches of 16, 25 steps an epoch, 8 epochs for at least 200 steps (5 epochs of 256 rows were 5
    // steps), one hidden layer of 100, weight decay 1
    expect(manifest.training).toMatchObject({ batchSize: 16, epochs: 8, layers: [100], dropout: 0.5, weightDecay: 1, linear: false, refit: true });
    // under 5,000 training rows the shipped model is trained again on all 500; the validated run's figures are kept
    const kept = await trainTabular(join(root, 'small.csv'), { ...defaults, target: 'income', refit: 'no', out: join(root, 'kept') });
    expect(tf.memory().numTensors).toBe(before);
    expect(kept).toMatchObject({ refit: false, metrics: result.metrics });
    const weights = (folder: string) => readFileSync(join(root, folder, 'weights.bin'));
    expect(weights('kept').equals(weights('out'))).toBe(false);
    const { rows: fresh } = generateTable({ rows: 600, seed: 13 });
    writeFileSync(join(root, 'fresh.csv'), toCsv(fresh));
    const predictions = await predict(join(root, 'out'), [join(root, 'fresh.csv')]);
    const correct = predictions.filter((prediction, index) => (prediction.prediction as { label: string }).label === fresh[index]!.income).length / fresh.length;
    const majority = Math.max(...['<=50K', '>50K'].map((label) => fresh.filter((row) => row.income === label).length / fresh.length));
    expect(result.beatsBaseline).toBe(true);
    expect(correct).toBeGreaterThan(majority + 0.1);
    await expect(trainTabular(join(root, 'small.csv'), { ...defaults, target: 'income', refit: 'always' as 'yes' })).rejects.toThrow("refit must be auto, yes or no, not 'always'");
    await expect(trainTabular(join(root, 'small.csv'), { ...defaults, target: 'income', wd: -1 })).rejects.toThrow('wd must be a number of at least 0, or auto, not -1');
  });

  it('stopping early keeps the epoch of lowest validation loss, reports its figures, refits to it, and will not resume', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-early-'));
    const lines: string[] = [];
    // a learning rate far too high for this table: later epochs get worse than an early one
    const settings = { ...options(join(root, 'out')), epochs: 12, lr: 0.3, wd: 0, earlyStop: 2, log: (line: string) => lines.push(line) };
    const result = await trainTabular(undefined, settings);
    const table = lines.find((line) => line.includes('valid loss'))!;
    const losses = table.split('\n').map((row) => row.split('│').map((cell) => cell.trim())).filter((cells) => /^\d+$/.test(cells[1] ?? '')).map((cells) => Number(cells[3]));
    const lowest = Math.min(...losses);
    const kept = losses.indexOf(lowest);
    expect(losses.length).toBeLessThan(12); // it stopped early…
    expect(kept).toBeLessThan(losses.length - 1); // …and an epoch before the last was the best, so the test means something
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^early stopping: .*the model keeps epoch ${kept + 1}'s weights \\(validation loss ${lowest.toFixed(4)}, the lowest\\)`)));
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.metrics.validLoss).toBeCloseTo(lowest, 4); // the kept epoch's figures, not the last one's
    expect(result.metrics.accuracy).toBe(manifest.metrics.accuracy);
    expect(lines).toContainEqual(expect.stringContaining(`refit: the same model and schedule, ${kept + 1} epochs (where early stopping kept the weights)`));
    await expect(trainTabular(undefined, { ...settings, checkpoint: join(root, 'run.ckpt'), resume: true })).rejects.toThrow("earlyStop cannot resume: the best epoch's weights are not in the checkpoint");
    await expect(trainTabular(undefined, { ...settings, earlyStop: 0 })).rejects.toThrow('earlyStop must be a whole number of epochs of at least 1, not 0');
  });

  it('regresses a numeric target', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-regression-'));
    const { rows } = generateTable({ rows: 1500, seed: 4 });
    const bonus: Record<string, number> = { 'HS-grad': 0, 'Some-college': 5, Bachelors: 15, Masters: 20, Doctorate: 30, '11th': -5 };
    const scored = rows.map(({ income: _income, ...row }) => ({ ...row, score: String(2 * Number(row.age) + bonus[row.education!]!) }));
    writeFileSync(join(root, 'scores.csv'), toCsv(scored));
    const result = await trainTabular(join(root, 'scores.csv'), { ...options(join(root, 'out')), target: 'score', epochs: 5 });
    expect(result.task).toBe('regression');
    // the score's standard deviation is about 31; it is a plain function of two columns
    expect(result.metrics.rmse!).toBeLessThan(8);
  });

  it('names the file, row and column of bad input', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-bad-'));
    const { rows } = generateTable({ rows: 50, seed: 2 });
    rows[9]!.hours_per_week = 'lots';
    const file = join(root, 'people.csv');
    writeFileSync(file, toCsv(rows));
    await expect(trainTabular(file, { ...options(join(root, 'out')), target: 'income', cont: 'hours_per_week' })).rejects.toThrow(`${file}, row 11, field 'hours_per_week': 'lots' is not a number`);
    await expect(trainTabular(file, { ...options(join(root, 'out')), target: 'salary' })).rejects.toThrow(`${file}: no column 'salary'`);
    writeFileSync(file, `${toCsv(rows.slice(0, 3))}\n1,2\n`);
    await expect(trainTabular(file, { ...options(join(root, 'out')), target: 'income' })).rejects.toThrow(`${file}, row 5: has 2 fields but the header has 8`);
    await expect(trainTabular(file, options(join(root, 'out')))).rejects.toThrow('target <column> is required');
  });

});
