/** Bundled for the page: loads Kindling bundles the way a web app would and predicts. */
import { soundTask } from '@kindling/audio/predict';
import { registerTask } from '@kindling/deploy';
import { imageTask, segmentationTask } from '@kindling/image/predict';
import { bundleAsFiles, bundleFromUpload, downloadBundle, loadBundle, loadPredictor, saveBundle } from '@kindling/deploy/browser';
import { pointerTask } from '@kindling/pointer/predict';
import { collabTask, tabularTask } from '@kindling/tabular';
import * as tf from '@tensorflow/tfjs';

// the kinds a page reads, registered from each modality's package
for (const task of [imageTask, segmentationTask, soundTask, pointerTask, tabularTask, collabTask]) registerTask(task);

/** Typed arrays as plain arrays, so answers cross back to Node as JSON. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Uint8Array);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, plain(entry)]));
  return value;
}

/** Inputs arrive as JSON: `{ bytes: [...] }` stands for a Uint8Array (PNG or WAV files). */
function revive(input: unknown): unknown {
  if (input !== null && typeof input === 'object' && Array.isArray((input as { bytes?: unknown }).bytes)) return Uint8Array.from((input as { bytes: number[] }).bytes);
  return input;
}

async function predict(url: string, inputs: unknown[], backend = 'cpu'): Promise<{ backend: string; predictions: unknown[] }> {
  await tf.setBackend(backend);
  await tf.ready();
  const predictor = await loadPredictor(url);
  try {
    return { backend: tf.getBackend(), predictions: plain(await predictor.predictBatch(inputs.map(revive) as never[])) as unknown[] };
  } finally {
    predictor.dispose();
  }
}

/** Loads over http, keeps the bundle in IndexedDB, and predicts from there. */
async function predictThroughIndexedDb(url: string, name: string, inputs: unknown[]): Promise<unknown[]> {
  await saveBundle(await loadBundle(url), `indexeddb://${name}`);
  return (await predict(`indexeddb://${name}`, inputs)).predictions;
}

async function loadError(url: string): Promise<string> {
  try {
    await loadBundle(url);
    return 'loaded';
  } catch (error) {
    return (error as Error).message;
  }
}

/** Starts the download of a bundle as one .kindling file, as a page's "export" button does. */
async function download(url: string): Promise<void> {
  downloadBundle(await loadBundle(url));
}

/** One .kindling file as a file input gives it (fetched from `url`) → a checked bundle → answers. */
async function predictFromFileUpload(url: string, inputs: unknown[]): Promise<unknown[]> {
  const file = new File([await (await fetch(url)).blob()], url.split('/').at(-1)!);
  const predictor = await loadPredictor(await bundleFromUpload([file]));
  try {
    return plain(await predictor.predictBatch(inputs.map(revive) as never[])) as unknown[];
  } finally {
    predictor.dispose();
  }
}

/** Files as an <input type="file" multiple> gives them (here made from the bundle's own files) → a checked bundle → answers. */
async function predictFromUpload(url: string, inputs: unknown[]): Promise<unknown[]> {
  const files = bundleAsFiles(await loadBundle(url)).reverse();
  const predictor = await loadPredictor(await bundleFromUpload(files));
  try {
    return plain(await predictor.predictBatch(inputs.map(revive) as never[])) as unknown[];
  } finally {
    predictor.dispose();
  }
}

async function uploadError(url: string): Promise<string> {
  const files = bundleAsFiles(await loadBundle(url)).filter((file) => file.name !== 'weights.bin');
  return bundleFromUpload(files).then(
    () => 'loaded',
    (error: Error) => error.message,
  );
}

(globalThis as unknown as { kindlingDeploy: unknown }).kindlingDeploy = { predict, predictThroughIndexedDb, loadError, download, predictFromUpload, predictFromFileUpload, uploadError };
