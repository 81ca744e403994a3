/**
 * Node-only parts of the Learner: checkpoints on disk, a terminal progress bar, charts as PNG files.
 * Kept behind `@kindling/learner/node` so a browser bundle never pulls in `fs` or a canvas; the canvas
 * (@napi-rs/canvas) is an optional peer, loaded when a chart is first drawn.
 */
import { optionalPeer, removeStaleTemporaries, writeFileAtomic } from '@kindling/data/node';
import { SingleBar } from 'cli-progress';
import { readFile } from 'node:fs/promises';
import type { Callback } from './events';
import type { Chart } from './interpretation';
import type { CheckpointStore, TrainingState } from './events';
import type { SavedTensor } from './optimizer';
import { progress, type ProgressEvent } from './callbacks/training-callbacks';

export { writeFileAtomic };

const MAGIC = 'KINDLCKP';

/** @napi-rs/canvas, an optional peer, loaded when a chart is first drawn. */
const loadCanvas = () => optionalPeer('@napi-rs/canvas', '@kindling/learner/node (drawing charts as PNG)', () => import('@napi-rs/canvas'));

/** Packs a training state into one buffer: magic, JSON header, then the tensors' float32 data. */
export function encodeCheckpoint(state: TrainingState): Uint8Array {
  const chunks: Float32Array[] = [];
  let offset = 0;
  const describe = (tensor: SavedTensor) => {
    const entry = { shape: tensor.shape, offset, length: tensor.values.length };
    chunks.push(tensor.values);
    offset += tensor.values.length;
    return entry;
  };
  const header = {
    ...state,
    weights: state.weights.map(describe),
    optimizer: {
      ...state.optimizer,
      slots: state.optimizer.slots.map((slot) => (slot === null ? null : { step: slot.step, tensors: slot.tensors.map(describe) })),
    },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = 8 + 4 + json.length;
  const padded = Math.ceil(headerBytes / 4) * 4;
  const buffer = new Uint8Array(padded + offset * 4);
  buffer.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buffer.buffer).setUint32(8, json.length, true);
  buffer.set(json, 12);
  const values = new Float32Array(buffer.buffer, padded, offset);
  let position = 0;
  for (const chunk of chunks) {
    values.set(chunk, position);
    position += chunk.length;
  }
  return buffer;
}

export function decodeCheckpoint(buffer: Uint8Array, source = 'checkpoint'): TrainingState {
  if (buffer.length < 12 || new TextDecoder().decode(buffer.subarray(0, 8)) !== MAGIC) {
    throw new Error(`${source} is not a Kindling checkpoint`);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const length = view.getUint32(8, true);
  if (12 + length > buffer.length) throw new Error(`${source} is truncated`);
  const header = JSON.parse(new TextDecoder().decode(buffer.subarray(12, 12 + length)));
  const padded = Math.ceil((12 + length) / 4) * 4;
  const data = new Float32Array(buffer.slice(padded).buffer);
  const read = (entry: { shape: number[]; offset: number; length: number }): SavedTensor => {
    if (entry.offset + entry.length > data.length) throw new Error(`${source} is truncated`);
    return { shape: entry.shape, values: data.slice(entry.offset, entry.offset + entry.length) };
  };
  return {
    ...header,
    weights: header.weights.map(read),
    optimizer: {
      ...header.optimizer,
      slots: header.optimizer.slots.map((slot: { step: number; tensors: Array<{ shape: number[]; offset: number; length: number }> } | null) =>
        slot === null ? null : { step: slot.step, tensors: slot.tensors.map(read) },
      ),
    },
  };
}

/**
 * Checkpoints in one file on disk, replaced atomically on every save, so a run killed at any moment
 * leaves either the previous checkpoint or the new one, never half of one.
 */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
    async save(state) {
      // a run killed mid-write left its temporary file (as big as the model): clear it first
      await removeStaleTemporaries(path);
      await writeFileAtomic(path, encodeCheckpoint(state));
    },
    async load() {
      let buffer: Buffer;
      try {
        buffer = await readFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      return decodeCheckpoint(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), path);
    },
  };
}

