import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIdxFile } from '@kindling/data/node';
import sharp from 'sharp';
import { datasetsRoot } from './fashion-mnist';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';

const COLUMNS = ['age', 'workclass', 'fnlwgt', 'education', 'education-num', 'marital-status', 'occupation', 'relationship', 'race', 'sex', 'capital-gain', 'capital-loss', 'hours-per-week', 'native-country', 'income'];

/** The CLI as a user runs it (`kindling`), built by `pnpm bench`'s build step. */
const CLI = fileURLToPath(new URL('../../apps/trainer/dist/cli.js', import.meta.url));

/** Flags an environment variable adds to a CLI run, to compare a setting with the defaults. */
const extraFlags = (variable: string): string[] => (process.env[variable] ?? '').split(' ').filter((flag) => flag !== '');

/** A share as a percentage with one decimal. */
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** Adult's rows, trimmed, the test file's labels without their trailing period; a header row first. */
export function adultRows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.split(',').map((field) => field.trim()))
    .filter((fields) => fields.length === COLUMNS.length)
    .map((fields) => [...fields.slice(0, -1), fields.at(-1)!.replace(/\.$/, '')]);
}

export const toCsv = (rows: string[][]) => `${[COLUMNS, ...rows].map((row) => row.join(',')).join('\n')}\n`;

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
function kindlingDefaults(train: string, test: string, out: string, target = 'income'): { accuracy: number; schedule: string } {
  // KINDLING_BENCH_FLAGS adds flags, to compare a setting with the defaults (e.g. `--epochs 5 --batch-size 256`)
  const flags = extraFlags('KINDLING_BENCH_FLAGS');
  const result = spawnSync(process.execPath, [CLI, 'train', 'tabular', train, '--target', target, '--test', test, '--out', out, ...flags], { encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 3) throw new Error(`kindling train tabular failed: ${result.stderr.trim().split('\n').at(-1)}`);
  const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')) as { metrics: { test: { accuracy: number } }; training: { epochs: number; batchSize: number; dropout: number; weightDecay: number; layers: number[]; refit?: boolean } };
  const { epochs, batchSize, dropout, weightDecay, layers, refit } = manifest.training;
  return { accuracy: manifest.metrics.test.accuracy, schedule: `${epochs} epochs, batch ${batchSize}, layers ${layers.join('-')}, dropout ${dropout}, weight decay ${weightDecay}${refit ? ', refit on every row' : ''}` };
}

/**
 * Small public tables, under 1,000 rows each (`small_tables.py`: three scikit-learn ships, ten from R and its MASS
 * package — measurements, mixed columns, all-categorical, gaps, 2 to 6 classes), each split 75/25 by class
 * `KINDLING_BENCH_TABLE_SPLITS` times (default 5; `KINDLING_BENCH_TABLES` names a subset): tables of a kind the
 * project never tuned for, with the peers on the same files. A row per table with the means over its splits (45 test
 * wines resolve 2.2 points, so one split's verdict is one wine's luck), then the mean over the tables, which issue
 * 40's bar reads: at or above logistic regression's mean minus half a point.
 */
function smallTableRows(work: string): string[][] {
  const splits = Number(process.env.KINDLING_BENCH_TABLE_SPLITS ?? 5);
  const names = process.env.KINDLING_BENCH_TABLES?.split(',').map((name) => name.trim()) ?? [];
  const rows: string[][] = [];
  const scores = new Map<string, { ours: number[]; logistic: number[]; boosting: number[]; seconds: number; rows: number; schedule: string }>();
  for (let seed = 0; seed < splits; seed++) {
    const files = runPythonBaseline<Record<string, { train: string; test: string; rows: number }>>('small_tables.py', [work, String(seed), ...names]);
    if (seed === 0 && names.length === 0 && Object.keys(files).length < 13) console.log('R is not installed (Debian r-base-core and r-cran-mass): only the tables scikit-learn ships this run');
    for (const [name, set] of Object.entries(files)) {
      const started = performance.now();
      const ours = kindlingDefaults(set.train, set.test, join(work, `out-${name}-${seed}`), 'label');
      const seconds = (performance.now() - started) / 1000;
      const peer = runPythonBaseline<{ logistic: number; boosting: number }>('sklearn_table.py', [set.train, set.test, 'label']);
      const table = scores.get(name) ?? { ours: [], logistic: [], boosting: [], seconds: 0, rows: set.rows, schedule: ours.schedule };
      table.ours.push(ours.accuracy);
      table.logistic.push(peer.logistic);
      table.boosting.push(peer.boosting);
      table.seconds += seconds;
      scores.set(name, table);
    }
  }
  for (const [name, table] of scores) {
    const [ours, logistic, boosting] = [mean(table.ours), mean(table.logistic), mean(table.boosting)];
    rows.push([`${name}, ${table.rows} training rows (the mean of ${splits} splits)`, percent(ours), table.schedule, table.seconds.toFixed(1), `${percent(logistic)} (logistic)`, `${percent(boosting)} (boosting)`, verdict(ours, Math.max(logistic, boosting))]);
  }
  const all = [...scores.values()];
  const [ours, logistic, boosting] = [mean(all.map((table) => mean(table.ours))), mean(all.map((table) => mean(table.logistic))), mean(all.map((table) => mean(table.boosting)))];
  const bar = ours >= logistic - 0.005 ? 'yes' : `no (${((ours - logistic) * 100).toFixed(1)} points)`;
  rows.push([`**the mean over the ${all.length} small tables**`, `**${percent(ours)}**`, '', all.reduce((sum, table) => sum + table.seconds, 0).toFixed(1), `${percent(logistic)} (logistic)`, `${percent(boosting)} (boosting)`, `**${verdict(ours, Math.max(logistic, boosting))}; logistic − 0.5: ${bar}**`]);
  return rows;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
/** Issue 20's bar: at or above the better peer minus 1 point. */
const verdict = (ours: number, best: number) => (ours >= best - 0.01 ? 'yes' : `no (${((ours - best) * 100).toFixed(1)} points)`);

export const FASHION_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];

/** `perClass` pictures of each class from an IDX split, drawn by a seeded generator. */
export async function fashionDraw(prefix: 'train' | 't10k', perClass: number, seed: number): Promise<PictureSet> {
  const root = join(datasetsRoot(), 'image', 'fashion-mnist');
  const images = (await readIdxFile(join(root, `${prefix}-images-idx3-ubyte.gz`))).data as Uint8Array;
  const labels = (await readIdxFile(join(root, `${prefix}-labels-idx1-ubyte.gz`))).data as Uint8Array;
  const chosen = FASHION_CLASSES.flatMap((_, label) => sample([...labels.keys()].filter((index) => labels[index] === label), perClass, seed + label));
  const pixels = new Uint8Array(chosen.length * 784);
  chosen.forEach((index, k) => pixels.set(images.subarray(index * 784, (index + 1) * 784), k * 784));
  return { pixels, labels: Uint8Array.from(chosen, (index) => labels[index]!) };
}

/** Small grey pictures: `side`² bytes each, one label (an index into `classes`) each. */
export interface PictureSet {
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Pictures as PNG files in one folder per class. */
export async function writePictures(folder: string, set: PictureSet, side: number, classes: readonly string[]): Promise<void> {
  for (const name of classes) mkdirSync(join(folder, name), { recursive: true });
  const area = side * side;
  for (let k = 0; k < set.labels.length; k++) {
    const picture = sharp(Buffer.from(set.pixels.subarray(k * area, (k + 1) * area)), { raw: { width: side, height: side, channels: 1 } });
    await picture.png().toFile(join(folder, classes[set.labels[k]!]!, `${k}.png`));
  }
}

/**
 * A picture set as PNG folders (`train/` and `valid/`), `kindling train image` with its defaults scored on the
 * test pictures (its `valid/` folder), beside an RBF SVM and logistic regression on the same pixels.
 */
async function pictureRow(work: string, peers: boolean, data: { name: string; key: string; train: PictureSet; test: PictureSet; side: number; classes: readonly string[] }): Promise<string[]> {
  const root = join(work, data.key);
  await writePictures(join(root, 'train'), data.train, data.side, data.classes);
  await writePictures(join(root, 'valid'), data.test, data.side, data.classes);
  const out = join(work, `${data.key}-out`);
  const flags = extraFlags('KINDLING_BENCH_IMAGE_FLAGS');
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, 'train', 'image', root, '--out', out, ...flags], { encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 3) throw new Error(`kindling train image failed: ${result.stderr.trim().split('\n').at(-1)}`);
  const seconds = (performance.now() - started) / 1000;
  const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')) as { metrics: { accuracy: number }; training: { epochs: number; batchSize: number; flip: boolean; affine?: boolean; architecture: { resnet?: number[] } } };
  let peer: { svm: number; logistic: number } | undefined;
  if (peers) {
    const files = ['train.bin', 'train-labels.bin', 'test.bin', 'test-labels.bin'].map((name) => join(work, `${data.key}-${name}`));
    [data.train.pixels, data.train.labels, data.test.pixels, data.test.labels].forEach((bytes, index) => writeFileSync(files[index]!, bytes));
    peer = runPythonBaseline<{ svm: number; logistic: number }>('sklearn_pixels.py', [...files, String(data.side)]);
  }
  const best = peer === undefined ? undefined : Math.max(peer.svm, peer.logistic);
  const accuracy = manifest.metrics.accuracy;
  return [
    data.name,
    percent(accuracy),
    `${manifest.training.epochs} epochs, batch ${manifest.training.batchSize}, ResNet ${manifest.training.architecture.resnet?.join('-') ?? '(transfer)'}, flips ${manifest.training.flip ? 'on' : 'off'}, rotation/zoom/lighting ${manifest.training.affine ? 'on' : 'off'}`,
    seconds.toFixed(1),
    peer === undefined ? 'n/a' : `${percent(peer.logistic)} (logistic)`,
    peer === undefined ? 'n/a' : `${percent(peer.svm)} (RBF SVM)`,
    best === undefined ? '' : verdict(accuracy, best),
  ];
}

/** Fashion-MNIST with 1,500 training pictures (150 a class) and 2,000 test pictures (200 a class). */
async function fashionRow(work: string, peers: boolean): Promise<string[]> {
  const train = await fashionDraw('train', 150, 1);
  const test = await fashionDraw('t10k', 200, 2);
  return pictureRow(work, peers, { name: 'Fashion-MNIST, 1,500 pictures (2,000 test)', key: 'fashion', train, test, side: 28, classes: FASHION_CLASSES });
}

/** All of Fashion-MNIST (60,000 training pictures, the 10,000 test pictures), against issue 20's 93%: no peer (an RBF SVM on 60,000 pictures takes hours). */
async function fashionAllRow(work: string): Promise<string[]> {
  const train = await fashionDraw('train', 6000, 1);
  const test = await fashionDraw('t10k', 1000, 2);
  const row = await pictureRow(work, false, { name: 'Fashion-MNIST, all 60,000 pictures (10,000 test)', key: 'fashion-all', train, test, side: 28, classes: FASHION_CLASSES });
  const accuracy = Number.parseFloat(row[1]!) / 100;
  return [...row.slice(0, 4), 'goal 93%', '', accuracy >= 0.93 ? 'yes' : 'no'];
}

/**
 * The UCI handwritten digits scikit-learn ships (1,797 pictures of 8×8, no download; `sklearn_digits.py` splits
 * them 75/25 by class): small pictures of a kind the project never tuned for.
 */
async function digitsRow(work: string): Promise<string[]> {
  runPythonBaseline<{ train: number; test: number }>('sklearn_digits.py', [work]);
  const read = (name: string) => new Uint8Array(readFileSync(join(work, name)));
  const train = { pixels: read('train.bin'), labels: read('train-labels.bin') };
  const test = { pixels: read('test.bin'), labels: read('test-labels.bin') };
  const classes = Array.from({ length: 10 }, (_, digit) => String(digit));
  return pictureRow(work, true, { name: `Handwritten digits (scikit-learn's 8×8), ${train.labels.length.toLocaleString('en-US')} pictures (${test.labels.length} test)`, key: 'digits', train, test, side: 8, classes });
}

const FSDD_SPEAKERS = ['george', 'jackson', 'lucas', 'nicolas', 'yweweler'];

/**
 * Free Spoken Digit Dataset with each speaker held out in turn: `kindling train sound` with its defaults on the
 * other four speakers' recordings (only the flags that say what the files are: the label and the held-out
 * speaker), scored on the held-out speaker's 500. Issue 20's bar: 80% averaged over the speakers.
 */
function fsddRows(work: string): string[][] {
  const recordings = join(datasetsRoot(), 'audio', 'fsdd', 'recordings');
  // the PyTorch twin (torch_sound_twin.py: the same clips, log-mel settings, ResNet, speed perturbation and schedule
  // as each CLI run chose), unless KINDLING_BENCH_TWIN=0: issue 40's bar reads the averages
  const twin = process.env.KINDLING_BENCH_TWIN !== '0' && hasPythonModule('torchaudio');
  const [accuracies, twins]: [number[], number[]] = [[], []];
  const rows = FSDD_SPEAKERS.map((speaker) => {
    const out = join(work, `fsdd-${speaker}`);
    const started = performance.now();
    const flags = extraFlags('KINDLING_BENCH_SOUND_FLAGS');
    const result = spawnSync(process.execPath, [CLI, 'train', 'sound', recordings, '--label-regex', '^(\\d+)_', '--valid-regex', `_${speaker}_`, '--out', out, ...flags], { encoding: 'utf8' });
    if (result.status !== 0 && result.status !== 3) throw new Error(`kindling train sound failed: ${result.stderr.trim().split('\n').at(-1)}`);
    const seconds = (performance.now() - started) / 1000;
    const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')) as {
      metrics: { accuracy: number };
      task: { preprocessing: { spectrogram: { nFft: number; hopLength: number; mels: number; topDb?: number } } };
      training: { epochs: number; batchSize: number; speed: number; lr: number; architecture: { resnet: number[] } };
    };
    accuracies.push(manifest.metrics.accuracy);
    const speed = manifest.training.speed > 0 ? `speed ±${Math.round(manifest.training.speed * 100)}%` : 'no speed perturbation';
    let peer = '';
    if (twin) {
      const files = readdirSync(recordings).filter((name) => name.endsWith('.wav')).sort();
      const labelled = (names: string[]) => names.map((name) => [join(recordings, name), Number(/^(\d+)_/.exec(name)![1])]);
      const { nFft, hopLength, mels, topDb } = manifest.task.preprocessing.spectrogram;
      const { epochs, batchSize, lr, speed: share, architecture } = manifest.training;
      const config = join(work, `fsdd-${speaker}-twin.json`);
      writeFileSync(config, JSON.stringify({ train: labelled(files.filter((name) => !name.includes(`_${speaker}_`))), valid: labelled(files.filter((name) => name.includes(`_${speaker}_`))), classes: 10, nFft, hop: hopLength, mels, topDb: topDb ?? 80, epochs, lr, batchSize, widths: architecture.resnet, speed: share, seed: 42 }));
      const { accuracy } = runPythonBaseline<{ accuracy: number }>('torch_sound_twin.py', [config]);
      twins.push(accuracy);
      peer = `${percent(accuracy)} (PyTorch twin)`;
    }
    console.log(`FSDD ${speaker} held out: Kindling ${percent(manifest.metrics.accuracy)} (${seconds.toFixed(0)} s)${peer === '' ? '' : `, ${peer}`}`);
    return [`FSDD, speaker ${speaker} held out (500 recordings)`, percent(manifest.metrics.accuracy), `${manifest.training.epochs} epochs, batch ${manifest.training.batchSize}, ${speed}`, seconds.toFixed(1), peer, '', ''];
  });
  const average = mean(accuracies);
  rows.push(['FSDD, average over the held-out speakers', percent(average), '', '', 'goal 80%', '', average >= 0.8 ? 'yes' : 'no']);
  if (twins.length > 0) rows.push(['FSDD, the same average against the PyTorch twin\'s', percent(average), '', '', `${percent(mean(twins))} (PyTorch twin)`, '', average >= mean(twins) - 0.01 ? 'yes (within 1 point)' : `no (${((average - mean(twins)) * 100).toFixed(1)} points)`]);
  return rows;
}

