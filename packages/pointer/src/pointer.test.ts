import { Random } from '@kindling/data';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cleanEvents, cutWindows, drawDisk, drawLine, parseBalabitCsv, parseRecording, rasterChannels, rasterize, serializeRecording, synthesizePointer, type PointerSample } from './index';
import { generatePointerDataset, pointerFolderDataLoaders, readRecordingFile, renderPointerPng } from './node';

const move = (t: number, x: number, y: number): PointerSample => ({ t, type: 'move', x, y, button: 'none' });
const pixel = (image: Float32Array, size: number, x: number, y: number) => Array.from(image.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));

describe('rasterizer', () => {
  it('draws an anti-aliased line with exact coverage at known pixels', () => {
    const image = new Float32Array(16 * 16 * 3);
    drawLine(image, 16, 2, 5.5, 10, 5.5, 1, [1, 0.5, 0.25]);
    for (let x = 2; x <= 9; x++) expect(pixel(image, 16, x, 5)).toEqual([1, 0.5, 0.25]);
    expect(pixel(image, 16, 1, 5)).toEqual([0.5, 0.25, 0.125]); // centre 0.5 px beyond the end
    expect(pixel(image, 16, 10, 5)).toEqual([0.5, 0.25, 0.125]);
    expect(pixel(image, 16, 5, 4)).toEqual([0, 0, 0]);
    expect(pixel(image, 16, 5, 6)).toEqual([0, 0, 0]);
    expect(image.reduce((sum, value) => sum + value, 0)).toBeCloseTo((8 + 2 * 0.5) * 1.75, 6);
  });

  it('draws a filled circle', () => {
    const image = new Float32Array(16 * 16 * 3);
    drawDisk(image, 16, 8, 8, 2, [1, 1, 1]);
    expect(pixel(image, 16, 7, 7)).toEqual([1, 1, 1]);
    expect(pixel(image, 16, 8, 8)).toEqual([1, 1, 1]);
    expect(pixel(image, 16, 9, 8)[0]).toBeCloseTo(0.5 - (Math.hypot(1.5, 0.5) - 2), 6); // edge ramp: full only 0.5 px inside
    expect(pixel(image, 16, 10, 10)[0]).toBeCloseTo(Math.min(1, Math.max(0, 0.5 - (Math.hypot(2.5, 2.5) - 2))), 6);
    expect(pixel(image, 16, 11, 8)).toEqual([0, 0, 0]);
  });

  it('colours speed red, draws clicks as circles, and scales to the bounding box or the screen', () => {
    const slow = [move(0, 0, 100), move(100, 100, 100)];
    const fast = [move(0, 0, 100), move(10, 100, 100)];
    const size = 32;
    const [slowImage, fastImage] = [rasterize(slow, { size }), rasterize(fast, { size })];
    const middle = (image: Float32Array) => pixel(image, size, 16, 16);
    expect(middle(fastImage)[0]!).toBeGreaterThan(middle(slowImage)[0]!);
    // rightwards: (atan2(0, 1) + π) / 2π = 0.5; the line runs along y = 16.0, so pixel centres 0.5 away get 0.75 coverage
    expect(middle(fastImage)[2]).toBeCloseTo(0.75 * (0.3 + 0.7 * 0.5), 6);
    // 1 px/ms is a third of the speed scale: linear brightness 1/3, logarithmic log(1 + 100/3) / log(101)
    expect(middle(slowImage)[0]).toBeCloseTo(0.75 * (0.3 + 0.7 / 3), 6);
    expect(middle(rasterize(slow, { size, dynamics: 'log' }))[0]).toBeCloseTo(0.75 * (0.3 + (0.7 * Math.log(1 + 100 / 3)) / Math.log(101)), 6);
    const clicked = rasterize([...slow, { t: 150, type: 'down', x: 100, y: 100, button: 'left' }], { size });
    expect(pixel(clicked, size, 29, 16)).toEqual([1, 1, 1]); // the line ends at the right margin; the click sits there
    const onScreen = rasterize(slow, { size, fit: 'screen', screen: { width: 1000, height: 1000 } });
    // 100 px of a 1000 px screen is a tenth of the picture: the line stays near the left
    expect(pixel(onScreen, size, 10, 5)).toEqual([0, 0, 0]);
    expect(pixel(onScreen, size, 3, 4)[2]).toBeGreaterThan(0);
    expect(() => rasterize(slow, { fit: 'screen' })).toThrow('needs the screen size');
    // both: six channels, the bounding-box picture then the screen picture, pixel for pixel
    const screen = { width: 1000, height: 1000 };
    const both = rasterize(slow, { size, fit: 'both', screen });
    expect(rasterChannels({ fit: 'both' })).toBe(6);
    expect(both.length).toBe(size * size * 6);
    const [shape, place] = [rasterize(slow, { size, screen }), rasterize(slow, { size, fit: 'screen', screen })];
    for (let index = 0; index < size * size; index++) {
      expect(Array.from(both.subarray(index * 6, index * 6 + 6))).toEqual([...shape.subarray(index * 3, index * 3 + 3), ...place.subarray(index * 3, index * 3 + 3)]);
    }
    expect(() => rasterize(slow, { fit: 'both' })).toThrow('needs the screen size');
  });

  it('renders a PNG', async () => {
    const png = await renderPointerPng(rasterize(synthesizePointer('human', new Random(1)).events, { size: 48 }), 48, { scale: 2 });
    const metadata = await sharp(png).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', 96, 96]);
    // six channels: the two pictures side by side
    const wide = await renderPointerPng(rasterize([move(0, 0, 100), move(10, 100, 100)], { size: 16, fit: 'both', screen: { width: 200, height: 200 } }), 16, { scale: 1 });
    const { data, info } = await sharp(wide).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([32, 16]);
    const drawnIn = (left: number) => Array.from({ length: 16 * 16 }, (_, i) => data[(Math.floor(i / 16) * 32 + left + (i % 16)) * info.channels + 2]!).some((blue) => blue > 0);
    expect([drawnIn(0), drawnIn(16)]).toEqual([true, true]);
    await expect(renderPointerPng(new Float32Array(16 * 16 * 4), 16)).rejects.toThrow('3 or 6 channels, not 4');
  });
});

