import { Random } from '@kindling/data';
import { serializeRecording, synthesizePointer } from '@kindling/pointer';
import { generatePointerDataset } from '@kindling/pointer/node';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastestTestBackend } from '@kindling/backend/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictedAccuracy, useBackend } from './fixtures/test-support';
import { parseScreen, parseWindow, trainPointer, type TrainPointerOptions } from './train-pointer';

const options = (out: string): TrainPointerOptions => ({
  window: 'whole',
  size: 48,
  fit: 'bbox',
  epochs: 8,
  lr: 5e-3,
  batchSize: 32,
  arch: 'resnet-tiny',
  seed: 42,
  validPct: 0.25,
  out,
});

beforeAll(async () => {
  await useBackend(fastestTestBackend());
});

describe('kindling train pointer', () => {
  it('tells human-like from bot-like sessions from random weights, past 80% on held-out recordings', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-pointer-cli-'));
    const moves = await generatePointerDataset(join(root, 'moves'), { perClass: 120, seed: 6 });
    const result = await trainPointer(moves, options(join(root, 'out')));
    expect(result.classes).toEqual(['bot', 'human']);
    expect(result.accuracy).toBeGreaterThan(0.8);
    for (const file of ['model.json', 'kindling.json', 'sample.png', 'confusion-matrix.png', 'loss.png']) expect(existsSync(join(root, 'out', file)), file).toBe(true);
    // the bundle, loaded back by `kindling predict`, on recordings it has never seen
    const fresh = await generatePointerDataset(join(root, 'fresh'), { perClass: 30, seed: 61 });
    expect(await predictedAccuracy(join(root, 'out'), fresh)).toBeGreaterThan(0.8);
    // "not sure" from the model's features too: one summary per class, from the training recordings' pictures
    const { task } = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8')) as { task: { familiarity?: { ranges: Record<string, unknown>; features?: { means: number[][]; limit: number } } } };
    expect(Object.keys(task.familiarity!.ranges)).toContain('frame');
    expect(task.familiarity!.features!.means).toHaveLength(2);
    expect(task.familiarity!.features!.limit).toBeGreaterThan(0);
  });

  it('learns gestures labelled by a CSV, cut into action windows, drawn both in their box and on the screen', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-pointer-gestures-'));
    const gestures = await generatePointerDataset(join(root, 'gestures'), { perClass: 60, seed: 2, gestures: true });
    const rows = readdirSync(gestures).flatMap((kind) => readdirSync(join(gestures, kind)).map((file) => `${file},${kind}`));
    writeFileSync(join(root, 'labels.csv'), ['file,label', ...rows].join('\n'));
    const result = await trainPointer(gestures, { ...options(join(root, 'out')), labels: join(root, 'labels.csv'), window: 'actions', size: 32, fit: 'both', dynamics: 'log', epochs: 8, lr: 1e-2 });
    expect(result.classes).toEqual(['check', 'circle', 'swipe', 'zigzag']);
    expect(result.accuracy).toBeGreaterThan(0.85);
    // six-channel pictures in the bundle too: `kindling predict` draws new gestures the same way
    const fresh = await generatePointerDataset(join(root, 'fresh'), { perClass: 10, seed: 21, gestures: true });
    expect(await predictedAccuracy(join(root, 'out'), fresh)).toBeGreaterThan(0.8);
  });

  it('with the auto defaults, cuts long sessions into windows, holds out whole recordings and scores them as the bundle answers', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-pointer-long-'));
    const writeSessions = (folder: string, perClass: number, seed: number) => {
      const random = new Random(seed);
      for (const kind of ['bot', 'human'] as const) {
        mkdirSync(join(folder, kind), { recursive: true });
        for (let n = 0; n < perClass; n++) writeFileSync(join(folder, kind, `${kind}-${n}.json`), serializeRecording(synthesizePointer(kind, random, { moves: 40 })));
      }
      return folder;
    };
    const lines: string[] = [];
    const out = join(root, 'out');
    const before = tf.memory().numTensors;
    const result = await trainPointer(writeSessions(join(root, 'long'), 10, 5), {
      ...options(out),
      window: 'auto',
      fit: 'auto',
      size: 'auto',
      epochs: 'auto',
      batchSize: 'auto',
      maxWindows: 20,
      validPct: 0.2,
      log: (line) => lines.push(line),
    });
    expect(tf.memory().numTensors).toBe(before); // the run, the per-recording scoring included, leaves no tensor behind
    const report = lines.join('\n');
    expect(report).toMatch(/in 2 classes: bot, human/);
    expect(report).toMatch(/\(windows of 16 and 4 recordings\)/);
    expect(report).toMatch(/^window: windows of 50 events/m);
    expect(report).toMatch(/^fit: both the box and the screen/m);
    expect(report).toMatch(/^schedule: \d+ training items → batch 16 .*, \d+ epochs \(at least 1200 steps/m);
    expect(report).toMatch(/^validation recordings: \d of 4 right \(\d+\.\d%\), each answered by its windows together/m);
    expect(result.windowAccuracy).toBeGreaterThan(0.8);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.75); // 3 of the 4 held-out recordings at least
    const metrics = JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')).metrics;
    expect(metrics).toMatchObject({ accuracy: result.accuracy, windowAccuracy: result.windowAccuracy });
    // the bundle cuts new sessions the same way and answers each with its windows' mean
    expect(await predictedAccuracy(out, writeSessions(join(root, 'fresh'), 5, 55))).toBeGreaterThanOrEqual(0.8);
    await expect(trainPointer(join(root, 'long'), { ...options(join(root, 'bad')), maxWindows: 0 })).rejects.toThrow('maxWindows must be a whole number from 1 to 10000, not 0');
    await expect(trainPointer(join(root, 'long'), { ...options(join(root, 'bad')), validRegex: '(' })).rejects.toThrow(/^validRegex is not a regular expression/);
    await expect(trainPointer(join(root, 'long'), { ...options(join(root, 'bad')), validRegex: '^nobody-' })).rejects.toThrow("validRegex '^nobody-' matches no file name in the folder: nothing would be held out for validation");
    // a file that cannot be read is still named, not blamed on the regex
    writeFileSync(join(root, 'long', 'bot', 'broken.json'), '{');
    await expect(trainPointer(join(root, 'long'), { ...options(join(root, 'bad')), validRegex: '^nobody-' })).rejects.toThrow(`${join(root, 'long', 'bot', 'broken.json')}: not JSON`);
  });

  it('parses window and screen options and refuses bad ones', async () => {
    await expect(trainPointer(undefined, { ...options(mkdtempSync(join(tmpdir(), 'kindling-pointer-bad-'))), dynamics: 'cubic' as 'log' })).rejects.toThrow("dynamics must be linear or log, not 'cubic'");
    expect(parseWindow('events:50')).toEqual({ by: 'events', size: 50 });
    expect(parseWindow('time:5000')).toEqual({ by: 'time', duration: 5000 });
    expect(parseScreen('1920x1080')).toEqual({ width: 1920, height: 1080 });
    expect(() => parseScreen('wide')).toThrow("screen must be WIDTHxHEIGHT in pixels (e.g. 1920x1080), not 'wide'");
    expect(parseWindow('auto')).toBe('auto');
    expect(() => parseWindow('minutes:2')).toThrow("window must be auto, whole, actions, events:<count> or time:<milliseconds>, not 'minutes:2'");
  });
});
