import * as tf from '@tensorflow/tfjs';
import { batchesOf, type DataLoader } from '@kindling/data';
import { fromLayersModel, type TrainableModel } from './parameters';

export interface UpdateBatchNormOptions {
  /** Passes over the loader (a loader that draws new crops or augmentations each epoch gives new ones each pass). Default 1. */
  passes?: number;
}

/** A batch-norm layer's moving-average rate, which tfjs reads on every training call. */
type BatchNormLayer = tf.layers.Layer & { momentum: number };

/** Every batch-norm layer, nested models (a pretrained body used as a layer) included. */
function batchNormLayers(layers: tf.layers.Layer[]): BatchNormLayer[] {
  return layers.flatMap((layer) => {
    if (layer.getClassName() === 'BatchNormalization') return [layer as BatchNormLayer];
    const nested = (layer as { layers?: tf.layers.Layer[] }).layers;
    return Array.isArray(nested) ? batchNormLayers(nested) : [];
  });
}

/**
 * Recomputes every batch-norm layer's statistics as the plain mean over a loader's batches (PyTorch's
 * `swa_utils.update_bn`): the running averages training leaves behind weight the last few batches most,
 * and after weight averaging they belong to none of the weights actually used. Runs the model forward in
 * training mode (no gradients, no weight change but the statistics). Returns the batches seen.
 */
export async function updateBatchNorm(model: TrainableModel | tf.LayersModel, loader: DataLoader, options: UpdateBatchNormOptions = {}): Promise<number> {
  const passes = options.passes ?? 1;
  if (!Number.isInteger(passes) || passes < 1) throw new RangeError(`updateBatchNorm: passes must be a whole number ≥ 1, not ${passes}`);
  const trainable = 'forward' in model ? model : fromLayersModel(model);
  const layers = trainable.layersModel?.layers;
  if (layers === undefined) throw new Error('updateBatchNorm: the model has no layers model underneath, so no batch-norm layers to update');
  const norms = batchNormLayers(layers);
  if (norms.length === 0) return 0;
  const momenta = norms.map((layer) => layer.momentum);
  let seen = 0;
  try {
    for (let pass = 0; pass < passes; pass++) {
      loader.setEpoch?.(pass);
      for await (const batch of batchesOf(loader)) {
        seen++;
        // new = old · (n−1)/n + batch / n: after n batches, the plain mean of their statistics
        for (const layer of norms) layer.momentum = (seen - 1) / seen;
        try {
          tf.tidy(() => {
            trainable.forward(batch.inputs, true);
          });
        } finally {
          tf.dispose([batch.inputs, batch.targets]);
        }
      }
    }
  } finally {
    norms.forEach((layer, index) => {
      layer.momentum = momenta[index]!;
    });
  }
  return seen;
}
