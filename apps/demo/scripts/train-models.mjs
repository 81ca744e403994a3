#!/usr/bin/env node
/* global process, console */
/**
 * Trains the demo's bundles with the `kindling` command line, on real public data where the project may ship a
 * model trained on it, and writes one-click sample inputs from the held-out part of each set:
 *
 *   pnpm --filter @kindling/demo models                 every view (about 10 minutes on 2 cores with libtorch)
 *   pnpm --filter @kindling/demo models image sound     only these
 *
 * It reads the datasets from ../shared/datasets beside the repository (or KINDLING_DATASETS) and writes, into the
 * repository (the site's build only copies them): public/models/<view>/ (the bundles), public/samples/<view>/ (the
 * sample inputs) and public/models/about.json (per view: the data, its licence, the held-out score, the samples).
 * The mouse-movement and recommendation views keep models trained on generated data: the Balabit recordings state
 * no licence, and the generated ratings come with item names a person can read.
 */
import { readIdxFile } from '@kindling/data/node';
import { encodePng, loadImage } from '@kindling/image/node';
import { serializeRecording, synthesizePointer } from '@kindling/pointer';
import { Random } from '@kindling/data';
import { generateRatings } from '@kindling/tabular';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const demo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(dirname(createRequire(import.meta.url).resolve('@kindling/trainer/package.json')), 'dist', 'cli.js');
const datasets = process.env.KINDLING_DATASETS ?? join(demo, '..', '..', '..', 'shared', 'datasets');
const work = mkdtempSync(join(tmpdir(), 'kindling-demo-models-'));
const aboutFile = join(demo, 'public', 'models', 'about.json');
const about = existsSync(aboutFile) ? JSON.parse(readFileSync(aboutFile, 'utf8')) : {};

const FASHION_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];
/** The census columns in words, with their units, for the tables view's form (the file's names are terse). */
const ADULT_FIELDS = {
  age: 'Age (years)',
  workclass: 'Employer',
  education: 'Education',
  'education-num': 'Years of education',
  'marital-status': 'Marital status',
  occupation: 'Occupation',
  relationship: 'Place in the household',
  race: 'Race',
  sex: 'Sex',
  'capital-gain': 'Capital gains ($ a year)',
  'capital-loss': 'Capital losses ($ a year)',
  'hours-per-week': 'Hours worked a week',
  'native-country': 'Country of birth',
  income: 'Income a year',
};
/** The generated titles' genres, in the order `generateRatings` plants them (a title's genre is its index modulo 8). */
const GENRES = ['mystery', 'comedy', 'science fiction', 'romance', 'western', 'horror', "children's", 'documentary'];
const ADULT_COLUMNS = ['age', 'workclass', 'fnlwgt', 'education', 'education-num', 'marital-status', 'occupation', 'relationship', 'race', 'sex', 'capital-gain', 'capital-loss', 'hours-per-week', 'native-country', 'income'];

