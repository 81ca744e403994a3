import { checkSampleRate, decodeWav, SoundPipeline, type AudioData } from '@kindling/audio';
import * as tf from '@tensorflow/tfjs';
import { InputError } from './errors';
import { classify, describe, isRecord, Predictor, softmaxAndFeatures, toBytes, type Classification } from './predictor';
import { describeValues, doubtOf, SOUND_WORDS } from './familiarity';
import type { SoundTask } from './tasks';

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
    throw new InputError(`expected { "wav": "<base64 WAV>" } or { "samples": [...], "sampleRate": 16000 }, got ${describe(value)}`, 'wav');
  }

  describeInput(): string {
    const { sampleRate, duration, spectrogram } = this.task.preprocessing;
    return `a WAV recording (or samples and their rate), resampled to ${sampleRate} Hz, fitted to ${duration} s, ${spectrogram.mels ?? 64} mel bands`;
  }
}
