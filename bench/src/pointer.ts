import * as tf from '@tensorflow/tfjs';
import { backendLabel, startBenchBackend } from './threads';
import { accuracy, crossEntropyLoss, fromLayersModel, Learner } from '@kindling/learner';
import { HEAD_LAYER, resnet } from '@kindling/models';
import { cutWindows, rasterChannels, rasterize, type RasterOptions, type WindowOptions } from '@kindling/pointer';
import { pointerFolderDataLoaders, readRecordingFile } from '@kindling/pointer/node';
import { folderItems } from '@kindling/data/node';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { datasetsRoot } from './fashion-mnist';
import { printTable } from './table';

const EPOCHS = Number(process.env.KINDLING_BENCH_EPOCHS ?? 12);
const FOLDS = Number(process.env.KINDLING_BENCH_FOLDS ?? 3);
const WINDOW: WindowOptions = { by: 'events', size: 50 };
/**
 * `bbox` (each window's own extent: shape and dynamics), `screen` (where on the screen: Balabit's largest
 * screen, 1920×1080) or `both` (the two pictures as six channels).
 */
const FIT = (['bbox', 'screen', 'both'] as const).find((fit) => fit === process.env.KINDLING_BENCH_FIT) ?? 'both';
const DYNAMICS = process.env.KINDLING_BENCH_DYNAMICS === 'log' ? 'log' : 'linear';
const RASTER: RasterOptions = { size: Number(process.env.KINDLING_BENCH_SIZE ?? 32), fit: FIT, dynamics: DYNAMICS, ...(FIT === 'bbox' ? {} : { screen: { width: 1920, height: 1080 } }) };
const PER_SESSION = Number(process.env.KINDLING_BENCH_WINDOWS ?? 120);
const WIDTHS = (process.env.KINDLING_BENCH_WIDTHS ?? '8,16,32').split(',').map(Number);

/** Balabit mouse dynamics: which of 10 users moves the mouse, whole sessions held out (one per user per fold). */
export async function benchPointer(): Promise<void> {
  const root = join(datasetsRoot(), 'pointer', 'balabit', 'training_files');
  console.log(`\n## Pointer: Balabit mouse dynamics, 10 users (windows of ${WINDOW.by === 'events' ? WINDOW.size : ''} events drawn ${RASTER.size}×${RASTER.size} (${FIT} fit, ${DYNAMICS} dynamics), ≤ ${PER_SESSION} windows per session; ResNet ${WIDTHS.join('-')}, ${EPOCHS} epochs; ${FOLDS} fold(s))\n`);
  if (!existsSync(root)) {
    console.log(`no Balabit data at ${root} (set KINDLING_DATASETS): skipped`);
    return;
  }
  const sessions = await folderItems(root);
  // rasterizer throughput on real windows
  const windows = cutWindows((await readRecordingFile(sessions[0]!)).events, WINDOW).slice(0, 3000);
  const start = performance.now();
  for (const window of windows) rasterize(window, RASTER);
  const rasterPerSecond = windows.length / ((performance.now() - start) / 1000);

  const report = await startBenchBackend();
  const byUser = new Map<string, string[]>();
  for (const session of sessions) byUser.set(basename(dirname(session)), [...(byUser.get(basename(dirname(session))) ?? []), session]);
  const rows: string[][] = [];
  let windowCorrect = 0;
  let windowTotal = 0;
  let sessionCorrect = 0;
  let sessionCorrectLog = 0;
  let sessionTotal = 0;
  for (let fold = 0; fold < FOLDS; fold++) {
    const heldOut = new Set([...byUser.values()].map((files) => files[fold % files.length]!));
    const data = await pointerFolderDataLoaders(root, { window: WINDOW, raster: RASTER, isValid: (file) => heldOut.has(file), maxPerFile: PER_SESSION, batchSize: 64, seed: fold });
    const model = resnet({ inputShape: [RASTER.size!, RASTER.size!, rasterChannels(RASTER)], classes: data.vocab.size, widths: WIDTHS, seed: fold });
    const learner = new Learner({ model: fromLayersModel(model, { splitAt: HEAD_LAYER }), data, loss: crossEntropyLoss(), metrics: [accuracy()], seed: fold });
    const began = performance.now();
    await learner.fitOneCycle(EPOCHS, 5e-3);
    const secondsPerEpoch = (performance.now() - began) / 1000 / EPOCHS;
    // session vote: mean class probability over the session's windows (and, beside it, the mean log probability)
    const votes = new Map<string, Float64Array>();
    const logVotes = new Map<string, Float64Array>();
    const items = data.valid.options.items;
    let position = 0;
    let correct = 0;
    for await (const batch of data.valid) {
      // asynchronous reads: a synchronous one cannot run on WebGPU in Node
      const softmax = tf.tidy(() => tf.softmax(model.predict(batch.inputs as tf.Tensor) as tf.Tensor));
      const probabilities = (await softmax.array()) as number[][];
      const targets = (await batch.targets.array()) as number[];
      tf.dispose([softmax, batch.inputs as tf.Tensor, batch.targets]);
      probabilities.forEach((row, index) => {
        const file = items[position++]!.file;
        const sum = votes.get(file) ?? new Float64Array(row.length);
        const logSum = logVotes.get(file) ?? new Float64Array(row.length);
        row.forEach((p, c) => {
          sum[c]! += p;
          logSum[c]! += Math.log(Math.max(p, 1e-7));
        });
        votes.set(file, sum);
        logVotes.set(file, logSum);
        if (row.indexOf(Math.max(...row)) === targets[index]) correct++;
      });
    }
    const sessionsRightBy = (sums: Map<string, Float64Array>) =>
      [...sums].filter(([file, sum]) => data.vocab.labels[Array.from(sum).indexOf(Math.max(...sum))] === basename(dirname(file))).length;
    const [sessionsRight, sessionsRightLog] = [sessionsRightBy(votes), sessionsRightBy(logVotes)];
    sessionCorrectLog += sessionsRightLog;
    rows.push([String(fold + 1), `${data.train.size} / ${items.length}`, `${((correct / items.length) * 100).toFixed(1)}%`, `${sessionsRight} / ${votes.size}`, `${sessionsRightLog} / ${votes.size}`, secondsPerEpoch.toFixed(1)]);
    windowCorrect += correct;
    windowTotal += items.length;
    sessionCorrect += sessionsRight;
    sessionTotal += votes.size;
    learner.dispose();
    model.dispose();
  }
  printTable(['fold', 'train / test windows', 'window accuracy', 'sessions right (mean probability)', '(mean log probability)', 's/epoch'], rows);
  console.log(`\nKindling (${backendLabel(report)}): window-level ${((windowCorrect / windowTotal) * 100).toFixed(1)}%, session-level ${((sessionCorrect / sessionTotal) * 100).toFixed(1)}% by mean probability, ${((sessionCorrectLog / sessionTotal) * 100).toFixed(1)}% by mean log probability (chance 10%);`);
  console.log('reference (issue): movement statistics + gradient boosting 67% window-level, 77% session-level over 3 folds');
  console.log(`rasterizer: ${rasterPerSecond.toFixed(0)} windows/s (${RASTER.size}×${RASTER.size}, 50 events each, 1 thread)`);
}
