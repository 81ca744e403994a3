import * as tf from '@tensorflow/tfjs';
import { resnet, unet } from '@kindling/models';
import { referenceCnn } from './backend-throughput';
import { backendLabel, startBenchBackend } from './threads';
import { printTable } from './table';
import { dotProductBias, tabularModel } from '@kindling/tabular';

interface Task {
  name: string;
  model: () => tf.LayersModel;
  batch: () => { x: tf.Tensor | tf.Tensor[]; y: tf.Tensor };
  loss: string;
}

/** Each task's model at the size its recipe trains, one batch of its kind. */
const TASKS: Task[] = [
  {
    name: 'reference CNN, 64×64×3, batch 32',
    model: () => referenceCnn(),
    batch: () => ({ x: tf.randomUniform([32, 64, 64, 3]), y: tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10) }),
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'image: ResNet (pnpm start), 32×32×3, batch 16',
    model: () => resnet({ inputShape: [32, 32, 3], classes: 4 }),
    batch: () => ({ x: tf.randomUniform([16, 32, 32, 3]), y: tf.oneHot(tf.randomUniform([16], 0, 4, 'int32'), 4) }),
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'sound: ResNet 16-32-64 (the FSDD bench), 101×40×1 log-mel, batch 32',
    model: () => resnet({ inputShape: [101, 40, 1], classes: 10, widths: [16, 32, 64] }),
    batch: () => ({ x: tf.randomNormal([32, 101, 40, 1]), y: tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10) }),
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'segmentation: U-Net 12-96 (the ISBI recipe), 256×256×1 crops, batch 2',
    model: () => unet({ inputShape: [256, 256, 1], classes: 2, widths: [12, 24, 48, 96] }),
    batch: () => ({ x: tf.randomUniform([2, 256, 256, 1]), y: tf.oneHot(tf.randomUniform([2, 256, 256], 0, 2, 'int32'), 2) }),
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'tabular: 200-100 MLP, 8 categorical + 6 continuous, batch 256',
    model: () => tabularModel({ cardinalities: [10, 20, 5, 8, 16, 3, 40, 7], continuous: 6, outputs: 2 }),
    batch: () => ({
      x: [tf.randomUniform([256, 8], 0, 3, 'int32'), tf.randomNormal([256, 6])],
      y: tf.oneHot(tf.randomUniform([256], 0, 2, 'int32'), 2),
    }),
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'collab: dot product with biases, 50 factors, batch 64',
    model: () => dotProductBias({ users: 1000, items: 1700, factors: 50 }),
    batch: () => ({ x: [tf.randomUniform([64, 1], 0, 1000, 'int32'), tf.randomUniform([64, 1], 0, 1700, 'int32')], y: tf.randomUniform([64, 1], 1, 5) }),
    loss: 'meanSquaredError',
  },
];

/** Kernels the torch backend runs on libtorch (every other kernel runs the cpu backend's JavaScript). */
async function torchKernels(): Promise<Set<string>> {
  try {
    const torch = (await import('@kindling/backend-torch')) as { TORCH_KERNEL_NAMES: readonly string[] };
    return new Set(torch.TORCH_KERNEL_NAMES);
  } catch {
    return new Set();
  }
}

/**
 * `pnpm bench profile`: where each task's training step spends its time, kernel by kernel, on the backend
 * that runs (KINDLING_BENCH_BACKEND to choose). On torch each kernel is marked libtorch or JavaScript; the
 * goal is no JavaScript kernel above 5% of a step.
 */
export async function benchKernelProfile(): Promise<void> {
  const report = await startBenchBackend();
  const native = report.name === 'torch' ? await torchKernels() : new Set<string>();
  console.log(`\n## Kernel profile of each task's training step (${backendLabel(report)})\n`);
  for (const task of TASKS) {
    const model = task.model();
    model.compile({ optimizer: tf.train.adam(1e-3), loss: task.loss });
    const { x, y } = task.batch();
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    const steps = 5;
    const started = performance.now();
    const times = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < steps; i++) {
      const profile = await tf.profile(async () => {
        await model.trainOnBatch(x, y);
      });
      for (const kernel of profile.kernels) {
        // ops with custom gradients appear as their own records around the kernels they run
        if (kernel.name.endsWith('__op')) continue;
        const ms = Number(kernel.kernelTimeMs);
        times.set(kernel.name, (times.get(kernel.name) ?? 0) + ms);
        total += ms;
      }
    }
    const stepMs = (performance.now() - started) / steps;
    const rows = [...times]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, ms]) => [name, (ms / steps).toFixed(2), `${((100 * ms) / total).toFixed(1)}%`, report.name === 'torch' ? (native.has(name) ? 'libtorch' : 'JavaScript') : report.name]);
    const javascript = [...times].filter(([name]) => report.name === 'torch' && !native.has(name)).reduce((sum, [, ms]) => sum + ms, 0);
    console.log(`### ${task.name}: ${stepMs.toFixed(1)} ms a step (profiled), kernels ${(total / steps).toFixed(1)} ms${report.name === 'torch' ? `, ${((100 * javascript) / total).toFixed(1)}% of it in JavaScript kernels` : ''}\n`);
    printTable(['kernel', 'ms a step', 'share of kernel time', 'runs in'], rows);
    if (report.name === 'torch') {
      const largest = [...times].filter(([name]) => !native.has(name)).sort((a, b) => b[1] - a[1]).slice(0, 4);
      console.log(`largest JavaScript kernels: ${largest.map(([name, ms]) => `${name} ${((100 * ms) / total).toFixed(1)}%`).join(', ') || 'none'}`);
    }
    console.log('');
    tf.dispose([...(Array.isArray(x) ? x : [x]), y]);
    model.dispose();
  }
}