/**
 * Balabit mouse dynamics: `kindling train pointer` with its defaults on the ten users' training sessions, each fold
 * holding out every user's k-th session (sorted by name; `KINDLING_BENCH_BALABIT_FOLDS`, default 1,2,3), beside the peer on the same split (`sklearn_pointer.py`:
 * movement statistics of the same windows, gradient boosting). The flags say what the files are (their screen)
 * and which sessions are held out; the row's figure is per held-out session, as the bundle answers a recording.
 */
function balabitRows(work: string, peers: boolean): string[][] {
  const root = join(datasetsRoot(), 'pointer', 'balabit', 'training_files');
  const users = readdirSync(root).filter((entry) => statSync(join(root, entry)).isDirectory()).sort();
  const folds = (process.env.KINDLING_BENCH_BALABIT_FOLDS ?? '1,2,3').split(',').map(Number);
  const [ourSessions, peerSessions]: [number[], number[]] = [[], []];
  const rows = folds.map((fold) => {
    const held = users.map((user) => readdirSync(join(root, user)).sort()[fold - 1]).filter((session): session is string => session !== undefined);
    const out = join(work, `balabit-${fold}`);
    const started = performance.now();
    const flags = extraFlags('KINDLING_BENCH_POINTER_FLAGS');
    const result = spawnSync(process.execPath, [CLI, 'train', 'pointer', root, '--screen', '1920x1080', '--valid-regex', `^(${held.join('|')})$`, '--out', out, ...flags], { encoding: 'utf8' });
    if (result.status !== 0 && result.status !== 3) throw new Error(`kindling train pointer failed: ${result.stderr.trim().split('\n').at(-1)}`);
    const seconds = (performance.now() - started) / 1000;
    const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')) as {
      metrics: { accuracy: number; windowAccuracy?: number };
      training: { epochs: number; batchSize: number };
      task: { preprocessing: { window: unknown; raster: { fit: string; size: number } } };
    };
    const { raster } = manifest.task.preprocessing;
    const peer = peers ? runPythonBaseline<{ window: number; session: number; sessions: number }>('sklearn_pointer.py', [root, held.join(',')]) : undefined;
    const ours = manifest.metrics.accuracy;
    ourSessions.push(ours);
    if (peer !== undefined) peerSessions.push(peer.session);
    return [
      `Balabit, fold ${fold}: ${held.length} held-out sessions, one per user (windows ${manifest.metrics.windowAccuracy === undefined ? 'n/a' : percent(manifest.metrics.windowAccuracy)}${peer === undefined ? '' : `, peer ${percent(peer.window)}`})`,
      percent(ours),
      `${JSON.stringify(manifest.task.preprocessing.window)}, ${raster.fit} ${raster.size}px, ${manifest.training.epochs} epochs, batch ${manifest.training.batchSize}`,
      seconds.toFixed(1),
      peer === undefined ? 'n/a' : `${percent(peer.session)} (boosting on movement statistics)`,
      '',
      peer === undefined ? '' : verdict(ours, peer.session),
    ];
  });
  if (folds.length > 1) {
    const [ours, peer] = [mean(ourSessions), peerSessions.length === folds.length ? mean(peerSessions) : undefined];
    rows.push([`Balabit, the ${folds.length} folds`, percent(ours), '', '', peer === undefined ? 'n/a' : percent(peer), '', peer === undefined ? '' : verdict(ours, peer)]);
  }
  return rows;
}