/**
 * A terminal progress bar per pass, with live loss, items/s and ETA, and a line per epoch. `device` names
 * what computes (say, `webgpu on NVIDIA H200`) at the end of the bar.
 */
export function progressBar(options: { stream?: NodeJS.WritableStream; metricsDigits?: number; device?: string } = {}): Callback {
  const stream = options.stream ?? process.stderr;
  // cli-progress reads {names} in its format: braces in a device name are kept out of it
  const device = options.device === undefined ? '' : ` on ${options.device.replace(/[{}]/g, '')}`;
  let bar: SingleBar | undefined;
  let phase = '';
  let estimated = false;
  let firstEpoch: number | undefined;
  const finish = () => {
    bar?.stop();
    bar = undefined;
  };
  const inner = progress({
    batch(event) {
      // once a fit, how long the whole run will take: at the pace of ten steps of the second epoch (the first one's
      // are slower: kernels compile, loaders decode what they then cache), or of steps 41–50 when the first epoch is long
      if (event.phase === 'train' && firstEpoch === undefined) firstEpoch = event.epoch;
      const paced = event.epoch === firstEpoch ? event.iteration >= 49 : event.iteration >= 9 || event.iteration + 1 === event.iterations;
      if (!estimated && event.phase === 'train' && event.fitEtaSeconds !== undefined && paced) {
        estimated = true;
        finish();
        stream.write(`${fitEstimate(event)}\n`);
      }
      if (bar === undefined || phase !== event.phase) {
        finish();
        phase = event.phase;
        bar = new SingleBar(
          {
            stream,
            format: `epoch ${event.epoch + 1}/${event.epochs} ${event.phase} [{bar}] {value}/{total} loss {loss} {speed} items/s eta {eta}s${device}`,
            barsize: 24,
            hideCursor: false,
            clearOnComplete: true,
            etaBuffer: 20,
          },
        );
        bar.start(event.iterations ?? 0, 0, { loss: '-', speed: '-' });
      }
      bar.update(event.iteration + 1, { loss: event.loss.toFixed(4), speed: event.itemsPerSecond.toFixed(1) });
    },
    epoch(record) {
      finish();
      const metrics = Object.entries(record.metrics)
        .map(([name, value]) => `${name} ${value.toFixed(options.metricsDigits ?? 4)}`)
        .join('  ');
      const validation = record.validated ? `valid loss ${record.validLoss.toFixed(4)}  ${metrics}` : 'not validated';
      stream.write(`epoch ${record.epoch + 1}  train loss ${record.trainLoss.toFixed(4)}  ${validation}  ${record.seconds.toFixed(1)}s\n`);
    },
  });
  return {
    ...inner,
    name: 'progressBar',
    beforeFit(learner) {
      estimated = false;
      firstEpoch = undefined;
      return inner.beforeFit?.(learner);
    },
    afterFit: finish,
    afterCancelFit: finish,
  };
}

