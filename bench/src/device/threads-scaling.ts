/**
 * Device check: wasm training-step time of the bench's U-Net against the thread count, on a machine
 * with more cores than the development one. One process per count (a process holds one wasm build):
 * `node threads-scaling.mjs <threads|auto>` prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@kindling/backend/node';
import { unet } from '@kindling/models';

const setting = process.argv[2] ?? 'auto';
const report = await initBackend({ backend: 'wasm', wasmThreads: setting === 'auto' ? 'auto' : Number(setting), log: false });
const model = unet({ inputShape: [null, null, 1], classes: 2, widths: [24, 48, 96, 192], seed: 1 });
const optimizer = tf.train.adam(1e-3);
const x = tf.randomNormal([2, 128, 128, 1], 0, 1, 'float32', 3);
const y = tf.oneHot(tf.randomUniform([2, 128, 128], 0, 2, 'int32', 4), 2);
const step = async () => {
  const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, true)!;
  const value = (await loss.data())[0]!;
  loss.dispose();
  return value;
};
for (let i = 0; i < 3; i++) await step();
const start = performance.now();
let last = 0;
for (let i = 0; i < 10; i++) last = await step();
console.log(JSON.stringify({ setting, detail: report.detail, msPerStep: (performance.now() - start) / 10, loss: last }));
