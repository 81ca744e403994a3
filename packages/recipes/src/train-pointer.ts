import { checkpointing, planOf } from './checkpointing';
import { reporters, type RecipeOptions } from './recipe';
import { ConfigError } from '@kindling/data';
import { readCsvFile } from '@kindling/data/node';
import { writeFileAtomic } from '@kindling/learner/node';
import { rasterize, type WindowOptions } from '@kindling/pointer';
import { generatePointerDataset, pointerFolderDataLoaders, renderPointerPng } from '@kindling/pointer/node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { epochTable, reportClassifierRun, writeClassifierRun } from './classifier-report';
import { architectureWidths, pointerLearner } from './learners';

export interface TrainPointerOptions extends RecipeOptions {
  labels?: string;
  window: string;
  size: number;
  fit: string;
  /** `WIDTHxHEIGHT`: the screen of recordings that carry none (Balabit), for `--fit screen` or `both`. */
  screen?: string;
  /** `linear` or `log`: how speed and acceleration become brightness. Default linear. */
  dynamics?: string;
  epochs: number;
  lr: number;
  batchSize: number;
  arch: string;
  seed: number;
  validPct: number;
  out: string;
}

export interface TrainPointerResult {
  accuracy: number;
  /** False when the model does not beat always answering the most common class. */
  beatsBaseline: boolean;
  classes: string[];
  outputDirectory: string;
}

/** Where the default pointer set is synthesized the first time. */
export function defaultPointerDirectory(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kindling', 'datasets', 'pointer-v1');
}

/** `--window whole | events:50 | time:5000 | actions` → window options. */
export function parseWindow(value: string): WindowOptions | 'whole' {
  if (value === 'whole') return 'whole';
  if (value === 'actions') return { by: 'actions' };
  const match = /^(events|time):(\d+)$/.exec(value);
  if (match === null) throw new ConfigError(`--window must be whole, actions, events:<count> or time:<milliseconds>, not '${value}'`);
  return match[1] === 'events' ? { by: 'events', size: Number(match[2]) } : { by: 'time', duration: Number(match[2]) };
}

/** `--screen 1920x1080` → a screen size. */
export function parseScreen(value: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(value);
  if (match === null || Number(match[1]) === 0 || Number(match[2]) === 0) throw new ConfigError(`--screen must be WIDTHxHEIGHT in pixels (e.g. 1920x1080), not '${value}'`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** `kindling train pointer [recordings]`: mouse recordings → pictures (lines and click circles) → a classifier. */
export async function trainPointer(folder: string | undefined, options: TrainPointerOptions): Promise<TrainPointerResult> {
  const { say, warn } = reporters(options);
  const widths = architectureWidths(options.arch);
  if (!['bbox', 'screen', 'both'].includes(options.fit)) throw new ConfigError(`--fit must be bbox, screen or both, not '${options.fit}'`);
  const dynamics = (['linear', 'log'] as const).find((scale) => scale === (options.dynamics ?? 'linear'));
  if (dynamics === undefined) throw new ConfigError(`--dynamics must be linear or log, not '${options.dynamics}'`);
  const window = parseWindow(options.window);
  if (options.screen !== undefined) parseScreen(options.screen);
  let labels: Map<string, string> | undefined;
  if (options.labels !== undefined) {
    const rows = await readCsvFile(options.labels);
    if (rows.length > 0 && !('file' in rows[0]! && 'label' in rows[0]!)) throw new ConfigError(`${options.labels}: the labels CSV needs the columns file and label`);
    labels = new Map(rows.map((row) => [row.file!, row.label!]));
  }

  let root = folder;
  if (root === undefined) {
    root = defaultPointerDirectory();
    if (!existsSync(root)) {
      say(`synthesizing the default mouse recordings (human-like and bot-like sessions) into ${root}`);
      await generatePointerDataset(root, { perClass: 150, seed: 1 });
    }
  }
  const raster = { size: options.size, fit: options.fit as 'bbox' | 'screen' | 'both', dynamics, ...(options.screen === undefined ? {} : { screen: parseScreen(options.screen) }) };
  const data = await pointerFolderDataLoaders(resolve(root), { window, raster, labels, validPct: options.validPct, batchSize: options.batchSize, seed: options.seed });
  say(`${data.train.size} training and ${data.valid.size} validation samples in ${data.vocab.size} classes: ${data.vocab.labels.join(', ')}`);
  const { reordered, duplicates, invalid, outOfRange } = data.cleaning;
  if (reordered + duplicates + invalid + outOfRange > 0) say(`cleaning: ${reordered} events put back in time order, dropped ${duplicates} duplicates, ${invalid} with NaN, ${outOfRange} off screen`);

  const { learner, model } = pointerLearner(data, { arch: widths, seed: options.seed, callbacks: options.callbacks });
  try {
    const outputDirectory = resolve(options.out);
    const resuming = await checkpointing(options, planOf('pointer', folder, options));
    await learner.fitOneCycle(options.epochs, options.lr, { callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    say(epochTable(learner, ['accuracy']));
    const run = await writeClassifierRun({
      learner,
      model,
      task: { kind: 'pointer', labels: [...data.vocab.labels], preprocessing: data.preprocessing },
      outputDirectory,
      training: { architecture: { resnet: widths }, epochs: options.epochs, lr: options.lr, batchSize: options.batchSize, seed: options.seed },
    });
    const example = data.valid.options.items[0]!;
    await writeFileAtomic(join(outputDirectory, 'sample.png'), await renderPointerPng(rasterize(example.events, { ...raster, screen: example.screen }), options.size));
    const beats = reportClassifierRun(run, { say, warn, outputDirectory, picture: 'sample.png' });
    return { accuracy: run.accuracy, beatsBaseline: beats, classes: data.vocab.labels.slice(), outputDirectory };
  } finally {
    learner.dispose();
    model.dispose();
  }
}
