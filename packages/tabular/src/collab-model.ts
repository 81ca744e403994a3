import * as tf from '@tensorflow/tfjs';

/** `sigmoid(x) · (high − low) + low`: squashes a score into the ratings' range. */
export class RangeSigmoid extends tf.layers.Layer {
  static readonly className = 'KindlingRangeSigmoid';
  readonly low: number;
  readonly high: number;

  constructor(config: { low: number; high: number; name?: string }) {
    super(config);
    this.low = config.low;
    this.high = config.high;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.sigmoid(Array.isArray(inputs) ? inputs[0]! : inputs).mul(this.high - this.low).add(this.low));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), low: this.low, high: this.high };
  }
}
tf.serialization.registerClass(RangeSigmoid);

export interface CollabOptions {
  users: number;
  items: number;
  /** Latent factors per user and item. Default 50. */
  factors?: number;
  /** Predictions are squashed into this range. Default [0, 5.5]. */
  yRange?: [number, number];
  seed?: number;
}

function idInputs(): [tf.SymbolicTensor, tf.SymbolicTensor] {
  return [tf.input({ shape: [1], dtype: 'int32', name: 'user' }), tf.input({ shape: [1], dtype: 'int32', name: 'item' })];
}

function embed(input: tf.SymbolicTensor, count: number, size: number, name: string, seed: number): tf.SymbolicTensor {
  const layer = tf.layers.embedding({ inputDim: count, outputDim: size, name, embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.01, seed }) });
  return tf.layers.flatten({ name: `${name}_flat` }).apply(layer.apply(input)) as tf.SymbolicTensor;
}

/**
 * fastai's DotProductBias: user and item factors whose dot product, plus a user and an item bias,
 * is squashed into `yRange`. Inputs: `[userIndex, itemIndex]`, each `[batch, 1]` int32.
 */
export function dotProductBias(options: CollabOptions): tf.LayersModel {
  const { users, items, factors = 50, yRange = [0, 5.5], seed = 0 } = options;
  const [user, item] = idInputs();
  const dot = tf.layers.dot({ axes: 1, name: 'dot' }).apply([embed(user, users, factors, 'user_factors', seed), embed(item, items, factors, 'item_factors', seed + 1)]) as tf.SymbolicTensor;
  const score = tf.layers.add({ name: 'score' }).apply([dot, embed(user, users, 1, 'user_bias', seed + 2), embed(item, items, 1, 'item_bias', seed + 3)]) as tf.SymbolicTensor;
  const output = new RangeSigmoid({ low: yRange[0], high: yRange[1], name: 'rating' }).apply(score) as tf.SymbolicTensor;
  return tf.model({ inputs: [user, item], outputs: output, name: 'dot_product_bias' });
}

