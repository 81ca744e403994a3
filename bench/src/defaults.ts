import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { datasetsRoot } from './fashion-mnist';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';

const COLUMNS = ['age', 'workclass', 'fnlwgt', 'education', 'education-num', 'marital-status', 'occupation', 'relationship', 'race', 'sex', 'capital-gain', 'capital-loss', 'hours-per-week', 'native-country', 'income'];

/** The CLI as a user runs it (`kindling`), built by `pnpm bench`'s build step. */
const CLI = fileURLToPath(new URL('../../apps/trainer/dist/cli.js', import.meta.url));

/** Adult's rows, trimmed, the test file's labels without their trailing period; a header row first. */
function adultRows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.split(',').map((field) => field.trim()))
    .filter((fields) => fields.length === COLUMNS.length)
    .map((fields) => [...fields.slice(0, -1), fields.at(-1)!.replace(/\.$/, '')]);
}

const toCsv = (rows: string[][]) => `${[COLUMNS, ...rows].map((row) => row.join(',')).join('\n')}\n`;

/** `count` rows drawn without replacement by a seeded generator (a small LCG, the same in every run). */
function sample<T>(rows: readonly T[], count: number, seed: number): T[] {
  const pool = rows.slice();
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = i + Math.floor((state / 2 ** 32) * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

/** Runs `kindling train tabular` with no tuning flags; returns its test accuracy and what it chose. */
function kindlingDefaults(train: string, test: string, out: string): { accuracy: number; schedule: string } {
  // KINDLING_BENCH_FLAGS adds flags, to compare a setting with the defaults (e.g. `--epochs 5 --batch-size 256`)
  const flags = (process.env.KINDLING_BENCH_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
  const result = spawnSync(process.execPath, [CLI, 'train', 'tabular', train, '--target', 'income', '--test', test, '--out', out, ...flags], { encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 3) throw new Error(`kindling train tabular failed: ${result.stderr.trim().split('\n').at(-1)}`);
  const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')) as { metrics: { test: { accuracy: number } }; training: { epochs: number; batchSize: number; dropout: number } };
  const { epochs, batchSize, dropout } = manifest.training;
  return { accuracy: manifest.metrics.test.accuracy, schedule: `${epochs} epochs, batch ${batchSize}, dropout ${dropout}` };
}

/**
 * `pnpm bench defaults`: the CLI with its defaults (no tuning flags) on tables nobody tuned it for, each beside
 * scikit-learn's logistic regression and gradient boosting trained on the same file and scored on the same test
 * rows in the same run. Today: UCI Adult subsampled to 700 and 3,000 rows (three draws each) and whole.
 */
export async function benchDefaults(): Promise<void> {
  const flags = process.env.KINDLING_BENCH_FLAGS ?? '';
  console.log(`\n## Defaults on data nobody tuned for: \`kindling train tabular <file> --target income --test <file>\`, ${flags === '' ? 'no other flags' : `with ${flags}`}\n`);
  const folder = join(datasetsRoot(), 'tabular', 'adult');
  if (!existsSync(join(folder, 'adult-train.csv'))) {
    console.log(`no Adult data at ${folder} (set KINDLING_DATASETS): skipped`);
    return;
  }
  if (!existsSync(CLI)) throw new Error(`the CLI is not built (${CLI}); run \`pnpm bench\`, which builds it`);
  const peers = hasPythonModule('sklearn');
  if (!peers) console.log('scikit-learn is not installed (Debian python3-sklearn, /usr/bin/python3): no peers this run');
  const train = adultRows(join(folder, 'adult-train.csv'));
  const test = adultRows(join(folder, 'adult-test.csv'));
  const work = mkdtempSync(join(tmpdir(), 'kindling-defaults-'));
  try {
    const testFile = join(work, 'test.csv');
    writeFileSync(testFile, toCsv(test));
    const sets = [
      ...[700, 3000].flatMap((count) => [1, 2, 3].map((seed) => ({ name: `Adult, ${count.toLocaleString('en-US')} rows (draw ${seed})`, rows: sample(train, count, seed) }))),
      { name: `Adult, all ${train.length.toLocaleString('en-US')} rows`, rows: train },
    ];
    const rows: string[][] = [];
    for (const [index, set] of sets.entries()) {
      const file = join(work, `train-${index}.csv`);
      writeFileSync(file, toCsv(set.rows));
      const started = performance.now();
      const ours = kindlingDefaults(file, testFile, join(work, `out-${index}`));
      const seconds = (performance.now() - started) / 1000;
      const peer = peers ? runPythonBaseline<{ logistic: number; boosting: number; majority: number }>('sklearn_table.py', [file, testFile, 'income']) : undefined;
      const best = peer === undefined ? undefined : Math.max(peer.logistic, peer.boosting);
      const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
      rows.push([
        set.name,
        percent(ours.accuracy),
        ours.schedule,
        seconds.toFixed(1),
        peer === undefined ? 'n/a' : percent(peer.logistic),
        peer === undefined ? 'n/a' : percent(peer.boosting),
        best === undefined ? '' : ours.accuracy >= best - 0.01 ? 'yes' : `no (${((ours.accuracy - best) * 100).toFixed(1)} points)`,
      ]);
    }
    console.log(`test rows: all ${test.length.toLocaleString('en-US')} of adult-test.csv\n`);
    printTable(['training data', 'Kindling defaults (test accuracy)', 'what the defaults chose', 'seconds', 'logistic regression', 'gradient boosting', 'within 1 point of the better peer'], rows);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
