import { resample, spectrogram, synthesizeSound } from '@kindling/audio';
import { Random } from '@kindling/data';
import { rasterize, synthesizePointer } from '@kindling/pointer';

/**
 * Platform-independent computations whose numbers must not depend on where they run: a log-mel
 * spectrogram and MFCCs of a synthesized chirp, a resampling, and a rasterized mouse session.
 */
export function parityCases(): Record<string, number[]> {
  const chirp = synthesizeSound('chirp', new Random(7), { sampleRate: 8000, duration: 0.5 });
  const session = synthesizePointer('human', new Random(3)).events;
  return {
    logMel: Array.from(spectrogram(chirp, { sampleRate: 8000, nFft: 256, hopLength: 64, mels: 40 }).data),
    slaneyBluestein: Array.from(spectrogram(chirp, { sampleRate: 8000, nFft: 400, hopLength: 100, mels: 32, melScale: 'slaney', melNorm: 'slaney' }).data),
    mfcc: Array.from(spectrogram(chirp, { sampleRate: 8000, nFft: 256, hopLength: 64, mels: 40, mfcc: 13 }).data),
    resampled: Array.from(resample(chirp, 8000, 22050)),
    pointer: Array.from(rasterize(session, { size: 48 })),
  };
}
