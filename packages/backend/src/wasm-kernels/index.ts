import { Concat, Conv2DBackpropFilter, Conv2DBackpropInput, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput, getKernel, MaxPoolGrad, Mean, registerKernel, SplitV, Sum, Tile, unregisterKernel, UnsortedSegmentSum, type KernelConfig } from '@tensorflow/tfjs';
import { concatConfig } from './concat';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input';
import { originalKernels } from './kernels';
import { maxPoolGradConfig } from './max-pool-grad';
import { splitVConfig } from './split-v';
import { meanConfig, sumConfig } from './sum-mean';
import { tileConfig } from './tile';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';

/**
 * Kernels the wasm backend lacks that training needs, built from wasm's own kernels; and some it has
 * but runs slowly on training's shapes: `Conv2DBackpropInput` (ten times a convolution), `Tile`
 * (which batch-norm gradients use to broadcast per-channel values over a whole batch), `Sum` and
 * `Mean` over the leading axes (batch norm's statistics and gradients, every bias gradient), and the
 * copies of a U-Net's skip connections (`Concat`, and `SplitV`, its gradient) and `MaxPoolGrad`.
 */
export const WASM_TRAINING_KERNELS = [
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  Tile,
  Sum,
  Mean,
  SplitV,
  Concat,
  MaxPoolGrad,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  UnsortedSegmentSum,
] as const;

const configs: KernelConfig[] = [
  concatConfig,
  splitVConfig,
  maxPoolGradConfig,
  tileConfig,
  sumConfig,
  meanConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
];

/** Kernels wasm has that are replaced by faster ones (the rest are added only where wasm lacks them). */
const REPLACED: ReadonlySet<string> = new Set([Conv2DBackpropInput, Tile, Sum, Mean, Concat, SplitV, MaxPoolGrad]);

/**
 * Registers the training kernels the wasm backend lacks (and the faster Conv2DBackpropInput).
 * Safe to call more than once; a missing kernel that a later wasm release provides is left alone.
 * @returns the names of the kernels this call registered.
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  for (const config of configs) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing !== undefined) {
      if (!REPLACED.has(config.kernelName)) continue; // a later wasm release brought its own
      originalKernels.set(config.kernelName, existing.kernelFunc);
      unregisterKernel(config.kernelName, 'wasm');
      // wasm's kernel binds its native function in `setupFunc` when a wasm backend starts; the fallback needs
      // that on every backend started after this call too (tf.removeBackend, or registering before setBackend)
      registerKernel({ ...config, setupFunc: existing.setupFunc, disposeFunc: existing.disposeFunc });
      registered.push(config.kernelName);
      continue;
    }
    registerKernel(config);
    registered.push(config.kernelName);
  }
  return registered;
}
