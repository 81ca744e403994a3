import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, memoryOf } from './run';
import { generateTable } from '@kindling/tabular';

/** Writes generated income-table rows until the file has `bytes` bytes. */
async function writeBigCsv(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let rows = 0;
  for (let seed = 0; written < bytes; seed++) {
    const generated = generateTable({ rows: 50_000, seed }).rows;
    const columns = Object.keys(generated[0]!);
    let text = seed === 0 ? `${columns.join(',')}\n` : '';
    for (const row of generated) text += `${columns.map((column) => row[column]).join(',')}\n`;
    written += text.length;
    rows += generated.length;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return rows;
}

describe('kindling train tabular on a big table', () => {
  it('trains on a 200 MB CSV (3.9 million rows) with resident memory under 1 GB', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-table-'));
    const file = join(root, 'big.csv');
    try {
      const rows = await writeBigCsv(file, 200e6);
      expect(statSync(file).size).toBeGreaterThan(200e6);
      // one small hidden layer keeps the epoch short: what is measured is the data path, not the model
      const child = spawn(process.execPath, [CLI, 'train', 'tabular', file, '--target', 'income', '--epochs', '1', '--layers', '32', '--batch-size', '1024', '--out', join(root, 'out')], { stdio: ['ignore', 'pipe', 'pipe'] });
      // a test that times out leaves its promise pending: the run is killed then too, not left to load the next suites
      onTestFinished(() => void child.kill('SIGKILL'));
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      let peak = 0;
      const sampler = setInterval(() => {
        memoryOf(child.pid!).then((memory) => (peak = Math.max(peak, memory.peak)), () => undefined);
      }, 100);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearInterval(sampler);
      expect(code, output).toBe(0);
      expect(output).toMatch(new RegExp(`${Math.round(rows * 0.8)} training and ${Math.round(rows * 0.2)} validation rows`));
      expect(peak, output).toBeGreaterThan(0);
      console.log(`200 MB CSV, ${rows} rows: peak resident memory ${peak.toFixed(0)} MB`);
      expect(peak).toBeLessThan(1024);
      const metrics = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8')).metrics;
      expect(metrics.accuracy).toBeGreaterThan(metrics.majorityAccuracy + 0.2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);
});
