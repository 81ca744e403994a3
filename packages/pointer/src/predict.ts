/**
 * `@kindling/pointer/predict`: the mouse-movement modality's side of `@kindling/deploy` — its task record, its
 * predictor and the definition to register (`registerTask(pointerTask)`), so that bundles of pointer classifiers load,
 * predict and are served. In Node, `@kindling/pointer/node` exports the definition with its file reader (Kindling
 * JSON recordings and Balabit CSV sessions, for `kindling predict`).
 */
import { checkLabels, classify, describeValues, doubtOf, InputError, isRecord, jsonValueInWords, PLAIN_WORDS, Predictor, softmaxAndFeatures, unfamiliar, unfamiliarFeatures, type Classification, type DescriptorWords, type Familiarity, type TaskDefinition } from '@kindling/deploy';
import * as tf from '@tensorflow/tfjs';
import { rasterChannels, rasterize, type RasterOptions } from './rasterize';
import { checkRecording, cleanEvents, parseRecording, type PointerRecording, type PointerSample } from './recording';
import { keepEvenly, MAX_WINDOWS, samplesOf, type WindowOptions } from './windows';

/** A mouse-movement classifier: a recording cut into windows, each drawn as a picture; windows vote. */
export interface PointerTask {
  kind: 'pointer';
  labels: readonly string[];
  /**
   * How a recording becomes pictures; `maxWindows`: the most windows one recording is read by, evenly spaced (as many
   * as training kept of one; bundles without it read at most `MAX_WINDOWS`, 100).
   */
  preprocessing: { window: WindowOptions | 'whole'; raster: RasterOptions; maxWindows?: number };
  /** What the training windows looked like when drawn, for answers marked "not sure". */
  familiarity?: Familiarity;
}

declare module '@kindling/deploy' {
  interface TaskRegistry {
    pointer: PointerTask;
  }
  interface PredictorByKind {
    pointer: PointerPredictor;
  }
}

/** How a movement unlike the training ones is described (its lines-and-circles picture). */
export const MOVEMENT_WORDS: DescriptorWords = { ...PLAIN_WORDS, level: ['sparser', 'denser'], contrast: ['fainter', 'starker'], detail: ['smoother', 'more jagged'], frame: ['emptier at its edges', 'fuller at its edges'] };

/** Events one answer reads at most: ten times the longest Balabit session, a few seconds of work. */
const MAX_EVENTS = 200_000;

/** A recording (object or its JSON text). */
export type PointerInput = PointerRecording | string;

/** A pointer answer: the windows' combined probabilities ({@link combineWindows}), and how many windows voted. */
export interface PointerClassification extends Classification {
  windows: number;
}

/**
 * The class probabilities of a recording from those of its windows (`count × classes`, row by row): their geometric
 * mean, normalized — the mean of the windows' log-probabilities, each window independent evidence as naive Bayes
 * combines it, so a class one window firmly rules out loses even where two others favour it. One window gives its own
 * probabilities. On Balabit mouse sessions (`pnpm bench defaults`, three folds of ten held-out sessions): 24 of 30
 * right against 23 of 30 with the arithmetic mean (at 600 steps).
 */
export function combineWindows(probabilities: ArrayLike<number>, classes: number): Float32Array {
  const count = probabilities.length / classes;
  const logs = new Float64Array(classes);
  for (let w = 0; w < count; w++) for (let k = 0; k < classes; k++) logs[k]! += Math.log(Math.max(probabilities[w * classes + k]!, 1e-12)) / count;
  const top = Math.max(...logs);
  let total = 0;
  for (let k = 0; k < classes; k++) total += (logs[k] = Math.exp(logs[k]! - top));
  return Float32Array.from(logs, (value) => value / total);
}

/** A mouse recording → cleaned, cut into windows as in training, each drawn; the windows' probabilities combined ({@link combineWindows}). */
export class PointerPredictor extends Predictor<PointerInput, PointerClassification, Float32Array[], PointerTask> {
  readonly kind = 'pointer';

