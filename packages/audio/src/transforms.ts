import { DataError, labelSafety, labelSafetyWhy, Random, type LabelSafety } from '@kindling/data';
import { MAX_RESAMPLING_RATIO, resample, resampleByRatio } from './resample';
import { normalizeBands, normalizeSpectrogram, SpectrogramMaker, type Spectrogram, type SpectrogramOptions, type SpectrogramStats } from './spectrogram';
import { SAMPLE_RATE_RANGE, toMono, type AudioData } from './wav';

/**
 * Pads (with silence) or crops samples to `length`. With a `random`, the crop or the padding offset is
 * random (training); without, the clip is centred (validation and prediction).
 */
export function fitLength(samples: Float32Array, length: number, random?: Random): Float32Array {
  if (samples.length === length) return samples;
  const slack = Math.abs(samples.length - length);
  const offset = random ? random.integer(slack + 1) : Math.floor(slack / 2);
  if (samples.length > length) return samples.slice(offset, offset + length);
  const out = new Float32Array(length);
  out.set(samples, offset);
  return out;
}

/** Shifts samples in time by up to `maxShift` of their length either way, filling with silence. */
export function timeShift(samples: Float32Array, maxShift: number, random: Random): Float32Array {
  const limit = Math.floor(samples.length * maxShift);
  const shift = random.integer(2 * limit + 1) - limit;
  if (shift === 0) return samples;
  const out = new Float32Array(samples.length);
  if (shift > 0) out.set(samples.subarray(0, samples.length - shift), shift);
  else out.set(samples.subarray(-shift));
  return out;
}

/** Samples of white Gaussian noise, drawn once: a clip's noise is a random stretch of them (drawing a normal per sample cost more than the clip's spectrogram). */
const WHITE_NOISE_SAMPLES = 1 << 17;
let whiteNoise: Float32Array | undefined;

function whiteNoiseSamples(): Float32Array {
  if (whiteNoise === undefined) {
    const random = new Random(0x5eed);
    whiteNoise = new Float32Array(WHITE_NOISE_SAMPLES);
    for (let i = 0; i < WHITE_NOISE_SAMPLES; i++) whiteNoise[i] = random.normal();
  }
  return whiteNoise;
}

/** Adds noise at a signal-to-noise ratio in dB (a random stretch of `noise`, or of white noise when none is given). */
export function mixNoise(samples: Float32Array, snrDb: number, random: Random, noise?: Float32Array): Float32Array {
  const stretch = new Float32Array(samples.length);
  const source = noise && noise.length > 0 ? noise : whiteNoiseSamples();
  const start = random.integer(noise && noise.length > 0 ? Math.max(1, source.length - samples.length + 1) : source.length);
  for (let i = 0; i < samples.length; i++) stretch[i] = source[(start + i) % source.length]!;
  let signalPower = 0;
  let noisePower = 0;
  for (let i = 0; i < samples.length; i++) {
    signalPower += samples[i]! * samples[i]!;
    noisePower += stretch[i]! * stretch[i]!;
  }
  if (noisePower === 0 || signalPower === 0) return samples;
  const scale = Math.sqrt(signalPower / (noisePower * 10 ** (snrDb / 10)));
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! + scale * stretch[i]!;
  return out;
}

/** Training-time augmentation of waveforms. */
export interface SoundAugmentOptions {
  /** Largest time shift, as a share of the clip. Default 0.1. */
  shift?: number;
  /** Probability of mixing in noise. Default 0.5. */
  noiseProbability?: number;
  /** Signal-to-noise ratio range in dB. Default [10, 30]. */
  snrDb?: [number, number];
  /** Background recordings to mix in (white noise when none). */
  noises?: Float32Array[];
  /**
   * Speed perturbation: each training clip played up to this share faster or slower (pitch and tempo together,
   * as in speech recognition), so a model hears more voices than its speakers'. Default 0 (off): it changes
   * pitch, which is the label of some tasks (notes, tones).
   */
  speed?: number;
  /**
   * SpecAugment-style masking of the spectrogram: `count` bands of frequency and `count` stretches of time, each
   * up to `width` of the axis, set to the spectrogram's mean. Default: none.
   */
  masks?: { count: number; width: number };
}

/** Sets up to `count` random bands of bins and `count` random stretches of frames, each at most `width` of its axis, to 0 (a normalized spectrogram's mean). */
export function maskSpectrogram(spectrogram: Spectrogram, masks: { count: number; width: number }, random: Random): Spectrogram {
  const { frames, bins } = spectrogram;
  const data = spectrogram.data.slice();
  for (let mask = 0; mask < masks.count; mask++) {
    const binWidth = random.integer(Math.floor(bins * masks.width) + 1);
    const firstBin = random.integer(bins - binWidth + 1);
    for (let frame = 0; frame < frames; frame++) data.fill(0, frame * bins + firstBin, frame * bins + firstBin + binWidth);
    const frameWidth = random.integer(Math.floor(frames * masks.width) + 1);
    const firstFrame = random.integer(frames - frameWidth + 1);
    data.fill(0, firstFrame * bins, (firstFrame + frameWidth) * bins);
  }
  return { ...spectrogram, data };
}

