import { CHECKPOINT_OPTIONS, checkOutputs, checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { choice, namer, settle, sharedOptions, text, toggle, wholeNumber, type OptionsGiven } from './options';
import { recipeCallbacks, reporters, workersLine, type RecipeOptions } from './recipe';
import { createBundle } from '@kindling/deploy';
import type { CollabTask } from '@kindling/tabular';
import { saveBundle } from '@kindling/deploy/node';
import { DataError, randomSplitter, TensorDataLoader } from '@kindling/data';
import { readCsvFile } from '@kindling/data/node';
import { Learner, lossChart, mse, mseLoss, onLeader, rmse } from '@kindling/learner';
import { renderChartPng, writeFileAtomic } from '@kindling/learner/node';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { beatsBaseline, finishedEpoch, meanBaselineRmse, requireSplit } from './outcome';
import { join, resolve } from 'node:path';
import { collabNeural, dotProductBias, generateRatings, prepareRatings, type RatingExamples, ratingTensors, Recommender, withNegativeSamples } from '@kindling/tabular';

/** `trainCollab`'s settings: each one's type, default and help (the CLI's `kindling train collab` flags are made from them). */
export const TRAIN_COLLAB_OPTIONS = {
  user: text({ help: 'the user id column', placeholder: 'column', default: 'user' }),
  item: text({ help: 'the item id column', placeholder: 'column', default: 'item' }),
  rating: text({ help: 'the rating column', placeholder: 'column', default: 'rating' }),
  implicit: toggle({ help: 'no ratings: each row is a pick, learned against sampled items the user did not pick', default: false }),
  columns: text({ help: 'column names, comma separated, for a file without a header row (MovieLens u.data: user,item,rating,timestamp)', placeholder: 'names' }),
  delimiter: text({ help: 'field delimiter (default: tab for .tsv/.data, else comma)', placeholder: 'char' }),
  model: choice({ help: 'dot (dot product with biases) or neural', placeholder: 'kind', choices: ['dot', 'neural'], default: 'dot' }),
  factors: wholeNumber({ help: 'latent factors per user and item', default: 50, max: 1024 }),
  epochs: sharedOptions.epochs(5),
  lr: sharedOptions.lr(5e-3),
  wd: sharedOptions.wd(),
  batchSize: sharedOptions.batchSize('ratings', 512),
  validPct: sharedOptions.validPct('share of ratings held out', 0.1),
  seed: sharedOptions.seed(),
  out: sharedOptions.out('collab', ' and its kindling.json'),
  ...CHECKPOINT_OPTIONS,
};

/** What `trainCollab` may be given: every setting of {@link TRAIN_COLLAB_OPTIONS} (each optional), and what every recipe takes. */
export type TrainCollabOptions = RecipeOptions & Omit<OptionsGiven<typeof TRAIN_COLLAB_OPTIONS>, keyof CheckpointFlags>;

/** `kindling train collab [ratings.csv]`: ratings in, a recommender out (default: generated ratings with planted tastes). */
export async function trainCollab(file: string | undefined, given: TrainCollabOptions = {}): Promise<{ validMse: number; outputDirectory: string; beatsBaseline: boolean }> {
  const options = settle(TRAIN_COLLAB_OPTIONS, given);
  const name = namer(options);
  const { say, warn } = reporters(options);
  await checkOutputs(options); // a read-only or full output folder is one line now, not after the training
  let rows: Array<Record<string, string>>;
  let columns = { user: options.user, item: options.item, rating: options.implicit ? undefined : options.rating };
  if (file === undefined) {
    const generated = generateRatings({ users: 943, items: 1682, ratings: 100_000, genres: 8, noise: 0.5, seed: options.seed });
    rows = generated.rows;
    columns = { user: 'user', item: 'item', rating: options.implicit ? undefined : 'rating' };
    say(`generated 100,000 ratings of 1,682 items by 943 users from planted tastes (noise variance ${generated.noiseVariance}: the best reachable MSE)`);
  } else {
    const delimiter = options.delimiter ?? (/\.(tsv|data)$/i.test(file) ? '\t' : ',');
    rows = await readCsvFile(file, { delimiter, columns: options.columns?.split(',').map((c) => c.trim()) });
  }
  const ratings = prepareRatings(rows, { ...columns, source: file ?? 'generated ratings' });
  if (ratings.mergedDuplicates > 0) say(`merged ${ratings.mergedDuplicates} duplicate (user, item) ratings by their mean`);
  const examples: RatingExamples = columns.rating
    ? { user: ratings.user, item: ratings.item, target: ratings.rating }
    : (({ user, item, label }) => ({ user, item, target: label }))(withNegativeSamples(ratings, { perPositive: 2, seed: options.seed }));
  let [low, high] = [Infinity, -Infinity];
  for (const value of examples.target) [low, high] = [Math.min(low, value), Math.max(high, value)];
  const yRange: [number, number] = columns.rating ? [low - 0.05 * (high - low), high + 0.05 * (high - low)] : [0, 1];
  if (columns.rating && Math.max(Math.abs(low), Math.abs(high)) > 1e6) {
    throw new DataError(`ratings run from ${low.toPrecision(3)} to ${high.toPrecision(3)}: values this large overflow float32 training; rescale the '${columns.rating}' column (ratings are usually 0–10)`, { file: file ?? 'generated ratings', field: columns.rating });
  }
  const split = randomSplitter<number>({ validPct: options.validPct, seed: options.seed })(Array.from(examples.target.keys()));
  requireSplit(split, 'ratings', file ?? 'generated ratings', name);
  const train = ratingTensors(examples, split.train);
  const valid = ratingTensors(examples, split.valid);
  const modelOptions = { users: ratings.users.size, items: ratings.items.size, factors: options.factors, yRange, seed: options.seed };
  const model = options.model === 'dot' ? dotProductBias(modelOptions) : collabNeural(modelOptions);
  const learner = new Learner({
    model,
    data: {
      train: new TensorDataLoader(train.inputs, train.targets, { batchSize: options.batchSize, shuffle: true, seed: options.seed }),
      valid: new TensorDataLoader(valid.inputs, valid.targets, { batchSize: 4096 }),
    },
    loss: mseLoss(),
    metrics: [mse(), rmse()],
    callbacks: recipeCallbacks(options),
    seed: options.seed,
  });
  try {
    say(`${ratings.users.size} users, ${ratings.items.size} items, ${split.train.length} training and ${split.valid.length} validation ratings`);
    const workers = workersLine(options, options.batchSize, 'ratings');
    if (workers !== undefined) say(workers);
    const resuming = await checkpointing(options, planOf('collab', file, options));
    await learner.fitOneCycle(options.epochs, options.lr, { weightDecay: options.wd, callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    // the report and the bundle: rank 0's, once every worker has trained
    return await onLeader(options.group, async () => {
      const final = finishedEpoch(learner, { name });
      const table = new Table({ head: ['epoch', 'train loss', 'valid MSE', 'valid RMSE', 'seconds'], style: { head: [], border: [] } });
      for (const record of learner.recorder.epochs) {
        table.push([record.epoch + 1, record.trainLoss.toFixed(4), record.metrics.mse!.toFixed(4), record.metrics.rmse!.toFixed(4), record.seconds.toFixed(1)]);
      }
      say(table.toString());
      // read once, asynchronously: a synchronous read stalls a GPU, and cannot run on WebGPU in Node
      const recommender = await new Recommender(model, { users: ratings.users.labels, items: ratings.items.labels }).ready();
      if (options.model === 'dot') {
        const { highest, lowest } = recommender.itemBiases(5);
        say(`most liked, after accounting for who rates them: ${highest.map((entry) => entry.item).join(', ')}`);
        say(`least liked: ${lowest.map((entry) => entry.item).join(', ')}`);
      }
      const firstUser = ratings.users.labels[0]!;
      say(`top 5 for user ${firstUser}: ${(await recommender.recommendAsync(firstUser, 5)).map((entry) => `${entry.item} (${entry.score.toFixed(2)})`).join(', ')}`);
      const outputDirectory = resolve(options.out);
      const bundle = await createBundle(
        model,
        { kind: 'collab', model: options.model, users: [...ratings.users.labels], items: [...ratings.items.labels], yRange, implicit: !columns.rating } satisfies CollabTask,
        { metrics: { mse: final.metrics.mse, rmse: final.metrics.rmse }, training: { factors: options.factors, epochs: options.epochs, lr: options.lr, weightDecay: options.wd, batchSize: options.batchSize, seed: options.seed } },
      );
      await saveBundle(bundle, outputDirectory);
      await writeFileAtomic(join(outputDirectory, 'loss.png'), await renderChartPng(lossChart(learner)));
      say(`validation MSE ${final.metrics.mse!.toFixed(4)}; the bundle (kindling.json, model.json, weights.bin) and loss.png are in ${outputDirectory}`);
      const baseline = meanBaselineRmse(split.train.map((index) => examples.target[index]!), split.valid.map((index) => examples.target[index]!));
      const beats = beatsBaseline({ metric: 'validation RMSE', model: final.metrics.rmse!, baseline: baseline.rmse, baselineName: `always answering the mean rating ${baseline.mean.toPrecision(3)}`, higherIsBetter: false, format: (value) => value.toPrecision(4) }, warn, name);
      return { validMse: final.metrics.mse!, outputDirectory, beatsBaseline: beats };
    });
  } finally {
    learner.dispose();
    model.dispose();
    tf.dispose([...train.inputs, train.targets, ...valid.inputs, valid.targets]);
  }
}
