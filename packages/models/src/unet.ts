import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-norm';

export interface UnetOptions {
  /**
   * `[height, width, channels]`; height and width divisible by 2^(levels − 1), or `null` for any such
   * size (fully convolutional: train on crops, predict on whole pictures).
   */
  inputShape: [number | null, number | null, number];
  classes: number;
  /** Filters per level, from the top (full resolution) down to the bottleneck. Default [16, 32, 64, 128]. */
  widths?: number[];
  /** How the decoder doubles resolution: a learned transposed convolution or a resize followed by a convolution. */
  upsampling?: 'transpose' | 'resize';
  seed?: number;
}

function convBlock(x: tf.SymbolicTensor, filters: number, name: string, seed: number): tf.SymbolicTensor {
  for (let i = 1; i <= 2; i++) {
    x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seed + i }), name: `${name}_conv${i}` }).apply(x) as tf.SymbolicTensor;
    x = batchNormalization({ momentum: 0.9, name: `${name}_bn${i}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `${name}_relu${i}` }).apply(x) as tf.SymbolicTensor;
  }
  return x;
}

function upsample(x: tf.SymbolicTensor, factor: [number, number], filters: number, mode: 'transpose' | 'resize', name: string, seed: number): tf.SymbolicTensor {
  if (mode === 'transpose' && factor[0] === factor[1]) {
    return tf.layers.conv2dTranspose({ filters, kernelSize: factor[0], strides: factor[0], padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed }), name: `${name}_up` }).apply(x) as tf.SymbolicTensor;
  }
  const resized = tf.layers.upSampling2d({ size: factor, interpolation: 'bilinear', name: `${name}_resize` }).apply(x) as tf.SymbolicTensor;
  return tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed }), name: `${name}_up` }).apply(resized) as tf.SymbolicTensor;
}

/** Decoder: from the deepest feature map up through the skips (deepest first), ending in per-pixel logits. */
function decode(bottom: tf.SymbolicTensor, skips: tf.SymbolicTensor[], widths: number[], classes: number, mode: 'transpose' | 'resize', seed: number, outputSize: [number | null, number | null]): tf.SymbolicTensor {
  let x = bottom;
  skips.forEach((skip, index) => {
    const [h, w] = [x.shape[1] ?? null, x.shape[2] ?? null];
    const [sh, sw] = [skip.shape[1] ?? null, skip.shape[2] ?? null];
    // sizes unknown until run time (a fully convolutional U-Net): each level halves, so the decoder doubles
    const factor: [number, number] = h === null || w === null || sh === null || sw === null ? [2, 2] : [sh / h, sw / w];
    if (!Number.isInteger(factor[0]) || !Number.isInteger(factor[1])) throw new Error(`unet: skip ${skip.name} (${sh}×${sw}) is not a whole multiple of ${h}×${w}`);
    const name = `decoder${skips.length - index}`;
    x = upsample(x, factor, widths[index]!, mode, name, seed + 100 + index * 10);
    x = tf.layers.concatenate({ name: `${name}_skip` }).apply([x, skip]) as tf.SymbolicTensor;
    x = convBlock(x, widths[index]!, name, seed + 105 + index * 10);
  });
  const [h, w] = [x.shape[1]!, x.shape[2]!];
  if (outputSize[0] !== null && outputSize[1] !== null && (h !== outputSize[0] || w !== outputSize[1])) {
    if (outputSize[0] % h !== 0 || outputSize[1] % w !== 0) throw new Error(`unet: the last skip (${h}×${w}) does not divide the input (${outputSize.join('×')})`);
    x = upsample(x, [outputSize[0] / h, outputSize[1] / w], widths.at(-1)!, 'resize', 'decoder0', seed + 190);
  }
  return tf.layers.conv2d({ filters: classes, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 199 }), name: 'logits' }).apply(x) as tf.SymbolicTensor;
}

/**
 * A U-Net trained from scratch: a contracting path of conv-BN-ReLU blocks and max-pools, a bottleneck,
 * and an expanding path that doubles resolution (transposed convolution or resize + conv) and joins
 * the encoder's feature map of the same size (skip connection). Output: logits `[h, w, classes]`.
 */
export function unet(options: UnetOptions): tf.LayersModel {
  const { inputShape, classes, widths = [16, 32, 64, 128], upsampling = 'transpose', seed = 0 } = options;
  const divisor = 2 ** (widths.length - 1);
  if ((inputShape[0] ?? 0) % divisor !== 0 || (inputShape[1] ?? 0) % divisor !== 0) throw new Error(`unet: height and width must be divisible by ${divisor} for ${widths.length} levels (got ${inputShape[0]}×${inputShape[1]})`);
  const input = tf.input({ shape: inputShape, name: 'image' });
  const skips: tf.SymbolicTensor[] = [];
  let x: tf.SymbolicTensor = input;
  widths.slice(0, -1).forEach((filters, level) => {
    x = convBlock(x, filters, `encoder${level + 1}`, seed + level * 10);
    skips.push(x);
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `encoder${level + 1}_pool` }).apply(x) as tf.SymbolicTensor;
  });
  x = convBlock(x, widths.at(-1)!, 'bottleneck', seed + 90);
  const output = decode(x, skips.reverse(), widths.slice(0, -1).reverse(), classes, upsampling, seed, [inputShape[0], inputShape[1]]);
  return tf.model({ inputs: input, outputs: output, name: 'unet' });
}

/**
 * A U-Net whose encoder is a pretrained layers model: the outputs of `skipLayers` (highest resolution
 * first) feed the decoder's skip connections and `bottleneckLayer` its bottom. The pretrained layers
 * keep their weights (freeze them with the Learner's `freeze()` for a first phase).
 */
export function unetFromPretrained(pretrained: tf.LayersModel, options: { skipLayers: string[]; bottleneckLayer: string; classes: number; widths?: number[]; upsampling?: 'transpose' | 'resize'; seed?: number }): tf.LayersModel {
  const { skipLayers, bottleneckLayer, classes, upsampling = 'resize', seed = 0 } = options;
  const output = (name: string) => {
    try {
      return pretrained.getLayer(name).output as tf.SymbolicTensor;
    } catch {
      throw new Error(`unetFromPretrained: the pretrained model has no layer '${name}' (layers: ${pretrained.layers.map((layer) => layer.name).join(', ')})`);
    }
  };
  const skips = skipLayers.map(output).reverse();
  const widths = options.widths ?? skips.map((skip) => Math.max(16, skip.shape[3]!));
  const input = pretrained.inputs[0]!;
  const logits = decode(output(bottleneckLayer), skips, widths, classes, upsampling, seed, [input.shape[1]!, input.shape[2]!]);
  return tf.model({ inputs: pretrained.inputs, outputs: logits, name: 'unet_transfer' });
}
