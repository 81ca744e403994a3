/**
 * Spectrograms in plain TypeScript (float64 arithmetic, no tfjs kernel, no WebAudio), so the same
 * samples give the same numbers in Node and in every browser, on every backend.
 */

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** An in-place complex FFT of a power-of-two size (iterative radix-2), with precomputed twiddles. */
class Radix2 {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;

  constructor(readonly size: number) {
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let i = 0; i < size / 2; i++) {
      this.cos[i] = Math.cos((2 * Math.PI * i) / size);
      this.sin[i] = -Math.sin((2 * Math.PI * i) / size);
    }
    this.reversed = new Uint32Array(size);
    const bits = Math.log2(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reversed[i] = r;
    }
  }

  /** Forward transform (e^{-2πi kn/N}) of `re + i·im`, in place. */
  transform(re: Float64Array, im: Float64Array): void {
    const n = this.size;
    const { cos, sin, reversed } = this;
    for (let i = 0; i < n; i++) {
      const j = reversed[i]!;
      if (j > i) {
        const r = re[i]!;
        re[i] = re[j]!;
        re[j] = r;
        const m = im[i]!;
        im[i] = im[j]!;
        im[j] = m;
      }
    }
    // the first stage's twiddle is 1: sums and differences of neighbours
    for (let a = 0; a + 1 < n; a += 2) {
      const tr = re[a + 1]!;
      const ti = im[a + 1]!;
      re[a + 1] = re[a]! - tr;
      im[a + 1] = im[a]! - ti;
      re[a]! += tr;
      im[a]! += ti;
    }
    for (let length = 4; length <= n; length <<= 1) {
      const half = length >> 1;
      const step = n / length;
      // each twiddle read once per stage, for every butterfly that uses it
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step]!;
        const wi = sin[k * step]!;
        for (let a = k; a < n; a += length) {
          const b = a + half;
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a]! += tr;
          im[a]! += ti;
        }
      }
    }
  }
}

/**
 * The power spectrum `|X_k|²`, k = 0 … n/2, of real frames of any length n: radix-2 when n is a power
 * of two, Bluestein's chirp-z transform otherwise (so torchaudio's n_fft = 400 works too).
 */
export class PowerSpectrum {
  readonly bins: number;
  private readonly radix: Radix2;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly chirp?: { re: Float64Array; im: Float64Array; filterRe: Float64Array; filterIm: Float64Array };

  /** Power-of-two sizes: the real frame is packed into a half-size complex FFT; these rotate its halves apart. */
  private readonly packed?: { cos: Float64Array; sin: Float64Array };

  constructor(readonly size: number) {
    this.bins = Math.floor(size / 2) + 1;
    if (isPowerOfTwo(size) && size >= 4) {
      const half = size / 2;
      this.radix = new Radix2(half);
      this.re = new Float64Array(half);
      this.im = new Float64Array(half);
      const cos = new Float64Array(half + 1);
      const sin = new Float64Array(half + 1);
      for (let k = 0; k <= half; k++) {
        cos[k] = Math.cos((2 * Math.PI * k) / size);
        sin[k] = -Math.sin((2 * Math.PI * k) / size);
      }
      this.packed = { cos, sin };
      return;
    }
    const m = isPowerOfTwo(size) ? size : 2 ** Math.ceil(Math.log2(2 * size - 1));
    this.radix = new Radix2(m);
    this.re = new Float64Array(m);
    this.im = new Float64Array(m);
    if (m !== size) {
      const re = new Float64Array(size);
      const im = new Float64Array(size);
      for (let k = 0; k < size; k++) {
        const angle = (Math.PI * ((k * k) % (2 * size))) / size;
        re[k] = Math.cos(angle);
        im[k] = -Math.sin(angle);
      }
      const filterRe = new Float64Array(m);
      const filterIm = new Float64Array(m);
      for (let k = 0; k < size; k++) {
        filterRe[k] = re[k]!;
        filterIm[k] = -im[k]!;
        if (k > 0) {
          filterRe[m - k] = re[k]!;
          filterIm[m - k] = -im[k]!;
        }
      }
      this.radix.transform(filterRe, filterIm);
      this.chirp = { re, im, filterRe, filterIm };
    }
  }

