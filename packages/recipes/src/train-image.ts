import type { ImageTask } from '@kindling/image/predict';
import { CHECKPOINT_OPTIONS, checkOutputs, checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { leads, recipeCallbacks, reporters, sizedSchedule, workersLine, type RecipeOptions } from './recipe';
import { choice, namer, settle, sharedOptions, text, toggle, wholeNumber, type OptionsGiven } from './options';
import { ConfigError } from '@kindling/data';
import { generateShapesDataset, imageFolderDataLoaders } from '@kindling/image/node';
import { mirrorViews } from '@kindling/image';
import { leaderFirst, lrFindChart, onLeader } from '@kindling/learner';
import { renderChartPng, writeFileAtomic } from '@kindling/learner/node';
import { transferModel } from '@kindling/models';
import { ARCHITECTURES, imageLearner } from './learners';
import { loadLayersModel } from '@kindling/models/node';
import { existsSync } from 'node:fs';
import { finishedEpoch } from './outcome';
import { epochTable, reportClassifierRun, reportSkipped, writeClassifierRun } from './classifier-report';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** From this many training pictures, the architecture `auto` chooses a fourth ResNet stage (`resnet-medium`); below, `resnet-small`. */
export const MEDIUM_MODEL_PICTURES = 10_000;

/** `trainImage`'s settings: each one's type, default and help (the CLI's `kindling train image` flags are made from them). */
export const TRAIN_IMAGE_OPTIONS = {
  size: wholeNumber({ help: 'side of the square the pictures are resized to', placeholder: 'pixels', default: 32, unit: 'pixels', max: 4096 }),
  method: choice({ help: 'how pictures become square: crop, pad or squish', placeholder: 'method', choices: ['crop', 'pad', 'squish'], default: 'crop' }),
  epochs: sharedOptions.epochs('auto', 'enough for 1,000 steps, 8–40 epochs'),
  lr: sharedOptions.optionalLr(),
  findLr: toggle({ help: 'run the learning-rate finder and train at its suggestion', default: false }),
  tta: toggle({ help: 'test-time augmentation: the bundle answers with the average of each picture and its mirror image (when training flips)', default: false }),
  flip: choice({ help: 'horizontal flips in training: auto (only when mirrored training pictures stay nearest their own class), yes or no', placeholder: 'when', choices: ['auto', 'yes', 'no'], default: 'auto' }),
  batchSize: sharedOptions.batchSize('pictures', 'auto', 'about 32 batches an epoch, 16–128 pictures'),
  arch: text({
    help: `architecture: auto (resnet-small under ${MEDIUM_MODEL_PICTURES.toLocaleString('en-US')} training pictures, else resnet-medium), ${Object.keys(ARCHITECTURES).join(', ')}`,
    placeholder: 'name',
    default: 'auto',
  }),
  pretrained: text({ help: 'a pretrained tfjs layers model (model.json path, file:// or http(s):// URL) to fine-tune', placeholder: 'path-or-url' }),
  cutAt: text({ help: 'the pretrained layer whose output feeds the new head', placeholder: 'layer' }),
  seed: sharedOptions.seed(),
  validPct: sharedOptions.validPct('share of pictures held out when there are no train/ and valid/ folders'),
  onBadFile: sharedOptions.onBadFile('picture'),
  out: sharedOptions.out('image'),
  ...CHECKPOINT_OPTIONS,
};

/** What `trainImage` may be given: every setting of {@link TRAIN_IMAGE_OPTIONS} (each optional), and what every recipe takes. */
export type TrainImageOptions = RecipeOptions & Omit<OptionsGiven<typeof TRAIN_IMAGE_OPTIONS>, keyof CheckpointFlags>;

export interface TrainImageResult {
  accuracy: number;
  /** False when the model does not beat always answering the most common class. */
  beatsBaseline: boolean;
  classes: string[];
  outputDirectory: string;
  lr: number;
}

/**
 * The image schedule: `auto` batch and epochs sized by the training pictures (at least 1,000 steps, at least 8
 * epochs: a big set trains its bigger model longer than the steps alone ask).
 */
const imageBudget = (items: number, options: { epochs: number | 'auto'; batchSize: number | 'auto' }) => sizedSchedule(items, options, { batchBounds: [16, 128], minSteps: 1000, epochBounds: [8, 40] });

/** The architecture `auto`: the ResNet a training set of this many pictures gets, and why. */
export function chooseArchitecture(arch: string, pictures: number): { name: string; why: string } {
  if (arch !== 'auto') return { name: arch, why: `${arch} (asked for)` };
  const name = pictures >= MEDIUM_MODEL_PICTURES ? 'resnet-medium' : 'resnet-small';
  return { name, why: `${name} (${ARCHITECTURES[name]!.join('-')} filters; ${pictures.toLocaleString('en-US')} training pictures, ${pictures >= MEDIUM_MODEL_PICTURES ? 'at least' : 'under'} ${MEDIUM_MODEL_PICTURES.toLocaleString('en-US')})` };
}

/** Where the default image set is drawn the first time `pnpm start` runs. */
export function defaultDatasetDirectory(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'kindling', 'datasets', 'shapes-v1');
}

