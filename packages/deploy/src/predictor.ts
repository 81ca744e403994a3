import { checkTopK, DEFAULT_TOP_K, topLabels, type LabelScore } from '@kindling/data';
import * as tf from '@tensorflow/tfjs';
import type { Bundle, BundleManifest } from './bundle-manifest';
import { InputError } from './errors';
import type { TaskKind, TaskSpec } from './tasks';

/** A classifier's answer: the most likely label, its probability, every class's probability, and the likeliest few in order. */
export interface Classification {
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  /** The predictor's `topK` most likely classes (5 unless set), most likely first: `[{ label, score }]`. */
  top: LabelScore[];
  /**
   * Set when the answer is not worth trusting, saying why: the input is unlike every training input, or the
   * model is less sure than held-out answers had to be to be right (bundles with a `familiarity` only).
   */
  notSure?: string;
}

/** Any predictor, Kindling's or of a registered kind of your own, as the server takes it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SomePredictor = Predictor<any, unknown, any, TaskSpec>;

/**
 * Turns raw input into decoded answers with a bundle's model. Prediction runs in two steps so that a
 * server can batch: `prepare` (per input: decode, check, preprocess; may reject one input alone) and
 * `run` (one model call for many prepared inputs). `predict` and `predictBatch` do both.
 */
export abstract class Predictor<Input, Output, Prepared = unknown, Task extends TaskSpec = TaskSpec> {
  abstract readonly kind: TaskKind;

  #topK = DEFAULT_TOP_K;

  constructor(
    readonly bundle: Bundle,
    readonly model: tf.LayersModel,
  ) {}

  /** How many classes a classifier's `top` lists, most likely first: 5 unless set (`Infinity` for every class). */
  get topK(): number {
    return this.#topK;
  }

  set topK(value: number) {
    this.#topK = checkTopK(value);
  }

  get manifest(): BundleManifest {
    return this.bundle.manifest;
  }

  get task(): Task {
    return this.bundle.manifest.task as Task;
  }

  /** Decodes, checks and preprocesses one input. */
  abstract prepare(input: Input): Promise<Prepared>;

  /** Runs the model once over prepared inputs and decodes its outputs, in order. */
  abstract run(prepared: readonly Prepared[]): Promise<Output[]>;

  /** The input from a parsed JSON value (the server's JSON bodies, the CLI's inline arguments). */
  abstract inputFromJson(value: unknown): Input;

  /** What the model expects, for people and the model-info endpoint. */
  abstract describeInput(): string;

  async predict(input: Input): Promise<Output> {
    return checkedAnswers(await this.run([await this.prepare(input)]))[0]!;
  }

  /** Many inputs with a single model call. */
  async predictBatch(inputs: readonly Input[]): Promise<Output[]> {
    if (inputs.length === 0) return [];
    return checkedAnswers(await this.run(await Promise.all(inputs.map((input) => this.prepare(input)))));
  }

