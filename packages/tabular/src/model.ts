import { checkTopK, DataError, DEFAULT_TOP_K, topLabels, type LabelScore } from '@kindling/data';
import { batchNormalization } from '@kindling/models';
import * as tf from '@tensorflow/tfjs';
import { RangeSigmoid } from './collab-model';
import { tabularTensors, type TableRow, type TabularProcessor } from './processor';

/** fastai's embedding size rule for a categorical column with `cardinality` values: `min(600, round(1.6 · n^0.56))`. */
export function embeddingSize(cardinality: number): number {
  return Math.min(600, Math.round(1.6 * cardinality ** 0.56));
}

export interface CategoricalEmbeddingsConfig {
  cardinalities: number[];
  sizes: number[];
  seed?: number;
  name?: string;
}

/**
 * One embedding table per categorical column: `[batch, columns]` int32 indices in, the looked-up
 * vectors concatenated out (`[batch, Σ sizes]`). One layer keeps the model to a single categorical input.
 */
export class CategoricalEmbeddings extends tf.layers.Layer {
  static readonly className = 'KindlingCategoricalEmbeddings';
  readonly cardinalities: number[];
  readonly sizes: number[];
  readonly seed: number;
  private tables: tf.LayerVariable[] = [];

  constructor(config: CategoricalEmbeddingsConfig) {
    super({ name: config.name });
    if (config.cardinalities.length !== config.sizes.length) throw new Error('CategoricalEmbeddings: one size per column');
    this.cardinalities = config.cardinalities;
    this.sizes = config.sizes;
    this.seed = config.seed ?? 0;
  }

  override build(): void {
    this.tables = this.cardinalities.map((cardinality, index) =>
      this.addWeight(`embedding_${index}`, [cardinality, this.sizes[index]!], 'float32', tf.initializers.truncatedNormal({ stddev: 0.01, seed: this.seed + index })),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0]!, this.sizes.reduce((sum, size) => sum + size, 0)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const indices = (Array.isArray(inputs) ? inputs[0]! : inputs).toInt();
      const columns = tf.unstack(indices, 1);
      return tf.concat(columns.map((column, index) => tf.gather(this.tables[index]!.read(), column)), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), cardinalities: this.cardinalities, sizes: this.sizes, seed: this.seed };
  }
}
tf.serialization.registerClass(CategoricalEmbeddings);

export interface TabularModelOptions {
  /** Vocabulary size of each categorical column (the processor's `cardinalities`). */
  cardinalities: number[];
  /** Number of continuous columns. */
  continuous: number;
  /** Classes (classification: logits out) or 1 for a regression. */
  outputs: number;
  /** Hidden layer widths. Default [200, 100] (fastai's). */
  layers?: number[];
  /** Dropout after each hidden layer (one value, or one per layer). Default 0. */
  dropout?: number | number[];
  /** Dropout on the concatenated embeddings. Default 0. */
  embeddingDropout?: number;
  /** Embedding widths; default fastai's rule per column. */
  embeddingSizes?: number[];
  /** Regression only: squash the output into this range with a scaled sigmoid. */
  yRange?: [number, number];
  /**
   * A linear path beside the hidden layers ("wide and deep"): the features also go straight to the output
   * through one dense layer, added to the hidden layers' answer. Small tables, where a logistic regression is
   * hard to beat, gain most. Default false.
   */
  linear?: boolean;
  seed?: number;
}

/**
 * fastai's TabularModel: an embedding per categorical column, batch-normalized continuous columns,
 * then Linear → ReLU → BatchNorm → Dropout blocks and a final linear layer. Inputs, in this order and
 * only where the table has them: `categorical` `[batch, nCat]` int32 and `continuous` `[batch, nCont]`.
 */