  /** Writes the power spectrum of `frame` (length `size`) into `out` (length `bins`). */
  compute(frame: Float64Array, out: Float64Array): void {
    const { re, im, chirp, packed } = this;
    if (packed) {
      // z[n] = x[2n] + i·x[2n+1]; X[k] = E[k] + W^k·O[k] with E, O the spectra of the even and odd samples.
      const half = re.length;
      for (let n = 0; n < half; n++) {
        re[n] = frame[2 * n]!;
        im[n] = frame[2 * n + 1]!;
      }
      this.radix.transform(re, im);
      for (let k = 0; k <= half; k++) {
        const a = k % half;
        const b = (half - k) % half;
        const zr = re[a]!;
        const zi = im[a]!;
        const cr = re[b]!;
        const ci = -im[b]!;
        const er = (zr + cr) / 2;
        const ei = (zi + ci) / 2;
        const or = (zi - ci) / 2;
        const oi = -(zr - cr) / 2;
        const wr = packed.cos[k]!;
        const wi = packed.sin[k]!;
        const xr = er + wr * or - wi * oi;
        const xi = ei + wr * oi + wi * or;
        out[k] = xr * xr + xi * xi;
      }
      return;
    }
    re.fill(0);
    im.fill(0);
    if (!chirp) {
      re.set(frame);
      this.radix.transform(re, im);
      for (let k = 0; k < this.bins; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
      return;
    }
    for (let k = 0; k < this.size; k++) {
      re[k] = frame[k]! * chirp.re[k]!;
      im[k] = frame[k]! * chirp.im[k]!;
    }
    this.radix.transform(re, im);
    for (let k = 0; k < re.length; k++) {
      const r = re[k]! * chirp.filterRe[k]! - im[k]! * chirp.filterIm[k]!;
      const i = re[k]! * chirp.filterIm[k]! + im[k]! * chirp.filterRe[k]!;
      re[k] = r;
      im[k] = -i; // conjugate: the inverse transform as a forward one
    }
    this.radix.transform(re, im);
    const scale = 1 / re.length;
    for (let k = 0; k < this.bins; k++) {
      const yr = re[k]! * scale;
      const yi = -im[k]! * scale;
      const r = yr * chirp.re[k]! - yi * chirp.im[k]!;
      const i = yr * chirp.im[k]! + yi * chirp.re[k]!;
      out[k] = r * r + i * i;
    }
  }
}

export type WindowKind = 'hann' | 'hamming' | 'rectangular';

/** A periodic window (as torch.hann_window and scipy's `get_window` use for spectra). */
export function makeWindow(kind: WindowKind, length: number): Float64Array {
  const window = new Float64Array(length);
  for (let n = 0; n < length; n++) {
    const phase = (2 * Math.PI * n) / length;
    window[n] = kind === 'hann' ? 0.5 - 0.5 * Math.cos(phase) : kind === 'hamming' ? 0.54 - 0.46 * Math.cos(phase) : 1;
  }
  return window;
}

export type MelScale = 'htk' | 'slaney';

/** Hertz to mels on the HTK scale (`2595·log10(1 + f/700)`) or Slaney's (linear below 1 kHz, logarithmic above). */
export function hzToMel(hz: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + hz / 700);
  const linear = hz / (200 / 3);
  return hz >= 1000 ? 15 + Math.log(hz / 1000) / (Math.log(6.4) / 27) : linear;
}

export function melToHz(mel: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  return mel >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15)) : (200 / 3) * mel;
}

/**
 * Triangular mel filters `[bins, mels]` over the FFT bins (the same construction as librosa's
 * `filters.mel` and torchaudio's `melscale_fbanks`); `norm: 'slaney'` scales each to unit area.
 */
export function melFilterbank(options: { sampleRate: number; nFft: number; mels: number; fMin?: number; fMax?: number; scale?: MelScale; norm?: 'slaney' | 'none' }): Float64Array {
  const { sampleRate, nFft, mels, fMin = 0, fMax = sampleRate / 2, scale = 'htk', norm = 'none' } = options;
  const bins = Math.floor(nFft / 2) + 1;
  const low = hzToMel(fMin, scale);
  const high = hzToMel(fMax, scale);
  const points = Array.from({ length: mels + 2 }, (_, i) => melToHz(low + ((high - low) * i) / (mels + 1), scale));
  const bank = new Float64Array(bins * mels);
  for (let b = 0; b < bins; b++) {
    const frequency = ((sampleRate / 2) * b) / (bins - 1);
    for (let m = 0; m < mels; m++) {
      const down = (frequency - points[m]!) / (points[m + 1]! - points[m]!);
      const up = (points[m + 2]! - frequency) / (points[m + 2]! - points[m + 1]!);
      let weight = Math.max(0, Math.min(down, up));
      if (norm === 'slaney') weight *= 2 / (points[m + 2]! - points[m]!);
      bank[b * mels + m] = weight;
    }
  }
  return bank;
}

