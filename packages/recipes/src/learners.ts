import { ConfigError, type DataLoader } from '@kindling/data';
import { accuracy, crossEntropyLoss, dice, diceLoss, fromLayersModel, iou, Learner, type Callback, type LossFunction } from '@kindling/learner';
import { HEAD_LAYER, resnet, unet } from '@kindling/models';
import { rasterChannels, type RasterOptions } from '@kindling/pointer';
import * as tf from '@tensorflow/tfjs';

/** The ResNet sizes a recipe knows by name: filters of each stage (each stage after the first halves the picture). */
export const ARCHITECTURES: Readonly<Record<string, readonly number[]>> = {
  'resnet-tiny': [8, 16, 32],
  'resnet-small': [16, 32, 64],
  'resnet-medium': [16, 32, 64, 128],
  resnet: [32, 64, 128],
};

/** The filters of a named ResNet; a ConfigError lists the names. */
export function architectureWidths(name: string): number[] {
  const widths = ARCHITECTURES[name];
  if (widths === undefined) throw new ConfigError(`unknown architecture '${name}': choose ${Object.keys(ARCHITECTURES).join(', ')}`);
  return [...widths];
}

/** Loaders of a classification task and its classes. */
export interface ClassifierData {
  train: DataLoader;
  valid?: DataLoader;
  vocab: { readonly size: number };
}

export interface ClassifierLearnerOptions {
  /** A ResNet by name (`resnet-tiny`, `resnet-small`, `resnet-medium`, `resnet`) or its stages' filters. Default `resnet-small`. */
  arch?: string | readonly number[];
  /** A model of your own (a pretrained body with a new head: `transferModel`) instead of a ResNet. */
  model?: tf.LayersModel;
  seed?: number;
  /** Added to the learner: a progress bar, checkpoints, early stopping… */
  callbacks?: Callback[];
}

/** A classifier's Learner and the model it trains (the caller disposes both). */
export interface ClassifierLearner {
  learner: Learner;
  model: tf.LayersModel;
}

/**
 * The Learner every classifier trains with: cross-entropy, accuracy, and for Kindling's models (a ResNet, a
 * transfer model) body and head split at the head, for `fineTune` and discriminative learning rates.
 */
export function classifierLearner(model: tf.LayersModel, data: { train: DataLoader; valid?: DataLoader }, options: { seed?: number; callbacks?: Callback[] } = {}): Learner {
  return new Learner({
    model: fromLayersModel(model, model.layers.some((layer) => layer.name === HEAD_LAYER) ? { splitAt: HEAD_LAYER } : {}),
    data,
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    callbacks: options.callbacks ?? [],
    seed: options.seed ?? 0,
  });
}

/**
 * fastai's `vision_learner` for any picture-like input `[height, width, channels]`: a ResNet from random weights
 * sized for the input and the classes (or the model you give), and its classifier Learner.
 */
export function visionLearner(data: ClassifierData, inputShape: readonly [number, number, number], options: ClassifierLearnerOptions = {}): ClassifierLearner {
  const { arch = 'resnet-small', seed = 0 } = options;
  const model = options.model ?? resnet({ inputShape: [...inputShape], classes: data.vocab.size, widths: typeof arch === 'string' ? architectureWidths(arch) : [...arch], seed });
  return { learner: classifierLearner(model, data, { seed, callbacks: options.callbacks }), model };
}

/** An image classifier for `imageFolderDataLoaders` data: pictures of `size`×`size` with their channels. */
export function imageLearner(data: ClassifierData & { preprocessing: { size: number; channels: number } }, options: ClassifierLearnerOptions = {}): ClassifierLearner {
  const { size, channels } = data.preprocessing;
  return visionLearner(data, [size, size, channels], options);
}

/** A sound classifier for `soundFolderDataLoaders` data: spectrograms as pictures `[frames, bands, 1]`. */
export function soundLearner(data: ClassifierData & { pipeline: { readonly shape: [number, number, number] } }, options: ClassifierLearnerOptions = {}): ClassifierLearner {
  return visionLearner(data, data.pipeline.shape, options);
}

/** A mouse-movement classifier for `pointerFolderDataLoaders` data: rasters of the recordings (3 channels, 6 for `fit: 'both'`). */
export function pointerLearner(data: ClassifierData & { preprocessing: { raster: RasterOptions } }, options: ClassifierLearnerOptions = {}): ClassifierLearner {
  const { raster } = data.preprocessing;
  const size = raster.size ?? 64;
  return visionLearner(data, [size, size, rasterChannels(raster)], options);
}

export interface SegmentationLearnerOptions {
  /** U-Net filters per level. Default [16, 32, 64, 128]. */
  widths?: readonly number[];
  /** `transpose` (learned) or `resize` (bilinear and a convolution). Default transpose. */
  upsampling?: 'transpose' | 'resize';
  /** Add the Dice loss to the per-pixel cross-entropy. */
  dice?: boolean;
  /** A weight per class for the cross-entropy (a rare class's pixels counting more); default: every class alike. */
  classWeights?: readonly number[];
  /** Build the U-Net for any picture size (training on random crops, validating on whole pictures). */
  anySize?: boolean;
  seed?: number;
  callbacks?: Callback[];
}

/**
 * fastai's `unet_learner` for `segmentationDataLoaders` data: a U-Net from random weights, per-pixel cross-entropy
 * (plus Dice on request) that ignores the void class, and pixel accuracy, mean IoU and Dice as metrics (`iou` and
 * `dice` give each class's figure of the last validation).
 */
export function segmentationLearner(
  data: { train: DataLoader; valid?: DataLoader; codes: readonly string[]; voidIndex?: number; preprocessing: { size: number; height?: number; channels: number } },
  options: SegmentationLearnerOptions = {},
): ClassifierLearner & { dice: ReturnType<typeof dice>; iou: ReturnType<typeof iou> } {
  const { widths = [16, 32, 64, 128], upsampling = 'transpose', seed = 0 } = options;
  const ignoreIndex = data.voidIndex;
  const { size, height = size, channels } = data.preprocessing;
  const model = unet({ inputShape: options.anySize ? [null, null, channels] : [height, size, channels], classes: data.codes.length, widths: [...widths], upsampling, seed });
  const crossEntropy = crossEntropyLoss({ ignoreIndex, classWeights: options.classWeights === undefined ? undefined : [...options.classWeights] });
  const overlap = diceLoss({ ignoreIndex });
  const loss: LossFunction = options.dice ? (targets, logits) => tf.tidy(() => crossEntropy(targets, logits).add(overlap(targets, logits)) as tf.Scalar) : crossEntropy;
  const diceMetric = dice({ ignoreIndex });
  const iouMetric = iou({ ignoreIndex });
  const learner = new Learner({
    model,
    data,
    loss,
    metrics: [accuracy({ ignoreIndex, name: 'pixelAccuracy' }), iouMetric, diceMetric],
    callbacks: options.callbacks ?? [],
    seed,
  });
  return { learner, model, dice: diceMetric, iou: iouMetric };
}
