/**
 * One worker of `pnpm bench distributed` (or the single process it is compared with): the reference CNN (64×64×3 →
 * conv32 → pool → conv64 → pool → dense 10) trained by the Learner on random pictures, a global batch of 32, Adam,
 * on the torch backend with OMP_NUM_THREADS threads. Under a launcher (torchrun) it is one of WORLD_SIZE workers,
 * each on its share of every batch; rank 0 prints one JSON line: images/s over the steps after the warm-up.
 *   node --import tsx src/distributed-worker.ts <steps> <warmup>
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@kindling/backend/node';
import { joinProcessGroup, launchedWorker } from '@kindling/backend-torch';
import { TensorDataLoader } from '@kindling/data';
import { adam, crossEntropyLoss, distributedTrainer, Learner, type Callback } from '@kindling/learner';

const [steps = 30, warmup = 5] = process.argv.slice(2).map(Number);
const report = await initBackend({ backend: 'torch', log: false });
const worker = launchedWorker();
const group = worker === undefined || worker.size === 1 ? undefined : await joinProcessGroup(worker);
const batch = 32;
const rows = (steps + warmup) * batch;
const x = tf.randomUniform([rows, 64, 64, 3], 0, 1, 'float32', 1);
const y = tf.randomUniform([rows], 0, 10, 'int32', 2);
const model = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [64, 64, 3], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
  ],
});
let started = 0;
let step = 0;
const clock: Callback = {
  name: 'clock',
  order: 90,
  afterBatch() {
    step++;
    if (step === warmup) started = performance.now();
  },
};
const learner = new Learner({
  model,
  data: { train: new TensorDataLoader(x, y, { batchSize: batch, shuffle: true, seed: 6 }) },
  loss: crossEntropyLoss(),
  optimizer: adam(),
  callbacks: [...(group === undefined ? [] : [distributedTrainer(group)]), clock],
});
await learner.fit(1, { lr: 1e-3 });
const seconds = (performance.now() - started) / 1000;
if ((group?.rank ?? 0) === 0) {
  console.log(JSON.stringify({ imagesPerSecond: ((step - warmup) * batch) / seconds, steps: step - warmup, workers: group?.size ?? 1, backend: report.detail, loss: learner.recorder.losses.at(-1) }));
}
group?.leave();
