/** Runs in its own process for `pnpm bench server`: serves a bundle and prints its URL. */
import { startBenchBackend } from './threads';
import { registerTask } from '@kindling/deploy';
import { loadPredictor } from '@kindling/deploy/node';
import { serve } from '@kindling/deploy/server';
import { imageTask } from '@kindling/image/node';

registerTask(imageTask);

const [directory, batching] = process.argv.slice(2);
await startBenchBackend();
const server = await serve(await loadPredictor(directory!), { port: 0, batching: batching === 'on' ? { maxBatch: 32 } : false });
console.log(`listening ${server.url}`);