/**
 * `pnpm bench defaults`: the CLI with its defaults (no tuning flags) on tables nobody tuned it for, each beside
 * scikit-learn's logistic regression and gradient boosting trained on the same file and scored on the same test
 * rows in the same run: tables (Adult subsampled and whole, scikit-learn's small tables), pictures (Fashion-MNIST,
 * digits), sounds (FSDD, each speaker held out) and mouse sessions (Balabit).
 */
/** What `kindling train segment` with the defaults chose and reached on a set, from its kindling.json. */
interface SegmentRun {
  meanIoU: number;
  pixelAccuracy: number;
  iou: Record<string, number | null>;
  dice: Record<string, number | null>;
  training: { epochs: number; batchSize: number; diceLoss: boolean; classWeights?: number[]; crop: number | null; lr: number; architecture: { unet: number[] } };
  /** The pictures' width and height as the model takes them. */
  size: number;
  height: number;
  seconds: number;
}

/**
 * Multi-class segmentation with the CLI's defaults (`KINDLING_BENCH_SEGMENT_FLAGS` adds flags, e.g. the old fixed
 * ones: `--size 64 --epochs 12 --batch-size 8 --dice no`) beside a PyTorch U-Net twin (`torch_scenes_unet.py`) given
 * the same width and height, crops, batch, epochs, learning rate, loss and class weights, on the same resized pixels. Sets: street-like scenes
 * (4:3, thin poles, small signs and people: `street-scenes.ts`) and the CLI's own default scenes of shapes; the first
 * fifth of each set's pictures by name validates. Issue 40's bars: mean IoU at least the twin's minus 0.02, and no
 * class with more than 0.5% of the pixels at a Dice of 0.
 */