  async prepare(input: PointerInput): Promise<Float32Array[]> {
    const recording = typeof input === 'string' ? parseRecording(input, 'recording') : checkRecording(input, 'recording');
    const { window, raster } = this.task.preprocessing;
    // as in training: a recording without its screen size is bounded by the raster's screen, when one is given
    const screen = recording.screen ?? raster.screen;
    if (recording.events.length > MAX_EVENTS) {
      throw new InputError(`the recording has ${recording.events.length.toLocaleString('en-US')} events; one answer reads at most ${MAX_EVENTS.toLocaleString('en-US')}: send a part of the session`, 'events');
    }
    const { events } = cleanEvents(recording.events as PointerSample[], screen);
    // a long session is read by at most as many windows as training kept of one (evenly spaced): a bounded cost
    const windows = keepEvenly(samplesOf(events, window), this.task.preprocessing.maxWindows ?? MAX_WINDOWS);
    if (windows.length === 0) throw new InputError(`the recording has no complete sample (${events.length} usable events; the model reads ${window === 'whole' ? 'whole recordings' : `windows by ${window.by}`})`, 'events');
    if ((raster.fit === 'screen' || raster.fit === 'both') && screen === undefined) throw new InputError('this model draws movements on the whole screen: the recording needs its screen size', 'screen');
    return windows.map((sample) => rasterize(sample, { ...raster, screen }));
  }

  async run(prepared: ReadonlyArray<Float32Array[]>): Promise<PointerClassification[]> {
    const { raster } = this.task.preprocessing;
    const [size, channels] = [raster.size ?? 64, rasterChannels(raster)];
    const total = prepared.reduce((sum, windows) => sum + windows.length, 0);
    const joined = new Float32Array(total * size * size * channels);
    let offset = 0;
    for (const windows of prepared) for (const picture of windows) joined.set(picture, offset++ * size * size * channels);
    const layer = this.task.familiarity?.features?.layer;
    const { probabilities: values, features } = await softmaxAndFeatures(this.model, layer, () => tf.tensor4d(joined, [total, size, size, channels]));
    const classes = this.task.labels.length;
    let start = 0;
    return prepared.map((windows) => {
      const combined = combineWindows(values.subarray(start * classes, (start + windows.length) * classes), classes);
      const answer = { ...classify(combined, this.task.labels, 1, this.topK)[0]!, windows: windows.length };
      const notSure = this.doubt(windows, features?.slice(start, start + windows.length), answer.confidence, [size, size, channels]);
      start += windows.length;
      return notSure === undefined ? answer : { ...answer, notSure };
    });
  }

  /**
   * "Not sure" when most windows are unlike the training ones — drawn, or as the model sees them (its features, when
   * the bundle measured them) — or the answer is too uncertain.
   */
  private doubt(windows: readonly Float32Array[], features: readonly Float32Array[] | undefined, confidence: number, shape: [number, number, number]): string | undefined {
    const { familiarity } = this.task;
    if (familiarity === undefined) return undefined;
    const reasons = windows.map((picture, index) => unfamiliar(familiarity, describeValues(picture, shape), MOVEMENT_WORDS) ?? unfamiliarFeatures(familiarity, features?.[index])).filter((reason) => reason !== undefined);
    if (reasons.length * 2 > windows.length) return windows.length === 1 ? reasons[0] : `${reasons.length} of ${windows.length} windows are ${reasons[0]!}`;
    return doubtOf(familiarity, undefined, confidence);
  }

  inputFromJson(value: unknown): PointerInput {
    if (isRecord(value) && value.format === 'kindling-pointer@1') return value as unknown as PointerRecording;
    if (isRecord(value) && isRecord(value.recording)) return value.recording as unknown as PointerRecording;
    throw new InputError(`expected a kindling-pointer@1 recording { "format": "kindling-pointer@1", "events": [...] }, got ${jsonValueInWords(value)}`, 'recording');
  }

  describeInput(): string {
    const { window, raster } = this.task.preprocessing;
    return `a kindling-pointer@1 recording, cut into ${window === 'whole' ? 'one sample' : `windows by ${window.by}`}, drawn at ${raster.size ?? 64}×${raster.size ?? 64} (${raster.fit ?? 'bbox'} fit)`;
  }
}

/**
 * The pointer task for `registerTask`: a bundle's record is checked against its model (labels), its predictor is a
 * `PointerPredictor`, and the prediction server cuts and draws recordings on its worker threads.
 */
export const pointerTask: TaskDefinition<'pointer'> = {
  kind: 'pointer',
  check: (task, model, fail) => checkLabels(task, model, fail),
  createPredictor: (bundle, model) => new PointerPredictor(bundle, model),
  preparedOffThread: { module: import.meta.url, name: 'pointerTask' },
};
