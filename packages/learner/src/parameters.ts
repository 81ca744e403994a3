import type * as tf from '@tensorflow/tfjs';

/** One weight of a model, as the Learner sees it: a variable, whether it trains, and whether it is batch-norm. */
export interface Parameter {
  readonly name: string;
  readonly variable: tf.Variable;
  trainable: boolean;
  /** Batch-norm weights stay trainable when a body is frozen (fastai's `train_bn`). */
  readonly isBatchNorm: boolean;
}

/**
 * What the Learner trains: a function of inputs and weights. Build one with {@link fromLayersModel}
 * or {@link fromFunction}.
 */
export interface TrainableModel {
  /** The forward pass; `training` turns on dropout and batch-norm updates. */
  forward(inputs: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor;
  /** The weights in groups, body first and head last: freezing trains only the last group. */
  parameterGroups(): Parameter[][];
  /** Every weight in a fixed order, trainable or not (batch-norm statistics too), for checkpoints. */
  weights(): tf.Variable[];
  /** The tfjs layers model underneath, when there is one. */
  readonly layersModel?: tf.LayersModel;
}

/**
 * A layer's weight as a Parameter. Freezing works per layer (`layer.trainable`): tfjs-layers resets
 * per-weight flags whenever a Sequential model runs, but keeps the layer's.
 */
function layerParameter(weight: tf.LayerVariable, layer: tf.layers.Layer): Parameter {
  return {
    name: weight.name,
    variable: weight.read() as tf.Variable,
    get trainable() {
      return layer.trainable && weight.trainable;
    },
    set trainable(value: boolean) {
      layer.trainable = value;
    },
    isBatchNorm: layer.getClassName() === 'BatchNormalization',
  };
}

/**
 * A layers model's weights in creation order. `model.weights` lists trainable weights first, so
 * its order changes when layers are frozen; checkpoints need an order that does not.
 */
export function stableWeights(model: tf.LayersModel): tf.LayerVariable[] {
  return model.weights.slice().sort((a, b) => a.id - b.id);
}

export interface LayersModelOptions {
  /**
   * Where the head starts: a layer name or index. Layers before it form the body group, the rest the
   * head. Or a function that splits the layers into any number of groups. Default: one group.
   */
  splitAt?: string | number | ((layers: tf.layers.Layer[]) => tf.layers.Layer[][]);
}

/** Wraps a tfjs layers model (sequential or functional) for the Learner. */
export function fromLayersModel(model: tf.LayersModel, options: LayersModelOptions = {}): TrainableModel {
  const splitLayers = (): tf.layers.Layer[][] => {
    const { splitAt } = options;
    if (splitAt === undefined) return [model.layers];
    if (typeof splitAt === 'function') return splitAt(model.layers);
    const index = typeof splitAt === 'number' ? splitAt : model.layers.findIndex((layer) => layer.name === splitAt);
    if (index < 0) throw new Error(`fromLayersModel: no layer named '${String(splitAt)}' (layers: ${model.layers.map((l) => l.name).join(', ')})`);
    return [model.layers.slice(0, index), model.layers.slice(index)];
  };
  return {
    layersModel: model,
    forward: (inputs, training) => model.apply(inputs, { training }) as tf.Tensor,
    parameterGroups: () =>
      splitLayers().map((layers) => layers.flatMap((layer) => layer.weights.map((weight) => layerParameter(weight, layer)))),
    weights: () => stableWeights(model).map((weight) => weight.read() as tf.Variable),
  };
}

/**
 * A model written as a plain function of inputs and weights, the lesson-1 way:
 * `fromFunction({ weights: { w, b } }, (x, { w, b }) => x.matMul(w).add(b))`.
 */
export function fromFunction<W extends Record<string, tf.Variable>>(
  options: { weights: W; groups?: Array<Array<keyof W>> },
  forward: (inputs: tf.Tensor | tf.Tensor[], weights: W, training: boolean) => tf.Tensor,
): TrainableModel {
  const names = Object.keys(options.weights) as Array<keyof W & string>;
  const toParameter = (name: keyof W & string): Parameter => {
    const variable = options.weights[name]!;
    return {
      name,
      variable,
      get trainable() {
        return variable.trainable;
      },
      set trainable(value: boolean) {
        variable.trainable = value;
      },
      isBatchNorm: false,
    };
  };
  const groups = (options.groups ?? [names]) as Array<Array<keyof W & string>>;
  return {
    forward: (inputs, training) => forward(inputs, options.weights, training),
    parameterGroups: () => groups.map((group) => group.map(toParameter)),
    weights: () => names.map((name) => options.weights[name]!),
  };
}