  /** The model card: task, classes, metrics, versions, input. */
  info(): Record<string, unknown> {
    const { task, metrics, training, kindlingVersion, formatVersion, createdAt } = this.manifest;
    const { kind, ...details } = task as TaskSpec & Record<string, unknown>;
    const summary = Object.fromEntries(Object.entries(details).map(([key, value]) => [key, Array.isArray(value) && value.length > 50 ? `${value.length} entries` : value]));
    return { task: kind, ...summary, input: this.describeInput(), metrics, training, kindlingVersion, formatVersion, createdAt, parameters: this.model.countParams() };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The path of the first number in an answer that is not finite (`probabilities.cat`), or undefined. */
function nonFinitePath(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value instanceof Float32Array || value instanceof Float64Array) {
    const index = value.findIndex((item) => !Number.isFinite(item));
    return index < 0 ? undefined : `${path}[${index}]`;
  }
  if (ArrayBuffer.isView(value)) return undefined; // whole numbers (a mask, class ids) are always finite
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nonFinitePath(item, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = nonFinitePath(item, path === '' ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The answers, once each is checked to hold only finite numbers: an input far outside what the model saw (a value of
 * 1e308) can drive its outputs past float32 and give NaN probabilities, which is no answer. Such an input is an
 * InputError naming the first figure that is not a number, never an answer with nulls in it.
 */
export function checkedAnswers<Output>(answers: Output[], index = 0): Output[] {
  answers.forEach((answer, offset) => {
    const path = nonFinitePath(answer, '');
    if (path !== undefined) {
      const which = answers.length === 1 && index === 0 ? 'this input' : `input ${index + offset + 1}`;
      throw new InputError(`the model gave no number for ${which} (${path || 'its answer'} is ${String(nonFiniteValue(answer, path))}): its values are far outside anything it was trained on`, 'input');
    }
  });
  return answers;
}

function nonFiniteValue(answer: unknown, path: string): unknown {
  let value: unknown = answer;
  for (const part of path.split(/\.|\[(\d+)\]/).filter((piece) => piece !== undefined && piece !== '')) value = (value as Record<string, unknown>)[part];
  return value;
}

/** Rows a model call takes at first when answering a big batch: it is cut, and the event loop gets a turn between parts. */
const ROWS_PER_CALL = 16;
/** Rows in the first part of a batch cut in parts; the next are sized by how long the last took. */
const FIRST_PART_ROWS = 4;
/** How long one part may hold the event loop: the parts are sized by how long the last one took. */
const MILLISECONDS_PER_CALL = 10;
/** The most rows in one part, however fast the model. */
const MAX_ROWS_PER_CALL = 64;

/** A turn of the event loop (a timer, a request, `/health` runs), as `setImmediate` gives in Node. */
const nextTurn = (): Promise<void> => new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** Softmax of the model's logits for `inputs`: {@link softmaxAndFeatures} without a layer. */
export async function softmaxOf(model: tf.LayersModel, inputs: () => tf.Tensor): Promise<Float32Array> {
  return (await softmaxAndFeatures(model, undefined, inputs)).probabilities;
}

/**
 * Softmax of the model's logits for `inputs` (built and freed here), read asynchronously, and with a `layer`, in the
 * same pass, that layer's output (the model's features, one row per input): what a bundle with
 * `familiarity.features` measures its inputs by. A batch of more than 16 rows runs in parts, each sized to take
 * about 10 ms by how long the last took, with a turn of the event loop between them: a backend whose kernels run on
 * the calling thread (torch, cpu, wasm) would otherwise hold a server's event loop for the whole batch (a hundred
 * windows of each of many recordings), and every row's answer is the same either way.
 */
export async function softmaxAndFeatures(model: tf.LayersModel, layer: string | undefined, inputs: () => tf.Tensor): Promise<{ probabilities: Float32Array; features?: Float32Array[] }> {
  const featuresName = layer === undefined ? undefined : (model.getLayer(layer).output as tf.SymbolicTensor).name;
  const features: Float32Array[] = [];
  const batch = tf.tidy(inputs);
  const rows = batch.shape[0] ?? 1;
  // one model call on rows start … start + count: their probabilities, and their features added to `features`
  const part = async (start: number, count: number): Promise<Float32Array> => {
    const outputs = tf.tidy(() => {
      const slice = start === 0 && count === rows ? batch : batch.slice(start, count);
      if (featuresName === undefined) return [tf.softmax(model.predict(slice) as tf.Tensor)];
      const [pooled, logits] = model.execute(slice, [featuresName, model.outputs[0]!.name]) as tf.Tensor[];
      return [tf.softmax(logits!), pooled!.reshape([count, -1])];
    });
    try {
      const [probabilities, pooled] = outputs;
      if (pooled !== undefined) {
        const values = (await pooled.data()) as Float32Array;
        const width = pooled.shape[1]!;
        for (let row = 0; row < count; row++) features.push(values.slice(row * width, (row + 1) * width));
      }
      return (await probabilities!.data()) as Float32Array;
    } finally {
      tf.dispose(outputs);
    }
  };
  try {
    let values: Float32Array;
    if (rows <= ROWS_PER_CALL) values = await part(0, rows);
    else {
      let start = 0;
      let count = FIRST_PART_ROWS;
      while (start < rows) {
        count = Math.min(count, rows - start);
        const began = performance.now();
        const probabilities = await part(start, count);
        values ??= new Float32Array((probabilities.length / count) * rows);
        values.set(probabilities, (probabilities.length / count) * start);
        start += count;
        // the next part as big as fits the time a part may take: a slow model, or a busy machine, gets smaller parts
        const took = Math.max(performance.now() - began, 0.1);
        count = Math.max(1, Math.min(MAX_ROWS_PER_CALL, Math.floor((count * MILLISECONDS_PER_CALL) / took)));
        if (start < rows) await nextTurn();
      }
    }
    return { probabilities: values!, ...(featuresName === undefined ? {} : { features }) };
  } finally {
    batch.dispose();
  }
}

/** Softmax rows → classifications, each with its `topK` most likely classes (default 5) in order. */
export function classify(probabilities: Float32Array | number[], labels: readonly string[], rows: number, topK = DEFAULT_TOP_K): Classification[] {
  const width = labels.length;
  return Array.from({ length: rows }, (_, row) => {
    let best = 0;
    for (let k = 1; k < width; k++) if (probabilities[row * width + k]! > probabilities[row * width + best]!) best = k;
    return {
      label: labels[best]!,
      confidence: probabilities[row * width + best]!,
      probabilities: Object.fromEntries(labels.map((label, k) => [label, probabilities[row * width + k]!])),
      top: topLabels(labels, probabilities, topK, row * width),
    };
  });
}

/** Bytes from a Uint8Array, an ArrayBuffer, a view, or base64 text (JSON bodies). */
export function toBytes(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') {
    const text = value.replace(/^data:[^,]*;base64,/, '');
    let binary: string;
    try {
      binary = atob(text);
    } catch {
      // a file name or path is the commonest string that is not base64: say what to pass instead
      if (/^(\.{0,2}[\\/]|[a-z]:[\\/]|file:)|\.[a-z0-9]{2,5}$/i.test(text) && text.length < 4096) {
        throw new InputError(`got a file path ('${text}'), not the file's contents: read the file first (e.g. fs.readFile) and pass its bytes, or base64 text`, field);
      }
      throw new InputError('not valid base64: pass bytes (a Uint8Array or ArrayBuffer) or base64 text', field);
    }
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  throw new InputError(`expected bytes or base64 text, got ${describe(value)}`, field);
}

/** Whether a JSON input is an object (not an array, bytes or null), for a predictor's `inputFromJson`. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer);
}

/** What kind of JSON value a wrong input was, for its message (`an object with keys wav, rate`, `a number`). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object with keys ${Object.keys(value).slice(0, 5).join(', ') || '(none)'}` : `a ${typeof value}`;
}
