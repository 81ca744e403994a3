import * as tf from '@tensorflow/tfjs';
import { SoundPipeline, type SoundPreprocessing } from '@kindling/audio';
import { DEFAULT_SOUND_PREPROCESSING, readSound, soundFolderDataLoaders } from '@kindling/audio/node';
import { backendLabel, startBenchBackend } from './threads';
import { folderItems } from '@kindling/data/node';
import { accuracy, crossEntropyLoss, fromLayersModel, Learner } from '@kindling/learner';
import { HEAD_LAYER, resnet } from '@kindling/models';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { datasetsRoot } from './fashion-mnist';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';

const EPOCHS = Number(process.env.KINDLING_BENCH_EPOCHS ?? 20);
const PREPROCESSING: SoundPreprocessing = { ...DEFAULT_SOUND_PREPROCESSING, spectrogram: { ...DEFAULT_SOUND_PREPROCESSING.spectrogram, hopLength: 80 } };
const WIDTHS = [16, 32, 64];

interface Scored {
  accuracy: number;
  secondsPerEpoch: number;
  train: number;
  valid: number;
}

const LABEL = /^(\d)_/;
const LR = 5e-3;
const BATCH_SIZE = 32;

/** Kindling's run, and (with PyTorch and torchaudio installed, unless KINDLING_BENCH_TWIN=0) its PyTorch twin on the same clips. */
async function trainAndScore(folder: string, isValid: (file: string) => boolean): Promise<{ kindling: Scored; twin?: Scored }> {
  const data = await soundFolderDataLoaders(folder, { label: LABEL, isValid, preprocessing: PREPROCESSING, batchSize: BATCH_SIZE, seed: 42 });
  const kindling = await trainKindling(data);
  if (process.env.KINDLING_BENCH_TWIN === '0' || !hasPythonModule('torchaudio')) return { kindling };
  const labelled = (files: readonly string[]) => files.map((file) => [file, data.vocab.labels.indexOf(LABEL.exec(basename(file))![1]!)]);
  const { nFft, hopLength, mels, topDb } = PREPROCESSING.spectrogram;
  const config = join(mkdtempSync(join(tmpdir(), 'kindling-sound-twin-')), 'config.json');
  writeFileSync(config, JSON.stringify({ train: labelled(data.train.options.items), valid: labelled(data.valid.options.items), classes: data.vocab.size, nFft, hop: hopLength, mels, topDb: topDb ?? 80, epochs: EPOCHS, lr: LR, batchSize: BATCH_SIZE, widths: WIDTHS, speed: data.speed.share, seed: 42 }));
  return { kindling, twin: runPythonBaseline<Scored>('torch_sound_twin.py', [config]) };
}

async function trainKindling(data: Awaited<ReturnType<typeof soundFolderDataLoaders>>): Promise<Scored> {
  const model = resnet({ inputShape: data.pipeline.shape, classes: data.vocab.size, widths: WIDTHS, seed: 42 });
  const learner = new Learner({
    model: fromLayersModel(model, { splitAt: HEAD_LAYER }),
    data,
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    callbacks: [{ order: 90, afterEpoch: (learner) => console.log(`  epoch ${learner.epoch + 1}/${EPOCHS}: valid accuracy ${(learner.recorder.epochs.at(-1)!.metrics.accuracy! * 100).toFixed(2)}%`) }],
    seed: 42,
  });
  try {
    const start = performance.now();
    await learner.fitOneCycle(EPOCHS, LR);
    return { accuracy: learner.recorder.epochs.at(-1)!.metrics.accuracy!, secondsPerEpoch: (performance.now() - start) / 1000 / EPOCHS, train: data.train.size, valid: data.valid.size };
  } finally {
    learner.dispose();
    model.dispose();
  }
}

/** Free Spoken Digit Dataset: official split, one speaker held out, and log-mel throughput beside torchaudio. */
export async function benchSound(): Promise<void> {
  const folder = join(datasetsRoot(), 'audio', 'fsdd', 'recordings');
  const { nFft, hopLength, mels } = PREPROCESSING.spectrogram;
  console.log(`\n## Sound: Free Spoken Digit Dataset (8 kHz, 1 s clips, log-mel ${mels} bands, n_fft ${nFft}, hop ${hopLength}; ResNet ${WIDTHS.join('-')}, ${EPOCHS} epochs one-cycle, time shift + noise augmentation)\n`);
  if (!existsSync(folder)) {
    console.log(`no FSDD recordings at ${folder} (set KINDLING_DATASETS): skipped`);
    return;
  }
  const files = await folderItems(folder, { extensions: ['.wav'] });
  const pipeline = new SoundPipeline(PREPROCESSING);
  const waves = await Promise.all(files.map(async (file) => pipeline.prepare(await readSound(file), file)));
  const audioSeconds = waves.reduce((sum, wave) => sum + wave.length, 0) / PREPROCESSING.sampleRate;
  for (const wave of waves.slice(0, 200)) pipeline.maker.compute(wave); // warm up the JIT, as a long job would be
  const start = performance.now();
  for (const wave of waves) pipeline.maker.compute(wave);
  const kindlingRealtime = audioSeconds / ((performance.now() - start) / 1000);
  const throughput = [[`Kindling (TypeScript, 1 thread)`, kindlingRealtime.toFixed(0), '']];
  if (hasPythonModule('torchaudio')) {
    const list = join(mkdtempSync(join(tmpdir(), 'kindling-fsdd-')), 'files.txt');
    writeFileSync(list, files.join('\n'));
    const torchaudio = runPythonBaseline<{ realtime: number }>('torchaudio_logmel.py', [list, String(nFft), String(hopLength), String(mels)]);
    throughput[0]![2] = (kindlingRealtime / torchaudio.realtime).toFixed(2);
    throughput.push(['torchaudio 0.13, 2 threads (baseline)', torchaudio.realtime.toFixed(0), '1']);
  } else {
    console.log('torchaudio is not installed (Debian python3-torchaudio): no throughput baseline this run.');
  }
  printTable(['log-mel spectrogram', `× real time (${audioSeconds.toFixed(0)} s of audio, whole clips)`, 'ratio'], throughput);
  console.log();

  const report = await startBenchBackend();
  const number = (file: string) => Number(/_(\d+)\.wav$/.exec(basename(file))![1]);
  const splits = (process.env.KINDLING_BENCH_SPLITS ?? 'official,speaker').split(',');
  const rows: string[][] = [];
  const row = (split: string, { kindling, twin }: { kindling: Scored; twin?: Scored }) => {
    const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
    rows.push([split, `${kindling.train} / ${kindling.valid}`, percent(kindling.accuracy), kindling.secondsPerEpoch.toFixed(2), twin ? percent(twin.accuracy) : '–', twin ? twin.secondsPerEpoch.toFixed(2) : '–', twin ? (kindling.secondsPerEpoch / twin.secondsPerEpoch).toFixed(2) : '–']);
  };
  if (splits.includes('official')) row('official (recordings 0–4 are test)', await trainAndScore(folder, (file) => number(file) <= 4));
  if (splits.includes('speaker')) row('speaker yweweler held out', await trainAndScore(folder, (file) => basename(file).includes('_yweweler_')));
  printTable(['split', 'train / test clips', `Kindling (${backendLabel(report)}) accuracy`, 's/epoch', 'PyTorch twin accuracy', 's/epoch', 'time ratio'], rows);
  console.log(`tensors left: ${tf.memory().numTensors}`);
}
