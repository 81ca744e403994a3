import { checkOutputs, checkpointing, planOf } from './checkpointing';
import { flagRegex, recipeCallbacks, reporters, validByName, workersLine, type RecipeOptions } from './recipe';
import { generateSoundDataset, readSound, renderSpectrogramPng, soundFolderDataLoaders } from '@kindling/audio/node';
import type { MelScale } from '@kindling/audio';
import { ConfigError } from '@kindling/data';
import { leaderFirst, onLeader, trainingBudget } from '@kindling/learner';
import { writeFileAtomic } from '@kindling/learner/node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { epochTable, reportClassifierRun, reportSkipped, writeClassifierRun } from './classifier-report';
import { architectureWidths, soundLearner } from './learners';

export interface TrainSoundOptions extends RecipeOptions {
  labelRegex?: string;
  validRegex?: string;
  sampleRate: number;
  duration: number;
  nFft: number;
  hop: number;
  mels: number;
  melScale: string;
  mfcc?: number;
  /** `example` (each spectrogram by its mean and std) or `bands` (each band by its mean over time). Default example. */
  normalize?: string;
  augment: boolean;
  /** Speed perturbation in training, as a share (e.g. 0.15: 15% faster or slower; 0: none), or `auto` (default): the largest share that keeps clips in their class by the speed check, or none. */
  speed?: number | 'auto';
  /** SpecAugment: this many frequency bands and time stretches masked in each training spectrogram (each up to 15% of its axis); 0 or undefined: none. */
  masks?: number;
  /** Epochs, or `auto` (the default): enough for 1,200 steps at this batch size, 10–40 epochs. */
  epochs: number | 'auto';
  lr: number;
  batchSize: number;
  arch: string;
  seed: number;
  validPct: number;
  onBadFile: string;
  out: string;
}

export interface TrainSoundResult {
  accuracy: number;
  /** False when the model does not beat always answering the most common class. */
  beatsBaseline: boolean;
  classes: string[];
  outputDirectory: string;
}

/**
 * Steps `--epochs auto` trains for at least. Measured on the Free Spoken Digit Dataset with each speaker held out
 * (2,000 training recordings, batch 32): 10 epochs (620 steps) averaged 74.5%, 20 epochs (1,240 steps) 83.6%; see
 * bench/README.md.
 */
const SOUND_MIN_STEPS = 1200;

/** The widest SpecAugment mask, as a share of its axis. */
const MASK_WIDTH = 0.15;

/** Where the default sound set is synthesized the first time. */
export function defaultSoundDirectory(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kindling', 'datasets', 'sounds-v1');
}

/** `kindling train sound [folder]`: recordings → log-mel spectrogram images → an image classifier. */
export async function trainSound(folder: string | undefined, options: TrainSoundOptions): Promise<TrainSoundResult> {
  const { say, warn } = reporters(options);
  const widths = architectureWidths(options.arch);
  if (!['htk', 'slaney'].includes(options.melScale)) throw new ConfigError(`--mel-scale must be htk or slaney, not '${options.melScale}'`);
  const normalize = options.normalize ?? 'example';
  if (normalize !== 'example' && normalize !== 'bands') throw new ConfigError(`--normalize must be example or bands, not '${normalize}'`);
  if (!['stop', 'skip'].includes(options.onBadFile)) throw new ConfigError(`--on-bad-file must be stop or skip, not '${options.onBadFile}'`);
  const label = options.labelRegex === undefined ? 'folder' : flagRegex(options.labelRegex, '--label-regex');
  const valid = validByName(options.validRegex, (file) => file.split(/[\\/]/).at(-1)!);

  await checkOutputs(options); // a read-only or full --out is one line now, not after the training
  let root = folder;
  if (root === undefined) {
    root = defaultSoundDirectory();
    const drawn = root;
    // in a group, rank 0 draws the set and the other workers find it (drawing it at once, they would replace it under each other)
    await leaderFirst(options.group, async () => {
      if (existsSync(drawn)) return;
      say(`synthesizing the default sound set (tones, chirps, noise bursts, clicks) into ${drawn}`);
      await generateSoundDataset(drawn, { perClass: 60, seed: 1 });
    });
  }
  const data = await valid.loaded(soundFolderDataLoaders(resolve(root), {
    label,
    isValid: valid.isValid,
    validPct: options.validPct,
    batchSize: options.batchSize,
    seed: options.seed,
    augment: options.augment ? { masks: { count: options.masks ?? 0, width: MASK_WIDTH } } : false,
    speed: options.speed ?? 'auto',
    onError: options.onBadFile as 'stop' | 'skip',
    preprocessing: {
      sampleRate: options.sampleRate,
      duration: options.duration,
      normalize,
      spectrogram: { nFft: options.nFft, hopLength: options.hop, mels: options.mels, melScale: options.melScale as MelScale, mfcc: options.mfcc },
    },
  }));
  say(`${data.train.size} training and ${data.valid.size} validation recordings in ${data.vocab.size} classes: ${data.vocab.labels.join(', ')}`);
  if (options.log !== undefined) for (const line of await data.summary()) say(`  ${line}`);
  if (options.augment) say(`augmentation: ${data.speed.why}${options.speed === undefined || options.speed === 'auto' ? ' (--speed <share> or 0 to decide)' : ''}`);

  const budget = trainingBudget({ items: data.train.size, batchSize: options.batchSize, batchSource: options.batchSize === 32 ? 'the default' : '--batch-size', epochs: options.epochs === 'auto' ? undefined : options.epochs, minSteps: SOUND_MIN_STEPS, epochBounds: [10, 40] });
  say(`schedule: ${budget.why}`);
  const workers = workersLine(options, budget.batchSize, 'recordings');
  if (workers !== undefined) say(workers);
  const { learner, model } = soundLearner(data, { arch: widths, seed: options.seed, callbacks: recipeCallbacks(options) });
  try {
    const outputDirectory = resolve(options.out);
    const resuming = await checkpointing(options, planOf('sound', folder, { ...options, epochs: budget.epochs }));
    await learner.fitOneCycle(budget.epochs, options.lr, { callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    // the report, the bundle and its pictures: rank 0's, once every worker has trained
    return await onLeader(options.group, async () => {
      reportSkipped(data, data.vocab.labels, say);
      say(epochTable(learner, ['accuracy']));
      const run = await writeClassifierRun({
        learner,
        model,
        task: { kind: 'sound', labels: [...data.vocab.labels], preprocessing: data.preprocessing },
        outputDirectory,
        training: { architecture: { resnet: widths }, epochs: budget.epochs, lr: options.lr, batchSize: options.batchSize, seed: options.seed, augment: options.augment, speed: data.speed.share, masks: options.masks ?? 0 },
      });
      const example = data.valid.options.items[0]!;
      await writeFileAtomic(join(outputDirectory, 'spectrogram.png'), await renderSpectrogramPng(data.pipeline.features(data.pipeline.prepare(await readSound(example), example))));
      const beats = reportClassifierRun(run, { say, warn, outputDirectory, picture: 'spectrogram.png' });
      return { accuracy: run.accuracy, beatsBaseline: beats, classes: data.vocab.labels.slice(), outputDirectory };
    });
  } finally {
    learner.dispose();
    model.dispose();
  }
}
