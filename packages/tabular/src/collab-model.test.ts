import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, fastestTestBackend } from '@kindling/backend/testing';
import { DataError, randomSplitter, TensorDataLoader } from '@kindling/data';
import { loadLayersModel, saveLayersModel } from '@kindling/models/node';
import { generateInteractions, generateRatings, prepareRatings, ratingTensors, withNegativeSamples, type Ratings } from './ratings';
import { Learner, mse, mseLoss } from '@kindling/learner';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collabNeural, dotProductBias, Recommender } from './collab-model';

function loaders(ratings: Ratings, seed: number) {
  const indices = Array.from(ratings.rating.keys());
  const split = randomSplitter<number>({ validPct: 0.1, seed })(indices);
  const make = (rows: number[], shuffle: boolean) => {
    const { inputs, targets } = ratingTensors({ user: ratings.user, item: ratings.item, target: ratings.rating }, rows);
    return new TensorDataLoader(inputs, targets, { batchSize: 512, shuffle, seed });
  };
  return { train: make(split.train, true), valid: make(split.valid, false), split };
}

const disposeLoaders = (data: ReturnType<typeof loaders>) =>
  tf.dispose([...(data.train.inputs as tf.Tensor[]), data.train.targets, ...(data.valid.inputs as tf.Tensor[]), data.valid.targets]);

describe('ratings input', () => {
  it('maps ids of any kind to indices, merges duplicates, and names bad rows', () => {
    const rows = [
      { user: 'ann', item: 'Demon Slayer', stars: '5' },
      { user: 'bob', item: 'Chainsaw Man', stars: '4' },
      { user: 'ann', item: 'Demon Slayer', stars: '3' },
    ];
    const ratings = prepareRatings(rows, { user: 'user', item: 'item', rating: 'stars' });
    expect(ratings.users.labels).toEqual(['ann', 'bob']);
    expect(Array.from(ratings.rating)).toEqual([4, 4]);
    expect(ratings.mergedDuplicates).toBe(1);
    expect(() => prepareRatings(rows, { user: 'user', item: 'item', rating: 'stars', duplicates: 'error' })).toThrow("ratings, row 4: user 'ann' rated item 'Demon Slayer' more than once");
    expect(() => prepareRatings([{ user: 'a', item: 'b', stars: 'five' }], { user: 'user', item: 'item', rating: 'stars', source: 'r.csv' })).toThrow("r.csv, row 2, field 'stars': rating 'five' is not a number");
    expect(() => prepareRatings([{ user: 'a', item: 'b', stars: '9' }], { user: 'user', item: 'item', rating: 'stars', range: [1, 5] })).toThrow('rating 9 is outside the range 1–5');
    expect(() => prepareRatings([], { user: 'user', item: 'item' })).toThrow(DataError);
    expect(() => prepareRatings(rows, { user: 'customer', item: 'item' })).toThrow("no column 'customer'");
    const implicit = prepareRatings(rows, { user: 'user', item: 'item' });
    expect(Array.from(implicit.rating)).toEqual([1, 1]);
  });
});

