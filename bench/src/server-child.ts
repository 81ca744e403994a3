/** Runs in its own process for `pnpm bench server`: serves a bundle and prints its URL. */
import { initBackend } from '@kindling/backend/node';
import { benchThreads } from './threads';
import { loadPredictor } from '@kindling/deploy/node';
import { serve } from '@kindling/deploy/server';

const [directory, batching] = process.argv.slice(2);
await initBackend({ backend: (process.env.KINDLING_BENCH_BACKEND as 'wasm' | undefined) ?? 'auto', log: false, wasmThreads: benchThreads() });
const server = await serve(await loadPredictor(directory!), { port: 0, batching: batching === 'on' ? { maxBatch: 32 } : false });
console.log(`listening ${server.url}`);