/** Everything that turns a recording into the model's input; stored with a trained model. */
export interface SoundPreprocessing {
  sampleRate: number;
  /** Seconds every clip is padded or cropped to. */
  duration: number;
  spectrogram: Omit<SpectrogramOptions, 'sampleRate'>;
  /**
   * `example`: each spectrogram by its own mean and std; `bands`: each band less its own mean over time, then by
   * the spectrogram's std (takes a voice's or a microphone's colour out); or fixed dataset statistics.
   */
  normalize: 'example' | 'bands' | SpectrogramStats;
  /** Refuse all-silent recordings (default true): they usually mean a broken file. */
  refuseSilence?: boolean;
}

/**
 * Checks a recording's sample rate before anything is resampled: a whole number of hertz within
 * {@link SAMPLE_RATE_RANGE} that resamples to `target` within `MAX_RESAMPLING_RATIO`; else a DataError naming the
 * file and the field.
 */
export function checkSampleRate(rate: unknown, target: number, source = 'audio'): void {
  const [low, high] = SAMPLE_RATE_RANGE;
  if (!(typeof rate === 'number' && Number.isInteger(rate) && rate >= low && rate <= high)) {
    throw new DataError(`the sample rate ${JSON.stringify(rate)} is not a whole number of hertz from ${low.toLocaleString('en-US')} to ${high.toLocaleString('en-US')}`, { file: source, field: 'sampleRate' });
  }
  const common = greatestDivisor(rate, target);
  if (Math.max(rate, target) / common > MAX_RESAMPLING_RATIO) {
    throw new DataError(`a sample rate of ${rate.toLocaleString('en-US')} Hz shares too little with the model's ${target.toLocaleString('en-US')} Hz to resample it (their ratio ${target / common}:${rate / common}); record at a common rate such as 8,000, 16,000, 22,050, 44,100 or 48,000 Hz`, { file: source, field: 'sampleRate' });
  }
}

function greatestDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Recording → mono → resampled → fixed length → (augmented) → spectrogram → normalized: the sound
 * task's whole input pipeline, the same in Node and the browser.
 */
export class SoundPipeline {
  readonly maker: SpectrogramMaker;
  readonly length: number;

  constructor(readonly preprocessing: SoundPreprocessing) {
    this.maker = new SpectrogramMaker({ ...preprocessing.spectrogram, sampleRate: preprocessing.sampleRate });
    this.length = Math.round(preprocessing.duration * preprocessing.sampleRate);
    if (!(this.length > 0)) throw new RangeError(`duration must be positive, not ${preprocessing.duration}`);
  }

  /** The model's input shape `[frames, bins, 1]`. */
  get shape(): [number, number, 1] {
    return [this.maker.framesFor(this.length), this.maker.bins, 1];
  }

  /**
   * Mono samples at the pipeline's rate. Refused with a DataError naming `source`, before any resampling: a rate that
   * is not a whole number of hertz from 1,000 to 384,000 or that cannot be resampled to the pipeline's within
   * `MAX_RESAMPLING_RATIO`, a sample that is not a finite number, and (unless `refuseSilence` is false) silence.
   */
  prepare(audio: AudioData, source = 'audio'): Float32Array {
    checkSampleRate(audio.sampleRate, this.preprocessing.sampleRate, source);
    const mono = toMono(audio);
    let peak = 0;
    for (let index = 0; index < mono.length; index++) {
      const size = Math.abs(mono[index]!);
      // NaN, ±Infinity, and values that became Infinity as float32 (a JSON sample of 1e308)
      if (!(size < Infinity)) throw new DataError(`sample ${index} is ${mono[index]}, not a finite number`, { file: source, field: 'samples' });
      if (size > peak) peak = size;
    }
    if (this.preprocessing.refuseSilence !== false && peak < 1e-6) throw new DataError('the recording is silent (every sample is 0)', { file: source });
    return audio.sampleRate === this.preprocessing.sampleRate ? mono : resample(mono, audio.sampleRate, this.preprocessing.sampleRate);
  }

  /** Prepared samples to a normalized spectrogram; with `random` (training) crops randomly and augments. */
  features(samples: Float32Array, options: { random?: Random; augment?: SoundAugmentOptions } = {}): Spectrogram {
    const { random, augment } = options;
    // played `speed` times faster (in steps of 1%, so a few dozen resampling filters serve every clip): the
    // samples taken as recorded at rate × speed and resampled back to the rate, 100 / percent as many
    const percent = random && augment?.speed ? Math.round(100 * random.uniform(1 - augment.speed, 1 + augment.speed)) : 100;
    let clip = fitLength(percent === 100 ? samples : resampleByRatio(samples, 100, percent), this.length, random);
    if (random && augment) {
      const { shift = 0.1, noiseProbability = 0.5, snrDb = [10, 30], noises } = augment;
      if (shift > 0) clip = timeShift(clip, shift, random);
      if (random.next() < noiseProbability) {
        const noise = noises && noises.length > 0 ? noises[random.integer(noises.length)] : undefined;
        clip = mixNoise(clip, random.uniform(snrDb[0], snrDb[1]), random, noise);
      }
    }
    const { normalize } = this.preprocessing;
    const computed = this.maker.compute(clip);
    const normalized = normalize === 'bands' ? normalizeBands(computed) : normalizeSpectrogram(computed, normalize === 'example' ? undefined : normalize);
    return random && augment?.masks && augment.masks.count > 0 ? maskSpectrogram(normalized, augment.masks, random) : normalized;
  }

