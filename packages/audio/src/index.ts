export { decodeWav, encodeWav, SAMPLE_RATE_RANGE, toMono } from './wav';
export type { AudioData, WavSampleFormat } from './wav';
export { kaiserLowpass, MAX_RESAMPLING_RATIO, resample } from './resample';
export { hzToMel, makeWindow, melFilterbank, melToHz, normalizeBands, normalizeSpectrogram, PowerSpectrum, spectrogram, SpectrogramMaker, spectrogramStats, spectrogramToRgba } from './spectrogram';
export type { MelScale, Spectrogram, SpectrogramOptions, SpectrogramStats, WindowKind } from './spectrogram';
export { checkSampleRate, fitLength, maskSpectrogram, mixNoise, SoundPipeline, SPEED_CANDIDATES, speedCheck, timeShift } from './transforms';
export type { SoundAugmentOptions, SoundPreprocessing, SpeedCheck } from './transforms';
export { SOUND_CLASSES, synthesizeSound } from './generate';
export type { SoundClass } from './generate';
