import type { SegmentationTask } from '@kindling/image/predict';
import { CHECKPOINT_OPTIONS, checkOutputs, checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { choice, namer, settle, sharedOptions, text, toggle, wholeNumber, wholeNumbers, yesNoAuto, type OptionsGiven } from './options';
import { recipeCallbacks, reporters, sizedSchedule, validByName, workersLine, type RecipeOptions } from './recipe';
import { classWeightsByShare, diceByRarity, flipByMasks, SEGMENT_SIZING, segmentSize } from './segment-sizing';
import { createBundle, doubtOf, familiarityOf, type Familiarity } from '@kindling/deploy';
import { describeLoader, DESCRIBED, plainTraining } from './classifier-report';
import { saveBundle } from '@kindling/deploy/node';
import { ConfigError, DataError, type DataLoader } from '@kindling/data';
import { colorizeMask, defaultPalette, overlayMask, voidIndexOf, type Colour, type MaskMode } from '@kindling/image';
import { encodePng, generateSegmentationDataset, maskStatistics, readCodesFile, segmentationDataLoaders } from '@kindling/image/node';
import { averageWeights, leaderFirst, lossChart, onLeader, validateEvery } from '@kindling/learner';
import { segmentationLearner } from './learners';
import { renderChartPng, writeFileAtomic } from '@kindling/learner/node';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { beatsBaseline, finishedEpoch } from './outcome';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/** `trainSegment`'s settings: each one's type, default and help (the CLI's `kindling train segment` flags are made from them). */
export const TRAIN_SEGMENT_OPTIONS = {
  codes: text({ help: "class names, one per line in mask-value order ('name #rrggbb' for colour masks; a 'void' class is ignored)", placeholder: 'file' }),
  maskMode: choice({ help: 'index (grey value = class), binary (0/255) or palette (colours from --codes)', placeholder: 'mode', choices: ['index', 'binary', 'palette'], default: 'index' }),
  maskSuffix: text({ help: "added to a picture's name to find its mask, e.g. _P", placeholder: 'text', default: '' }),
  size: wholeNumber({
    help: "side of the square pictures and masks are squished to (default auto: the pictures' shape kept, the longer side as large as the thinnest class needs, 64–384, with 128-pixel training crops above 160)",
    placeholder: 'pixels',
    default: 'auto',
    auto: true,
    unit: 'pixels',
    max: 4096,
  }),
  widths: wholeNumbers({ help: 'U-Net filters per level, comma separated', placeholder: 'filters', default: [16, 32, 64, 128], example: '16,32,64,128', max: 1024, most: 8 }),
  upsampling: choice({ help: 'transpose (learned) or resize (bilinear + conv)', placeholder: 'how', choices: ['transpose', 'resize'], default: 'transpose' }),
  flip: choice({
    help: 'mirror pictures and masks in training: auto (unless a class lies 90% or more on one side, as a left arm would), yes or no',
    placeholder: 'when',
    choices: ['auto', 'yes', 'no'],
    default: 'auto',
  }),
  dice: yesNoAuto({ help: 'add the Dice loss to the per-pixel cross-entropy: yes (or no value), no, or auto (default: when a class covers under 5% of the pixels)', placeholder: 'when', default: 'auto' }),
  classWeights: toggle({ help: "weight each class's pixels in the cross-entropy by √(the commonest class's share / its share), at most 10×, so rare classes count more", default: false }),
  epochs: sharedOptions.epochs('auto', 'at least 720 steps, 12–60 epochs'),
  lr: sharedOptions.lr(5e-3),
  batchSize: sharedOptions.batchSize('pictures', 'auto', 'about 16 batches an epoch, 2–8 pictures'),
  validPct: sharedOptions.validPct('share of pictures held out'),
  validRegex: sharedOptions.validRegex('pictures whose file name matches are the validation set'),
  crop: wholeNumber({ help: 'train on random squares of this side, a new one every epoch (validation on whole pictures)', placeholder: 'pixels', max: 4096 }),
  average: toggle({ help: 'average the weights over the second half of training and keep the average', default: false }),
  validateEvery: wholeNumber({ help: 'validate every n-th epoch and the last only', unit: 'epochs' }),
  seed: sharedOptions.seed(),
  out: sharedOptions.out('segment'),
  ...CHECKPOINT_OPTIONS,
};

/** What `trainSegment` may be given: every setting of {@link TRAIN_SEGMENT_OPTIONS} (each optional), and what every recipe takes. */
export type TrainSegmentOptions = RecipeOptions & Omit<OptionsGiven<typeof TRAIN_SEGMENT_OPTIONS>, keyof CheckpointFlags>;

export interface TrainSegmentResult {
  pixelAccuracy: number;
  /** False when the model does not beat giving every pixel the most common class. */
  beatsBaseline: boolean;
  meanIoU: number;
  /** Each class's intersection over union on the validation pictures (NaN for a class in none of them). */
  iouPerClass: Record<string, number>;
  dicePerClass: Record<string, number>;
  outputDirectory: string;
}

/** Where the default scenes are drawn the first time. */
export function defaultScenesDirectory(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kindling', 'datasets', 'scenes-v1');
}

/** A codes file: one class per line, optionally with its mask colour (`road #804080`) for palette masks. */
async function readCodes(path: string): Promise<{ codes: string[]; palette?: Colour[] }> {
  const lines = await readCodesFile(path);
  const coloured = lines.map((line) => /^(.*?)\s+#([0-9a-f]{6})$/i.exec(line));
  if (coloured.every((match) => match === null)) return { codes: lines };
  const palette = coloured.map((match, index) => {
    if (match === null) throw new DataError(`'${lines[index]}' has no colour, but other classes do (write 'name #rrggbb')`, { file: path, row: index + 1 });
    const hex = parseInt(match[2]!, 16);
    return [hex >> 16, (hex >> 8) & 255, hex & 255] as const;
  });
  return { codes: coloured.map((match) => match![1]!), palette };
}

/** `kindling train segment [images] [masks]` with its codes file: a class for every pixel, with a U-Net. */
export async function trainSegment(images: string | undefined, masks: string | undefined, given: TrainSegmentOptions = {}): Promise<TrainSegmentResult> {
  // a size past 4096, the side a bundle may declare (the loaders refuse more), is one line here, not gigabytes later
  const options = settle(TRAIN_SEGMENT_OPTIONS, given);
  const name = namer(options);
  const { say, warn } = reporters(options);
  if (options.average && options.earlyStop !== undefined) throw new ConfigError(`${name('average')} and ${name('earlyStop')} each choose the weights the run ends with: give one of them`);
  const { widths } = options;
  if (widths.length < 2) throw new ConfigError(`${name('widths')} must be two or more whole numbers, like 16,32,64,128 (got '${widths.join(',')}')`);
  const divisor = 2 ** (widths.length - 1);
  const checkCrop = (crop: number | undefined, size: number, height: number = size) => {
    if (crop !== undefined && !(crop <= Math.min(size, height) && crop % divisor === 0)) {
      const side = size === height ? `${name('size')} (${size})` : `the pictures' shorter side (${Math.min(size, height)} of ${size}×${height})`;
      throw new ConfigError(`${name('crop')} must be a whole number up to ${side} and divisible by ${divisor} for ${widths.length} levels (got ${crop})`);
    }
  };
  if (options.size !== 'auto') checkCrop(options.crop, options.size);
  const valid = validByName(options.validRegex, (file) => basename(file), name('validRegex'));
  if ((images === undefined) !== (masks === undefined)) throw new ConfigError('give both the pictures folder and the masks folder, or neither (for the generated scenes)');

  let codesFile = options.codes;
  await checkOutputs(options); // a read-only or full output folder is one line now, not after the training
  if (images === undefined) {
    const root = defaultScenesDirectory();
    // in a group, rank 0 draws the set and the other workers find it (drawing it at once, they would replace it under each other)
    await leaderFirst(options.group, async () => {
      if (existsSync(root)) return;
      say(`drawing the default scenes (circles, squares and triangles on textured backgrounds, with masks) into ${root}`);
      await generateSegmentationDataset(root, { count: 300, size: 64, seed: 1 });
    });
    [images, masks, codesFile] = [join(root, 'images'), join(root, 'masks'), codesFile ?? join(root, 'codes.txt')];
  }
  if (codesFile === undefined) throw new ConfigError(`${name('codes')} <file> is required: one class name per line, in mask-value order`);
  const { codes, palette } = await readCodes(codesFile);
  const maskMode: MaskMode = palette && options.maskMode === 'index' ? 'palette' : options.maskMode;
  // sized by the data: the masks, read at their own size, say how far the pictures may shrink and which classes are rare
  const voidIndex = voidIndexOf(codes);
  const statistics = options.size === 'auto' || options.dice === 'auto' || options.flip === 'auto' || options.classWeights ? await maskStatistics(resolve(masks!), { mode: maskMode, classes: codes.length, palette, voidIndex }) : undefined;
  const sized = options.size === 'auto' ? segmentSize(statistics!, codes, divisor, voidIndex) : undefined;
  // auto keeps the pictures' shape (size is then the width); a size given is a square the pictures are squished to
  const [size, height] = options.size === 'auto' ? [sized!.size, sized!.height] : [options.size, options.size];
  const crop = options.crop ?? sized?.crop;
  checkCrop(crop, size, height);
  const classWeights = options.classWeights ? classWeightsByShare(statistics!, voidIndex) : undefined;
  const flipChoice = options.flip === 'auto' ? flipByMasks(statistics!, codes, voidIndex) : { flip: options.flip === 'yes', why: options.flip === 'yes' ? `flips (${name('flip')} yes)` : `no flips (${name('flip')} no)` };
  const lossChoice = options.dice === 'auto' ? diceByRarity(statistics!, codes, voidIndex) : { dice: options.dice, why: options.dice ? `cross-entropy + Dice (${name('dice')})` : `cross-entropy (${name('dice')} no)` };
  const schedule = (items: number) =>
    sizedSchedule(items, { epochs: options.epochs, batchSize: options.batchSize, optionName: options.optionName }, { batchBounds: SEGMENT_SIZING.batchBounds, minSteps: SEGMENT_SIZING.minSteps, epochBounds: SEGMENT_SIZING.epochBounds, batchesPerEpoch: SEGMENT_SIZING.batchesPerEpoch });
  const data = await valid.loaded(segmentationDataLoaders(resolve(images), resolve(masks!), {
    codes,
    maskMode,
    palette,
    maskSuffix: options.maskSuffix,
    size,
    height,
    batchSize: (items) => schedule(items).batchSize,
    validPct: options.validPct,
    isValid: valid.isValid,
    crop,
    flip: flipChoice.flip,
    seed: options.seed,
  }));
  const ignoreIndex = data.voidIndex;
  const budget = schedule(data.train.size);
  say(`${data.train.size} training and ${data.valid.size} validation pictures, ${codes.length} classes: ${codes.join(', ')}${ignoreIndex === undefined ? '' : ` ('${codes[ignoreIndex]}' ignored)`}`);
  say(`${sized === undefined ? `size ${size} (${name('size')})${crop === undefined ? '' : `, trained on random ${crop}×${crop} squares (${name('crop')})`}` : sized.why}; loss: ${lossChoice.why}${classWeights === undefined ? '' : `, class weights ${codes.map((code, index) => `${code} ${classWeights[index]!.toFixed(2)}`).join(', ')}`}; schedule: ${budget.why}`);
  say(`augmentation: ${flipChoice.why}, small rotations, zoom and lighting`);
  const workers = workersLine(options, budget.batchSize, 'pictures');
  if (workers !== undefined) say(workers);
  // on crops the U-Net is built for any size: crops in training, whole pictures in validation
  const { learner, model, dice: diceMetric, iou: iouMetric } = segmentationLearner(data, {
    widths,
    upsampling: options.upsampling,
    dice: lossChoice.dice,
    classWeights,
    anySize: crop !== undefined,
    seed: options.seed,
    callbacks: [
      ...recipeCallbacks(options),
      ...(options.average ? [averageWeights()] : []),
      ...(options.validateEvery !== undefined && options.validateEvery > 1 ? [validateEvery(options.validateEvery)] : []),
    ],
  });
  try {
    const outputDirectory = resolve(options.out);
    const settings = { ...options, size, height, crop, dice: lossChoice.dice, flip: flipChoice.flip ? 'yes' : 'no', epochs: budget.epochs, batchSize: budget.batchSize };
    const resuming = await checkpointing(settings, planOf('segment', images, { masks, ...settings }));
    await learner.fitOneCycle(budget.epochs, options.lr, { callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    // the report, the pictures and the bundle: rank 0's, once every worker has trained
    return await onLeader(options.group, async () => {
      let final = finishedEpoch(learner, { metrics: ['pixelAccuracy'] });
      const table = new Table({ head: ['epoch', 'train loss', 'valid loss', 'pixel accuracy', 'mean IoU', 'mean Dice', 'seconds'], style: { head: [], border: [] } });
      const shown = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(4)); // '—': not validated that epoch
      for (const record of learner.recorder.epochs) {
        table.push([record.epoch + 1, record.trainLoss.toFixed(4), record.validated ? record.validLoss.toFixed(4) : '—', shown(record.metrics.pixelAccuracy), shown(record.metrics.meanIoU), shown(record.metrics.dice), record.seconds.toFixed(1)]);
      }
      say(table.toString());
      if (options.average) {
        // the epochs' metrics are the raw weights'; score the average the fit put in place
        const { loss, metrics } = await learner.validate();
        final = { ...final, validLoss: loss, metrics };
        say(`weights averaged over the second half: pixel accuracy ${(metrics.pixelAccuracy! * 100).toFixed(1)}%, mean IoU ${metrics.meanIoU!.toFixed(3)}`);
      }
      // each class's figures (the headline of a multi-class segmentation is the mean IoU; a rare class shows here)
      const perClass = (values: number[]) => Object.fromEntries(values.map((value, index) => [codes[index]!, value]));
      const shownPerClass = (values: Record<string, number>) => Object.entries(values).map(([code, value]) => `${code} ${Number.isNaN(value) ? '—' : value.toFixed(3)}`).join(', ');
      const dicePerClass = perClass(diceMetric.perClass());
      const iouPerClass = perClass(iouMetric.perClass());
      say(`IoU per class: ${shownPerClass(iouPerClass)}`);
      say(`Dice per class: ${shownPerClass(dicePerClass)}`);

      // what the model sees and says, for one validation picture
      const paletteForDisplay = palette ?? defaultPalette(codes.length);
      let picture: { pixels: Uint8Array; mask: Uint8Array } | undefined;
      const pixelCounts = new Array<number>(codes.length).fill(0); // validation pixels per class, for the baseline
      for await (const batch of data.valid) {
        for (const value of await batch.targets.data()) if (value !== ignoreIndex && value >= 0 && value < codes.length) pixelCounts[value]!++;
        if (picture === undefined) {
          const [shown, predicted] = tf.tidy(() => {
            const first = (batch.inputs as tf.Tensor4D).slice([0, 0, 0, 0], [1, -1, -1, -1]);
            const { mean, std } = data.preprocessing.stats;
            const pixels = first.mul(std).add(mean).mul(255).clipByValue(0, 255).toInt().tile(data.preprocessing.channels === 1 ? [1, 1, 1, 3] : [1, 1, 1, 1]);
            return [pixels, (model.predict(first) as tf.Tensor).argMax(-1)];
          });
          // asynchronous reads: a synchronous one cannot run on WebGPU in Node
          picture = { pixels: Uint8Array.from(await shown!.data()), mask: Uint8Array.from(await predicted!.data()) };
          tf.dispose([shown!, predicted!]);
        }
        tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
      }
      const { method, channels, stats } = data.preprocessing;
      const shape = [height, size, 3];
      await writeFileAtomic(join(outputDirectory, 'prediction.png'), await encodePng({ data: colorizeMask(picture!.mask, paletteForDisplay), shape }));
      await writeFileAtomic(join(outputDirectory, 'overlay.png'), await encodePng({ data: overlayMask(picture!.pixels, picture!.mask, paletteForDisplay), shape }));
      // "not sure" for pictures unlike the training ones (as a prediction sees them: whole, normalized, not augmented)
      const familiarity = await segmentationFamiliarity(data, say);
      const bundle = await createBundle(
        model,
        { kind: 'segmentation', codes: [...codes], voidIndex: ignoreIndex ?? null, palette: paletteForDisplay.map((colour) => [...colour] as const), preprocessing: { size, ...(height === size ? {} : { height }), method, channels, stats }, ...(familiarity === undefined ? {} : { familiarity }) } satisfies SegmentationTask,
        {
          metrics: { validLoss: final.validLoss, pixelAccuracy: final.metrics.pixelAccuracy, meanIoU: final.metrics.meanIoU, iou: iouPerClass, dice: dicePerClass },
          training: { architecture: { unet: widths, upsampling: options.upsampling }, epochs: budget.epochs, lr: options.lr, batchSize: budget.batchSize, seed: options.seed, diceLoss: lossChoice.dice, ...(classWeights === undefined ? {} : { classWeights }), maskMode: data.preprocessing.maskMode, crop: crop ?? null, flip: flipChoice.flip, averagedWeights: options.average },
        },
      );
      await saveBundle(bundle, outputDirectory);
      await writeFileAtomic(join(outputDirectory, 'loss.png'), await renderChartPng(lossChart(learner)));
      say(`pixel accuracy ${(final.metrics.pixelAccuracy! * 100).toFixed(1)}%, mean IoU ${final.metrics.meanIoU!.toFixed(3)}; the bundle (kindling.json, model.json, weights.bin), prediction.png, overlay.png and loss.png are in ${outputDirectory}`);
      const commonest = pixelCounts.indexOf(pixelCounts.reduce((most, count) => Math.max(most, count), 0));
      const counted = pixelCounts.reduce((sum, count) => sum + count, 0);
      const beats = beatsBaseline({ metric: 'validation pixel accuracy', model: final.metrics.pixelAccuracy!, baseline: counted === 0 ? 0 : pixelCounts[commonest]! / counted, baselineName: `giving every pixel the class '${codes[commonest]}'`, higherIsBetter: true, format: (value) => `${(value * 100).toFixed(1)}%` }, warn);
      return { pixelAccuracy: final.metrics.pixelAccuracy!, beatsBaseline: beats, meanIoU: final.metrics.meanIoU!, iouPerClass, dicePerClass, outputDirectory };
    });
  } finally {
    learner.dispose();
    model.dispose();
  }
}

/**
 * The range of the training pictures' level, contrast and detail, for masks marked "not sure"; says how many
 * validation pictures fall outside it (none should: they are pictures like the training ones).
 */
async function segmentationFamiliarity(data: { train: DataLoader; valid: DataLoader }, say: (line: string) => void): Promise<Familiarity | undefined> {
  const training = await describeLoader(plainTraining(data), DESCRIBED);
  if (training === undefined || training.length === 0) return undefined;
  const familiarity = familiarityOf(training);
  const valid = (await describeLoader(data.valid, DESCRIBED)) ?? [];
  const marked = valid.filter((descriptors) => doubtOf(familiarity, descriptors, 1) !== undefined).length;
  if (valid.length > 0) say(`masks of pictures unlike the training ones are marked "not sure": ${marked} of the ${valid.length} validation pictures`);
  return familiarity;
}