export interface SpectrogramOptions {
  sampleRate: number;
  /** FFT size. Default 512. */
  nFft?: number;
  /** Window length (≤ nFft; the window is centred in the FFT frame). Default nFft. */
  winLength?: number;
  /** Samples between frames. Default winLength / 4. */
  hopLength?: number;
  window?: WindowKind;
  /** Pad nFft/2 on both sides so frame t is centred on sample t·hop. Default true. */
  center?: boolean;
  padMode?: 'reflect' | 'constant';
  /** 2: power, 1: magnitude. Default 2. */
  power?: 1 | 2;
  /** Mel bands; 0 keeps the linear frequency bins. Default 64. */
  mels?: number;
  fMin?: number;
  fMax?: number;
  melScale?: MelScale;
  melNorm?: 'slaney' | 'none';
  /** Convert to decibels (`10·log10` of power, `20·log10` of magnitude). Default true. */
  decibels?: boolean;
  /** Floor in dB below the loudest value (torchaudio's `top_db`); null for none. Default 80. */
  topDb?: number | null;
  /** Cepstral coefficients to keep (DCT-II, orthonormal, of the dB mel spectrogram); 0 for none. */
  mfcc?: number;
}

/** A spectrogram as an image: `frames` rows of `bins` values, row-major, shape `[frames, bins, 1]`. */
export interface Spectrogram {
  data: Float32Array;
  frames: number;
  bins: number;
}

interface Plan {
  nFft: number;
  hop: number;
  window: Float64Array;
  spectrum: PowerSpectrum;
  bank?: { first: Int32Array; weights: Float64Array[] };
  mels: number;
  dct?: Float64Array;
  options: SpectrogramOptions;
}

/**
 * Computes spectrograms with one set of options, reusing the FFT tables, window, filterbank and DCT;
 * `compute(samples)` gives a `[frames, bins, 1]` image (bins = mels, MFCCs or FFT bins).
 */
export class SpectrogramMaker {
  private readonly plan: Plan;

  constructor(options: SpectrogramOptions) {
    const nFft = options.nFft ?? 512;
    const winLength = options.winLength ?? nFft;
    const hop = options.hopLength ?? Math.max(1, Math.floor(winLength / 4));
    if (!(Number.isInteger(nFft) && nFft >= 2)) throw new RangeError(`nFft must be a whole number ≥ 2, not ${nFft}`);
    if (!(Number.isInteger(winLength) && winLength >= 1 && winLength <= nFft)) throw new RangeError(`winLength must be from 1 to nFft (${nFft}), not ${winLength}`);
    if (!(Number.isInteger(hop) && hop >= 1)) throw new RangeError(`hopLength must be a whole number ≥ 1, not ${hop}`);
    const mels = options.mels ?? 64;
    const fMax = options.fMax ?? options.sampleRate / 2;
    if (mels > 0 && !(fMax <= options.sampleRate / 2 && (options.fMin ?? 0) < fMax)) throw new RangeError(`mel range ${options.fMin ?? 0}–${fMax} Hz must lie within 0–${options.sampleRate / 2} Hz`);
    const window = new Float64Array(nFft);
    window.set(makeWindow(options.window ?? 'hann', winLength), Math.floor((nFft - winLength) / 2));
    const dense = mels > 0 ? melFilterbank({ sampleRate: options.sampleRate, nFft, mels, fMin: options.fMin, fMax, scale: options.melScale, norm: options.melNorm }) : undefined;
    let bank: Plan['bank'];
    if (dense) {
      // Each triangle covers a few bins: keep, per mel band, its first bin and its weights.
      const fftBins = Math.floor(nFft / 2) + 1;
      const first = new Int32Array(mels);
      const weights: Float64Array[] = [];
      for (let m = 0; m < mels; m++) {
        let low = 0;
        while (low < fftBins && dense[low * mels + m] === 0) low++;
        let high = fftBins;
        while (high > low && dense[(high - 1) * mels + m] === 0) high--;
        first[m] = low;
        weights.push(Float64Array.from({ length: high - low }, (_, i) => dense[(low + i) * mels + m]!));
      }
      bank = { first, weights };
    }
    const bins = mels > 0 ? mels : Math.floor(nFft / 2) + 1;
    let dct: Float64Array | undefined;
    if (options.mfcc) {
      if (options.mfcc > bins) throw new RangeError(`mfcc (${options.mfcc}) cannot exceed the mel bands (${bins})`);
      dct = new Float64Array(bins * options.mfcc);
      for (let n = 0; n < bins; n++) {
        for (let k = 0; k < options.mfcc; k++) dct[n * options.mfcc + k] = Math.cos((Math.PI / bins) * (n + 0.5) * k) * Math.sqrt(2 / bins) * (k === 0 ? Math.SQRT1_2 : 1);
      }
    }
    this.plan = { nFft, hop, window, spectrum: new PowerSpectrum(nFft), bank, mels, dct, options };
  }

