import { startBenchBackend } from './threads';
import { createBundle, registerTask } from '@kindling/deploy';
import { imageTask, type ImagePredictor } from '@kindling/image/node';
import { loadPredictor, saveBundle } from '@kindling/deploy/node';
import { encodePng } from '@kindling/image/node';
import { resnet } from '@kindling/models';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printTable } from './table';

registerTask(imageTask);

const SECONDS = Number(process.env.KINDLING_BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.KINDLING_BENCH_CONNECTIONS ?? 32);

async function startServer(directory: string, batching: 'on' | 'off'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./server-child.ts', import.meta.url).pathname, directory, batching], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before listening`)));
  });
  return { url, child };
}

/** Asks `/health` every 50 ms until stopped; the latencies in ms. */
function pingHealth(url: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await (await fetch(`${url}/health`)).arrayBuffer();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? Number.NaN;
}

/** Peak and current resident memory of a process in MiB (Linux /proc). */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const read = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024;
  return { peak: read('VmHWM'), now: read('VmRSS') };
}

async function load(url: string, body: Buffer, connections: number): Promise<autocannon.Result> {
  const result = await autocannon({ url: `${url}/predict`, method: 'POST', headers: { 'content-type': 'image/png' }, body, connections, duration: SECONDS });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return result;
}

/**
 * The image bundle behind `kindling serve` on loopback: requests/s and latency with batching on and
 * off (the server in its own process, autocannon here), beside the same predictor called directly.
 */
export async function benchServer(): Promise<void> {
  const backend = await startBenchBackend();
  const directory = join(mkdtempSync(join(tmpdir(), 'kindling-bench-server-')), 'bundle');
  // the default `kindling train image` model: ResNet 16-32-64 on 32×32 pictures (timing does not depend on the weights)
  const model = resnet({ inputShape: [32, 32, 3], classes: 4, widths: [16, 32, 64], seed: 1 });
  await saveBundle(await createBundle(model, { kind: 'image', labels: ['circle', 'square', 'star', 'triangle'], preprocessing: { size: 32, method: 'crop', channels: 3, stats: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } } }), directory);
  model.dispose();
  const pixels = new Uint8Array(48 * 48 * 3).map((_, index) => (index * 37) % 256);
  const png = Buffer.from(await encodePng({ data: pixels, shape: [48, 48, 3] }));

  // baseline: the predictor in this process, one picture per call, then 32 per call
  const predictor = (await loadPredictor(directory)) as ImagePredictor;
  await predictor.predict(png);
  let start = performance.now();
  let calls = 0;
  while (performance.now() - start < 3000) {
    await predictor.predict(png);
    calls++;
  }
  const direct = (calls * 1000) / (performance.now() - start);
  const batch = Array.from({ length: 32 }, () => png);
  start = performance.now();
  let pictures = 0;
  while (performance.now() - start < 3000) {
    await predictor.predictBatch(batch);
    pictures += 32;
  }
  const directBatched = (pictures * 1000) / (performance.now() - start);
  predictor.dispose();

  const rows: string[][] = [];
  const health: string[][] = [];
  const big = Buffer.from(await sharp({ create: { width: 7000, height: 7000, channels: 3, background: { r: 40, g: 90, b: 200 } } }).png({ compressionLevel: 9 }).toBuffer());
  for (const batching of ['off', 'on'] as const) {
    const { url, child } = await startServer(directory, batching);
    try {
      await autocannon({ url: `${url}/predict`, method: 'POST', headers: { 'content-type': 'image/png' }, body: png, connections: 4, amount: 200 }); // warm up
      for (const connections of [1, CONNECTIONS]) {
        // /health asked every 50 ms while the predictions load the server
        const pings = pingHealth(url);
        const result = await load(url, png, connections);
        const latencies = await pings.stop();
        rows.push([`server, batching ${batching}, ${connections} connection${connections === 1 ? '' : 's'}`, result.requests.average.toFixed(1), result.latency.p50.toFixed(1), result.latency.p99.toFixed(1), String(result.requests.total)]);
        health.push([`/health during: batching ${batching}, ${connections} connection${connections === 1 ? '' : 's'}`, percentile(latencies, 0.5).toFixed(1), percentile(latencies, 0.99).toFixed(1), percentile(latencies, 1).toFixed(1), String(latencies.length)]);
      }
      if (batching === 'on') {
        // a burst of huge pictures: 8 at once, 7000×7000 PNGs of 150 KB, while /health is asked
        const before = memoryOf(child.pid!);
        const pings = pingHealth(url);
        const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/predict`, { method: 'POST', body: new Uint8Array(big), headers: { 'content-type': 'image/png' } })));
        const latencies = await pings.stop();
        if (answers.some((answer) => answer.status !== 200)) throw new Error(`big pictures answered ${answers.map((answer) => answer.status).join(', ')}`);
        const after = memoryOf(child.pid!);
        health.push(['/health during 8 × 7000×7000 PNG', percentile(latencies, 0.5).toFixed(1), percentile(latencies, 0.99).toFixed(1), percentile(latencies, 1).toFixed(1), String(latencies.length)]);
        console.log(`\nburst of 8 × 7000×7000 PNG (${(big.byteLength / 1024).toFixed(0)} KB each): server RSS ${before.now.toFixed(0)} MB before, ${after.now.toFixed(0)} MB after, peak ${after.peak.toFixed(0)} MB`);
      }
    } finally {
      child.kill('SIGTERM');
    }
  }
  console.log(`\nprediction server on loopback: image bundle (ResNet 16-32-64, 32×32), 48×48 PNG bodies, 1 and ${CONNECTIONS} connections for ${SECONDS} s each, ${backend.name} backend`);
  printTable(['', 'requests/s', 'p50 ms', 'p99 ms', 'requests'], [
    ['predictor in process, 1 per call', direct.toFixed(1), (1000 / direct).toFixed(1), '', ''],
    ['predictor in process, 32 per call', directBatched.toFixed(1), '', '', ''],
    ...rows,
  ]);
  console.log('\n/health latency while predicting (ms)');
  printTable(['', 'p50', 'p99', 'max', 'pings'], health);
  const [off, on] = [rows[1]!, rows[3]!].map((row) => Number(row[1]));
  console.log(`batching: ${(on! / off!).toFixed(2)}× the requests/s of one model call per request at ${CONNECTIONS} connections; the server with batching reaches ${((on! / directBatched) * 100).toFixed(0)}% of the in-process batched rate`);
}
