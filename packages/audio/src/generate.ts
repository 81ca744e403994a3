import type { Random } from '@kindling/data';

export const SOUND_CLASSES = ['tone', 'chirp', 'noise', 'click'] as const;
export type SoundClass = (typeof SOUND_CLASSES)[number];

/**
 * Synthesizes one clip of a class: a steady tone with harmonics, a rising or falling chirp, a burst of
 * filtered noise, or a train of clicks, at a random pitch, loudness and place, over faint background
 * noise. The embedded default sound set is made of these.
 */
export function synthesizeSound(kind: SoundClass, random: Random, options: { sampleRate?: number; duration?: number } = {}): Float32Array {
  const { sampleRate = 8000, duration = 1 } = options;
  const length = Math.round(sampleRate * duration);
  const out = new Float32Array(length);
  const amplitude = random.uniform(0.2, 0.8);
  const start = random.integer(Math.floor(length * 0.3));
  const span = Math.floor(length * random.uniform(0.4, 0.65));
  const envelope = (i: number) => {
    const t = (i - start) / span;
    return t < 0 || t > 1 ? 0 : Math.min(1, t * 20, (1 - t) * 20);
  };
  const nyquist = sampleRate / 2;
  if (kind === 'tone') {
    const frequency = random.uniform(200, nyquist * 0.4);
    for (let i = 0; i < length; i++) {
      const phase = (2 * Math.PI * frequency * i) / sampleRate;
      out[i] = amplitude * envelope(i) * (Math.sin(phase) + 0.3 * Math.sin(2 * phase));
    }
  } else if (kind === 'chirp') {
    const [from, to] = random.next() < 0.5 ? [random.uniform(150, 600), random.uniform(nyquist * 0.5, nyquist * 0.8)] : [random.uniform(nyquist * 0.5, nyquist * 0.8), random.uniform(150, 600)];
    let phase = 0;
    for (let i = 0; i < length; i++) {
      const progress = Math.min(1, Math.max(0, (i - start) / span));
      phase += (2 * Math.PI * (from + (to - from) * progress)) / sampleRate;
      out[i] = amplitude * envelope(i) * Math.sin(phase);
    }
  } else if (kind === 'noise') {
    const smoothing = random.uniform(0, 0.8);
    let previous = 0;
    for (let i = 0; i < length; i++) {
      previous = smoothing * previous + (1 - smoothing) * random.normal();
      out[i] = amplitude * 0.5 * envelope(i) * previous;
    }
  } else {
    const interval = Math.floor(sampleRate * random.uniform(0.06, 0.15));
    for (let click = start; click < start + span; click += interval) {
      for (let j = 0; j < 40 && click + j < length; j++) out[click + j] = amplitude * Math.exp(-j / 6) * (j % 2 === 0 ? 1 : -1);
    }
  }
  for (let i = 0; i < length; i++) out[i]! += 0.01 * random.normal();
  return out;
}
