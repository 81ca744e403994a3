import * as tf from '@tensorflow/tfjs';
import { backendLabel, startBenchBackend } from './threads';
import { ItemDataLoader } from '@kindling/data';
import { readIdxFile } from '@kindling/data/node';
import { encodePng, loadImage } from '@kindling/image/node';
import { accuracy, crossEntropyLoss, Learner } from '@kindling/learner';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';

/** `../shared/datasets` beside the checkout (CI and development machines), or `KINDLING_DATASETS`. */
export function datasetsRoot(): string {
  return process.env.KINDLING_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
}

const MEAN = 0.286;
const STD = 0.353;

/**
 * A split as a loader over the raw bytes: batches become tensors only when they are used, so the
 * backend's memory holds a batch, not 60,000 float images.
 */
async function loadSplit(root: string, prefix: 'train' | 't10k', training: boolean) {
  const images = await readIdxFile(join(root, `${prefix}-images-idx3-ubyte.gz`));
  const labels = await readIdxFile(join(root, `${prefix}-labels-idx1-ubyte.gz`));
  const raw = images.data as Uint8Array;
  const count = images.shape[0]!;
  const loader = new ItemDataLoader({
    items: Array.from({ length: count }, (_, i) => i),
    load: (i: number) => ({ input: { data: raw.subarray(i * 784, (i + 1) * 784), shape: [28, 28, 1] }, target: labels.data[i]! }),
    batchSize: training ? 128 : 1000,
    shuffle: training,
    seed: 1,
    cache: false,
    batchTransform: (batch) => ({ inputs: (batch.inputs as tf.Tensor).div(255).sub(MEAN).div(STD), targets: batch.targets }),
  });
  return { loader, raw, count };
}

/** The same small CNN as `torch_fashion_mnist.py`, with seeded initializers. */
function fashionCnn(): tf.LayersModel {
  let seed = 1;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same', kernelInitializer: init() }),
      tf.layers.batchNormalization({ momentum: 0.9 }),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', kernelInitializer: init() }),
      tf.layers.batchNormalization({ momentum: 0.9 }),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init() }),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.dense({ units: 10, kernelInitializer: init() }),
    ],
  });
}

/** decode + resize throughput of the Node image path (sharp), on PNGs made from the test images. */
async function decodeThroughput(raw: Uint8Array, count: number): Promise<number> {
  const pngs = await Promise.all(Array.from({ length: count }, (_, i) => encodePng({ data: raw.subarray(i * 784, (i + 1) * 784), shape: [28, 28, 1] })));
  const start = performance.now();
  for (let i = 0; i < count; i += 32) await Promise.all(pngs.slice(i, i + 32).map((png) => loadImage(png, { size: 32, channels: 1 })));
  return count / ((performance.now() - start) / 1000);
}

export async function benchFashionMnist(): Promise<void> {
  const root = join(datasetsRoot(), 'image', 'fashion-mnist');
  const epochs = Number(process.env.KINDLING_BENCH_EPOCHS ?? 5);
  console.log(`\n## Fashion-MNIST (${epochs} epochs, small CNN, batch 128, one-cycle 3e-3)\n`);
  if (!existsSync(join(root, 'train-images-idx3-ubyte.gz'))) {
    console.log(`Fashion-MNIST is not at ${root} (set KINDLING_DATASETS): skipped.`);
    return;
  }
  let torch: { testAccuracy: number; secondsPerEpoch: number } | undefined;
  if (hasPythonModule('torch')) torch = runPythonBaseline('torch_fashion_mnist.py', [root, String(epochs)]);
  else console.log('PyTorch is not installed (Debian python3-torch): no baseline this run.');
  const report = await startBenchBackend();
  const train = await loadSplit(root, 'train', true);
  const test = await loadSplit(root, 't10k', false);
  const decodePerSecond = await decodeThroughput(test.raw, 2000);
  const model = fashionCnn();
  const learner = new Learner({
    model,
    data: { train: train.loader, valid: test.loader },
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    seed: 1,
  });
  await learner.fitOneCycle(epochs, 3e-3);
  const final = learner.recorder.epochs.at(-1)!;
  const secondsPerEpoch = learner.recorder.epochs.reduce((sum, e) => sum + e.seconds, 0) / learner.recorder.epochs.length;
  const rows = [[`Kindling (${backendLabel(report)})`, `${(final.metrics.accuracy! * 100).toFixed(2)}%`, secondsPerEpoch.toFixed(1), torch ? (secondsPerEpoch / torch.secondsPerEpoch).toFixed(2) : '']];
  if (torch) rows.push(['PyTorch CPU, 2 threads (baseline)', `${(torch.testAccuracy * 100).toFixed(2)}%`, torch.secondsPerEpoch.toFixed(1), '1']);
  printTable(['run', 'test accuracy', 's/epoch', 'time ratio'], rows);
  console.log(`\ndecode + resize (sharp, PNG 28×28 → 32×32 grey): ${decodePerSecond.toFixed(0)} images/s`);
  learner.dispose();
  model.dispose();
}
