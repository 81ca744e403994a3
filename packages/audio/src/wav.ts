import { DataError } from '@kindling/data';
import * as wavefile from 'wavefile';

// Bundlers read wavefile's ES module (a named export); Node's ESM loader reads its CommonJS build (a default export).
const WaveFile = wavefile.WaveFile ?? (wavefile as unknown as { default: typeof wavefile }).default.WaveFile;

/** Decoded audio: one Float32Array per channel, samples in [-1, 1]. */
export interface AudioData {
  sampleRate: number;
  channels: Float32Array[];
}

/** Sample formats a WAV file may hold: integer PCM of 8, 16, 24 or 32 bits, or 32/64-bit float. */
export type WavSampleFormat = '8' | '16' | '24' | '32' | '32f' | '64';

const SCALE: Record<string, number> = { '8': 128, '16': 32768, '24': 8388608, '32': 2147483648 };
/** Sample rates outside this range are refused as absurd (telephone audio is 8 kHz; studio 384 kHz). */
export const SAMPLE_RATE_RANGE: readonly [number, number] = [1000, 384_000];

/**
 * Decodes a WAV file (PCM 8/16/24/32-bit integer, 32/64-bit float, plain or extensible, any number of
 * channels and sample rate) into float channels. Compressed WAVs (µ-law, ADPCM, …), truncated files,
 * empty files and absurd sample rates are refused with a DataError naming `source`.
 */
export function decodeWav(bytes: Uint8Array, source = 'audio'): AudioData {
  let wave: InstanceType<typeof WaveFile>;
  try {
    wave = new WaveFile(bytes);
  } catch (error) {
    const reason = (error as Error).message;
    throw new DataError(`not a readable WAV file (${reason === 'Not a supported format.' ? 'no RIFF/WAVE header' : reason})`, { file: source }, { cause: error });
  }
  const format = wave.fmt as { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number };
  const depth = (wave as unknown as { bitDepth: string }).bitDepth;
  const pcm = format.audioFormat === 1 || format.audioFormat === 3 || format.audioFormat === 0xfffe;
  if (!pcm || !(depth in SCALE || depth === '32f' || depth === '64')) {
    throw new DataError(`unsupported WAV encoding (format code ${format.audioFormat}, ${format.bitsPerSample} bits): only PCM integer (8/16/24/32-bit) and float (32/64-bit) can be read; convert it, e.g. with ffmpeg -c:a pcm_s16le`, { file: source });
  }
  if (!(format.sampleRate >= SAMPLE_RATE_RANGE[0] && format.sampleRate <= SAMPLE_RATE_RANGE[1])) {
    throw new DataError(`sample rate ${format.sampleRate} Hz is outside ${SAMPLE_RATE_RANGE[0]}–${SAMPLE_RATE_RANGE[1]} Hz`, { file: source });
  }
  if (format.numChannels < 1) throw new DataError('the WAV file declares no channels', { file: source });
  const data = wave.data as { chunkSize: number; samples: Uint8Array };
  if (data.samples.length < data.chunkSize) {
    throw new DataError(`the file is truncated: the data chunk declares ${data.chunkSize} bytes but ${data.samples.length} are there`, { file: source });
  }
  const raw = wave.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const channels = (format.numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[])).map((channel) => {
    const out = new Float32Array(channel.length);
    if (depth === '8') for (let i = 0; i < channel.length; i++) out[i] = (channel[i]! - 128) / 128;
    else if (depth in SCALE) for (let i = 0; i < channel.length; i++) out[i] = channel[i]! / SCALE[depth]!;
    else out.set(channel);
    return out;
  });
  if (channels[0]!.length === 0) throw new DataError('the WAV file holds no samples', { file: source });
  return { sampleRate: format.sampleRate, channels };
}

/** Encodes float channels in [-1, 1] as a WAV file in the given sample format (clipping outside it). */
export function encodeWav(audio: AudioData, format: WavSampleFormat = '16'): Uint8Array {
  const samples = audio.channels.map((channel) => {
    const out = new Float64Array(channel.length);
    const scale = SCALE[format];
    for (let i = 0; i < channel.length; i++) {
      const value = Math.max(-1, Math.min(1, channel[i]!));
      if (scale === undefined) out[i] = value;
      else if (format === '8') out[i] = Math.max(0, Math.min(255, Math.round(value * 128 + 128)));
      else out[i] = Math.max(-scale, Math.min(scale - 1, Math.round(value * scale)));
    }
    return out;
  });
  const wave = new WaveFile();
  wave.fromScratch(samples.length, audio.sampleRate, format, samples.length === 1 ? samples[0]! : samples);
  return wave.toBuffer();
}

/** The mean of the channels: multi-channel audio mixed down to mono. */
export function toMono(audio: AudioData): Float32Array {
  if (audio.channels.length === 1) return audio.channels[0]!;
  const out = new Float32Array(audio.channels[0]!.length);
  for (const channel of audio.channels) for (let i = 0; i < out.length; i++) out[i]! += channel[i]! / audio.channels.length;
  return out;
}
