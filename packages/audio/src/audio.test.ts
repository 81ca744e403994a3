import { DataError, Random } from '@kindling/data';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as wavefileModule from 'wavefile';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, fitLength, hzToMel, maskSpectrogram, normalizeBands, speedCheck, melToHz, mixNoise, resample, SoundPipeline, spectrogram, synthesizeSound, type SpectrogramOptions, type WavSampleFormat } from './index';
import { generateSoundDataset, readSound, renderSpectrogramPng, soundFolderDataLoaders } from './node';

const torchaudioReference = JSON.parse(readFileSync(new URL('./fixtures/torchaudio-reference.json', import.meta.url), 'utf8')) as {
  sampleRate: number;
  signal: number[];
  cases: Array<{ name: string; options: Omit<SpectrogramOptions, 'sampleRate'>; shape: [number, number]; values: number[] }>;
};
const scipyReference = JSON.parse(readFileSync(new URL('./fixtures/scipy-resample.json', import.meta.url), 'utf8')) as { signal: number[]; cases: Array<{ from: number; to: number; values: number[] }> };

const tone = (frequency: number, sampleRate: number, length: number, amplitude = 0.5) => Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));

describe('WAV', () => {
  const steps: Record<WavSampleFormat, number> = { '8': 1 / 128, '16': 1 / 32768, '24': 1 / 8388608, '32': 1 / 2147483648, '32f': 1e-7, '64': 0 };
  for (const [format, step] of Object.entries(steps) as Array<[WavSampleFormat, number]>) {
    it(`round-trips ${format}-bit ${format.endsWith('f') || format === '64' ? 'float' : 'integer'} PCM, mono and stereo`, () => {
      const left = Float32Array.from([0, 0.5, -0.5, 0.99, -1, 0.123456]);
      const right = Float32Array.from([0.25, -0.25, 0, 0.1, -0.1, 0.75]);
      for (const channels of [[left], [left, right]]) {
        const decoded = decodeWav(encodeWav({ sampleRate: 22050, channels }, format));
        expect(decoded.sampleRate).toBe(22050);
        expect(decoded.channels).toHaveLength(channels.length);
        decoded.channels.forEach((channel, c) => channel.forEach((value, i) => expect(Math.abs(value - channels[c]![i]!)).toBeLessThanOrEqual(step / 2 + 1e-9)));
      }
    });
  }

  it('refuses what it cannot read, naming the file', () => {
    const good = encodeWav({ sampleRate: 8000, channels: [tone(440, 8000, 800)] }, '16');
    expect(() => decodeWav(new TextEncoder().encode('ID3 this is an mp3'), 'song.mp3')).toThrow('song.mp3: not a readable WAV file (no RIFF/WAVE header)');
    expect(() => decodeWav(good.slice(0, good.length - 100), 'cut.wav')).toThrow('cut.wav: the file is truncated: the data chunk declares 1600 bytes but 1500 are there');
    expect(() => decodeWav(good.slice(0, 30), 'header.wav')).toThrow('header.wav: not a readable WAV file');
    const muLaw = new (wavefileModule.WaveFile ?? (wavefileModule as unknown as { default: typeof wavefileModule }).default.WaveFile)();
    muLaw.fromScratch(1, 8000, '16', [1, 2, 3]);
    muLaw.toMuLaw();
    expect(() => decodeWav(muLaw.toBuffer(), 'phone.wav')).toThrow('phone.wav: unsupported WAV encoding (format code 7');
    expect(() => decodeWav(encodeWav({ sampleRate: 8000, channels: [new Float32Array(0)] }), 'empty.wav')).toThrow('empty.wav: the WAV file holds no samples');
    expect(() => decodeWav(encodeWav({ sampleRate: 50, channels: [tone(5, 50, 100)] }), 'slow.wav')).toThrow('slow.wav: sample rate 50 Hz is outside 1000–384000 Hz');
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 1, spectrogram: {}, normalize: 'example' });
    expect(() => pipeline.prepare({ sampleRate: 8000, channels: [new Float32Array(800)] }, 'quiet.wav')).toThrow('quiet.wav: the recording is silent');
  });
});