/** `kindling train image [folder]`: from a folder of pictures (one folder per class) to an exported model. */
export async function trainImage(folder: string | undefined, given: TrainImageOptions = {}): Promise<TrainImageResult> {
  const options = settle(TRAIN_IMAGE_OPTIONS, given);
  const name = namer(options);
  const { say, warn } = reporters(options);
  if (options.arch !== 'auto' && ARCHITECTURES[options.arch] === undefined && options.pretrained === undefined) {
    throw new ConfigError(`unknown ${name('arch')} '${options.arch}': choose auto, ${Object.keys(ARCHITECTURES).join(', ')} (or give ${name('pretrained')})`);
  }
  if (options.pretrained !== undefined && options.earlyStop !== undefined) throw new ConfigError(`${name('earlyStop')} watches a run from random weights; fine-tuning ${name('pretrained')} runs its two stages whole`);
  const { flip } = options;

  await checkOutputs(options); // a read-only or full output folder is one line now, not after the training
  let root = folder;
  if (root === undefined) {
    root = defaultDatasetDirectory();
    const drawn = root;
    // in a group, rank 0 draws the set and the other workers find it (drawing it at once, they would replace it under each other)
    await leaderFirst(options.group, async () => {
      if (existsSync(drawn)) return;
      say(`drawing the default image set (circles, squares, triangles, stars) into ${drawn}`);
      await generateShapesDataset(drawn, { perClass: 150, size: 48, seed: 1 });
    });
  }
  const data = await imageFolderDataLoaders(resolve(root), {
    size: options.size,
    method: options.method,
    batchSize: options.batchSize === 'auto' ? (items) => imageBudget(items, options).batchSize : options.batchSize,
    seed: options.seed,
    validPct: options.validPct,
    onError: options.onBadFile,
    flip: flip === 'auto' ? 'auto' : flip === 'yes',
  });
  say(`${data.train.size} training and ${data.valid.size} validation images in ${data.vocab.size} classes: ${data.vocab.labels.join(', ')}`);
  if (options.log !== undefined) for (const line of await data.summary()) say(`  ${line}`);
  const budget = imageBudget(data.train.size, options); // the same sizing the data block used for its batches
  say(`schedule: ${budget.why}`);
  const workers = workersLine(options, budget.batchSize, 'pictures');
  if (workers !== undefined) say(workers);
  say(`augmentation: ${data.flip.why}${flip === 'auto' ? ` (${name('flip')} yes or no to decide)` : ''}; ${data.affine.why}`);
  const architecture = chooseArchitecture(options.arch, data.train.size);
  const widths = ARCHITECTURES[architecture.name];
  if (options.pretrained === undefined) say(`model: ${architecture.why}`);

  const pretrained = options.pretrained ? transferModel(await loadLayersModel(options.pretrained), { classes: data.vocab.size, cutAt: options.cutAt, seed: options.seed }) : undefined;
  const { learner, model } = imageLearner(data, { arch: widths, model: pretrained, seed: options.seed, callbacks: recipeCallbacks(options) });
  try {
    const outputDirectory = resolve(options.out);
    let lr = options.lr ?? 5e-3;
    if (options.findLr) {
      const found = await learner.lrFind();
      lr = found.suggested;
      if (leads(options)) await writeFileAtomic(join(outputDirectory, 'lr-find.png'), await renderChartPng(lrFindChart(found)));
      say(`learning-rate finder suggests ${lr.toExponential(2)} (minimum/10 ${found.suggestions.minimum.toExponential(2)}, steepest ${found.suggestions.steepest.toExponential(2)})`);
    }
    if (options.pretrained) await learner.fineTune(budget.epochs, lr);
    else {
      const resuming = await checkpointing(options, planOf('image', folder, { ...options, epochs: budget.epochs, batchSize: budget.batchSize }));
      await learner.fitOneCycle(budget.epochs, lr, { callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    }

    // the report, the test-time augmentation and the bundle: rank 0's, once every worker has trained
    return await onLeader(options.group, async () => {
      reportSkipped(data, data.vocab.labels, say);
      say(epochTable(learner, ['accuracy']));

      let servedAccuracy: number | undefined;
      if (options.tta && !data.flip.on) say('no test-time augmentation: training did not flip pictures, so their mirror images are not their class');
      else if (options.tta) {
        const { probabilities, targets } = await learner.tta(mirrorViews);
        const best = probabilities.argMax(-1);
        const predicted = (await best.data()) as Int32Array;
        const actual = await targets.data();
        best.dispose();
        probabilities.dispose();
        targets.dispose();
        servedAccuracy = predicted.reduce((right, label, index) => right + (label === actual[index] ? 1 : 0), 0) / predicted.length;
        say(`test-time augmentation (each picture and its mirror image, averaged): validation accuracy ${(servedAccuracy * 100).toFixed(1)}% against ${(finishedEpoch(learner, { name }).metrics.accuracy! * 100).toFixed(1)}% without; the bundle answers this way`);
      }

      const run = await writeClassifierRun({
        name,
        learner,
        model,
        ...(servedAccuracy === undefined ? {} : { served: { accuracy: servedAccuracy, plainName: 'accuracyWithoutTta' } }),
        task: { kind: 'image', labels: [...data.vocab.labels], preprocessing: data.preprocessing, ...(servedAccuracy === undefined ? {} : { testTimeAugmentation: 'mirror' as const }) } satisfies ImageTask,
        outputDirectory,
        training: {
          architecture: options.pretrained ? { transfer: options.pretrained, cutAt: options.cutAt ?? null } : { resnet: widths },
          epochs: budget.epochs,
          lr,
          batchSize: budget.batchSize,
          seed: options.seed,
          flip: data.flip.on,
          affine: data.affine.on,
          tta: servedAccuracy !== undefined,
        },
      });
      const beats = reportClassifierRun(run, { say, warn, name, outputDirectory, after: [`try it: kindling predict ${outputDirectory} <picture>, or kindling serve ${outputDirectory}`] });
      return { accuracy: run.accuracy, beatsBaseline: beats, classes: data.vocab.labels.slice(), outputDirectory, lr };
    });
  } finally {
    learner.dispose();
    model.dispose();
  }
}