  /** Frames a signal of `length` samples gives. */
  framesFor(length: number): number {
    const { nFft, hop, options } = this.plan;
    const padded = options.center === false ? length : length + 2 * Math.floor(nFft / 2);
    return padded < nFft ? 0 : 1 + Math.floor((padded - nFft) / hop);
  }

  /** Output bins per frame. */
  get bins(): number {
    const { options, mels, nFft } = this.plan;
    return options.mfcc ? options.mfcc : mels > 0 ? mels : Math.floor(nFft / 2) + 1;
  }

  compute(samples: Float32Array | Float64Array): Spectrogram {
    const { nFft, hop, window, spectrum, bank, mels, dct, options } = this.plan;
    const frames = this.framesFor(samples.length);
    if (frames === 0) throw new RangeError(`${samples.length} samples are fewer than one FFT frame (${nFft})`);
    const pad = options.center === false ? 0 : Math.floor(nFft / 2);
    const reflect = (options.padMode ?? 'reflect') === 'reflect' && samples.length > pad;
    const at = (index: number): number => {
      let i = index - pad;
      if (i >= 0 && i < samples.length) return samples[i]!;
      if (!reflect) return 0;
      i = i < 0 ? -i : 2 * (samples.length - 1) - i;
      return samples[i]!;
    };
    const featureBins = mels > 0 ? mels : spectrum.bins;
    const features = new Float64Array(frames * featureBins);
    const frame = new Float64Array(nFft);
    const power = new Float64Array(spectrum.bins);
    const magnitude = options.power === 1;
    for (let t = 0; t < frames; t++) {
      const start = t * hop;
      const offset = start - pad;
      let silent = true;
      if (offset >= 0 && offset + nFft <= samples.length) {
        for (let n = 0; n < nFft; n++) if ((frame[n] = samples[offset + n]! * window[n]!) !== 0) silent = false;
      } else {
        for (let n = 0; n < nFft; n++) if ((frame[n] = at(start + n) * window[n]!) !== 0) silent = false;
      }
      // a frame of silence (the padding of a short clip: often most of its frames) has no power at all
      if (silent) power.fill(0);
      else spectrum.compute(frame, power);
      if (magnitude) for (let k = 0; k < power.length; k++) power[k] = Math.sqrt(power[k]!);
      const row = t * featureBins;
      if (bank) {
        for (let m = 0; m < mels; m++) {
          const weights = bank.weights[m]!;
          const first = bank.first[m]!;
          let sum = 0;
          for (let i = 0; i < weights.length; i++) sum += power[first + i]! * weights[i]!;
          features[row + m] = sum;
        }
      } else {
        features.set(power, row);
      }
    }
    if (options.decibels !== false || dct) {
      const multiplier = magnitude ? 20 : 10;
      let loudest = -Infinity;
      for (let i = 0; i < features.length; i++) {
        features[i] = multiplier * Math.log10(Math.max(1e-10, features[i]!));
        if (features[i]! > loudest) loudest = features[i]!;
      }
      const topDb = options.topDb === undefined ? 80 : options.topDb;
      if (topDb !== null) {
        const floor = loudest - topDb;
        for (let i = 0; i < features.length; i++) if (features[i]! < floor) features[i] = floor;
      }
    }
    if (dct) {
      const coefficients = options.mfcc!;
      const data = new Float32Array(frames * coefficients);
      for (let t = 0; t < frames; t++) {
        for (let k = 0; k < coefficients; k++) {
          let sum = 0;
          for (let n = 0; n < featureBins; n++) sum += features[t * featureBins + n]! * dct[n * coefficients + k]!;
          data[t * coefficients + k] = sum;
        }
      }
      return { data, frames, bins: coefficients };
    }
    return { data: new Float32Array(features), frames, bins: featureBins };
  }
}

