import { generateShapesDataset } from '@kindling/image/node';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, kindling, type Outcome } from './run';
import { generateTable } from '@kindling/tabular';

const temporary = () => mkdtempSync(join(tmpdir(), 'kindling-hostile-'));
const toCsv = (rows: Array<Record<string, string>>) => [Object.keys(rows[0]!).join(','), ...rows.map((row) => Object.values(row).join(','))].join('\n');

/** A failed run: exit 1, one line on stderr matching `message`, no stack. */
function expectOneLineError(outcome: Awaited<ReturnType<typeof kindling>>, message: RegExp): void {
  const lines = errorLines(outcome);
  expect(outcome.code, outcome.stderr).toBe(1);
  expect(lines, outcome.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kindling: /);
  expect(lines[0]).toMatch(message);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
}

/** Refused before any training: the run got as far as neither its columns nor an epoch (a clock would count the machine's load too). */
function expectNoTraining(outcome: Outcome): void {
  expect(`${outcome.stdout}${outcome.stderr}`).not.toMatch(/predicting '|schedule|epoch \d/);
}

describe('kindling train under bad input', () => {
  it('tabular: a missing file, a folder, a missing --test file are one line naming it, before any training', async () => {
    const root = temporary();
    writeFileSync(join(root, 'table.csv'), toCsv(generateTable({ rows: 50, seed: 1 }).rows));
    expectOneLineError(await kindling(['train', 'tabular', 'missing.csv', '--target', 'income', '--backend', 'cpu'], { cwd: root }), /missing\.csv: no such file/);
    expectOneLineError(await kindling(['train', 'tabular', root, '--target', 'income', '--backend', 'cpu'], { cwd: root }), /is a folder, not a CSV file/);
    const gone = await kindling(['train', 'tabular', 'table.csv', '--target', 'income', '--test', 'gone.csv', '--backend', 'cpu'], { cwd: root });
    expectOneLineError(gone, /gone\.csv: no such file/);
    expectNoTraining(gone);
    expect(existsSync(join(root, 'runs'))).toBe(false);
    // --debug shows the stack for a bug report
    const debug = await kindling(['train', 'tabular', 'missing.csv', '--target', 'income', '--backend', 'cpu', '--debug'], { cwd: root });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('an --out that cannot be written (or a --checkpoint beside it) is one line before any training, and leaves nothing behind', async () => {
    const root = temporary();
    writeFileSync(join(root, 'table.csv'), toCsv(generateTable({ rows: 300, seed: 2 }).rows));
    writeFileSync(join(root, 'a-file'), 'in the way');
    const out = await kindling(['train', 'tabular', 'table.csv', '--target', 'income', '--out', 'a-file/model'], { cwd: root });
    expectOneLineError(out, /^kindling: --out a-file\/model: cannot write there \((ENOTDIR|EEXIST): a file stands where a folder is needed\); choose another folder$/);
    expectNoTraining(out);
    const checkpoint = await kindling(['train', 'tabular', 'table.csv', '--target', 'income', '--checkpoint', 'a-file/run.ckpt'], { cwd: root });
    expectOneLineError(checkpoint, /^kindling: --checkpoint a-file\/run\.ckpt: cannot write there \((ENOTDIR|EEXIST): a file stands where a folder is needed\); choose another folder$/);
    expectNoTraining(checkpoint);
    expect(readdirSync(root).sort()).toEqual(['a-file', 'table.csv']);
  });

  it('tabular: two rows are refused by name; fewer rows than a batch still train, with finite figures', async () => {
    const root = temporary();
    writeFileSync(join(root, 'two.csv'), 'a,b,y\n1,2,x\n3,4,z\n');
    expectOneLineError(await kindling(['train', 'tabular', 'two.csv', '--target', 'y', '--backend', 'cpu'], { cwd: root }), /two\.csv: 2 rows: too few to train on some and hold out others/);
    writeFileSync(join(root, 'small.csv'), toCsv(generateTable({ rows: 80, seed: 2 }).rows));
    // a batch size larger than the table (the schedule's own choice would fit it)
    const small = await kindling(['train', 'tabular', 'small.csv', '--target', 'income', '--batch-size', '256', '--epochs', '5', '--backend', 'cpu', '--out', 'out'], { cwd: root });
    expect(small.code, small.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.training.batchSize).toBe(256); // 64 training rows: one smaller batch an epoch, not none
    expect(Number.isFinite(manifest.metrics.validLoss)).toBe(true);
    expect(Number.isFinite(manifest.metrics.accuracy)).toBe(true);
  });

  it('tabular: a run whose loss becomes NaN ends with an error and writes no bundle', async () => {
    const root = temporary();
    writeFileSync(join(root, 'table.csv'), toCsv(generateTable({ rows: 300, seed: 3 }).rows));
    const outcome = await kindling(['train', 'tabular', 'table.csv', '--target', 'income', '--lr', '1e12', '--epochs', '2', '--backend', 'cpu', '--out', 'out'], { cwd: root });
    expectOneLineError(outcome, /training (failed: loss became|ended with) .*(NaN|Infinity).*no bundle was written/);
    expect(existsSync(join(root, 'out', 'kindling.json'))).toBe(false);
  });

  it('tabular: a model that cannot beat always answering the most common class says so last and exits 3, keeping its bundle', async () => {
    const root = temporary();
    // nothing to learn: one constant input, labels 70/30 at random
    const lines = ['constant,label', ...Array.from({ length: 400 }, (_, index) => `1,${(index * 7919) % 10 < 7 ? 'common' : 'rare'}`)];
    writeFileSync(join(root, 'noise.csv'), lines.join('\n'));
    const outcome = await kindling(['train', 'tabular', 'noise.csv', '--target', 'label', '--backend', 'cpu', '--out', 'out'], { cwd: root });
    expect(outcome.code, outcome.stderr).toBe(3);
    const last = outcome.stderr.trim().split('\n').at(-1);
    expect(last).toMatch(/^kindling: warning: validation accuracy .* does not beat always answering the most common class/);
    expect(existsSync(join(root, 'out', 'kindling.json'))).toBe(true);
  });

  it('collab: one rating, and ratings ×1e30, are refused with the reason', async () => {
    const root = temporary();
    writeFileSync(join(root, 'one.csv'), 'user,item,rating\n1,2,3\n');
    expectOneLineError(await kindling(['train', 'collab', 'one.csv', '--backend', 'cpu'], { cwd: root }), /one\.csv: 1 ratings: too few/);
    const rows = Array.from({ length: 300 }, (_, index) => `${index % 17},${index % 23},${((index % 5) + 1) * 1e30}`);
    writeFileSync(join(root, 'huge.csv'), ['user,item,rating', ...rows].join('\n'));
    expectOneLineError(await kindling(['train', 'collab', 'huge.csv', '--backend', 'cpu'], { cwd: root }), /huge\.csv, field 'rating': ratings run from 1\.00e\+30 to 5\.00e\+30/);
    expect(existsSync(join(root, 'runs'))).toBe(false);
  });

  it('image: symlinked class folders and pictures are followed, a loop is walked once; a class left empty by --on-bad-file skip is an error', async () => {
    const root = temporary();
    const shapes = await generateShapesDataset(join(root, 'shapes'), { perClass: 6, size: 24, seed: 5 });
    const data = join(root, 'data');
    mkdirSync(data);
    // circle: a real folder; square: a link to a folder elsewhere; triangle: a folder of links to files
    renameSync(join(shapes, 'circle'), join(data, 'circle'));
    symlinkSync(join(shapes, 'square'), join(data, 'square'));
    mkdirSync(join(data, 'triangle'));
    for (const file of readdirSync(join(shapes, 'triangle'))) symlinkSync(join(shapes, 'triangle', file), join(data, 'triangle', file));
    symlinkSync(data, join(data, 'circle', 'loop'));
    const outcome = await kindling(['train', 'image', data, '--epochs', '1', '--size', '16', '--batch-size', '8', '--backend', 'cpu', '--out', 'out'], { cwd: root });
    // one epoch on 14 pictures need not beat the most common class (exit 3, bundle kept): what is checked here is what was read
    expect([0, 3], outcome.stderr).toContain(outcome.code);
    expect(outcome.stdout).toMatch(/in 3 classes: circle, square, triangle/);
    expect(outcome.stderr).toMatch(/left out 1 entry: .*loop \(a link back to/);
    expect(JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8')).task.labels).toEqual(['circle', 'square', 'triangle']);

    // every picture of 'triangle' unreadable: skipping them must not give a confident 2-class model
    for (const file of readdirSync(join(shapes, 'triangle'))) writeFileSync(join(shapes, 'triangle', file), 'not a picture');
    const skipped = await kindling(['train', 'image', data, '--epochs', '1', '--size', '16', '--batch-size', '8', '--on-bad-file', 'skip', '--backend', 'cpu', '--out', 'skipped'], { cwd: root });
    expectOneLineError(skipped, /every training file of class 'triangle' was skipped as unreadable/);
    expect(existsSync(join(root, 'skipped', 'kindling.json'))).toBe(false);
  });
});