/** The neural variant: concatenated user and item embeddings through an MLP, squashed into `yRange`. */
export function collabNeural(options: CollabOptions & { hidden?: number[]; dropout?: number }): tf.LayersModel {
  const { users, items, factors = 50, yRange = [0, 5.5], seed = 0, hidden = [100], dropout = 0.1 } = options;
  const [user, item] = idInputs();
  let x = tf.layers.concatenate({ name: 'embeddings' }).apply([embed(user, users, factors, 'user_factors', seed), embed(item, items, factors, 'item_factors', seed + 1)]) as tf.SymbolicTensor;
  hidden.forEach((units, index) => {
    x = tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 10 + index }), name: `hidden_${index + 1}` }).apply(x) as tf.SymbolicTensor;
    if (dropout > 0) x = tf.layers.dropout({ rate: dropout, name: `dropout_${index + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }), name: 'score' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: [user, item], outputs: new RangeSigmoid({ low: yRange[0], high: yRange[1], name: 'rating' }).apply(x) as tf.SymbolicTensor, name: 'collab_neural' });
}

/** The ids a model was trained with, in index order. */
export interface IdMaps {
  users: readonly string[];
  items: readonly string[];
}

/**
 * Uses a trained collaborative-filtering model: predicted ratings, top-N recommendations, cold start
 * for a new user from a few liked items (no retraining), similar items and the largest biases.
 */
export class Recommender {
  private readonly userIndex: Map<string, number>;
  private readonly itemIndex: Map<string, number>;
  private readonly tables = new Map<string, { values: Float32Array; width: number }>();

  constructor(
    readonly model: tf.LayersModel,
    readonly ids: IdMaps,
  ) {
    this.userIndex = new Map(ids.users.map((id, i) => [id, i]));
    this.itemIndex = new Map(ids.items.map((id, i) => [id, i]));
  }

  private user(id: string): number {
    const index = this.userIndex.get(id);
    if (index === undefined) throw new Error(`unknown user '${id}': the model has never seen them; use coldStart(likedItems) for a new user`);
    return index;
  }

  private item(id: string): number {
    const index = this.itemIndex.get(id);
    if (index === undefined) throw new Error(`unknown item '${id}': it was not in the training ratings`);
    return index;
  }

  private scores(pairs: ReadonlyArray<[string, string]>): tf.Tensor {
    const users = pairs.map(([user]) => this.user(user));
    const items = pairs.map(([, item]) => this.item(item));
    return tf.tidy(() => (this.model.predict([tf.tensor2d(users, [pairs.length, 1], 'int32'), tf.tensor2d(items, [pairs.length, 1], 'int32')]) as tf.Tensor).reshape([-1]));
  }

  /** Predicted ratings for (user, item) pairs. */
  predict(pairs: ReadonlyArray<[string, string]>): number[] {
    const scores = this.scores(pairs);
    const values = Array.from(scores.dataSync());
    scores.dispose();
    return values;
  }

  /** {@link predict} with an asynchronous read: for browsers, where a synchronous GPU read stalls the page (WebGL) or fails (some WebGPU drivers). */
  async predictAsync(pairs: ReadonlyArray<[string, string]>): Promise<number[]> {
    const scores = this.scores(pairs);
    const values = Array.from(await scores.data());
    scores.dispose();
    return values;
  }

  /** The `count` items with the highest predicted rating that the user has not rated (`seen`). */
  recommend(user: string, count = 10, seen: Iterable<string> = []): Array<{ item: string; score: number }> {
    this.user(user);
    return topItems(this.ids.items, this.predict(this.ids.items.map((item) => [user, item] as [string, string])), count, new Set(seen));
  }

  /** {@link recommend} with an asynchronous read. */
  async recommendAsync(user: string, count = 10, seen: Iterable<string> = []): Promise<Array<{ item: string; score: number }>> {
    this.user(user);
    return topItems(this.ids.items, await this.predictAsync(this.ids.items.map((item) => [user, item] as [string, string])), count, new Set(seen));
  }

  /**
   * Reads the item factor and bias tables once, asynchronously, so that coldStart, similarItems and
   * itemBiases never read the GPU synchronously (slow on WebGL, unreliable on some WebGPU drivers).
   */
  async ready(): Promise<this> {
    for (const layer of ['item_factors', 'item_bias']) {
      if (!this.model.layers.some((candidate) => candidate.name === layer)) continue;
      const tensor = this.model.getLayer(layer).getWeights()[0]!;
      this.tables.set(layer, { values: (await tensor.data()) as Float32Array, width: tensor.shape[1]! });
    }
    return this;
  }

  private weights(layer: string): { values: Float32Array; width: number } {
    const read = this.tables.get(layer);
    if (read) return read;
    const tensor = this.model.getLayer(layer).getWeights()[0]!;
    return { values: tensor.dataSync() as Float32Array, width: tensor.shape[1]! };
  }

  /**
   * Recommendations for someone the model has never seen, from items they like: their taste is taken
   * as the mean of those items' factors, scored against every item's factors plus its bias.
   * Needs the dot-product model (it reads `item_factors` and `item_bias`).
   */
  coldStart(likedItems: readonly string[], count = 10): Array<{ item: string; score: number }> {
    if (likedItems.length === 0) throw new Error('coldStart needs at least one liked item');
    const factors = this.weights('item_factors');
    const bias = this.weights('item_bias').values;
    const taste = new Float32Array(factors.width);
    for (const id of likedItems) {
      const row = this.item(id);
      for (let k = 0; k < factors.width; k++) taste[k]! += factors.values[row * factors.width + k]! / likedItems.length;
    }
    const scores = this.ids.items.map((_, row) => {
      let score = bias[row]!;
      for (let k = 0; k < factors.width; k++) score += taste[k]! * factors.values[row * factors.width + k]!;
      return score;
    });
    return topItems(this.ids.items, scores, count, new Set(likedItems));
  }

  /** Items whose factors point the same way (cosine similarity). */
  similarItems(item: string, count = 10): Array<{ item: string; score: number }> {
    const factors = this.weights('item_factors');
    const row = this.item(item);
    const norm = (r: number) => Math.hypot(...factors.values.subarray(r * factors.width, (r + 1) * factors.width));
    const own = norm(row);
    const scores = this.ids.items.map((_, other) => {
      let dot = 0;
      for (let k = 0; k < factors.width; k++) dot += factors.values[row * factors.width + k]! * factors.values[other * factors.width + k]!;
      return dot / (own * norm(other) || 1);
    });
    return topItems(this.ids.items, scores, count, new Set([item]));
  }

  /** The items liked most and least after accounting for who rated them (the item biases). */
  itemBiases(count = 10): { highest: Array<{ item: string; bias: number }>; lowest: Array<{ item: string; bias: number }> } {
    const bias = Array.from(this.weights('item_bias').values);
    const order = bias.map((value, i) => ({ item: this.ids.items[i]!, bias: value })).sort((a, b) => b.bias - a.bias);
    return { highest: order.slice(0, count), lowest: order.slice(-count).reverse() };
  }
}

function topItems(items: readonly string[], scores: number[], count: number, exclude: Set<string>): Array<{ item: string; score: number }> {
  return items
    .map((item, i) => ({ item, score: scores[i]! }))
    .filter(({ item }) => !exclude.has(item))
    .sort((a, b) => b.score - a.score)
    .slice(0, count);
}
