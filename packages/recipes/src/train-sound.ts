import { CHECKPOINT_OPTIONS, checkOutputs, checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { choice, namer, realNumber, settle, sharedOptions, text, toggle, wholeNumber, type OptionsGiven } from './options';
import { recipeCallbacks, reporters, settingRegex, validByName, workersLine, type RecipeOptions } from './recipe';
import type { SoundTask } from '@kindling/audio/predict';
import { generateSoundDataset, readSound, renderSpectrogramPng, soundFolderDataLoaders } from '@kindling/audio/node';
import { leaderFirst, onLeader, trainingBudget } from '@kindling/learner';
import { writeFileAtomic } from '@kindling/learner/node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { epochTable, reportClassifierRun, reportSkipped, writeClassifierRun } from './classifier-report';
import { ARCHITECTURES, architectureWidths, soundLearner } from './learners';

/** `trainSound`'s settings: each one's type, default and help (the CLI's `kindling train sound` flags are made from them). */
export const TRAIN_SOUND_OPTIONS = {
  labelRegex: text({ help: "label from the file name's first regex group, e.g. '^(\\d+)_' (default: the parent folder)", placeholder: 'regex' }),
  validRegex: sharedOptions.validRegex('file names matching this are the validation set (default: a random share)'),
  sampleRate: wholeNumber({ help: 'recordings are resampled to this rate', placeholder: 'hz', default: 8000 }),
  duration: realNumber({ help: 'clips are padded or cropped to this length (randomly in training)', placeholder: 'seconds', default: 1, above: 0 }),
  nFft: wholeNumber({ help: 'FFT size', default: 256, min: 16, max: 16_384 }),
  hop: wholeNumber({ help: 'samples between spectrogram frames', default: 64, max: 16_384 }),
  mels: wholeNumber({ help: 'mel bands', default: 40, max: 512 }),
  melScale: choice({ help: 'htk or slaney', placeholder: 'scale', choices: ['htk', 'slaney'], default: 'htk' }),
  mfcc: wholeNumber({ help: 'use this many MFCCs instead of the log-mel spectrogram' }),
  normalize: choice({
    help: "example (each spectrogram by its mean and std) or bands (each band less its mean over time: takes out a voice's or a microphone's colour)",
    placeholder: 'how',
    choices: ['example', 'bands'],
    default: 'example',
  }),
  augment: toggle({ help: 'no time shift or noise mixing in training', default: true }),
  speed: realNumber({
    help: 'speed perturbation in training: clips played up to this share faster or slower, pitch included (e.g. 0.15, 0: off); default auto: the largest of 0.2, 0.15, 0.1, 0.05 that keeps training clips nearest their class',
    placeholder: 'share',
    default: 'auto',
    min: 0,
    below: 1,
    auto: true,
  }),
  masks: wholeNumber({ help: 'SpecAugment in training: this many frequency bands and time stretches masked per spectrogram, each up to 15% of its axis (default 0: none)', min: 0 }),
  epochs: sharedOptions.epochs('auto', 'enough for 1,200 steps, 10–40 epochs'),
  lr: sharedOptions.lr(5e-3),
  batchSize: sharedOptions.batchSize('recordings', 32),
  arch: choice({ help: `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`, placeholder: 'name', choices: Object.keys(ARCHITECTURES), default: 'resnet-small' }),
  seed: sharedOptions.seed(),
  validPct: sharedOptions.validPct('share held out when there is no --valid-regex'),
  onBadFile: sharedOptions.onBadFile('recording'),
  out: sharedOptions.out('sound'),
  ...CHECKPOINT_OPTIONS,
};

/** What `trainSound` may be given: every setting of {@link TRAIN_SOUND_OPTIONS} (each optional), and what every recipe takes. */
export type TrainSoundOptions = RecipeOptions & Omit<OptionsGiven<typeof TRAIN_SOUND_OPTIONS>, keyof CheckpointFlags>;

export interface TrainSoundResult {
  accuracy: number;
  /** False when the model does not beat always answering the most common class. */
  beatsBaseline: boolean;
  classes: string[];
  outputDirectory: string;
}

/**
 * Steps `auto` epochs train for at least. Measured on the Free Spoken Digit Dataset with each speaker held out
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
export async function trainSound(folder: string | undefined, given: TrainSoundOptions = {}): Promise<TrainSoundResult> {
  const options = settle(TRAIN_SOUND_OPTIONS, given);
  const name = namer(options);
  const { say, warn } = reporters(options);
  const widths = architectureWidths(options.arch);
  const { normalize } = options;
  const label = options.labelRegex === undefined ? 'folder' : settingRegex(options.labelRegex, name('labelRegex'));
  const valid = validByName(options.validRegex, (file) => file.split(/[\\/]/).at(-1)!, name('validRegex'));

  await checkOutputs(options); // a read-only or full output folder is one line now, not after the training
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
    speed: options.speed,
    onError: options.onBadFile,
    preprocessing: {
      sampleRate: options.sampleRate,
      duration: options.duration,
      normalize,
      spectrogram: { nFft: options.nFft, hopLength: options.hop, mels: options.mels, melScale: options.melScale, mfcc: options.mfcc },
    },
  }));
  say(`${data.train.size} training and ${data.valid.size} validation recordings in ${data.vocab.size} classes: ${data.vocab.labels.join(', ')}`);
  if (options.log !== undefined) for (const line of await data.summary()) say(`  ${line}`);
  if (options.augment) say(`augmentation: ${data.speed.why}${options.speed === 'auto' ? ` (${name('speed')} <share> or 0 to decide)` : ''}`);

  const budget = trainingBudget({ items: data.train.size, batchSize: options.batchSize, batchSource: given.batchSize === undefined ? 'the default' : options.optionName?.('batchSize'), epochs: options.epochs === 'auto' ? undefined : options.epochs, epochsSource: options.optionName?.('epochs'), minSteps: SOUND_MIN_STEPS, epochBounds: [10, 40] });
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
        name,
        learner,
        model,
        task: { kind: 'sound', labels: [...data.vocab.labels], preprocessing: data.preprocessing } satisfies SoundTask,
        outputDirectory,
        training: { architecture: { resnet: widths }, epochs: budget.epochs, lr: options.lr, batchSize: options.batchSize, seed: options.seed, augment: options.augment, speed: data.speed.share, masks: options.masks ?? 0 },
      });
      const example = data.valid.options.items[0]!;
      await writeFileAtomic(join(outputDirectory, 'spectrogram.png'), await renderSpectrogramPng(data.pipeline.features(data.pipeline.prepare(await readSound(example), example))));
      const beats = reportClassifierRun(run, { say, warn, name, outputDirectory, picture: 'spectrogram.png' });
      return { accuracy: run.accuracy, beatsBaseline: beats, classes: data.vocab.labels.slice(), outputDirectory };
    });
  } finally {
    learner.dispose();
    model.dispose();
  }
}
