import { initBackend } from '@kindling/backend/node';
import { benchThreads } from './threads';
import { createBundle, type ImagePredictor } from '@kindling/deploy';
import { loadPredictor, saveBundle } from '@kindling/deploy/node';
import { encodePng } from '@kindling/image/node';
import { resnet } from '@kindling/models';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printTable } from './table';

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
  const backend = await initBackend({ backend: (process.env.KINDLING_BENCH_BACKEND as 'wasm' | undefined) ?? 'auto', log: false, wasmThreads: benchThreads() });
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
  for (const batching of ['off', 'on'] as const) {
    const { url, child } = await startServer(directory, batching);
    try {
      await autocannon({ url: `${url}/predict`, method: 'POST', headers: { 'content-type': 'image/png' }, body: png, connections: 4, amount: 200 }); // warm up
      for (const connections of [1, CONNECTIONS]) {
        const result = await load(url, png, connections);
        rows.push([`server, batching ${batching}, ${connections} connection${connections === 1 ? '' : 's'}`, result.requests.average.toFixed(1), result.latency.p50.toFixed(1), result.latency.p99.toFixed(1), String(result.requests.total)]);
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
  const [off, on] = [rows[1]!, rows[3]!].map((row) => Number(row[1]));
  console.log(`batching: ${(on! / off!).toFixed(2)}× the requests/s of one model call per request at ${CONNECTIONS} connections; the server with batching reaches ${((on! / directBatched) * 100).toFixed(0)}% of the in-process batched rate`);
}