/** One spectrogram with the given options (build a `SpectrogramMaker` to compute many). */
export function spectrogram(samples: Float32Array | Float64Array, options: SpectrogramOptions): Spectrogram {
  return new SpectrogramMaker(options).compute(samples);
}

/** Mean and standard deviation of spectrogram values, for dataset-wide normalization. */
export interface SpectrogramStats {
  mean: number;
  std: number;
}

export function spectrogramStats(spectrograms: Iterable<Spectrogram>): SpectrogramStats {
  let count = 0;
  let sum = 0;
  let squares = 0;
  for (const { data } of spectrograms) {
    for (let i = 0; i < data.length; i++) {
      const value = data[i]!;
      sum += value;
      squares += value * value;
    }
    count += data.length;
  }
  const mean = sum / count;
  return { mean, std: Math.sqrt(Math.max(0, squares / count - mean * mean)) || 1 };
}

/** `(x − mean) / std`, with the given dataset statistics or, without them, this spectrogram's own. */
export function normalizeSpectrogram(spectrogram: Spectrogram, stats?: SpectrogramStats): Spectrogram {
  const { mean, std } = stats ?? spectrogramStats([spectrogram]);
  const data = new Float32Array(spectrogram.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (spectrogram.data[i]! - mean) / std;
  return { ...spectrogram, data };
}

/**
 * Each band less its own mean over time, then the whole by its standard deviation: what stays the same all
 * through a clip (a voice's or a microphone's spectral colour) is taken out, what changes is kept (cepstral
 * mean normalization, as speech recognition does it).
 */
export function normalizeBands(spectrogram: Spectrogram): Spectrogram {
  const { frames, bins } = spectrogram;
  const means = new Float64Array(bins);
  for (let frame = 0; frame < frames; frame++) for (let bin = 0; bin < bins; bin++) means[bin]! += spectrogram.data[frame * bins + bin]! / frames;
  const data = new Float32Array(spectrogram.data.length);
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    data[i] = spectrogram.data[i]! - means[i % bins]!;
    squares += data[i]! * data[i]!;
  }
  const std = Math.sqrt(squares / data.length) || 1;
  for (let i = 0; i < data.length; i++) data[i]! /= std;
  return { ...spectrogram, data };
}

const PALETTE = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/**
 * Colours a spectrogram for people (viridis-like, low = dark): time runs left to right and frequency
 * bottom to top, as spectrograms are usually drawn. RGBA, `width = frames`, `height = bins`.
 */
export function spectrogramToRgba(spectrogram: Spectrogram): { data: Uint8ClampedArray; width: number; height: number } {
  const { data, frames, bins } = spectrogram;
  let [low, high] = [Infinity, -Infinity];
  for (const value of data) [low, high] = [Math.min(low, value), Math.max(high, value)];
  const span = high - low || 1;
  const rgba = new Uint8ClampedArray(frames * bins * 4);
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bins; b++) {
      const position = ((data[t * bins + b]! - low) / span) * (PALETTE.length - 1);
      const index = Math.min(PALETTE.length - 2, Math.floor(position));
      const fraction = position - index;
      const pixel = ((bins - 1 - b) * frames + t) * 4;
      for (let c = 0; c < 3; c++) rgba[pixel + c] = PALETTE[index]![c]! + (PALETTE[index + 1]![c]! - PALETTE[index]![c]!) * fraction;
      rgba[pixel + 3] = 255;
    }
  }
  return { data: rgba, width: frames, height: bins };
}