describe('resample', () => {
  it("matches scipy's resample_poly within 1e-6", () => {
    const signal = Float32Array.from(scipyReference.signal);
    for (const reference of scipyReference.cases) {
      const out = resample(signal, reference.from, reference.to);
      expect(out.length, `${reference.from} → ${reference.to}`).toBe(reference.values.length);
      const worst = Math.max(...Array.from(out, (value, i) => Math.abs(value - reference.values[i]!)));
      expect(worst, `${reference.from} → ${reference.to}`).toBeLessThan(1e-6);
    }
  });

  it('refuses a ratio whose filter would need millions of taps, naming the ratio', () => {
    expect(() => resample(new Float32Array(10), 44_101, 16_000)).toThrow('resampling by 16000:44101 needs a filter of 882,021 taps; the limit is 400,001');
    // common rates reduce far below the limit
    expect(resample(tone(440, 44_100, 4410), 44_100, 16_000).length).toBe(1600);
  });

  it('removes content above the new Nyquist frequency instead of aliasing it, and keeps what is below', () => {
    const rms = (samples: Float32Array) => Math.sqrt(samples.reduce((sum, value) => sum + value * value, 0) / samples.length);
    // 3.5 kHz cannot exist at 4 kHz sampling (Nyquist 2 kHz): a naive decimation would fold it to 500 Hz
    expect(rms(resample(tone(3500, 8000, 8000), 8000, 4000).subarray(200, 3800))).toBeLessThan(0.005);
    expect(rms(resample(tone(440, 8000, 8000), 8000, 4000).subarray(200, 3800))).toBeCloseTo(0.5 / Math.SQRT2, 2);
  });
});

describe('spectrogram', () => {
  const signal = Float32Array.from(torchaudioReference.signal);
  for (const reference of torchaudioReference.cases) {
    it(`matches torchaudio: ${reference.name}`, () => {
      const out = spectrogram(signal, { sampleRate: torchaudioReference.sampleRate, ...reference.options });
      expect([out.frames, out.bins]).toEqual(reference.shape);
      const decibels = reference.options.decibels !== false || reference.options.mfcc !== undefined;
      const largest = Math.max(...reference.values.map(Math.abs));
      // dB values (and MFCCs of them) within 2e-3 dB; powers and magnitudes within 1e-5 of the largest value
      const tolerance = decibels ? 2e-3 : 1e-5 * largest;
      let worst = 0;
      out.data.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - reference.values[i]!))));
      expect(worst).toBeLessThan(tolerance);
    });
  }

  it('puts a pure tone in its bin and its mel band', () => {
    const linear = spectrogram(tone(1000, 8000, 4000), { sampleRate: 8000, nFft: 256, mels: 0, decibels: false });
    const frame = Array.from(linear.data.subarray(10 * linear.bins, 11 * linear.bins));
    expect(frame.indexOf(Math.max(...frame))).toBe(32); // 1000 Hz / (8000 / 256) Hz per bin
    const mel = spectrogram(tone(1000, 8000, 4000), { sampleRate: 8000, nFft: 256, mels: 40 });
    const melFrame = Array.from(mel.data.subarray(10 * 40, 11 * 40));
    const band = melFrame.indexOf(Math.max(...melFrame));
    const centre = melToHz(((band + 1) * hzToMel(4000)) / 41);
    expect(Math.abs(centre - 1000)).toBeLessThan(60);
    expect(hzToMel(1000, 'slaney')).toBeCloseTo(15, 10);
    expect(melToHz(hzToMel(3000, 'slaney'), 'slaney')).toBeCloseTo(3000, 8);
  });

  it('renders a PNG a person can look at', async () => {
    const png = await renderSpectrogramPng(spectrogram(tone(700, 8000, 8000), { sampleRate: 8000, nFft: 256, hopLength: 64, mels: 40 }), { scale: 2 });
    const metadata = await sharp(png).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', 126 * 2, 40 * 2]);
  });
});

