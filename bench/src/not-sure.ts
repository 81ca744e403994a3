import { loadPredictor } from '@kindling/deploy/node';
import { Random } from '@kindling/data';
import { encodePng, loadImage } from '@kindling/image/node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from './table';
import { backendLabel, startBenchBackend } from './threads';

/** The demo's committed bundles and samples (held out from their training data). */
const DEMO = fileURLToPath(new URL('../../apps/demo/public', import.meta.url));
/** The naive rule beside Kindling's: an answer less sure than this is "not sure" (the model's top probability). */
const BASELINE_CONFIDENCE = 0.5;

type Answer = { notSure?: string; confidence?: number; label?: string; coverage?: Record<string, number> };

/** Grey pictures a model of clothes or of microscope sections never saw: blanks, noise, patterns, shapes. */
async function offPictures(size: number, random: Random): Promise<Record<string, Uint8Array>> {
  const picture = (value: (x: number, y: number) => number) => {
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.fill(Math.max(0, Math.min(255, Math.round(value(x / size, y / size)))), (y * size + x) * 3, (y * size + x + 1) * 3);
    return encodePng({ data, shape: [size, size, 3] });
  };
  return {
    white: await picture(() => 255),
    black: await picture(() => 0),
    grey: await picture(() => 128),
    noise: await picture(() => random.next() * 255),
    checkerboard: await picture((x, y) => ((Math.floor(x * 8) + Math.floor(y * 8)) % 2) * 255),
    stripes: await picture((_, y) => (Math.floor(y * 10) % 2) * 255),
    gradient: await picture((x) => x * 255),
    blobs: await picture((x, y) => 128 + 100 * Math.sin(x * 7 + 1) * Math.cos(y * 5 + 2)),
    disc: await picture((x, y) => ((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.1 ? 255 : 0)),
  };
}

/** One second at 8 kHz of sounds a model of spoken digits never heard: tones, a chord, a sweep, a melody, noise. */
function offSounds(random: Random): Record<string, { samples: Float32Array; sampleRate: number }> {
  const rate = 8000;
  const sound = (value: (t: number) => number) => ({ samples: Float32Array.from({ length: rate }, (_, index) => value(index / rate)), sampleRate: rate });
  const sine = (hertz: number, t: number) => Math.sin(2 * Math.PI * hertz * t);
  return {
    'tone 200 Hz': sound((t) => 0.5 * sine(200, t)),
    'tone 440 Hz': sound((t) => 0.5 * sine(440, t)),
    'tone 1 kHz': sound((t) => 0.5 * sine(1000, t)),
    'tone 3 kHz': sound((t) => 0.5 * sine(3000, t)),
    chord: sound((t) => 0.2 * (sine(261.6, t) + sine(329.6, t) + sine(392, t))),
    sweep: sound((t) => 0.5 * Math.sin(2 * Math.PI * (200 + 1500 * t) * t)),
    melody: sound((t) => 0.4 * sine([262, 294, 330, 349, 392, 440, 494, 523][Math.floor(t * 8)]!, t)),
    beeps: sound((t) => (Math.floor(t * 8) % 2 === 0 ? 0.5 * sine(880, t) : 0)),
    'square wave': sound((t) => (sine(300, t) > 0 ? 0.3 : -0.3)),
    noise: sound(() => random.next() - 0.5),
  };
}

/** A picture with its grey levels turned over: a dark garment on white, where the training pictures are light on black. */
async function inverted(bytes: Uint8Array): Promise<Uint8Array> {
  const image = await loadImage(bytes, { channels: 3 });
  return encodePng({ data: image.data.map((value) => 255 - value), shape: image.shape as [number, number, number] });
}

/**
 * "Not sure" on inputs unlike the training data (issue 42): for each of the demo's bundles, the share of a set of
 * off-distribution inputs answered "not sure", beside the share of its held-out samples that are (the goal: at
 * least 90% and at most 10%), and beside the naive rule (top probability under 50%) on the same inputs.
 */
export async function benchNotSure(): Promise<void> {
  const report = await startBenchBackend();
  console.log(`\n## "Not sure" on inputs unlike the training data (the demo's bundles; ${backendLabel(report)})\n`);
  const about = JSON.parse(readFileSync(join(DEMO, 'models', 'about.json'), 'utf8')) as Record<string, { samples: Array<{ file?: string }> }>;
  const sample = (file: string) => new Uint8Array(readFileSync(join(DEMO, file)));
  const random = new Random(3);
  const clothes = about.image!.samples.map((entry) => sample(entry.file!));
  const views: Array<{ view: string; bundle: string; off: Record<string, unknown>; held: unknown[] }> = [
    { view: 'pictures (Fashion-MNIST)', bundle: 'image', off: { ...(await offPictures(96, random)), 'a shirt, inverted': await inverted(clothes[0]!), 'a trouser, inverted': await inverted(clothes[2]!) }, held: clothes },
    { view: 'segmentation (ISBI 2012)', bundle: 'segmentation', off: { ...(await offPictures(256, random)), 'a garment': clothes[0]! }, held: about.segmentation!.samples.map((entry) => sample(entry.file!)) },
    { view: 'sounds (spoken digits)', bundle: 'sound', off: offSounds(random), held: about.sound!.samples.map((entry) => sample(entry.file!)) },
  ];
  const rows: string[][] = [];
  for (const { view, bundle, off, held } of views) {
    const predictor = await loadPredictor(join(DEMO, 'models', bundle));
    try {
      const offAnswers = (await predictor.predictBatch(Object.values(off) as never[])) as Answer[];
      const heldAnswers = (await predictor.predictBatch(held as never[])) as Answer[];
      const marked = (answers: Answer[]) => answers.filter((answer) => answer.notSure !== undefined).length;
      const naive = (answers: Answer[]) => answers.filter((answer) => (answer.confidence ?? 1) < BASELINE_CONFIDENCE).length;
      const share = (count: number, answers: Answer[]) => `${count}/${answers.length} (${((100 * count) / answers.length).toFixed(0)}%)`;
      const missed = Object.keys(off).filter((_, index) => offAnswers[index]!.notSure === undefined);
      rows.push([view, share(marked(offAnswers), offAnswers), share(marked(heldAnswers), heldAnswers), share(naive(offAnswers), offAnswers), share(naive(heldAnswers), heldAnswers), missed.join(', ') || '—']);
    } finally {
      predictor.dispose();
    }
  }
  printTable(['bundle', 'off-distribution "not sure"', 'held-out "not sure"', `naive (< ${BASELINE_CONFIDENCE * 100}%) off`, 'naive held-out', 'answered plainly (missed)'], rows);
  console.log(`\ngoal: off-distribution ≥ 90%, held-out ≤ 10%`);
}
