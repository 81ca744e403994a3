import { generateSegmentationDataset } from '@kindling/image/node';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runKindling } from './index';

/** Runs the command line as a function and keeps what it wrote to standard error and output. */
async function run(argv: string[]): Promise<{ status: number; errors: string; output: string }> {
  const errors: string[] = [];
  const output: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void errors.push(parts.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void output.push(parts.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (errors.push(String(chunk)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (output.push(String(chunk)), true));
  const status = await runKindling(argv);
  vi.restoreAllMocks();
  return { status, errors: errors.join(''), output: output.join('') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runKindling, the command line as a function', () => {
  it('returns 0 after the help, without exiting the process', async () => {
    const result = await run(['train', 'tabular', '--help']);
    expect(result.status).toBe(0);
    expect(result.output).toContain('--target <column>');
  });

  it('prints its version with --version', async () => {
    const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const result = await run(['--version']);
    expect(result.status).toBe(0);
    expect(result.output.trim()).toBe(version);
  });

  it('returns 1 for a bad flag or an unknown command, with what was wrong', async () => {
    const badFlag = await run(['train', 'tabular', '--epochs', 'x']);
    expect(badFlag.status).toBe(1);
    expect(badFlag.errors).toContain('--epochs must be a whole number');
    const unknown = await run(['bogus']);
    expect(unknown.status).toBe(1);
    expect(unknown.errors).toContain("unknown command 'bogus'");
  });

  it('returns 1 with one line naming the file when a run fails, and the stack only with --debug', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'kindling-run-')), 'missing.csv');
    const plain = await run(['train', 'tabular', missing, '--target', 'y']);
    expect(plain.status).toBe(1);
    expect(plain.errors.trim().split('\n')).toEqual([`kindling: ${missing}: no such file (expected a CSV file)`]);
    const debug = await run(['train', 'tabular', missing, '--target', 'y', '--debug']);
    expect(debug.status).toBe(1);
    expect(debug.errors).toMatch(/\n\s+at /);
  });

  it('trains a tiny table and returns 3 when the model is no better than the majority class, keeping the bundle', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-run-'));
    const file = join(root, 'noise.csv');
    // the target is independent of the feature and 70% one class: nothing beats answering the majority
    const rows = Array.from({ length: 120 }, (_, index) => `${(index * 37) % 11},${index % 10 < 7 ? 'a' : 'b'}`);
    writeFileSync(file, ['x,y', ...rows].join('\n'));
    const out = join(root, 'out');
    const result = await run(['train', 'tabular', file, '--target', 'y', '--epochs', '2', '--backend', 'cpu', '--out', out]);
    expect(result.status).toBe(3);
    expect(result.errors + result.output).toMatch(/majority|most common/i);
    expect(JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')).task.kind).toBe('tabular');
    // kindling predict names an argument that is neither a file nor JSON, with what the model reads
    const missing = await run(['predict', out, 'no-such-file.csv', '--backend', 'cpu']);
    expect(missing.status).toBe(1);
    expect(missing.errors).toContain('no-such-file.csv: no such file, and not JSON either (a tabular model reads a row object');
    // --json answers carry the likeliest classes in order; --top-k says how many
    const ranked = await run(['predict', out, '{"x": 3}', '--json', '--top-k', '1', '--backend', 'cpu']);
    expect(ranked.status, ranked.errors).toBe(0);
    const { prediction } = JSON.parse(ranked.output.slice(ranked.output.indexOf('{"input"'))) as { prediction: { label: string; probabilities: Record<string, number>; top: Array<{ label: string; score: number }> } };
    expect(prediction.top).toEqual([{ label: prediction.label, score: prediction.probabilities[prediction.label] }]);
    expect((await run(['predict', out, '{"x": 3}', '--top-k', '0', '--backend', 'cpu'])).errors).toContain('--top-k must be a whole number of at least 1');
  });

  it('predicts from a headerless CSV as it trained on one (--names): the bundle remembers the layout', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-run-names-'));
    const file = join(root, 'plain.csv');
    writeFileSync(file, Array.from({ length: 60 }, (_, index) => `${index % 10},${index % 10 < 5 ? 'low' : 'high'}`).join('\n'));
    const out = join(root, 'out');
    const trained = await run(['train', 'tabular', file, '--names', 'x,y', '--target', 'y', '--epochs', '2', '--backend', 'cpu', '--out', out]);
    expect([0, 3], trained.errors).toContain(trained.status);
    expect(JSON.parse(readFileSync(join(out, 'kindling.json'), 'utf8')).task.file).toEqual({ columns: ['x', 'y'] });
    const answered = await run(['predict', out, file, '--json', '--backend', 'cpu']);
    expect(answered.status, answered.errors).toBe(0);
    const answers = answered.output.split('{"input"').slice(1);
    expect(answers).toHaveLength(60); // every line a row: the first is not taken for a header
    expect(answers[0]).toContain(`"${file}:1"`);
    // a header row naming the columns is still read as one
    const headed = join(root, 'headed.csv');
    writeFileSync(headed, 'x,y\n3,low\n8,high\n');
    const both = await run(['predict', out, headed, '--json', '--backend', 'cpu']);
    expect(both.output.split('{"input"').slice(1).map((answer) => /^:"[^"]*:(\d+)"/.exec(answer)?.[1])).toEqual(['2', '3']);
  });

  it('names a thread count out of range before starting a backend', async () => {
    const result = await run(['train', 'tabular', '--threads', '9']);
    expect(result.status).toBe(1);
    expect(result.errors).toContain('--threads must be a whole number from 1 to 8, not 9');
  });

  it('trains a segmentation through the command table and writes each predicted mask as a coloured PNG with predict --out', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-run-segment-'));
    const scenes = await generateSegmentationDataset(join(root, 'scenes'), { count: 40, size: 32, seed: 2 });
    const out = join(root, 'out');
    const trained = await run(['train', 'segment', join(scenes, 'images'), join(scenes, 'masks'), '--codes', join(scenes, 'codes.txt'), '--size', '32', '--widths', '8,16', '--epochs', '1', '--backend', 'wasm', '--out', out]);
    expect([0, 3]).toContain(trained.status); // one epoch may not beat the background yet; the bundle is written either way
    expect(trained.output).toContain('pixel accuracy');
    const masks = join(root, 'masks');
    const answered = await run(['predict', out, join(scenes, 'images', '0000.png'), '--out', masks, '--backend', 'wasm']);
    expect(answered.status).toBe(0);
    expect(answered.output).toMatch(/0000\.png\tbackground \d/);
    expect(existsSync(join(masks, '0000.mask.png'))).toBe(true);
  });
});