  /** Walks one recording through every step: the best debugging aid. */
  summary(audio: AudioData, source = 'audio'): string[] {
    const samples = this.prepare(audio, source);
    const spectrogram = this.features(samples);
    const { spectrogram: options } = this.preprocessing;
    return [
      `read → ${audio.channels.length} channel(s), ${audio.channels[0]!.length} samples at ${audio.sampleRate} Hz (${(audio.channels[0]!.length / audio.sampleRate).toFixed(2)} s)`,
      `mono${audio.sampleRate === this.preprocessing.sampleRate ? '' : `, resampled to ${this.preprocessing.sampleRate} Hz`} → ${samples.length} samples`,
      `fit to ${this.preprocessing.duration} s (centred) → ${this.length} samples`,
      `spectrogram (n_fft ${options.nFft ?? 512}, hop ${options.hopLength ?? Math.floor((options.winLength ?? options.nFft ?? 512) / 4)}, ${options.mfcc ? `${options.mfcc} MFCCs of ` : ''}${options.mels ?? 64} ${options.melScale ?? 'htk'} mel bands, dB) → [${spectrogram.frames}, ${spectrogram.bins}, 1]`,
      `normalize (${this.preprocessing.normalize === 'example' ? 'per example' : this.preprocessing.normalize === 'bands' ? 'each band by its mean over time, then by the std' : `mean ${this.preprocessing.normalize.mean.toFixed(2)} std ${this.preprocessing.normalize.std.toFixed(2)}`})`,
    ];
  }
}

/** The speed shares `speed: 'auto'` tries, largest first. */
export const SPEED_CANDIDATES = [0.2, 0.15, 0.1, 0.05] as const;

/** A clip's spectrum: its spectrogram averaged over time, less its own mean (so loudness does not count). */
function averageSpectrum(pipeline: SoundPipeline, clip: Float32Array): Float64Array {
  const { data, frames, bins } = pipeline.maker.compute(fitLength(clip, pipeline.length));
  const spectrum = new Float64Array(bins);
  for (let frame = 0; frame < frames; frame++) for (let bin = 0; bin < bins; bin++) spectrum[bin]! += data[frame * bins + bin]! / frames;
  let mean = 0;
  for (const value of spectrum) mean += value / bins;
  return spectrum.map((value) => value - mean);
}

export interface SpeedCheck {
  /** The largest share of `SPEED_CANDIDATES` that keeps clips in their class, or 0. */
  speed: number;
  /** One line saying what was measured and decided. */
  why: string;
  /** Each share tried, with its measurement. */
  tried: { speed: number; check: LabelSafety }[];
}

/**
 * Whether speed perturbation keeps a clip's label, and how much of it: the rule behind `speed: 'auto'`
 * (`labelSafety` from `@kindling/data` on each clip's average spectrum and that of the clip played faster or
 * slower by the share, alternately). Played 20% faster, a spoken digit is still that digit and its spectrum
 * stays nearer the digit's; a note is another note. Tries `SPEED_CANDIDATES` from the largest and keeps the
 * first that keeps labels; when none does, no speed perturbation. When the clips themselves are recognised
 * barely above chance by their class's average spectrum, the check cannot tell and speed perturbation stays
 * off: it changes pitch, and pitch may be the label.
 */
export function speedCheck(pipeline: SoundPipeline, clips: readonly Float32Array[], labels: readonly number[]): SpeedCheck {
  if (clips.length === 0) throw new RangeError('a speed check needs clips');
  const examples = clips.map((clip) => averageSpectrum(pipeline, clip));
  const tried: SpeedCheck['tried'] = [];
  for (const speed of SPEED_CANDIDATES) {
    const percent = (index: number) => Math.round(100 * (index % 2 === 0 ? 1 + speed : 1 - speed));
    const changed = clips.map((clip, index) => averageSpectrum(pipeline, resampleByRatio(clip, 100, percent(index))));
    const check = labelSafety({ examples, changed, labels }, { examples: 'training clips', changed: `played ${Math.round(speed * 100)}% faster or slower` });
    tried.push({ speed, check });
    if (check.keepsLabels === undefined) return { speed: 0, why: labelSafetyWhy('speed perturbation', check, false, 'pitch may be the label'), tried };
    if (check.keepsLabels) return { speed, why: labelSafetyWhy(`speed perturbation ±${Math.round(speed * 100)}%`, check, true, ''), tried };
  }
  const smallest = tried.at(-1)!;
  return { speed: 0, why: labelSafetyWhy(`speed perturbation (even ±${Math.round(smallest.speed * 100)}%)`, smallest.check, false, ''), tried };
}
