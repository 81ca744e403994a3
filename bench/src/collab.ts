import * as tf from '@tensorflow/tfjs';
import { backendLabel, startBenchBackend } from './threads';
import { randomSplitter, TensorDataLoader } from '@kindling/data';
import { Learner, mse, mseLoss } from '@kindling/learner';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';
import { dotProductBias, generateRatings, prepareRatings, ratingTensors, Recommender } from '@kindling/tabular';

const FACTORS = 50;
const EPOCHS = 5;
const LR = 1e-2;
const WD = 0.01;

/** Collaborative filtering at MovieLens-100k size: generated ratings with planted tastes, same split for both. */
export async function benchCollab(): Promise<void> {
  console.log(`\n## Collaborative filtering (943 users, 1,682 items, 100,000 generated ratings; dot product with biases, ${FACTORS} factors, ${EPOCHS} epochs)\n`);
  const generated = generateRatings({ users: 943, items: 1682, ratings: 100_000, genres: 8, noise: 0.5, seed: 11 });
  const ratings = prepareRatings(generated.rows, { user: 'user', item: 'item', rating: 'rating' });
  const split = randomSplitter<number>({ validPct: 0.2, seed: 1 })(Array.from(ratings.rating.keys()));
  const values = Array.from(ratings.rating);
  const yRange: [number, number] = [Math.min(...values) - 0.25, Math.max(...values) + 0.25];
  const validSet = new Set(split.valid);
  let torch: { validMse: number; seconds: number } | undefined;
  if (hasPythonModule('torch')) {
    const file = join(mkdtempSync(join(tmpdir(), 'kindling-collab-bench-')), 'ratings.tsv');
    writeFileSync(file, values.map((rating, r) => `${ratings.user[r]}\t${ratings.item[r]}\t${rating}\t${validSet.has(r) ? 1 : 0}`).join('\n'));
    torch = runPythonBaseline('torch_collab.py', [file, String(FACTORS), String(EPOCHS), String(LR), String(WD), String(yRange[0]), String(yRange[1])]);
  } else {
    console.log('PyTorch is not installed (Debian python3-torch): no baseline this run.');
  }
  const report = await startBenchBackend();
  const examples = { user: ratings.user, item: ratings.item, target: ratings.rating };
  const train = ratingTensors(examples, split.train);
  const valid = ratingTensors(examples, split.valid);
  const model = dotProductBias({ users: ratings.users.size, items: ratings.items.size, factors: FACTORS, yRange, seed: 1 });
  const learner = new Learner({
    model,
    data: { train: new TensorDataLoader(train.inputs, train.targets, { batchSize: 512, shuffle: true, seed: 1 }), valid: new TensorDataLoader(valid.inputs, valid.targets, { batchSize: 8192 }) },
    loss: mseLoss(),
    metrics: [mse()],
  });
  const start = performance.now();
  await learner.fitOneCycle(EPOCHS, LR, { weightDecay: WD });
  const seconds = (performance.now() - start) / 1000;
  const validMse = learner.recorder.epochs.at(-1)!.metrics.mse!;
  const recommender = new Recommender(model, { users: ratings.users.labels, items: ratings.items.labels });
  const users = ratings.users.labels.slice(0, 50);
  const recommendStart = performance.now();
  for (const user of users) recommender.recommend(user, 10);
  const recommendationsPerSecond = users.length / ((performance.now() - recommendStart) / 1000);
  const rows = [[`Kindling (${backendLabel(report)})`, validMse.toFixed(4), Math.sqrt(validMse).toFixed(4), seconds.toFixed(1), torch ? (seconds / torch.seconds).toFixed(2) : '']];
  if (torch) rows.push(['PyTorch CPU, 2 threads (baseline)', torch.validMse.toFixed(4), Math.sqrt(torch.validMse).toFixed(4), torch.seconds.toFixed(1), '1']);
  printTable(['run', 'valid MSE', 'valid RMSE', 'train seconds', 'time ratio'], rows);
  console.log(`\nnoise floor (best reachable MSE): ${generated.noiseVariance}; top-10 recommendations over all 1,682 items: ${recommendationsPerSecond.toFixed(1)} users/s`);
  learner.dispose();
  model.dispose();
  tf.dispose([...train.inputs, train.targets, ...valid.inputs, valid.targets]);
}
