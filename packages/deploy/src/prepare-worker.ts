/**
 * A worker thread of the prediction server's preparation pool (`prepare-pool.ts`): it reads request bodies (JSON text
 * or file bytes) into a task's inputs and prepares them (resampling and spectrograms, recordings cut and drawn), off
 * the server's event loop, with the same predictor code the server would run. The model stays on the main thread.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Bundle } from './bundle-manifest';
import { InputError } from './errors';
import type { TaskDefinition } from './registry';
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

const { manifest, maxInputs, definition: where } = workerData as { manifest: Bundle['manifest']; maxInputs: number; definition: { module: string; name: string } };
/** The kind's predictor without its model (preparing an input never calls it), from the module that exports its definition (the modality package's build, found by its URL). */
const ready = (async () => {
  const definition = ((await import(where.module)) as Record<string, TaskDefinition | undefined>)[where.name];
  if (definition?.kind !== manifest.task.kind) throw new Error(`the preparation worker found no definition of the task kind '${manifest.task.kind}' as ${where.name} in ${where.module}`);
  return definition.createPredictor({ manifest, modelJson: new Uint8Array(0), weights: new Uint8Array(0) }, undefined as never);
})();
// a definition that cannot be loaded fails each job with its message, not the worker
ready.catch(() => undefined);

/** A request body's inputs and whether it was a list, exactly as the server reads a JSON body on its own thread. */
function inputsOf(job: Job, predictor: Awaited<typeof ready>): { inputs: unknown[]; batch: boolean } {
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
    const predictor = await ready;
    const { inputs, batch } = inputsOf(job, predictor);
    const prepared = await Promise.all(inputs.map((input) => predictor.prepare(input)));
    parentPort!.postMessage({ id: job.id, ok: true, batch, prepared });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    parentPort!.postMessage({ id: job.id, ok: false, name, message });
  }
});