/** A PyTorch U-Net twin's scores (`torch_scenes_unet.py`). */
interface TwinRun {
  meanIoU: number;
  pixelAccuracy: number;
  dice: Array<number | null>;
  iou: Array<number | null>;
  seconds: number;
}

/** The seeds each segmentation set is trained with on both sides: KINDLING_BENCH_SEGMENT_SEEDS (comma separated), default 42. */
function segmentSeeds(): number[] {
  const seeds = (process.env.KINDLING_BENCH_SEGMENT_SEEDS ?? '42').split(',').map((seed) => Number(seed.trim()));
  if (seeds.some((seed) => !Number.isInteger(seed))) throw new Error(`KINDLING_BENCH_SEGMENT_SEEDS takes whole numbers, comma separated, not ${process.env.KINDLING_BENCH_SEGMENT_SEEDS}`);
  return seeds;
}

async function segmentationRows(work: string): Promise<string[][]> {
  const { writeStreetScenes } = await import('./street-scenes');
  const { generateSegmentationDataset, loadMask } = await import('@kindling/image/node');
  // KINDLING_BENCH_TWIN=0 leaves the twin out (a variant of Kindling's settings measured against the default run)
  const twin = process.env.KINDLING_BENCH_TWIN !== '0' && hasPythonModule('torch');
  if (!twin) console.log('no PyTorch twin this run (KINDLING_BENCH_TWIN=0, or Debian python3-torch not installed)');
  const sets = [
    { name: 'street-like scenes, 300 of 192×144, 7 classes (thin poles, small signs and people)', folder: join(work, 'streets'), make: (folder: string) => writeStreetScenes(folder, { count: 300, seed: 7 }) },
    { name: "the CLI's default scenes, 300 of 64×64, 4 classes (shapes)", folder: join(work, 'shapes'), make: (folder: string) => generateSegmentationDataset(folder, { count: 300, size: 64, seed: 1 }).then(() => undefined) },
  ];
  const rows: string[][] = [];
  // KINDLING_BENCH_SEGMENT_SETS: the sets to run, comma separated (streets, shapes; default both)
  const chosen = process.env.KINDLING_BENCH_SEGMENT_SETS?.split(',').map((name) => name.trim());
  for (const set of sets.filter((each) => chosen === undefined || chosen.includes(basename(each.folder)))) {
    await set.make(set.folder);
    const codes = readFileSync(join(set.folder, 'codes.txt'), 'utf8').trim().split('\n');
    const names = readdirSync(join(set.folder, 'images')).sort();
    const validCount = Math.round(names.length / 5);
    const validRegex = `^(${names.slice(0, validCount).map((name) => name.replace('.', '\\.')).join('|')})$`;
    // the pixels' shares, for the bar on classes of more than 0.5% at a Dice of 0
    const shares = new Array<number>(codes.length).fill(0);
    for (const name of names) for (const value of (await loadMask(join(set.folder, 'masks', name), { mode: 'index', classes: codes.length })).data) shares[value]!++;
    const total = shares.reduce((sum, count) => sum + count, 0);
    const zeroDice = (dice: Record<string, number | null> | Array<number | null>) => codes.filter((code, index) => shares[index]! / total > 0.005 && ((Array.isArray(dice) ? dice[index] : dice[code]) ?? 0) === 0);
    const perClass = (values: Record<string, number | null> | Array<number | null>) => codes.map((code, index) => `${code} ${((Array.isArray(values) ? values[index] : values[code]) ?? Number.NaN).toFixed(2)}`).join(', ');
    const [ours, peers]: [SegmentRun[], TwinRun[]] = [[], []];
    let twinFolder: string | undefined;
    // each seed trains both sides once (KINDLING_BENCH_SEGMENT_SEEDS, default 42): runs of 360 steps spread by a few
    // hundredths of mean IoU, so the bar reads the means of a few seeds
    for (const seed of segmentSeeds()) {
      const out = join(work, `${basename(set.folder)}-out-${seed}`);
      const started = performance.now();
      const result = spawnSync(process.execPath, [CLI, 'train', 'segment', join(set.folder, 'images'), join(set.folder, 'masks'), '--codes', join(set.folder, 'codes.txt'), '--valid-regex', validRegex, '--out', out, '--seed', String(seed), ...extraFlags('KINDLING_BENCH_SEGMENT_FLAGS')], { encoding: 'utf8' });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 0 && result.status !== 3) throw new Error(`kindling train segment failed: ${result.stderr.trim().split('\n').at(-1)}`);
      const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')) as { task: { preprocessing: { size: number; height?: number } }; metrics: SegmentRun & object; training: SegmentRun['training'] };
      const { size: width, height = width } = manifest.task.preprocessing;
      const run: SegmentRun = { ...manifest.metrics, training: manifest.training, size: width, height, seconds };
      ours.push(run);
      let peer: TwinRun | undefined;
      if (twin) {
        const { size, height } = run;
        if (twinFolder === undefined) {
          twinFolder = join(work, `${basename(set.folder)}-twin`);
          mkdirSync(twinFolder);
          // the validation pictures last, in the order the twin reads them (the first `train` train)
          const order = [...names.slice(validCount), ...names.slice(0, validCount)];
          const area = size * height;
          const [pictures, masks] = [new Uint8Array(order.length * area * 3), new Uint8Array(order.length * area)];
          for (const [index, name] of order.entries()) {
            pictures.set(await sharp(join(set.folder, 'images', name)).removeAlpha().resize(size, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer(), index * area * 3);
            masks.set((await loadMask(join(set.folder, 'masks', name), { mode: 'index', classes: codes.length, size, height, method: 'squish' })).data, index * area);
          }
          writeFileSync(join(twinFolder, 'images.bin'), pictures);
          writeFileSync(join(twinFolder, 'masks.bin'), masks);
          writeFileSync(join(twinFolder, 'meta.json'), JSON.stringify({ width: size, height, count: order.length, train: order.length - validCount, classes: codes.length, void: null }));
        }
        const { epochs, batchSize, diceLoss, classWeights, crop, lr, architecture } = run.training;
        peer = runPythonBaseline<TwinRun>('torch_scenes_unet.py', [twinFolder, JSON.stringify({ widths: architecture.unet, epochs, batch: batchSize, lr, dice: diceLoss, classWeights, crop, seed })]);
        peers.push(peer);
      }
      console.log(`${set.name}, seed ${seed}: Kindling ${run.meanIoU.toFixed(3)}${peer === undefined ? '' : `, PyTorch twin ${peer.meanIoU.toFixed(3)}`}\n  Kindling IoU per class: ${perClass(run.iou)}${peer === undefined ? '' : `\n  PyTorch  IoU per class: ${perClass(peer.iou)}`}`);
    }
    const spread = (values: number[]) => (values.length < 2 ? '' : `, ${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`);
    const [oursMean, first] = [mean(ours.map((run) => run.meanIoU)), ours[0]!];
    const peerMean = peers.length === 0 ? undefined : mean(peers.map((run) => run.meanIoU));
    const zero = [...new Set(ours.flatMap((run) => zeroDice(run.dice)))];
    rows.push([
      `${set.name}${ours.length > 1 ? `, mean of ${ours.length} seeds` : ''}`,
      `${oursMean.toFixed(3)} (${percent(mean(ours.map((run) => run.pixelAccuracy)))}${spread(ours.map((run) => run.meanIoU))})`,
      `${first.size === first.height ? first.size : `${first.size}×${first.height}`}px${first.training.crop === null ? '' : `, ${first.training.crop}px crops`}, batch ${first.training.batchSize}, ${first.training.epochs} epochs, ${first.training.diceLoss ? 'CE + Dice' : 'CE'}`,
      mean(ours.map((run) => run.seconds)).toFixed(0),
      peerMean === undefined ? 'n/a' : `${peerMean.toFixed(3)} (${percent(mean(peers.map((run) => run.pixelAccuracy)))}${spread(peers.map((run) => run.meanIoU))}), ${mean(peers.map((run) => run.seconds)).toFixed(0)} s`,
      peerMean === undefined ? '' : oursMean >= peerMean - 0.02 ? 'yes' : `no (${(oursMean - peerMean).toFixed(3)})`,
      zero.length === 0 ? 'none' : zero.join(', '),
    ]);
  }
  return rows;
}

