/**
 * Inputs whose cost is absurd for their size (issue 37, "what does this field cost if it is absurd?"): each ends within
 * seconds with a one-line refusal naming the field, or a correct answer — never a spin, a 3 GB allocation, or an answer
 * with null probabilities.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorLines, kindling, memoryOf, startServer, trainQuickBundles, wav16, type Outcome } from './run';

const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-inputs-'));
const bundles = { sound: join(root, 'sound'), pointer: join(root, 'pointer'), tabular: join(root, 'tabular') };
const quick = ['--epochs', '1', '--threads', '1'];

/** `kindling predict <bundle> <json>`, timed. */
async function predict(bundle: string, input: unknown): Promise<Outcome & { seconds: number }> {
  const started = performance.now();
  const outcome = await kindling(['predict', bundle, JSON.stringify(input), '--threads', '1'], { cwd: root, timeout: 60_000 });
  return { ...outcome, seconds: (performance.now() - started) / 1000 };
}

describe('inputs whose cost is absurd for their size', () => {
  beforeAll(async () => {
    await trainQuickBundles(root, bundles);
  }, 300_000);

  it('sound: a sample rate that is not a plausible whole number, or shares too little with the model\'s, is refused by name before any resampling', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ samples: [0.1, 0.2, 0.3], sampleRate: 0.5 }, /sampleRate: the sample rate 0\.5 is not a whole number of hertz from 1,000 to 384,000/],
      // 47 bytes that asked for a 20-billion-tap filter (3.4 GB and 20 s of a frozen server before)
      [{ samples: [1], sampleRate: 1e9 }, /sampleRate: the sample rate 1000000000 is not a whole number of hertz/],
      [{ samples: [0.1, 0.2, 0.3], sampleRate: 44_101 }, /sampleRate: a sample rate of 44,101 Hz shares too little with the model's 8,000 Hz to resample it/],
    ];
    for (const [input, message] of cases) {
      const outcome = await predict(bundles.sound, input);
      expect(outcome.code, outcome.stdout).toBe(1);
      expect(errorLines(outcome)).toEqual([expect.stringMatching(message)]);
      expect(outcome.seconds).toBeLessThan(30);
    }
  });

  it('sound: a sample past float32 (1e308) is refused by name instead of answering with null probabilities; an hour-long recording is refused by its length', async () => {
    const huge = await predict(bundles.sound, { samples: [0.1, 1e308, -0.2], sampleRate: 8000 });
    expect(huge.code).toBe(1);
    expect(errorLines(huge)).toEqual([expect.stringMatching(/field 'samples': sample 1 is Infinity, not a finite number/)]);
    const file = join(root, 'long.wav');
    writeFileSync(file, wav16(Array.from({ length: 8000 * 61 }, (_, index) => Math.sin(index / 9) * 0.2), 8000));
    const started = performance.now();
    const long = await kindling(['predict', bundles.sound, file, '--threads', '1'], { cwd: root });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(long.code).toBe(1);
    expect(errorLines(long)).toEqual([expect.stringMatching(/wav: the recording is 61\.0 s long; this model answers on 1 s clips and reads at most 60 s/)]);
  });

  it('pointer: timestamps near 2^62 (a window start plus its stride was the start again: an endless spin) end within seconds', async () => {
    const events = Array.from({ length: 40 }, (_, index) => ({ t: 2 ** 62 + index * 2048, type: 'move', x: 100 + index, y: 200 + index, button: 'none' }));
    const outcome = await predict(bundles.pointer, { format: 'kindling-pointer@1', screen: { width: 1920, height: 1080 }, events });
    expect(outcome.seconds).toBeLessThan(30);
    // past 2^53 ms float64 cannot tell milliseconds apart: refused from the first such event, naming it
    expect(outcome.code).toBe(1);
    expect(errorLines(outcome)).toEqual([expect.stringMatching(/^kindling: .*field 't'.*event 1: its time 4611686018427388000 ms is past 2\^53 ms/)]);
    // just inside the limit (2^53 − 40 s), where float64's step is 1 ms: the window loop still ends, with an answer or one line
    const edge = await predict(bundles.pointer, { format: 'kindling-pointer@1', screen: { width: 1920, height: 1080 }, events: events.map((event, index) => ({ ...event, t: 2 ** 53 - 40_000 + index * 40 })) });
    expect(edge.seconds).toBeLessThan(30);
    expect(edge.code === 0 || errorLines(edge).length === 1, edge.stderr).toBe(true);
    // the same movements at ordinary times are answered
    const ordinary = await predict(bundles.pointer, { format: 'kindling-pointer@1', screen: { width: 1920, height: 1080 }, events: events.map((event, index) => ({ ...event, t: index * 40 })) });
    expect(ordinary.code, ordinary.stderr).toBe(0);
    expect(ordinary.stdout).toMatch(/\t(human|bot) \(\d+\.\d%\)/);
  });

  it('pointer: a 150,000-event session is read by at most the windows training kept of one, within seconds and a bounded memory', async () => {
    const events = Array.from({ length: 150_000 }, (_, index) => ({ t: index * 16, type: 'move', x: 500 + Math.round(300 * Math.sin(index / 50)), y: 400 + Math.round(200 * Math.cos(index / 70)), button: 'none' }));
    const body = JSON.stringify({ format: 'kindling-pointer@1', screen: { width: 1920, height: 1080 }, events });
    expect(body.length).toBeLessThan(10 * 2 ** 20);
    const server = await startServer([bundles.pointer, '--port', '0', '--threads', '1']);
    try {
      const start = await memoryOf(server.child.pid!);
      const started = performance.now();
      const answer = await fetch(`${server.url}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(answer.status).toBe(200);
      const { prediction } = await answer.json();
      expect(prediction.windows).toBe(100); // the bundle's maxWindows, training's --max-windows
      // seconds alone (~1.6 s); the bound is generous for a loaded machine, and still catches a spin over every window
      expect(performance.now() - started).toBeLessThan(60_000);
      const peak = (await memoryOf(server.child.pid!)).peak - start.now;
      expect(peak, `peak ${peak.toFixed(0)} MB above the start`).toBeLessThan(400);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('tabular: a value past float32 is refused naming its field, not answered with null probabilities', async () => {
    const row = { age: '62', education: 'Doctorate', occupation: 'Sales', hours_per_week: '33', capital_gain: '1e308', start_date: '2016-02-07', region: 'north' };
    const huge = await predict(bundles.tabular, row);
    expect(huge.code).toBe(1);
    expect(errorLines(huge)).toEqual([expect.stringMatching(/row 1, field 'capital_gain': '1e308' is beyond the largest number a model computes with/)]);
    const fine = await predict(bundles.tabular, { ...row, capital_gain: '0' });
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stdout).toMatch(/(<=50K|>50K) \(\d+\.\d%\)/);
  });

  it('tabular: a column named constructor is read from the row, never from what every object inherits', async () => {
    const file = join(root, 'inherited.csv');
    const rows = Array.from({ length: 120 }, (_, index) => `${index % 3 === 0 ? 'steel' : 'wood'},${index % 7},${index % 3 === 0 ? 'heavy' : 'light'}`);
    writeFileSync(file, `constructor,toString,label\n${rows.join('\n')}\n`);
    const out = join(root, 'inherited-out');
    const trained = await kindling(['train', 'tabular', file, '--target', 'label', ...quick, '--out', out], { cwd: root });
    expect([0, 3], trained.stderr).toContain(trained.code);
    const missing = await predict(out, { toString: '3' });
    expect(missing.code).toBe(1);
    expect(errorLines(missing)).toEqual([expect.stringMatching(/^kindling: row: no column 'constructor': a row needs the columns the model was trained on/)]);
    const given = await predict(out, { constructor: 'steel', toString: '3' });
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toMatch(/\t(heavy|light) \(\d+\.\d%\)/);
  });

  it('tabular: a header naming a column twice is refused before training; a column of identifiers is left out, and said so', async () => {
    const twice = join(root, 'twice.csv');
    writeFileSync(twice, `age,income,age\n${Array.from({ length: 50 }, (_, index) => `${20 + index},${index % 2 ? 'high' : 'low'},${index}`).join('\n')}\n`);
    const refused = await kindling(['train', 'tabular', twice, '--target', 'income', ...quick, '--out', join(root, 'twice-out')], { cwd: root });
    expect(refused.code).toBe(1);
    expect(errorLines(refused)).toEqual([`kindling: ${twice}, row 1: the header names column 'age' twice (columns 1 and 3): rename one, or give the names (--names)`]);
    expect(existsSync(join(root, 'twice-out'))).toBe(false);
    const ids = join(root, 'ids.csv');
    const rows = Array.from({ length: 400 }, (_, index) => `user-${index * 7919},${index % 50},${(index * 37) % 100 < 50 ? 'yes' : 'no'}`);
    writeFileSync(ids, `id,score,label\n${rows.join('\n')}\n`);
    const trained = await kindling(['train', 'tabular', ids, '--target', 'label', ...quick, '--out', join(root, 'ids-out')], { cwd: root });
    expect([0, 3], trained.stderr).toContain(trained.code);
    expect(trained.stdout).toContain("left out 'id': identifiers (text whose values hardly recur, most rows their own), which a model cannot learn from; --cat id keeps them as categories");
  });
});