/** Runs `kindling train …` into a fresh folder and returns it with its manifest; fails the script on a failed run. */
function train(view, args) {
  const out = join(work, 'bundles', view);
  const started = Date.now();
  console.log(`demo models: training ${view}: kindling ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`training ${view} failed (exit ${result.status})`);
  }
  const manifest = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8'));
  console.log(`demo models: ${view} done in ${((Date.now() - started) / 60_000).toFixed(1)} min; ${result.stdout.split('\n').filter((line) => /accuracy|Dice|MSE/.test(line)).at(-1)?.trim() ?? ''}`);
  return { out, manifest };
}

/** Replaces public/<kind>/<view> with `from` (the old one is removed only once the new one is complete). */
function install(kind, view, from) {
  const target = join(demo, 'public', kind, view);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(from, target);
}

function need(path) {
  if (!existsSync(path)) throw new Error(`no ${path}: the demo's models train on ../shared/datasets (or set KINDLING_DATASETS)`);
  return path;
}

/** A seeded draw of `perClass` indices of each label, skipping the indices in `taken`. */
function draw(labels, perClass, seed, taken = new Set()) {
  const random = new Random(seed);
  const byClass = new Map();
  labels.forEach((label, index) => {
    if (!taken.has(index)) byClass.set(label, [...(byClass.get(label) ?? []), index]);
  });
  return [...byClass.values()].flatMap((indices) => random.shuffle([...indices]).slice(0, perClass));
}

const VIEWS = {
  /** Fashion-MNIST: 2,000 training pictures a class, scored on 300 test pictures a class; 2 more test pictures a class as samples. */
  async image() {
    const root = need(join(datasets, 'image', 'fashion-mnist'));
    const read = async (prefix) => ({ images: (await readIdxFile(join(root, `${prefix}-images-idx3-ubyte.gz`))).data, labels: (await readIdxFile(join(root, `${prefix}-labels-idx1-ubyte.gz`))).data });
    const [trainSet, testSet] = [await read('train'), await read('t10k')];
    const pictures = join(work, 'fashion');
    const write = async (folder, set, index) => {
      const path = join(folder, FASHION_CLASSES[set.labels[index]], `${index}.png`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await encodePng({ data: set.images.subarray(index * 784, (index + 1) * 784), shape: [28, 28, 1] }));
    };
    for (const index of draw([...trainSet.labels], 2000, 1)) await write(join(pictures, 'train'), trainSet, index);
    const valid = draw([...testSet.labels], 300, 2);
    for (const index of valid) await write(join(pictures, 'valid'), testSet, index);
    const { out, manifest } = train('image', ['train', 'image', pictures, '--size', '28']);
    const samples = join(work, 'samples', 'image');
    mkdirSync(samples, { recursive: true });
    const chosen = draw([...testSet.labels], 2, 3, new Set(valid)).sort((a, b) => testSet.labels[a] - testSet.labels[b]);
    const list = [];
    for (const index of chosen) {
      const label = FASHION_CLASSES[testSet.labels[index]];
      const file = `${label}-${index}.png`;
      // 4× larger than the 28×28 original, so the sample is visible in the page (the model squeezes it back)
      const big = await loadImage(await encodePng({ data: testSet.images.subarray(index * 784, (index + 1) * 784), shape: [28, 28, 1] }), { size: 112, channels: 1, method: 'squish' });
      writeFileSync(join(samples, file), await encodePng(big));
      list.push({ file: `samples/image/${file}`, truth: label });
    }
    install('models', 'image', out);
    install('samples', 'image', samples);
    return {
      data: 'Fashion-MNIST: 28×28 grey pictures of 10 kinds of clothing (Zalando Research)',
      licence: 'MIT',
      source: 'https://github.com/zalandoresearch/fashion-mnist',
      trainedOn: '20,000 training pictures (2,000 a class)',
      heldOut: '3,000 pictures of the test set (300 a class)',
      score: { metric: 'accuracy', value: manifest.metrics.accuracy },
      samples: list,
    };
  },

  /** Free Spoken Digit Dataset, its official split: recordings 0–4 of each speaker and digit are the test set. */
  async sound() {
    const recordings = need(join(datasets, 'audio', 'fsdd', 'recordings'));
    const { out, manifest } = train('sound', ['train', 'sound', recordings, '--label-regex', '^(\\d)_', '--valid-regex', '_[0-4]\\.wav$']);
    const samples = join(work, 'samples', 'sound');
    mkdirSync(samples, { recursive: true });
    const speakers = [...new Set(readdirSync(recordings).map((file) => file.split('_')[1]))].sort();
    const list = [];
    for (let digit = 0; digit < 10; digit++) {
      const file = `${digit}_${speakers[digit % speakers.length]}_${digit % 5}.wav`;
      copyFileSync(join(recordings, file), join(samples, file));
      list.push({ file: `samples/sound/${file}`, truth: String(digit) });
    }
    install('models', 'sound', out);
    install('samples', 'sound', samples);
    return {
      data: 'Free Spoken Digit Dataset: the digits 0–9 spoken in English by 5 speakers, 8 kHz recordings (Z. Jackson et al.)',
      licence: 'CC BY-SA 4.0',
      source: 'https://github.com/Jakobovski/free-spoken-digit-dataset',
      trainedOn: 'recordings 5–49 of each speaker and digit',
      heldOut: 'recordings 0–4 of each speaker and digit (the official test split)',
      score: { metric: 'accuracy', value: manifest.metrics.accuracy },
      samples: list,
    };
  },

  /** ISBI 2012 electron-microscopy membranes: pictures 0–23 train, 24–29 are held out. */
  async segmentation() {
    const root = need(join(datasets, 'segmentation', 'isbi2012-membrane'));
    const codes = join(work, 'membrane-codes.txt');
    writeFileSync(codes, 'membrane\ncell\n');
    const { out, manifest } = train('segmentation', ['train', 'segment', join(root, 'image'), join(root, 'label'), '--mask-mode', 'binary', '--codes', codes, '--valid-regex', '^2[4-9]\\.png$', '--size', '256', '--crop', '128', '--widths', '12,24,48,96', '--dice', '--epochs', '36', '--batch-size', '2', '--lr', '0.01']);
    const samples = join(work, 'samples', 'segmentation');
    mkdirSync(samples, { recursive: true });
    const list = [];
    for (const number of [24, 27, 29]) {
      // halved to 256×256, the model's size (a quarter of the bytes of the 512×512 original)
      writeFileSync(join(samples, `${number}.png`), await encodePng(await loadImage(join(root, 'image', `${number}.png`), { size: 256, channels: 1, method: 'squish' })));
      list.push({ file: `samples/segmentation/${number}.png` });
    }
    install('models', 'segmentation', out);
    install('samples', 'segmentation', samples);
    return {
      data: 'ISBI 2012 EM segmentation challenge: 30 electron-microscopy sections of a fruit-fly nerve cord with their membranes marked',
      licence: 'MIT (the zhixuhao/unet copy of the challenge data)',
      source: 'https://github.com/zhixuhao/unet',
      trainedOn: 'sections 0–23',
      heldOut: 'sections 24–29',
      score: { metric: 'pixel accuracy', value: manifest.metrics.pixelAccuracy ?? manifest.metrics.accuracy },
      samples: list,
    };
  },

  /** UCI Adult: the census table's training file, scored on its test file; a few test rows as samples. */
  async tabular() {
    const root = need(join(datasets, 'tabular', 'adult'));
    // fnlwgt is a census sampling weight, not something a person can fill in
    const { out, manifest } = train('tabular', ['train', 'tabular', join(root, 'adult-train.csv'), '--names', ADULT_COLUMNS.join(','), '--target', 'income', '--ignore', 'fnlwgt', '--test', join(root, 'adult-test.csv')]);
    const rows = readFileSync(join(root, 'adult-test.csv'), 'utf8').split('\n').filter((line) => line.split(',').length === ADULT_COLUMNS.length);
    const list = [];
    for (const wanted of ['<=50K', '>50K']) {
      for (const line of rows.filter((text) => text.trim().replace(/\.$/, '').endsWith(wanted)).slice(0, 3)) {
        const values = line.split(',').map((value) => value.trim());
        const row = Object.fromEntries(ADULT_COLUMNS.map((column, index) => [column, values[index] === '?' ? null : /^-?\d+$/.test(values[index]) ? Number(values[index]) : values[index]]));
        const { income, fnlwgt: _weight, ...input } = row;
        list.push({ row: input, truth: String(income).replace(/\.$/, '') });
      }
    }
    install('models', 'tabular', out);
    return {
      data: 'UCI Adult: people of the 1994 US census, whether their income was above $50,000 a year',
      licence: 'CC BY 4.0',
      source: 'https://archive.ics.uci.edu/dataset/2/adult',
      trainedOn: 'the 32,561 rows of adult.data',
      heldOut: 'the 16,281 rows of adult.test',
      score: { metric: 'accuracy', value: manifest.metrics.test?.accuracy ?? manifest.metrics.accuracy },
      samples: list,
      fields: ADULT_FIELDS,
    };
  },

  /** Generated mouse sessions (the Balabit recordings state no licence); generated sessions as samples. */
  async mouse() {
    const { out, manifest } = train('pointer', ['train', 'pointer']);
    const samples = join(work, 'samples', 'mouse');
    mkdirSync(samples, { recursive: true });
    const list = [];
    for (const [seed, kind] of [[101, 'human'], [102, 'bot'], [103, 'human'], [104, 'bot']]) {
      const file = `${kind}-${seed}.json`;
      writeFileSync(join(samples, file), serializeRecording({ format: 'kindling-pointer@1', ...synthesizePointer(kind, new Random(seed)) }));
      list.push({ file: `samples/mouse/${file}`, truth: kind });
    }
    install('models', 'pointer', out);
    install('samples', 'mouse', samples);
    return {
      data: 'generated mouse sessions: human-like movements (curved, uneven speed, overshoot) against bot-like ones (straight, even)',
      licence: 'generated by Kindling (the Balabit recordings state no licence, so no model trained on them ships)',
      trainedOn: 'generated sessions',
      heldOut: 'generated sessions held out',
      score: { metric: 'accuracy', value: manifest.metrics.accuracy },
      samples: list,
    };
  },

  /** Generated ratings with planted tastes. */
  async recommend() {
    const { out, manifest } = train('collab', ['train', 'collab']);
    install('models', 'collab', out);
    return {
      data: 'generated ratings: 100,000 ratings of 1,682 generated titles in 8 genres by 943 users who favour one genre',
      licence: 'generated by Kindling',
      trainedOn: 'generated ratings',
      heldOut: 'generated ratings held out',
      score: { metric: 'MSE', value: manifest.metrics.validMse ?? manifest.metrics.mse },
      // samples: someone new who likes three titles of one genre (the titles carry their genre's words)
      samples: recommendSamples(),
    };
  },
};

/** Three titles of each of four genres, as a new user's liked items, named for the genre. */
function recommendSamples() {
  const { items, itemGenre } = generateRatings({ users: 943, items: 1682, ratings: 100_000, genres: 8, noise: 0.5 });
  return [0, 2, 4, 6].map((genre) => ({ liked: items.filter((_, index) => itemGenre[index] === genre).slice(0, 3), truth: GENRES[genre] }));
}

const chosen = process.argv.slice(2).filter((argument) => !argument.startsWith('-'));
for (const view of chosen) if (!(view in VIEWS)) throw new Error(`no view '${view}': choose from ${Object.keys(VIEWS).join(', ')}`);
try {
  for (const view of chosen.length === 0 ? Object.keys(VIEWS) : chosen) {
    about[view] = await VIEWS[view]();
    mkdirSync(dirname(aboutFile), { recursive: true });
    writeFileSync(`${aboutFile}.tmp`, `${JSON.stringify(about, null, 2)}\n`);
    renameSync(`${aboutFile}.tmp`, aboutFile);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
