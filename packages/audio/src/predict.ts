/**
 * `@kindling/audio/predict`: the sound modality's side of `@kindling/deploy` — its task record, its predictor and
 * the definition to register (`registerTask(soundTask)`), so that bundles of sound classifiers load, predict and
 * are served.
 */
import { checkFeatures, checkLabels, classify, describeValues, doubtOf, InputError, isRecord, jsonValueInWords, Predictor, softmaxAndFeatures, toBytes, type Classification, type DescriptorWords, type Familiarity, type TaskDefinition } from '@kindling/deploy';
import * as tf from '@tensorflow/tfjs';
import { checkSampleRate, SoundPipeline, type SoundPreprocessing } from './transforms';
import { decodeWav, type AudioData } from './wav';

/** A sound classifier: WAV or samples → log-mel spectrogram → classes. */
export interface SoundTask {
  kind: 'sound';
  labels: readonly string[];
  preprocessing: SoundPreprocessing;
  /** What the training spectrograms looked like, for answers marked "not sure". */
  familiarity?: Familiarity;
}

declare module '@kindling/deploy' {
  interface TaskRegistry {
    sound: SoundTask;
  }
  interface PredictorByKind {
    sound: SoundPredictor;
  }
}

/** How a sound unlike the training ones is described (its spectrogram: time downwards, pitch across). */
export const SOUND_WORDS: DescriptorWords = {
  level: ['quieter', 'louder'],
  contrast: ['more even in loudness', 'more varied in loudness'],
  detail: ['steadier', 'busier'],
  across: ['smoother from pitch to pitch', 'more jagged from pitch to pitch'],
  down: ['steadier over time', 'changing faster over time'],
  frame: ['quieter at its start, end and outer pitches', 'louder at its start, end and outer pitches'],
};

/** WAV bytes (or base64), mono samples with their rate, or decoded channels. */
export type SoundInput = Uint8Array | ArrayBuffer | string | { samples: Float32Array | readonly number[]; sampleRate: number } | AudioData;

/** A recording → its class, through the same spectrogram pipeline as training (pure TypeScript). */
export class SoundPredictor extends Predictor<SoundInput, Classification, Float32Array, SoundTask> {
  readonly kind = 'sound';
  readonly pipeline: SoundPipeline;

  constructor(...args: ConstructorParameters<typeof Predictor>) {
    super(...args);
    this.pipeline = new SoundPipeline((this.bundle.manifest.task as SoundTask).preprocessing);
  }

  private audio(input: SoundInput): AudioData {
    if (isRecord(input) && 'samples' in input) {
      const { samples, sampleRate } = input as { samples: Float32Array | number[]; sampleRate: unknown };
      if (!(typeof sampleRate === 'number' && sampleRate > 0)) throw new InputError(`sampleRate must be a positive number, not ${JSON.stringify(sampleRate)}`, 'sampleRate');
      if (!(samples instanceof Float32Array || (Array.isArray(samples) && samples.every((value) => typeof value === 'number' && Number.isFinite(value))))) throw new InputError('samples must be an array of finite numbers', 'samples');
      // the rate and the length are checked before a float32 copy of the samples is made
      this.checkCost(sampleRate, samples.length);
      return { sampleRate, channels: [Float32Array.from(samples)] };
    }
    if (isRecord(input) && 'channels' in input) return input as AudioData;
    return decodeWav(toBytes(input, 'wav'), 'wav');
  }

  /** The longest recording one answer reads: ten of the model's clips, and at least a minute. */
  get longestSeconds(): number {
    return Math.max(60, 10 * this.task.preprocessing.duration);
  }

  /**
   * What a recording costs, checked before it is mixed or resampled: a plausible rate the model's can be reached from
   * (resampling filters grow with the rates' ratio), and at most {@link longestSeconds} of it (the whole recording is
   * resampled before its middle clip is cut).
   */
  private checkCost(sampleRate: number, length: number): void {
    try {
      checkSampleRate(sampleRate, this.task.preprocessing.sampleRate, 'wav');
    } catch (error) {
      throw new InputError((error as Error).message.replace(/^wav(, field 'sampleRate')?: /, ''), 'sampleRate');
    }
    const seconds = length / sampleRate;
    if (seconds > this.longestSeconds) {
      throw new InputError(`the recording is ${seconds.toFixed(1)} s long; this model answers on ${this.task.preprocessing.duration} s clips and reads at most ${this.longestSeconds} s: send the part to classify`, 'wav');
    }
  }

  async prepare(input: SoundInput): Promise<Float32Array> {
    const audio = this.audio(input);
    if (audio.channels.length === 0 || audio.channels[0]!.length === 0) throw new InputError('the recording has no samples', 'wav');
    this.checkCost(audio.sampleRate, audio.channels[0]!.length);
    return this.pipeline.features(this.pipeline.prepare(audio, 'wav')).data;
  }

  async run(prepared: readonly Float32Array[]): Promise<Classification[]> {
    const [frames, bins] = this.pipeline.shape;
    const joined = new Float32Array(prepared.length * frames * bins);
    prepared.forEach((features, index) => joined.set(features, index * frames * bins));
    const batch = () => tf.tensor4d(joined, [prepared.length, frames, bins, 1]);
    const layer = this.task.familiarity?.features?.layer;
    const { probabilities, features } = await softmaxAndFeatures(this.model, layer, batch);
    const answers = classify(probabilities, this.task.labels, prepared.length, this.topK);
    if (this.task.familiarity === undefined) return answers;
    // marked "not sure" when the spectrogram, or what the model makes of it, is unlike the training ones, or the answer too uncertain
    return answers.map((answer, index) => {
      const notSure = doubtOf(this.task.familiarity, describeValues(prepared[index]!, [frames, bins, 1]), answer.confidence, SOUND_WORDS, features?.[index]);
      return notSure === undefined ? answer : { ...answer, notSure };
    });
  }

  inputFromJson(value: unknown): SoundInput {
    if (typeof value === 'string') return value;
    if (isRecord(value) && typeof value.wav === 'string') return value.wav;
    if (isRecord(value) && 'samples' in value) return value as { samples: number[]; sampleRate: number };
    throw new InputError(`expected { "wav": "<base64 WAV>" } or { "samples": [...], "sampleRate": 16000 }, got ${jsonValueInWords(value)}`, 'wav');
  }

  describeInput(): string {
    const { sampleRate, duration, spectrogram } = this.task.preprocessing;
    return `a WAV recording (or samples and their rate), resampled to ${sampleRate} Hz, fitted to ${duration} s, ${spectrogram.mels ?? 64} mel bands`;
  }
}

/**
 * The sound task for `registerTask`: a bundle's record is checked against its model (labels, feature familiarity),
 * its predictor is a `SoundPredictor`, and the prediction server prepares recordings on its worker threads.
 */
export const soundTask: TaskDefinition<'sound'> = {
  kind: 'sound',
  check(task, model, fail) {
    checkLabels(task, model, fail);
    checkFeatures(task, model, fail);
  },
  createPredictor: (bundle, model) => new SoundPredictor(bundle, model),
  preparedOffThread: { module: import.meta.url, name: 'soundTask' },
};