describe('sound pipeline', () => {
  it('refuses a recording whose rate is absurd or whose samples are not finite numbers before anything is resampled', () => {
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 1, spectrogram: { nFft: 256, hopLength: 64, mels: 40 }, normalize: 'example' });
    const clip = tone(440, 8000, 800);
    expect(() => pipeline.prepare({ sampleRate: 0.5, channels: [clip] }, 'a.wav')).toThrow("a.wav, field 'sampleRate': the sample rate 0.5 is not a whole number of hertz from 1,000 to 384,000");
    expect(() => pipeline.prepare({ sampleRate: 1e9, channels: [clip] }, 'a.wav')).toThrow(DataError);
    expect(() => pipeline.prepare({ sampleRate: 44_101, channels: [clip] }, 'a.wav')).toThrow("a.wav, field 'sampleRate': a sample rate of 44,101 Hz shares too little with the model's 8,000 Hz to resample it (their ratio 8000:44101)");
    const broken = clip.slice();
    broken[3] = Number.POSITIVE_INFINITY;
    expect(() => pipeline.prepare({ sampleRate: 8000, channels: [broken] }, 'a.wav')).toThrow("a.wav, field 'samples': sample 3 is Infinity, not a finite number");
    expect(pipeline.prepare({ sampleRate: 16_000, channels: [tone(440, 16_000, 1600)] }, 'a.wav').length).toBe(800);
  });

  it('centres in validation, crops randomly in training, and mixes noise at the asked SNR', () => {
    const samples = Float32Array.from({ length: 10 }, (_, i) => i + 1);
    expect(Array.from(fitLength(samples, 4))).toEqual([4, 5, 6, 7]);
    expect(Array.from(fitLength(samples, 14))).toEqual([0, 0, ...samples, 0, 0]);
    const crops = new Set(Array.from({ length: 40 }, (_, seed) => fitLength(samples, 4, new Random(seed))[0]));
    expect(crops.size).toBeGreaterThan(4);
    const clean = tone(500, 8000, 8000);
    const noisy = mixNoise(clean, 10, new Random(3));
    const noise = noisy.map((value, i) => value - clean[i]!);
    const power = (x: Float32Array) => x.reduce((sum, value) => sum + value * value, 0);
    expect(10 * Math.log10(power(clean) / power(noise))).toBeCloseTo(10, 3);
  });

  it('speed perturbation plays a training clip faster or slower: a tone comes out at its pitch times the drawn speed', () => {
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 1, spectrogram: { nFft: 256, hopLength: 64, mels: 40 }, normalize: 'example' });
    const samples = pipeline.prepare({ sampleRate: 8000, channels: [tone(600, 8000, 12000)] });
    /** The mel band holding most energy in the middle frame. */
    const peakBand = (features: { data: Float32Array; bins: number; frames: number }) => {
      const row = features.data.subarray(Math.floor(features.frames / 2) * features.bins, (Math.floor(features.frames / 2) + 1) * features.bins);
      return row.indexOf(Math.max(...row));
    };
    const still = { shift: 0, noiseProbability: 0 };
    const bands = new Set<number>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const speed = new Random(seed).uniform(0.8, 1.2); // the first draw the pipeline makes
      const perturbed = pipeline.features(samples, { random: new Random(seed), augment: { ...still, speed: 0.2 } });
      const reference = pipeline.features(pipeline.prepare({ sampleRate: 8000, channels: [tone(600 * speed, 8000, 12000)] }));
      expect(peakBand(perturbed), `speed ${speed.toFixed(3)}`).toBe(peakBand(reference));
      bands.add(peakBand(perturbed));
    }
    expect(bands.size).toBeGreaterThan(1); // the pitch really moved
    // off by default: the same clip, the same band
    expect(peakBand(pipeline.features(samples, { random: new Random(1), augment: still }))).toBe(peakBand(pipeline.features(samples)));
  });

  it('band normalization takes out what stays the same through a clip (a colour per band) and keeps what changes', () => {
    const frames = 30;
    const bins = 8;
    const random = new Random(4);
    const moving = Float32Array.from({ length: frames * bins }, () => random.normal());
    const coloured = moving.map((value, i) => value + 10 * Math.sin(i % bins) - 40);
    const plain = normalizeBands({ data: moving, frames, bins });
    const fromColoured = normalizeBands({ data: coloured, frames, bins });
    for (let i = 0; i < plain.data.length; i++) expect(fromColoured.data[i]).toBeCloseTo(plain.data[i]!, 4);
    for (let bin = 0; bin < bins; bin++) {
      let mean = 0;
      for (let frame = 0; frame < frames; frame++) mean += plain.data[frame * bins + bin]! / frames;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
    }
    const std = Math.sqrt(plain.data.reduce((sum, value) => sum + value * value, 0) / plain.data.length);
    expect(std).toBeCloseTo(1, 5);
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 0.5, spectrogram: { nFft: 256, hopLength: 64, mels: 20 }, normalize: 'bands' });
    expect(pipeline.summary({ sampleRate: 8000, channels: [synthesizeSound('chirp', random, { sampleRate: 8000, duration: 0.5 })] }).at(-1)).toBe('normalize (each band by its mean over time, then by the std)');
  });

  it('SpecAugment masks whole frequency bands and time stretches, at most the asked width, only in training', () => {
    const frames = 40;
    const bins = 20;
    const ones = { data: new Float32Array(frames * bins).fill(1), frames, bins };
    const random = new Random(9);
    let masked = 0;
    for (let trial = 0; trial < 50; trial++) {
      const { data } = maskSpectrogram(ones, { count: 2, width: 0.15 }, random);
      const zeroBins = Array.from({ length: bins }, (_, bin) => Array.from({ length: frames }, (_, frame) => data[frame * bins + bin]).every((value) => value === 0)).filter(Boolean).length;
      const zeroFrames = Array.from({ length: frames }, (_, frame) => data.subarray(frame * bins, (frame + 1) * bins).every((value) => value === 0)).filter(Boolean).length;
      // every zero lies in a wholly masked band or stretch: no stray cell
      for (let frame = 0; frame < frames; frame++) {
        for (let bin = 0; bin < bins; bin++) {
          if (data[frame * bins + bin] !== 0) continue;
          const bandMasked = Array.from({ length: frames }, (_, f) => data[f * bins + bin]).every((value) => value === 0);
          const stretchMasked = data.subarray(frame * bins, (frame + 1) * bins).every((value) => value === 0);
          expect(bandMasked || stretchMasked).toBe(true);
        }
      }
      expect(zeroBins).toBeLessThanOrEqual(2 * Math.floor(bins * 0.15));
      expect(zeroFrames).toBeLessThanOrEqual(2 * Math.floor(frames * 0.15));
      masked += zeroBins + zeroFrames;
    }
    expect(masked).toBeGreaterThan(50);
    expect(ones.data.every((value) => value === 1)).toBe(true);
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 0.5, spectrogram: { nFft: 256, hopLength: 64, mels: 20 }, normalize: 'example' });
    const tone = synthesizeSound('tone', new Random(1), { sampleRate: 8000, duration: 0.5 });
    const validation = pipeline.features(tone, { augment: { masks: { count: 2, width: 0.15 } } });
    expect(validation.data.some((value) => value === 0)).toBe(false);
    const training = pipeline.features(tone, { random: new Random(2), augment: { shift: 0, noiseProbability: 0, masks: { count: 2, width: 0.15 } } });
    expect(training.data.filter((value) => value === 0).length).toBeGreaterThan(0);
  });

  it('gives the same features for a recording resampled from another rate', () => {
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 1, spectrogram: { nFft: 256, hopLength: 64, mels: 40 }, normalize: 'example' });
    expect(pipeline.shape).toEqual([126, 40, 1]);
    const at8k = pipeline.features(pipeline.prepare({ sampleRate: 8000, channels: [tone(600, 8000, 8000)] }));
    const at16k = pipeline.features(pipeline.prepare({ sampleRate: 16000, channels: [tone(600, 16000, 16000), tone(600, 16000, 16000)] }));
    let total = 0;
    let worst = 0;
    at8k.data.forEach((value, i) => {
      total += Math.abs(value - at16k.data[i]!);
      worst = Math.max(worst, Math.abs(value - at16k.data[i]!));
    });
    // normalized units (standard deviations): the resampler's transition band touches the top mel bands
    expect(total / at8k.data.length).toBeLessThan(0.01);
    expect(worst).toBeLessThan(0.2);
  });
});