describe('recordings', () => {
  it('round-trips the Kindling format and names a bad event', () => {
    const events: PointerSample[] = [move(0, 1, 2), { t: 5, type: 'down', x: 1, y: 2, button: 'left' }, { t: 9, type: 'wheel', x: 1, y: 2, button: 'none', delta: 1 }];
    expect(parseRecording(serializeRecording({ screen: { width: 10, height: 10 }, events }))).toEqual({ format: 'kindling-pointer@1', screen: { width: 10, height: 10 }, events });
    expect(() => parseRecording(serializeRecording({ events: [{ ...events[0]!, button: 'thumb' as 'left' }] }), 'r.json')).toThrow("r.json, row 1: event 1: unknown button 'thumb'");
    expect(() => parseRecording('{"hello": 1}', 'r.json')).toThrow('r.json: not a Kindling pointer recording');
    // a time past 2^53 ms cannot tell milliseconds apart: refused, naming the event and the field
    expect(() => parseRecording(serializeRecording({ events: [events[0]!, { ...events[0]!, t: 2 ** 62 }] }), 'r.json')).toThrow(/^r\.json, row 2, field 't': event 2: its time 4611686018427388000 ms is past 2\^53 ms/);
    expect(parseRecording(serializeRecording({ events: [{ ...events[0]!, t: 1.7e12 }] })).events[0]!.t).toBe(1.7e12); // epoch milliseconds are fine
    expect(() => parseBalabitCsv('record timestamp,client timestamp,button,state,x,y\n0,1e20,NoButton,Move,1,2\n', 'b.csv')).toThrow(/^b\.csv, row 2, field 'client timestamp': the event: its time 1e\+23 ms is past 2\^53 ms/);
  });

  it('reads Balabit CSV rows as events and names an unknown button', () => {
    const text = 'record timestamp,client timestamp,button,state,x,y\n0,0.5,NoButton,Move,10,20\n0,0.6,Left,Pressed,10,20\n0,0.7,NoButton,Drag,12,22\n0,0.8,Left,Released,12,22\n0,0.9,Scroll,Down,12,22\n';
    expect(parseBalabitCsv(text).events).toEqual([
      { t: 500, type: 'move', x: 10, y: 20, button: 'none' },
      { t: 600, type: 'down', x: 10, y: 20, button: 'left' },
      { t: 700, type: 'move', x: 12, y: 22, button: 'left' },
      { t: 800, type: 'up', x: 12, y: 22, button: 'left' },
      { t: 900, type: 'wheel', x: 12, y: 22, button: 'none', delta: 1 },
    ]);
    expect(() => parseBalabitCsv(`${text}0,1.0,Thumb,Pressed,1,1\n`, 'session_1')).toThrow("session_1, row 7, field 'button': unknown button 'Thumb'");
  });

  it('repairs order, drops duplicates, NaN and out-of-range events, and counts each', () => {
    const events = [move(10, 1, 1), move(0, 0, 0), move(10, 1, 1), move(20, Number.NaN, 3), move(30, -4, 2), move(40, 50, 5), move(35, 2, 2)];
    const { events: clean, report } = cleanEvents(events, { width: 40, height: 40 });
    expect(clean.map((event) => event.t)).toEqual([0, 10, 35]);
    expect(report).toEqual({ reordered: 2, duplicates: 1, invalid: 1, outOfRange: 2 });
  });
});