/** Seconds as a person reads a duration: `42 s`, `3 min 5 s`, `1 h 4 min`. */
function humanDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.round((whole % 3600) / 60)} min`;
}

/** The progress bar's one estimate of a fit: `training: about 1 min 2 s to go (1,015 steps at 55 ms each, and validation), …`. */
function fitEstimate(event: ProgressEvent): string {
  const pace = event.secondsPerStep === undefined ? '' : ` at ${event.secondsPerStep < 1 ? `${(event.secondsPerStep * 1000).toFixed(0)} ms` : `${event.secondsPerStep.toFixed(1)} s`} each`;
  const steps = event.fitSteps === undefined ? '' : `${event.fitSteps.toLocaleString('en-US')} steps${pace}, and validation; `;
  return `training: about ${humanDuration(event.fitEtaSeconds!)} to go (${steps}at the pace of the latest steps)`;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** Renders a chart (loss, schedule, lr finder) to PNG bytes with a real canvas. */
export async function renderChartPng(chart: Chart, width = 640, height = 400): Promise<Uint8Array> {
  const { createCanvas } = await loadCanvas();
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  const margin = { left: 64, right: 16, top: 32, bottom: 44 };
  const points = chart.series.flatMap((series) => series.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const tx = (x: number) => (chart.logX ? Math.log10(x) : x);
  const xs = points.map(([x]) => tx(x));
  const ys = points.map(([, y]) => y);
  // a loop, not Math.min(...values): a per-batch series of a long run has more points than a call takes arguments
  const [xMin, xMax] = extent(xs);
  const [yMin, yMax] = extent(ys);
  const sx = (x: number) => margin.left + ((tx(x) - xMin) / (xMax - xMin || 1)) * (width - margin.left - margin.right);
  const sy = (y: number) => height - margin.bottom - ((y - yMin) / (yMax - yMin || 1)) * (height - margin.top - margin.bottom);
  context.strokeStyle = '#333333';
  context.lineWidth = 1;
  context.strokeRect(margin.left, margin.top, width - margin.left - margin.right, height - margin.top - margin.bottom);
  context.fillStyle = '#111111';
  context.font = '14px sans-serif';
  context.fillText(chart.title, margin.left, 20);
  context.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    context.fillText(y.toPrecision(3), 4, sy(y) + 4);
    const x = xMin + ((xMax - xMin) * i) / 4;
    const label = chart.logX ? `1e${x.toFixed(1)}` : x.toPrecision(3);
    context.fillText(label, margin.left + ((x - xMin) / (xMax - xMin || 1)) * (width - margin.left - margin.right) - 12, height - margin.bottom + 16);
  }
  context.fillText(chart.xLabel, width / 2 - 20, height - 8);
  chart.series.forEach((series, index) => {
    const color = PALETTE[index % PALETTE.length]!;
    context.strokeStyle = color;
    context.fillStyle = color;
    context.lineWidth = 1.5;
    const visible = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    context.beginPath();
    visible.forEach(([x, y], i) => (i === 0 ? context.moveTo(sx(x), sy(y)) : context.lineTo(sx(x), sy(y))));
    context.stroke();
    if (visible.length < 30) for (const [x, y] of visible) context.fillRect(sx(x) - 2, sy(y) - 2, 4, 4);
    context.fillText(series.name, width - margin.right - 120, margin.top + 14 + index * 14);
  });
  return canvas.toBuffer('image/png');
}

/** Renders a confusion matrix to PNG bytes: rows are actual classes, columns predicted. */
export async function renderConfusionMatrixPng(classes: string[], matrix: number[][], cell = 48): Promise<Uint8Array> {
  const { createCanvas } = await loadCanvas();
  const labelWidth = Math.max(80, ...classes.map((name) => name.length * 7 + 16));
  const size = labelWidth + classes.length * cell + 16;
  const canvas = createCanvas(size, size + 24);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, size, size + 24);
  const maximum = Math.max(1, ...matrix.flat());
  context.font = '12px sans-serif';
  context.fillStyle = '#111111';
  context.fillText('actual ↓  predicted →', 4, 14);
  classes.forEach((name, i) => {
    context.fillStyle = '#111111';
    context.fillText(name, 4, labelWidth + i * cell + cell / 2 + 4);
    context.save();
    context.translate(labelWidth + i * cell + cell / 2 + 4, labelWidth - 4);
    context.rotate(-Math.PI / 2);
    context.fillText(name, 0, 0);
    context.restore();
  });
  matrix.forEach((row, a) =>
    row.forEach((count, p) => {
      const shade = Math.round(255 - (count / maximum) * 200);
      context.fillStyle = `rgb(${shade}, ${shade}, 255)`;
      context.fillRect(labelWidth + p * cell, labelWidth + a * cell, cell - 1, cell - 1);
      context.fillStyle = count / maximum > 0.5 ? '#ffffff' : '#111111';
      context.fillText(String(count), labelWidth + p * cell + cell / 2 - 8, labelWidth + a * cell + cell / 2 + 4);
    }),
  );
  return canvas.toBuffer('image/png');
}

/** The smallest and largest of `values` ([Infinity, -Infinity] when empty), for any number of them. */
function extent(values: readonly number[]): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return [low, high];
}
