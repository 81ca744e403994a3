/**
 * A worker thread of the prediction server's preparation pool (`prepare-pool.ts`): it reads request bodies (JSON text
 * or file bytes) into a task's inputs and prepares them (resampling and spectrograms, recordings cut and drawn), off
 * the server's event loop, with the same predictor code the server would run. The model stays on the main thread.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Bundle } from './bundle-manifest';
import { InputError } from './errors';
import { taskDefinition } from './registry';
import { jsonBodyInputs } from './request-inputs';

interface Job {
  id: number;
  /** `json`: a JSON body (one input, a list, or `{ inputs: [...] }`); `bytes`: one file. */
  kind: 'json' | 'bytes';
  payload: Uint8Array;
}

// Below the server's own thread: on Linux a thread's nice value is its own (setpriority of pid 0 is the calling
// thread), so a burst of heavy preparation on a busy machine yields the cores to the event loop, which answers
// /health and runs the model. Elsewhere the call would renice the whole process, so it is left alone.
if (process.platform === 'linux') {
  try {
    setPriority(0, 10);
  } catch {
    // not permitted (a sandbox): the workers keep the server's priority
  }
}

const { manifest, maxInputs } = workerData as { manifest: Bundle['manifest']; maxInputs: number };
const definition = taskDefinition(manifest.task.kind);
if (definition === undefined) throw new Error(`the preparation worker knows no task kind '${manifest.task.kind}'`);
// the predictor without its model: preparing an input never calls it
const predictor = definition.createPredictor({ manifest, modelJson: new Uint8Array(0), weights: new Uint8Array(0) }, undefined as never, {});

/** A request body's inputs and whether it was a list, exactly as the server reads a JSON body on its own thread. */
function inputsOf(job: Job): { inputs: unknown[]; batch: boolean } {
  if (job.kind === 'bytes') return { inputs: [job.payload], batch: false };
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(job.payload));
  } catch (error) {
    throw new InputError(`the request body is not JSON (${(error as Error).message})`, 'body');
  }
  const { values, batch } = jsonBodyInputs(body, maxInputs);
  return { inputs: values.map((value) => predictor.inputFromJson(value)), batch };
}

parentPort!.on('message', async (job: Job) => {
  try {
    const { inputs, batch } = inputsOf(job);
    const prepared = await Promise.all(inputs.map((input) => predictor.prepare(input)));
    parentPort!.postMessage({ id: job.id, ok: true, batch, prepared });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    parentPort!.postMessage({ id: job.id, ok: false, name, message });
  }
});