export function tabularModel(options: TabularModelOptions): tf.LayersModel {
  const { cardinalities, continuous, outputs, layers = [200, 100], dropout = 0, embeddingDropout = 0, yRange, linear = false, seed = 0 } = options;
  if (cardinalities.length === 0 && continuous === 0) throw new Error('tabularModel: the table has no input columns');
  const sizes = options.embeddingSizes ?? cardinalities.map(embeddingSize);
  const inputs: tf.SymbolicTensor[] = [];
  const parts: tf.SymbolicTensor[] = [];
  if (cardinalities.length > 0) {
    const categorical = tf.input({ shape: [cardinalities.length], dtype: 'int32', name: 'categorical' });
    inputs.push(categorical);
    let embedded = new CategoricalEmbeddings({ cardinalities, sizes, seed, name: 'embeddings' }).apply(categorical) as tf.SymbolicTensor;
    if (embeddingDropout > 0) embedded = tf.layers.dropout({ rate: embeddingDropout, seed, name: 'embedding_dropout' }).apply(embedded) as tf.SymbolicTensor;
    parts.push(embedded);
  }
  if (continuous > 0) {
    const numbers = tf.input({ shape: [continuous], name: 'continuous' });
    inputs.push(numbers);
    parts.push(batchNormalization({ name: 'continuous_bn', momentum: 0.9 }).apply(numbers) as tf.SymbolicTensor);
  }
  const features = parts.length === 1 ? parts[0]! : (tf.layers.concatenate({ name: 'features' }).apply(parts) as tf.SymbolicTensor);
  let x = features;
  layers.forEach((units, index) => {
    const rate = Array.isArray(dropout) ? (dropout[index] ?? 0) : dropout;
    x = tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 10 + index }), name: `hidden_${index + 1}` }).apply(x) as tf.SymbolicTensor;
    x = batchNormalization({ name: `hidden_${index + 1}_bn`, momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
    if (rate > 0) x = tf.layers.dropout({ rate, seed: seed + 20 + index, name: `hidden_${index + 1}_dropout` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.dense({ units: outputs, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }), name: 'output' }).apply(x) as tf.SymbolicTensor;
  if (linear) {
    const direct = tf.layers.dense({ units: outputs, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 98 }), name: 'linear' }).apply(features) as tf.SymbolicTensor;
    x = tf.layers.add({ name: 'wide_and_deep' }).apply([x, direct]) as tf.SymbolicTensor;
  }
  if (yRange) x = new RangeSigmoid({ low: yRange[0], high: yRange[1], name: 'range' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs: x, name: 'tabular' });
}

/** A decoded tabular prediction. */
export type TabularPrediction =
  | { kind: 'classification'; label: string; probabilities: Record<string, number>; top: LabelScore[] }
  | { kind: 'regression'; value: number };

export interface TabularPredictOptions {
  /** Names the rows in error messages (a file). */
  source?: string;
  /** How many classes `top` lists, most likely first (default 5; `Infinity` for all). */
  topK?: number;
}

/**
 * Uses a trained tabular model: plain row objects in (strings, numbers, null for missing), decoded
 * labels with probabilities (or values) out, with the same preprocessing as in training. The model and its
 * processor in memory, as training has them; a saved bundle is read by `@kindling/deploy`'s `TabularPredictor`
 * (`loadPredictor`), which answers through this class and adds "not sure".
 */
export class RowPredictor {
  constructor(
    readonly model: tf.LayersModel,
    readonly processor: TabularProcessor,
  ) {
    const expected = (processor.categoricalNames.length > 0 ? 1 : 0) + (processor.continuousNames.length > 0 ? 1 : 0);
    if (model.inputs.length !== expected) throw new DataError(`the model takes ${model.inputs.length} inputs but the processor makes ${expected}`);
  }

  predict(row: TableRow): TabularPrediction {
    return this.predictBatch([row])[0]!;
  }

  predictBatch(rows: readonly TableRow[], options: TabularPredictOptions = {}): TabularPrediction[] {
    const output = this.outputs(rows, options);
    const values = output.dataSync() as Float32Array;
    output.dispose();
    return this.decode(values, rows.length, options.topK);
  }

  /** {@link predictBatch} with an asynchronous read: for browsers, where a synchronous GPU read stalls the page (WebGL) or fails (some WebGPU drivers). */
  async predictBatchAsync(rows: readonly TableRow[], options: TabularPredictOptions = {}): Promise<TabularPrediction[]> {
    const output = this.outputs(rows, options);
    const values = (await output.data()) as Float32Array;
    output.dispose();
    return this.decode(values, rows.length, options.topK);
  }

  private outputs(rows: readonly TableRow[], options: { source?: string }): tf.Tensor {
    const data = this.processor.process(rows, { source: options.source ?? 'input', rowNumbers: rows.map((_, index) => index + 1) });
    return tf.tidy(() => {
      const { inputs } = tabularTensors(data, this.processor);
      const raw = this.model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
      return this.processor.targetLabels ? tf.softmax(raw) : raw;
    });
  }

  private decode(values: Float32Array, count: number, topK = DEFAULT_TOP_K): TabularPrediction[] {
    checkTopK(topK);
    const labels = this.processor.targetLabels;
    if (!labels) return Array.from({ length: count }, (_, row) => ({ kind: 'regression', value: values[row]! }));
    return Array.from({ length: count }, (_, row) => {
      const probabilities = values.subarray(row * labels.length, (row + 1) * labels.length);
      let best = 0;
      probabilities.forEach((p, index) => {
        if (p > probabilities[best]!) best = index;
      });
      return {
        kind: 'classification',
        label: labels[best]!,
        probabilities: Object.fromEntries(labels.map((label, index) => [label, probabilities[index]!])),
        top: topLabels(labels, probabilities, topK),
      };
    });
  }
}
