import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-norm';

export interface ResnetOptions {
  /** `[height, width, channels]` of the input images. */
  inputShape: [number, number, number];
  classes: number;
  /** Filters per stage; each stage after the first halves the resolution. Default [32, 64, 128]. */
  widths?: number[];
  /** Residual blocks per stage. Default 1. */
  blocksPerStage?: number;
  /** Dropout before the final layer. Default 0.1. */
  dropout?: number;
  /** Seeds every initializer, so one seed builds one model. Default 0. */
  seed?: number;
}

/** Names the head's layers start with: `fromLayersModel(model, { splitAt: HEAD_LAYER })` splits body and head. */
export const HEAD_LAYER = 'head_pool';

/**
 * A small ResNet-style classifier for small images: a 3×3 stem, stages of residual blocks
 * (conv-BN-ReLU ×2 with an identity or 1×1 projection shortcut), global average pooling and a dense
 * layer that outputs logits. Layers named `head_*` form the head.
 */
export function resnet(options: ResnetOptions): tf.LayersModel {
  const { inputShape, classes, widths = [32, 64, 128], blocksPerStage = 1, dropout = 0.1 } = options;
  let seed = options.seed ?? 0;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const conv = (filters: number, kernelSize: number, strides: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: init(), name });
  const bn = (name: string) => batchNormalization({ name, momentum: 0.9 });
  const input = tf.input({ shape: inputShape, name: 'image' });
  let x = conv(widths[0]!, 3, 1, 'stem_conv').apply(input) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  let channels = widths[0]!;
  widths.forEach((width, stage) => {
    for (let block = 0; block < blocksPerStage; block++) {
      const name = `stage${stage + 1}_block${block + 1}`;
      const strides = stage > 0 && block === 0 ? 2 : 1;
      let y = conv(width, 3, strides, `${name}_conv1`).apply(x) as tf.SymbolicTensor;
      y = bn(`${name}_bn1`).apply(y) as tf.SymbolicTensor;
      y = tf.layers.reLU({ name: `${name}_relu1` }).apply(y) as tf.SymbolicTensor;
      y = conv(width, 3, 1, `${name}_conv2`).apply(y) as tf.SymbolicTensor;
      y = bn(`${name}_bn2`).apply(y) as tf.SymbolicTensor;
      let shortcut = x;
      if (strides !== 1 || channels !== width) {
        shortcut = conv(width, 1, strides, `${name}_shortcut`).apply(x) as tf.SymbolicTensor;
        shortcut = bn(`${name}_shortcut_bn`).apply(shortcut) as tf.SymbolicTensor;
      }
      x = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${name}_out` }).apply(x) as tf.SymbolicTensor;
      channels = width;
    }
  });
  return tf.model({ inputs: input, outputs: classifierHead(x, classes, dropout, seed), name: 'resnet' });
}

/** Pooling, dropout and a dense layer to logits: the head every Kindling image model ends with. */
export function classifierHead(features: tf.SymbolicTensor, classes: number, dropout: number, seed: number): tf.SymbolicTensor {
  let x = features.shape.length === 4 ? (tf.layers.globalAveragePooling2d({ name: HEAD_LAYER }).apply(features) as tf.SymbolicTensor) : (tf.layers.flatten({ name: HEAD_LAYER }).apply(features) as tf.SymbolicTensor);
  if (dropout > 0) x = tf.layers.dropout({ rate: dropout, seed, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), name: 'head_dense' }).apply(x) as tf.SymbolicTensor;
}

export interface TransferOptions {
  /** The layer whose output becomes the features; the rest of the pretrained model is dropped. Default: the layer before its head (or its last layer). */
  cutAt?: string;
  classes: number;
  dropout?: number;
  seed?: number;
}

/**
 * A new classifier on the body of a pretrained layers model: cut at a named layer, add a new head.
 * Train it with `learner.fineTune()` and `fromLayersModel(model, { splitAt: HEAD_LAYER })`: the body
 * is frozen first, then trained at lower rates.
 */
export function transferModel(pretrained: tf.LayersModel, options: TransferOptions): tf.LayersModel {
  const names = pretrained.layers.map((layer) => layer.name);
  const cutAt = options.cutAt ?? (names.includes(HEAD_LAYER) ? names[names.indexOf(HEAD_LAYER) - 1]! : names.at(-1)!);
  let layer: tf.layers.Layer;
  try {
    layer = pretrained.getLayer(cutAt);
  } catch {
    throw new Error(`transferModel: the pretrained model has no layer '${cutAt}' (layers: ${names.join(', ')})`);
  }
  const features = layer.output as tf.SymbolicTensor;
  const body = tf.model({ inputs: pretrained.inputs, outputs: features, name: 'body' });
  const input = tf.input({ shape: pretrained.inputs[0]!.shape.slice(1) as number[], name: 'image' });
  const bodyOutput = body.apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: classifierHead(bodyOutput, options.classes, options.dropout ?? 0.1, options.seed ?? 0), name: 'transfer' });
}
