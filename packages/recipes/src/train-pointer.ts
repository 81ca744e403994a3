import { CHECKPOINT_OPTIONS, checkOutputs, checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { choice, namer, settle, sharedOptions, text, wholeNumber, type OptionsGiven } from './options';
import { recipeCallbacks, reporters, sizedSchedule, validByName, workersLine, type RecipeOptions } from './recipe';
import { ConfigError } from '@kindling/data';
import { readCsvFile } from '@kindling/data/node';
import { leaderFirst, onLeader, type Learner } from '@kindling/learner';
import { writeFileAtomic } from '@kindling/learner/node';
import { combineWindows, type PointerTask } from '@kindling/pointer/predict';
import * as tf from '@tensorflow/tfjs';
import { rasterize, type WindowOptions } from '@kindling/pointer';
import { generatePointerDataset, pointerFolderDataLoaders, renderPointerPng } from '@kindling/pointer/node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { epochTable, reportClassifierRun, writeClassifierRun } from './classifier-report';
import { finishedEpoch } from './outcome';
import { ARCHITECTURES, architectureWidths, pointerLearner } from './learners';

/** `trainPointer`'s settings: each one's type, default and help (the CLI's `kindling train pointer` flags are made from them). */
export const TRAIN_POINTER_OPTIONS = {
  labels: text({ help: 'a CSV with the columns file and label (file names or paths), instead of folders', placeholder: 'csv' }),
  validRegex: sharedOptions.validRegex('recordings whose file name matches are the validation set (default: a random share of the recordings, each with all its windows)'),
  window: text({ help: 'samples: whole (one per recording), events:<count>, time:<milliseconds>, actions, or auto (windows of 50 events when the median recording has over 500)', placeholder: 'how', default: 'auto' }),
  maxWindows: wholeNumber({ help: 'most windows kept per recording, evenly spaced, so a long session does not crowd out the rest', default: 100, max: 10_000 }),
  size: wholeNumber({ help: 'side of the pictures, or auto (48 for whole recordings, 32 for windows)', placeholder: 'pixels', default: 'auto', auto: true, unit: 'pixels', max: 4096 }),
  fit: choice({
    help: "bbox (each sample's own extent), screen (the whole screen), both (the two pictures as six channels) or auto (bbox for whole recordings; both for windows when the screen size is known)",
    placeholder: 'how',
    choices: ['auto', 'bbox', 'screen', 'both'],
    default: 'auto',
  }),
  screen: text({ help: 'with --fit screen or both: the screen size of recordings that carry none (Balabit: 1920x1080)', placeholder: 'WxH' }),
  dynamics: choice({ help: 'speed and acceleration as brightness: linear or log (spreads slow real-world movements)', placeholder: 'scale', choices: ['linear', 'log'], default: 'linear' }),
  epochs: sharedOptions.epochs('auto', 'enough for 1,200 steps, 6–30 epochs'),
  lr: sharedOptions.lr(5e-3),
  batchSize: sharedOptions.batchSize('samples', 'auto', 'about 32 batches an epoch, 16–128 samples'),
  arch: choice({ help: `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`, placeholder: 'name', choices: Object.keys(ARCHITECTURES), default: 'resnet-tiny' }),
  seed: sharedOptions.seed(),
  validPct: sharedOptions.validPct('share of recordings held out when there is no --valid-regex'),
  out: sharedOptions.out('pointer'),
  ...CHECKPOINT_OPTIONS,
};

/** What `trainPointer` may be given: every setting of {@link TRAIN_POINTER_OPTIONS} (each optional), and what every recipe takes. */
export type TrainPointerOptions = RecipeOptions & Omit<OptionsGiven<typeof TRAIN_POINTER_OPTIONS>, keyof CheckpointFlags>;

export interface TrainPointerResult {
  /** Validation accuracy of the bundle's answers: per recording (its windows' probabilities combined) when recordings are cut into windows. */
  accuracy: number;
  /** With windows, the accuracy of single windows. */
  windowAccuracy?: number;
  /** False when the model does not beat always answering the most common class. */
  beatsBaseline: boolean;
  classes: string[];
  outputDirectory: string;
}

/** Where the default pointer set is synthesized the first time. */
export function defaultPointerDirectory(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kindling', 'datasets', 'pointer-v1');
}

/**
 * Steps `auto` epochs train for at least (as images have 1,000 and sounds 1,200). The earlier fixed 6 epochs at
 * batch 32 gave the generated sessions 42 steps (86.7%; 30 epochs, the most auto gives them, 95.0%). On Balabit's
 * windows at batch 128 (`pnpm bench defaults`, three folds of ten held-out sessions), 600 steps got 24 of 30
 * sessions right and 1,200 steps 26 of 30, the peer's figure.
 */
export const POINTER_MIN_STEPS = 1200;

/** The pointer schedule: `auto` batch and epochs sized by the training samples. */
const pointerBudget = (items: number, options: { epochs: number | 'auto'; batchSize: number | 'auto' }) => sizedSchedule(items, options, { batchBounds: [16, 128], minSteps: POINTER_MIN_STEPS, epochBounds: [6, 30] });

/** The window setting, `auto | whole | events:50 | time:5000 | actions`, → window options (`name`: the setting in messages). */
export function parseWindow(value: string, name = 'window'): WindowOptions | 'whole' | 'auto' {
  if (value === 'whole' || value === 'auto') return value;
  if (value === 'actions') return { by: 'actions' };
  const match = /^(events|time):(\d+)$/.exec(value);
  if (match === null) throw new ConfigError(`${name} must be auto, whole, actions, events:<count> or time:<milliseconds>, not '${value}'`);
  return match[1] === 'events' ? { by: 'events', size: Number(match[2]) } : { by: 'time', duration: Number(match[2]) };
}

/** The screen setting, `1920x1080`, → a screen size (`name`: the setting in messages). */
export function parseScreen(value: string, name = 'screen'): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(value);
  if (match === null || Number(match[1]) === 0 || Number(match[2]) === 0) throw new ConfigError(`${name} must be WIDTHxHEIGHT in pixels (e.g. 1920x1080), not '${value}'`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** `kindling train pointer [recordings]`: mouse recordings → pictures (lines and click circles) → a classifier. */
export async function trainPointer(folder: string | undefined, given: TrainPointerOptions = {}): Promise<TrainPointerResult> {
  const options = settle(TRAIN_POINTER_OPTIONS, given);
  const name = namer(options);
  const { say, warn } = reporters(options);
  const widths = architectureWidths(options.arch);
  const { dynamics } = options;
  const window = parseWindow(options.window, name('window'));
  const screen = options.screen === undefined ? undefined : parseScreen(options.screen, name('screen'));
  const valid = validByName(options.validRegex, (file) => basename(file), name('validRegex'));
  let labels: Map<string, string> | undefined;
  if (options.labels !== undefined) {
    const rows = await readCsvFile(options.labels);
    if (rows.length > 0 && !('file' in rows[0]! && 'label' in rows[0]!)) throw new ConfigError(`${options.labels}: the labels CSV needs the columns file and label`);
    labels = new Map(rows.map((row) => [row.file!, row.label!]));
  }

  await checkOutputs(options); // a read-only or full output folder is one line now, not after the training
  let root = folder;
  if (root === undefined) {
    root = defaultPointerDirectory();
    const drawn = root;
    // in a group, rank 0 draws the set and the other workers find it (drawing it at once, they would replace it under each other)
    await leaderFirst(options.group, async () => {
      if (existsSync(drawn)) return;
      say(`synthesizing the default mouse recordings (human-like and bot-like sessions) into ${drawn}`);
      await generatePointerDataset(drawn, { perClass: 150, seed: 1 });
    });
  }
  const data = await valid.loaded(pointerFolderDataLoaders(resolve(root), {
    window,
    raster: { size: options.size, fit: options.fit, dynamics, ...(screen === undefined ? {} : { screen }) },
    labels,
    validPct: options.validPct,
    isValid: valid.isValid,
    maxPerFile: options.maxWindows,
    batchSize: options.batchSize === 'auto' ? (items) => pointerBudget(items, options).batchSize : options.batchSize,
    seed: options.seed,
  }));
  const { raster } = data.preprocessing;
  const windowed = data.preprocessing.window !== 'whole';
  const recordingsOf = (items: ReadonlyArray<{ file: string }>) => new Set(items.map((item) => item.file)).size;
  say(
    `${data.train.size} training and ${data.valid.size} validation samples${windowed ? ` (windows of ${recordingsOf(data.train.options.items)} and ${recordingsOf(data.valid.options.items)} recordings)` : ''} in ${data.vocab.size} classes: ${data.vocab.labels.join(', ')}`,
  );
  for (const line of data.why) say(line);
  const { reordered, duplicates, invalid, outOfRange } = data.cleaning;
  if (reordered + duplicates + invalid + outOfRange > 0) say(`cleaning: ${reordered} events put back in time order, dropped ${duplicates} duplicates, ${invalid} with NaN, ${outOfRange} off screen`);
  const budget = pointerBudget(data.train.size, options); // the same sizing the data block used for its batches
  say(`schedule: ${budget.why}`);
  const workers = workersLine(options, budget.batchSize, 'samples');
  if (workers !== undefined) say(workers);

  const { learner, model } = pointerLearner(data, { arch: widths, seed: options.seed, callbacks: recipeCallbacks(options) });
  try {
    const outputDirectory = resolve(options.out);
    const resuming = await checkpointing(options, planOf('pointer', folder, { ...options, epochs: budget.epochs, batchSize: budget.batchSize }));
    await learner.fitOneCycle(budget.epochs, options.lr, { callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    // the report, per-recording scores and the bundle: rank 0's, once every worker has trained
    return await onLeader(options.group, async () => {
      say(epochTable(learner, ['accuracy']));
      // the bundle answers a recording with its windows' probabilities combined: that is the accuracy to report
      const perRecording = windowed ? await recordingAccuracy(learner, data.valid.options.items, data.vocab.labels) : undefined;
      if (perRecording !== undefined) {
        say(`validation recordings: ${perRecording.right} of ${perRecording.recordings} right (${(perRecording.accuracy * 100).toFixed(1)}%), each answered by its windows together (their probabilities' geometric mean) as the bundle answers; single windows ${(finishedEpoch(learner, { name }).metrics.accuracy! * 100).toFixed(1)}%`);
      }
      const run = await writeClassifierRun({
        name,
        learner,
        model,
        task: { kind: 'pointer', labels: [...data.vocab.labels], preprocessing: data.preprocessing } satisfies PointerTask,
        outputDirectory,
        training: { architecture: { resnet: widths }, epochs: budget.epochs, lr: options.lr, batchSize: budget.batchSize, seed: options.seed },
        ...(perRecording === undefined ? {} : { served: { accuracy: perRecording.accuracy, majority: perRecording.majority, plainName: 'windowAccuracy' } }),
      });
      const example = data.valid.options.items[0]!;
      await writeFileAtomic(join(outputDirectory, 'sample.png'), await renderPointerPng(rasterize(example.events, { ...raster, screen: example.screen }), raster.size!));
      const beats = reportClassifierRun(run, { say, warn, name, outputDirectory, picture: 'sample.png' });
      return {
        accuracy: run.accuracy,
        ...(perRecording === undefined ? {} : { windowAccuracy: finishedEpoch(learner, { name }).metrics.accuracy! }),
        beatsBaseline: beats,
        classes: data.vocab.labels.slice(),
        outputDirectory,
      };
    });
  } finally {
    learner.dispose();
    model.dispose();
  }
}

/**
 * The validation accuracy per recording, each answered by its windows' combined probabilities as the bundle answers
 * a recording (`combineWindows`), and that of always answering the commonest recording class.
 */
async function recordingAccuracy(learner: Learner, items: ReadonlyArray<{ file: string }>, labels: readonly string[]) {
  const { predictions, targets } = await learner.getPredictions();
  const probabilities = tf.tidy(() => tf.softmax(predictions.reshape([targets.shape[0]!, -1])));
  const [values, actual] = await Promise.all([probabilities.data(), targets.data()]);
  tf.dispose([predictions, targets, probabilities]);
  const classes = labels.length;
  const recordings = new Map<string, { rows: number[]; label: number }>();
  items.forEach((item, index) => {
    const entry = recordings.get(item.file) ?? { rows: [], label: actual[index]! };
    entry.rows.push(index);
    recordings.set(item.file, entry);
  });
  let right = 0;
  const counts = new Array<number>(classes).fill(0);
  for (const { rows, label } of recordings.values()) {
    counts[label]!++;
    const combined = combineWindows(Float32Array.from(rows.flatMap((row) => Array.from(values.subarray(row * classes, (row + 1) * classes)))), classes);
    if (combined.indexOf(Math.max(...combined)) === label) right++;
  }
  const commonest = counts.indexOf(Math.max(...counts));
  return { right, recordings: recordings.size, accuracy: right / recordings.size, majority: { accuracy: counts[commonest]! / recordings.size, label: labels[commonest]! } };
}