describe('sound folder data block', () => {
  it('generates the default set and batches spectrograms labelled by folder or file name', async () => {
    const root = await generateSoundDataset(join(mkdtempSync(join(tmpdir(), 'kindling-sounds-')), 'sounds'), { perClass: 6, seed: 2 });
    const audio = await readSound(join(root, 'chirp', 'chirp-000.wav'));
    expect([audio.sampleRate, audio.channels[0]!.length]).toEqual([8000, 8000]);
    const data = await soundFolderDataLoaders(root, { batchSize: 8, validPct: 0.25, seed: 1 });
    expect(data.vocab.labels).toEqual(['chirp', 'click', 'noise', 'tone']);
    let seen = 0;
    for await (const batch of data.train) {
      expect((batch.inputs as { shape: number[] }).shape.slice(1)).toEqual([126, 40, 1]);
      seen += batch.targets.shape[0]!;
      (batch.inputs as { dispose(): void }).dispose();
      batch.targets.dispose();
    }
    expect(seen).toBe(18);
    expect((await data.summary()).join('\n')).toContain('spectrogram (n_fft 256, hop 64, 40 htk mel bands, dB) → [126, 40, 1]');
    // 18 training clips are too few to judge by: speed perturbation stays off, since pitch may be the label
    expect(data.speed.share).toBe(0);
    expect(data.speed.why).toMatch(/^speed perturbation off: 18 training clips .* too few to judge by \(under 100\) \(pitch may be the label\)$/);
    expect((await data.summary()).at(-1)).toMatch(/^training: random crop, time shift, noise, speed perturbation off: /);
    const asked = await soundFolderDataLoaders(root, { batchSize: 8, validPct: 0.25, seed: 1, speed: 0 });
    expect(asked.speed).toEqual({ share: 0, why: 'no speed perturbation (asked for)' });
    const byName = await soundFolderDataLoaders(root, { label: /^([a-z]+)-/, isValid: (file) => file.endsWith('-000.wav') });
    expect(byName.valid.options.items).toHaveLength(4);
    writeFileSync(join(root, 'tone', 'broken.wav'), 'not audio');
    const broken = await soundFolderDataLoaders(root, { isValid: (file) => file.includes('broken') || file.endsWith('-000.wav') });
    const consume = async () => {
      for await (const batch of broken.valid) void batch;
    };
    await expect(consume()).rejects.toThrow(DataError);
    await expect(consume()).rejects.toThrow(`${join(root, 'tone', 'broken.wav')}: not a readable WAV file`);
  });

  it('speed: auto perturbs speed where it keeps the label (kinds of sound), not where pitch is the label (notes)', () => {
    const pipeline = new SoundPipeline({ sampleRate: 8000, duration: 0.5, spectrogram: { nFft: 256, hopLength: 64, mels: 40 }, normalize: 'example' });
    const random = new Random(7);
    const kinds = ['tone', 'chirp', 'noise', 'click'] as const;
    const sounds = kinds.flatMap((kind) => Array.from({ length: 30 }, () => synthesizeSound(kind, random, { sampleRate: 8000, duration: 0.5 })));
    const kindCheck = speedCheck(pipeline, sounds, sounds.map((_, i) => Math.floor(i / 30)));
    expect(kindCheck.speed).toBe(0.2);
    expect(kindCheck.why).toMatch(/^speed perturbation ±20% on: 120 training clips are nearest .* \(at least 50%\)$/);
    // six notes a semitone apart (A4 up), each at a random loudness with a little noise: pitch is the label
    const notes = Array.from({ length: 120 }, (_, i) => {
      const hz = 440 * 2 ** (Math.floor(i / 20) / 12);
      const loudness = 0.2 + random.next() * 0.5;
      return Float32Array.from({ length: 4000 }, (_, t) => loudness * Math.sin((2 * Math.PI * hz * t) / 8000) + 0.01 * random.normal());
    });
    const noteCheck = speedCheck(pipeline, notes, notes.map((_, i) => Math.floor(i / 20)));
    expect(noteCheck.speed).toBe(0);
    expect(noteCheck.tried.map((tried) => tried.speed)).toEqual([0.2, 0.15, 0.1, 0.05]);
    expect(noteCheck.why).toMatch(/^speed perturbation \(even ±5%\) off: .* the change moves examples out of their class\)$/);
  });

  it('synthesizes clips whose classes differ where they should', () => {
    const random = new Random(5);
    const peakBin = (samples: Float32Array) => {
      const linear = spectrogram(samples, { sampleRate: 8000, nFft: 256, mels: 0, decibels: false });
      const totals = new Float64Array(linear.bins);
      for (let t = 0; t < linear.frames; t++) for (let b = 0; b < linear.bins; b++) totals[b]! += linear.data[t * linear.bins + b]!;
      return totals;
    };
    const toneEnergy = peakBin(synthesizeSound('tone', random));
    const sorted = Array.from(toneEnergy).sort((a, b) => b - a);
    expect(sorted[0]! / sorted[5]!).toBeGreaterThan(10); // a tone's energy sits in a few bins
  });
});