// 120,000 ratings: a workload for torch or wasm; the pure-JS cpu backend would take minutes.
describeEachBackend(
  'collaborative filtering on planted tastes',
  () => {
  const generated = generateRatings({ users: 400, items: 400, ratings: 120_000, genres: 4, noise: 0.5, seed: 3 });
  const ratings = prepareRatings(generated.rows, { user: 'user', item: 'item', rating: 'rating' });
  const genreOf = (item: string) => generated.itemGenre[generated.items.indexOf(item)]!;

  it('the dot-product model gets within 10% of the noise floor and recovers the planted tastes', async () => {
    const data = loaders(ratings, 1);
    const model = dotProductBias({ users: ratings.users.size, items: ratings.items.size, factors: 8, yRange: [-1, 7], seed: 2 });
    const learner = new Learner({ model, data, loss: mseLoss(), metrics: [mse()], seed: 1 });
    await learner.fitOneCycle(8, 2e-2, { weightDecay: 0.01 });
    const validMse = learner.recorder.epochs.at(-1)!.metrics.mse!;
    expect(validMse).toBeLessThan(generated.noiseVariance * 1.1);

    const recommender = new Recommender(model, { users: ratings.users.labels, items: ratings.items.labels });
    // Recommendations for a user come from their favourite genre.
    let matching = 0;
    let total = 0;
    for (const user of ratings.users.labels.slice(0, 20)) {
      const favourite = generated.userFavourite[Number(user.slice(1))]!;
      for (const { item } of recommender.recommend(user, 5)) {
        total++;
        if (genreOf(item) === favourite) matching++;
      }
    }
    expect(matching / total).toBeGreaterThan(0.9);
    // Cold start: someone who liked two items of one genre is shown that genre first, without retraining.
    const liked = ratings.items.labels.filter((item) => genreOf(item) === 2).slice(0, 2);
    const cold = recommender.coldStart(liked, 8);
    expect(cold.filter(({ item }) => genreOf(item) === 2).length).toBeGreaterThanOrEqual(7);
    const similar = recommender.similarItems(liked[0]!, 5);
    expect(similar.filter(({ item }) => genreOf(item) === 2).length).toBeGreaterThanOrEqual(4);
    const { highest, lowest } = recommender.itemBiases(3);
    expect(highest[0]!.bias).toBeGreaterThan(lowest[0]!.bias);
    expect(() => recommender.predict([['stranger', liked[0]!]])).toThrow("unknown user 'stranger'");
    // the asynchronous reads (for browsers) give the same answers
    const firstUser = ratings.users.labels[0]!;
    expect(await recommender.predictAsync([[firstUser, liked[0]!], [firstUser, liked[1]!]])).toEqual(recommender.predict([[firstUser, liked[0]!], [firstUser, liked[1]!]]));
    expect(await recommender.recommendAsync(firstUser, 5)).toEqual(recommender.recommend(firstUser, 5));
    const fromTables = await new Recommender(model, { users: ratings.users.labels, items: ratings.items.labels }).ready();
    expect(fromTables.coldStart(liked, 8)).toEqual(cold);
    expect(fromTables.similarItems(liked[0]!, 5)).toEqual(similar);
    // It saves and loads (with its custom output layer) and predicts the same.
    const directory = join(mkdtempSync(join(tmpdir(), 'kindling-collab-')), 'model');
    await saveLayersModel(model, directory);
    const loaded = new Recommender(await loadLayersModel(directory), recommender.ids);
    const pair: [string, string] = [ratings.users.labels[0]!, ratings.items.labels[0]!];
    expect(loaded.predict([pair])[0]).toBeCloseTo(recommender.predict([pair])[0]!, 5);
    learner.dispose();
    model.dispose();
    loaded.model.dispose();
    disposeLoaders(data);
  });

  it('implicit feedback: trained on picks against sampled non-picks, it recommends each user\'s favourite genre', async () => {
    const interactions = generateInteractions({ users: 200, items: 120, perUser: 20, genres: 4, loyalty: 0.8, seed: 9 });
    const picks = prepareRatings(interactions.rows, { user: 'user', item: 'item' });
    const sampled = withNegativeSamples(picks, { perPositive: 2, seed: 1 });
    expect(sampled.label.filter((l) => l === 0).length).toBe(2 * picks.user.length);
    const examples = ratingTensors({ user: sampled.user, item: sampled.item, target: sampled.label }, Array.from(sampled.label.keys()));
    const train = new TensorDataLoader(examples.inputs, examples.targets, { batchSize: 256, shuffle: true, seed: 1 });
    const model = dotProductBias({ users: picks.users.size, items: picks.items.size, factors: 8, yRange: [0, 1], seed: 6 });
    const learner = new Learner({ model, data: { train }, loss: mseLoss(), seed: 1 });
    await learner.fitOneCycle(8, 2e-2, { weightDecay: 0.01 });
    const recommender = new Recommender(model, { users: picks.users.labels, items: picks.items.labels });
    const seenBy = new Map<string, string[]>();
    for (const row of interactions.rows) seenBy.set(row.user!, [...(seenBy.get(row.user!) ?? []), row.item!]);
    let matching = 0;
    let total = 0;
    for (const user of picks.users.labels.slice(0, 30)) {
      const favourite = interactions.userFavourite[Number(user.slice(1))]!;
      for (const { item } of recommender.recommend(user, 5, seenBy.get(user))) {
        total++;
        if (interactions.itemGenre[interactions.items.indexOf(item)] === favourite) matching++;
      }
    }
    expect(matching / total).toBeGreaterThan(0.8); // chance: 0.25
    learner.dispose();
    model.dispose();
    tf.dispose([...(train.inputs as tf.Tensor[]), train.targets]);
  });

  it('the neural variant learns too (well below the spread of the ratings)', async () => {
    const data = loaders(ratings, 2);
    const model = collabNeural({ users: ratings.users.size, items: ratings.items.size, factors: 16, hidden: [32], yRange: [-1, 7], seed: 4 });
    const learner = new Learner({ model, data, loss: mseLoss(), metrics: [mse()], seed: 2 });
    const before = (await learner.validate()).metrics.mse!;
    await learner.fitOneCycle(8, 1e-2, { weightDecay: 0.05 });
    expect(learner.recorder.epochs.at(-1)!.metrics.mse!).toBeLessThan(before * 0.5);
    learner.dispose();
    model.dispose();
    disposeLoaders(data);
  });
  },
  [fastestTestBackend()],
);