export async function benchDefaults(): Promise<void> {
  const added = Object.entries({ tables: process.env.KINDLING_BENCH_FLAGS, pictures: process.env.KINDLING_BENCH_IMAGE_FLAGS, recordings: process.env.KINDLING_BENCH_SOUND_FLAGS, 'mouse sessions': process.env.KINDLING_BENCH_POINTER_FLAGS })
    .filter(([, flags]) => flags !== undefined && flags.trim() !== '')
    .map(([kind, flags]) => `${kind} with ${flags!.trim()}`);
  console.log(`\n## Defaults on data nobody tuned for: \`kindling train <task> <data>\`, ${added.length === 0 ? 'no tuning flags' : added.join('; ')}\n`);
  if (!existsSync(CLI)) throw new Error(`the CLI is not built (${CLI}); run \`pnpm bench\`, which builds it`);
  const peers = hasPythonModule('sklearn');
  if (!peers) console.log('scikit-learn is not installed (Debian python3-sklearn, /usr/bin/python3): no peers this run');
  // KINDLING_BENCH_DEFAULTS: the rows to run, comma separated: tabular, tables, fashion, digits (image: both), sound, balabit, segment, and
  // fashion-all (all of Fashion-MNIST, only by name)
  const chosen = process.env.KINDLING_BENCH_DEFAULTS?.split(',').flatMap((kind) => (kind.trim() === 'image' ? ['fashion', 'digits'] : [kind.trim()]));
  const runs = (kind: string) => chosen === undefined || chosen.includes(kind);
  const rows: string[][] = [];
  const work = mkdtempSync(join(tmpdir(), 'kindling-defaults-'));
  try {
    const folder = join(datasetsRoot(), 'tabular', 'adult');
    if (!runs('tabular')) {
      // tables left out
    } else if (!existsSync(join(folder, 'adult-train.csv'))) {
      console.log(`no Adult data at ${folder} (set KINDLING_DATASETS): its rows are skipped`);
    } else {
      const train = adultRows(join(folder, 'adult-train.csv'));
      const test = adultRows(join(folder, 'adult-test.csv'));
      const testFile = join(work, 'test.csv');
      writeFileSync(testFile, toCsv(test));
      const sets = [
        ...[700, 3000].flatMap((count) => [1, 2, 3].map((seed) => ({ name: `Adult, ${count.toLocaleString('en-US')} rows (draw ${seed})`, rows: sample(train, count, seed) }))),
        { name: `Adult, all ${train.length.toLocaleString('en-US')} rows`, rows: train },
      ];
      for (const [index, set] of sets.entries()) {
        const file = join(work, `train-${index}.csv`);
        writeFileSync(file, toCsv(set.rows));
        const started = performance.now();
        const ours = kindlingDefaults(file, testFile, join(work, `out-${index}`));
        const seconds = (performance.now() - started) / 1000;
        const peer = peers ? runPythonBaseline<{ logistic: number; boosting: number; majority: number }>('sklearn_table.py', [file, testFile, 'income']) : undefined;
        const best = peer === undefined ? undefined : Math.max(peer.logistic, peer.boosting);
        rows.push([
          `${set.name}, scored on all ${test.length.toLocaleString('en-US')} test rows`,
          percent(ours.accuracy),
          ours.schedule,
          seconds.toFixed(1),
          peer === undefined ? 'n/a' : `${percent(peer.logistic)} (logistic)`,
          peer === undefined ? 'n/a' : `${percent(peer.boosting)} (boosting)`,
          best === undefined ? '' : verdict(ours.accuracy, best),
        ]);
      }
    }
    if (runs('fashion')) {
      if (existsSync(join(datasetsRoot(), 'image', 'fashion-mnist', 'train-images-idx3-ubyte.gz'))) rows.push(await fashionRow(work, peers));
      else console.log('no Fashion-MNIST data (set KINDLING_DATASETS): its row is skipped');
    }
    if (runs('tables')) {
      if (peers) rows.push(...smallTableRows(work));
      else console.log("scikit-learn's tables come with scikit-learn: their rows are skipped");
    }
    // all of Fashion-MNIST only when asked for by name (tens of minutes)
    if (chosen?.includes('fashion-all')) rows.push(await fashionAllRow(work));
    if (runs('digits')) {
      if (peers) rows.push(await digitsRow(work));
      else console.log("scikit-learn's digits come with scikit-learn: their row is skipped");
    }
    if (runs('sound')) {
      if (existsSync(join(datasetsRoot(), 'audio', 'fsdd', 'recordings'))) rows.push(...fsddRows(work));
      else console.log('no FSDD recordings (set KINDLING_DATASETS): their rows are skipped');
    }
    if (runs('balabit')) {
      if (existsSync(join(datasetsRoot(), 'pointer', 'balabit', 'training_files'))) rows.push(...balabitRows(work, peers));
      else console.log('no Balabit sessions (set KINDLING_DATASETS): their rows are skipped');
    }
    if (rows.length > 0) printTable(['training data', 'Kindling defaults (test accuracy)', 'what the defaults chose', 'seconds', 'peer', 'peer', 'within 1 point of the better peer'], rows);
    if (runs('segment')) {
      const segmentRows = await segmentationRows(work);
      console.log('\nSegmentation, validation on whole pictures:\n');
      printTable(['pictures', 'Kindling defaults: mean IoU (pixel accuracy)', 'what the defaults chose', 'seconds', 'PyTorch U-Net twin, same settings', 'within 0.02 of the twin', 'classes over 0.5% of the pixels at Dice 0'], segmentRows);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
