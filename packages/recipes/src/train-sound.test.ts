import { generateSoundDataset } from '@kindling/audio/node';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastestTestBackend } from '@kindling/backend/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictedAccuracy, useBackend } from './fixtures/test-support';
import { trainSound, type TrainSoundOptions } from './train-sound';

const options = (out: string): TrainSoundOptions => ({
  sampleRate: 8000,
  duration: 1,
  nFft: 256,
  hop: 128,
  mels: 32,
  melScale: 'htk',
  augment: true,
  epochs: 5,
  lr: 5e-3,
  batchSize: 16,
  arch: 'resnet-tiny',
  seed: 3,
  validPct: 0.25,
  onBadFile: 'stop',
  out,
});

beforeAll(async () => {
  await useBackend(fastestTestBackend());
});

describe('kindling train sound', () => {
  it('trains from random weights past 85% on held-out generated sounds and writes the model, spectrogram and charts', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-sound-cli-'));
    const sounds = await generateSoundDataset(join(root, 'sounds'), { perClass: 25, seed: 4 });
    const result = await trainSound(sounds, options(join(root, 'out')));
    expect(result.classes).toEqual(['chirp', 'click', 'noise', 'tone']);
    expect(result.accuracy).toBeGreaterThan(0.85);
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.task.preprocessing).toMatchObject({ sampleRate: 8000, duration: 1, spectrogram: { nFft: 256, hopLength: 128, mels: 32 } });
    for (const file of ['model.json', 'spectrogram.png', 'confusion-matrix.png', 'loss.png']) expect(existsSync(join(root, 'out', file)), file).toBe(true);
    // the bundle, loaded back by `kindling predict`, on recordings it has never seen
    const fresh = await generateSoundDataset(join(root, 'fresh'), { perClass: 10, seed: 71 });
    expect(await predictedAccuracy(join(root, 'out'), fresh)).toBeGreaterThan(0.8);
  });

  it('labels by file name, splits by a regex, and names a bad recording', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-sound-bad-'));
    const sounds = await generateSoundDataset(join(root, 'sounds'), { perClass: 4, seed: 5 });
    writeFileSync(join(sounds, 'tone', 'tone-broken.wav'), 'RIFF....WAVEfmt ');
    await expect(trainSound(sounds, { ...options(join(root, 'out')), epochs: 1, labelRegex: '^([a-z]+)-', validRegex: '-00[0-1]\\.wav$' })).rejects.toThrow(`${join(sounds, 'tone', 'tone-broken.wav')}: not a readable WAV file`);
    await expect(trainSound(sounds, { ...options(join(root, 'out')), labelRegex: '([' })).rejects.toThrow('labelRegex is not a regular expression');
    await expect(trainSound(sounds, { ...options(join(root, 'out')), labelRegex: '^([a-z]+)-', validRegex: '_george_' })).rejects.toThrow("validRegex '_george_' matches no file name in the folder: nothing would be held out for validation");
  });
});