describe('windows', () => {
  const events = [0, 10, 20, 30, 40, 50, 60, 70].map((t, i) => move(t, i, i));
  it('cuts by events, by time, by actions, never across an idle gap', () => {
    expect(cutWindows(events, { by: 'events', size: 3 }).map((window) => window.map((event) => event.t))).toEqual([[0, 10, 20], [30, 40, 50], [60, 70]]);
    expect(cutWindows(events, { by: 'events', size: 4, stride: 2 }).map((window) => window[0]!.t)).toEqual([0, 20, 40]);
    expect(cutWindows(events, { by: 'time', duration: 25 }).map((window) => window.length)).toEqual([3, 2, 3]);
    expect(cutWindows(events, { by: 'time', duration: 25, stride: 10 }).map((window) => window[0]!.t)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    // timestamps near 2^62 (a start plus a stride is the start again) and a sparse span of 10^12 ms end at once
    const huge = Array.from({ length: 50 }, (_, i) => move(2 ** 62 + i * 2048, i, i));
    const started = performance.now();
    expect(cutWindows(huge, { by: 'time', duration: 4096, stride: 1, idleGap: Infinity }).length).toBeGreaterThan(0);
    const sparse = Array.from({ length: 1000 }, (_, i) => move(i * 1e9, i, i));
    expect(cutWindows(sparse, { by: 'time', duration: 10, minEvents: 1, idleGap: Infinity })).toHaveLength(1000);
    expect(cutWindows(sparse, { by: 'time', duration: 10, stride: 1, minEvents: 1, idleGap: Infinity }).length).toBeLessThanOrEqual(1000 * 10);
    // a walk step by step over the span would not end at all; the bound is loose for a machine busy with other work
    expect(performance.now() - started).toBeLessThan(10_000);
    const paused = [...events.slice(0, 4), ...events.slice(4).map((event) => ({ ...event, t: event.t + 20_000 }))];
    expect(cutWindows(paused, { by: 'events', size: 3, idleGap: 5000 }).map((window) => window.length)).toEqual([3, 3]);
    const actions = [move(0, 0, 0), move(10, 5, 5), { t: 20, type: 'down', x: 5, y: 5, button: 'left' }, { t: 90, type: 'up', x: 5, y: 5, button: 'left' }, move(100, 9, 9), move(110, 10, 10), { t: 120, type: 'click', x: 10, y: 10, button: 'left' }, move(130, 11, 11)] as PointerSample[];
    expect(cutWindows(actions, { by: 'actions' }).map((window) => window.length)).toEqual([4, 3]);
  });
});

describe('pointer data block', () => {
  it('generates human and bot sessions, reads, cleans, windows and batches them as pictures', async () => {
    const root = await generatePointerDataset(join(mkdtempSync(join(tmpdir(), 'kindling-pointer-')), 'moves'), { perClass: 6, seed: 3 });
    const recording = await readRecordingFile(join(root, 'human', 'human-000.json'));
    expect(recording.events.filter((event) => event.type === 'down').length).toBeGreaterThanOrEqual(3);
    const data = await pointerFolderDataLoaders(root, { raster: { size: 32 }, batchSize: 4, validPct: 0.25, seed: 1 });
    expect(data.vocab.labels).toEqual(['bot', 'human']);
    let seen = 0;
    for await (const batch of data.train) {
      expect((batch.inputs as { shape: number[] }).shape.slice(1)).toEqual([32, 32, 3]);
      seen += batch.targets.shape[0]!;
      (batch.inputs as { dispose(): void }).dispose();
      batch.targets.dispose();
    }
    expect(seen).toBe(9);
    const windows = await pointerFolderDataLoaders(root, { window: { by: 'actions' }, labels: new Map([...Array(6).keys()].flatMap((n) => [[`human-00${n}.json`, 'person'], [`bot-00${n}.json`, 'script']])) });
    expect(windows.vocab.labels).toEqual(['person', 'script']);
    expect(windows.train.size + windows.valid.size).toBeGreaterThan(12 * 3 - 1);
    writeFileSync(join(root, 'bot', 'notes.json'), 'not json');
    await expect(pointerFolderDataLoaders(root)).rejects.toThrow(`${join(root, 'bot', 'notes.json')}: not JSON`);
  });

  it('auto: long recordings become windows of 50 events drawn in the box and on the screen, split by recording; short ones stay whole', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-pointer-long-'));
    const random = new Random(4);
    for (const kind of ['human', 'bot'] as const) {
      mkdirSync(join(root, kind));
      for (let n = 0; n < 5; n++) writeFileSync(join(root, kind, `${kind}-${n}.json`), serializeRecording(synthesizePointer(kind, random, { moves: 40 })));
    }
    const auto = { window: 'auto', raster: { fit: 'auto', size: 'auto' } } as const;
    const data = await pointerFolderDataLoaders(root, { ...auto, validPct: 0.2, batchSize: 8, maxPerFile: 12, seed: 2 });
    expect(data.preprocessing.window).toEqual({ by: 'events', size: 50 });
    expect(data.preprocessing.raster).toMatchObject({ fit: 'both', size: 32 });
    expect(data.why.join('\n')).toMatch(/^window: windows of 50 events \(the median recording has \d+ usable events; windows above 500\)\nfit: both the box and the screen/);
    const filesOf = (items: ReadonlyArray<{ file: string }>) => new Set(items.map((item) => item.file));
    const [train, valid] = [filesOf(data.train.options.items), filesOf(data.valid.options.items)];
    expect(valid.size).toBe(2); // a fifth of the 10 recordings, each with all its windows
    expect([...valid].some((file) => train.has(file))).toBe(false);
    const perFile = new Map<string, number>();
    for (const item of [...data.train.options.items, ...data.valid.options.items]) perFile.set(item.file, (perFile.get(item.file) ?? 0) + 1);
    expect(Math.max(...perFile.values())).toBe(12); // a long recording capped at 12 evenly spaced windows
    // without the screen sizes the windows are drawn in their box only, and the reason says how to add the screen
    const shortRoot = await generatePointerDataset(join(root, 'short'), { perClass: 6, seed: 3 });
    const short = await pointerFolderDataLoaders(shortRoot, auto);
    expect(short.preprocessing).toMatchObject({ window: 'whole', raster: { fit: 'bbox', size: 48 } });
    expect(short.train.size + short.valid.size).toBe(12);
  });
});

describe('synthesized recordings', () => {
  it('are clean: in time order, on screen, no duplicates', () => {
    const random = new Random(9);
    for (const kind of ['human', 'bot', 'circle', 'zigzag', 'check', 'swipe'] as const) {
      const { events, screen } = synthesizePointer(kind, random);
      expect(cleanEvents(events, screen).report, kind).toEqual({ reordered: 0, duplicates: 0, invalid: 0, outOfRange: 0 });
    }
  });
});
