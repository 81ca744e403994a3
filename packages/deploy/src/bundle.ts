import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { version as kindlingVersion } from '../package.json';
import { BundleError } from './errors';
import { isRegisteredTask, taskDefinition, unregisteredKind } from './registry';
import { BUNDLE_FILES, type Bundle, type BundleManifest } from './bundle-manifest';
import type { TaskSpec } from './tasks';

/** The bundle format this version writes and reads. A bundle with a higher number needs a newer Kindling. */
export const BUNDLE_FORMAT_VERSION = 1;

export { BUNDLE_FILES } from './bundle-manifest';
export type { Bundle, BundleManifest } from './bundle-manifest';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, entry]) => entry !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The checksum of a task description, as stored in `taskSha256`. */
export function taskChecksum(task: TaskSpec): string {
  return sha256Hex(encoder.encode(canonicalJson(task)));
}

/**
 * Packs a trained model and its task description into a bundle: the model serialized as tfjs
 * `model.json` + `weights.bin`, the manifest with checksums of both.
 */
export async function createBundle(model: tf.LayersModel, task: TaskSpec, options: { metrics?: Record<string, unknown>; training?: Record<string, unknown>; createdAt?: Date } = {}): Promise<Bundle> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const weightData = artifacts!.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts!.weightData);
  const modelJson: tf.io.ModelJSON = {
    format: 'layers-model',
    generatedBy: artifacts!.generatedBy,
    convertedBy: null,
    modelTopology: artifacts!.modelTopology as object,
    weightsManifest: [{ paths: [`./${BUNDLE_FILES.weights}`], weights: artifacts!.weightSpecs ?? [] }],
  };
  const modelBytes = encoder.encode(JSON.stringify(modelJson));
  const weights = new Uint8Array(weightData);
  const manifest: BundleManifest = {
    format: 'kindling-bundle',
    formatVersion: BUNDLE_FORMAT_VERSION,
    kindlingVersion,
    task,
    metrics: options.metrics ?? {},
    training: options.training ?? {},
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    files: {
      [BUNDLE_FILES.model]: { sha256: sha256Hex(modelBytes), bytes: modelBytes.byteLength },
      [BUNDLE_FILES.weights]: { sha256: sha256Hex(weights), bytes: weights.byteLength },
    } as BundleManifest['files'],
    taskSha256: taskChecksum(task),
  };
  return { manifest, modelJson: modelBytes, weights };
}

/** The bundle's three files by name, as adapters write them. */
export function bundleFiles(bundle: Bundle): Record<string, Uint8Array> {
  return {
    [BUNDLE_FILES.model]: bundle.modelJson,
    [BUNDLE_FILES.weights]: bundle.weights,
    // the manifest last: a reader that finds it finds the files it describes
    [BUNDLE_FILES.manifest]: encoder.encode(JSON.stringify(bundle.manifest, null, 2)),
  };
}

/**
 * Checks a manifest read from `source`: the format, a version this Kindling reads, a known task. A
 * problem is a BundleError that says what is wrong and what to do.
 */
export function parseManifest(bytes: Uint8Array | string, source: string): BundleManifest {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(typeof bytes === 'string' ? bytes : decoder.decode(bytes));
  } catch (error) {
    throw new BundleError(`${BUNDLE_FILES.manifest} is not JSON (${(error as Error).message})`, source, { cause: error });
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.format !== 'kindling-bundle') {
    throw new BundleError(`${BUNDLE_FILES.manifest} is not a Kindling bundle manifest (its format is ${JSON.stringify((manifest as { format?: unknown } | null)?.format)}, expected "kindling-bundle")`, source);
  }
  if (!Number.isInteger(manifest.formatVersion) || manifest.formatVersion < 1) throw new BundleError(`${BUNDLE_FILES.manifest} has no valid formatVersion`, source);
  if (manifest.formatVersion > BUNDLE_FORMAT_VERSION) {
    throw new BundleError(
      `the bundle has format version ${manifest.formatVersion} (written by Kindling ${manifest.kindlingVersion}); this Kindling (${kindlingVersion}) reads version ${BUNDLE_FORMAT_VERSION}: upgrade @kindling/deploy`,
      source,
    );
  }
  if (!isRegisteredTask(manifest.task)) throw new BundleError(unregisteredKind((manifest.task as { kind?: unknown } | undefined)?.kind), source);
  for (const name of [BUNDLE_FILES.model, BUNDLE_FILES.weights]) {
    const entry = manifest.files?.[name];
    if (!entry || typeof entry.sha256 !== 'string' || typeof entry.bytes !== 'number') throw new BundleError(`${BUNDLE_FILES.manifest} lists no checksum for ${name}`, source);
  }
  if (typeof manifest.taskSha256 !== 'string') {
    throw new BundleError(`${BUNDLE_FILES.manifest} has no task checksum (taskSha256), which every bundle Kindling writes has: the file was edited or damaged; re-export the bundle`, source);
  }
  if (taskChecksum(manifest.task) !== manifest.taskSha256) {
    throw new BundleError(`the task in ${BUNDLE_FILES.manifest} (labels, preprocessing…) does not match its checksum: the file was edited or damaged; re-export the bundle`, source);
  }
  return manifest;
}

/**
 * Assembles a bundle from its files as an adapter read them, checking sizes and SHA-256 checksums:
 * a truncated, swapped or tampered file is a BundleError naming it.
 */
export function bundleFromFiles(files: { manifest: Uint8Array | string; modelJson: Uint8Array; weights: Uint8Array }, source: string): Bundle {
  const manifest = parseManifest(files.manifest, source);
  const check = (name: keyof BundleManifest['files'], bytes: Uint8Array) => {
    const expected = manifest.files[name];
    if (bytes.byteLength !== expected.bytes) throw new BundleError(`${name} has ${bytes.byteLength} bytes but the manifest says ${expected.bytes}: the file is truncated or from another model`, source);
    const actual = sha256Hex(bytes);
    if (actual !== expected.sha256) throw new BundleError(`${name} does not match its checksum in ${BUNDLE_FILES.manifest} (sha256 ${actual.slice(0, 12)}…, expected ${expected.sha256.slice(0, 12)}…): the file was changed or damaged; re-export the bundle`, source);
  };
  check(BUNDLE_FILES.model, files.modelJson);
  check(BUNDLE_FILES.weights, files.weights);
  return { manifest, modelJson: files.modelJson, weights: files.weights };
}

/** The extension of a bundle kept as one file: a zip of its three files (`kindling.json`, `model.json`, `weights.bin`). */
export const BUNDLE_FILE_EXTENSION = '.kindling';

/** The most bytes one file of a one-file bundle may unpack to (1 GiB): the zip's own sizes are checked against it before anything is unpacked. */
export const MAX_BUNDLE_ENTRY_BYTES = 2 ** 30;

/**
 * The bundle as one file (`model.kindling`): a plain zip of its three files, stored without compression (weights
 * hardly compress) and dated 1980-01-01, so the same bundle always gives the same bytes. Any unzip tool opens it;
 * `loadPredictor`, `kindling predict` and `kindling serve` read it as they read the folder.
 */
export function bundleToFile(bundle: Bundle): Uint8Array {
  const mtime = new Date(1980, 0, 1);
  return zipSync(Object.fromEntries(Object.entries(bundleFiles(bundle)).map(([name, bytes]) => [name, [bytes, { level: 0, mtime }]])));
}

/**
 * A bundle from one file written by `bundleToFile` or zipped by hand (the three files at the top, or together in
 * one folder; other entries are ignored), checked as `bundleFromFiles` checks files. Sizes the zip declares past
 * `MAX_BUNDLE_ENTRY_BYTES`, an entry named twice, a damaged or truncated zip are refused by name.
 */
export function bundleFromFile(bytes: Uint8Array, source: string): Bundle {
  if (bytes.byteLength < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 0x03 || bytes[3] !== 0x04) {
    throw new BundleError(`not a one-file bundle: a ${BUNDLE_FILE_EXTENSION} file is a zip of ${Object.values(BUNDLE_FILES).join(', ')} (this one does not start as a zip does)`, source);
  }
  const wanted = new Set<string>(Object.values(BUNDLE_FILES));
  const folders = new Map<string, string>(); // file name → the folder it was found in
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (entry) => {
        const slash = entry.name.lastIndexOf('/');
        const [folder, name] = [entry.name.slice(0, slash + 1), entry.name.slice(slash + 1)];
        if (!wanted.has(name) || folder.slice(0, -1).includes('/') || folder.startsWith('__MACOSX')) return false;
        if (folders.has(name)) throw new BundleError(`${name} is in the zip twice (${folders.get(name)}${name} and ${entry.name}): which one is meant?`, source);
        if (entry.originalSize > MAX_BUNDLE_ENTRY_BYTES) throw new BundleError(`${entry.name} says it unpacks to ${entry.originalSize} bytes, past the ${MAX_BUNDLE_ENTRY_BYTES}-byte limit of one file in a bundle`, source);
        folders.set(name, folder);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`the ${BUNDLE_FILE_EXTENSION} file cannot be unzipped (${(error as Error).message}): it is truncated or damaged`, source, { cause: error });
  }
  if (new Set(folders.values()).size > 1) throw new BundleError(`the bundle's files are in different folders of the zip (${[...folders].map(([name, folder]) => folder + name).join(', ')})`, source);
  const read = (name: string) => {
    const found = folders.get(name);
    if (found === undefined) throw new BundleError(`${name} is not in the ${BUNDLE_FILE_EXTENSION} file: a bundle zips ${Object.values(BUNDLE_FILES).join(', ')}`, source);
    return entries[found + name]!;
  };
  return bundleFromFiles({ manifest: read(BUNDLE_FILES.manifest), modelJson: read(BUNDLE_FILES.model), weights: read(BUNDLE_FILES.weights) }, source);
}

/** The bundle's tfjs layers model, rebuilt from its (already checked) files and checked against its task. */
export async function loadBundleModel(bundle: Bundle, source = 'bundle'): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    const modelJson = JSON.parse(decoder.decode(bundle.modelJson)) as tf.io.ModelJSON;
    const weightSpecs = (modelJson.weightsManifest ?? []).flatMap((group) => group.weights);
    const weightData = bundle.weights.buffer.slice(bundle.weights.byteOffset, bundle.weights.byteOffset + bundle.weights.byteLength) as ArrayBuffer;
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData, format: modelJson.format, generatedBy: modelJson.generatedBy }));
  } catch (error) {
    throw new BundleError(`${BUNDLE_FILES.model} cannot be rebuilt as a TF.js layers model (${(error as Error).message})`, source, { cause: error });
  }
  try {
    checkTaskAgainstModel(bundle.manifest.task, model, source);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * The manifest must describe this model: as many labels as the model has outputs, a picture size
 * that is the model's input size. A mismatch (an edited manifest, files from two models) is a
 * BundleError, before any prediction gives wrong labels or a shape error deep inside TF.js.
 */
export function checkTaskAgainstModel(task: TaskSpec, model: tf.LayersModel, source = 'bundle'): void {
  const fail = (message: string): never => {
    throw new BundleError(`${BUNDLE_FILES.manifest} ${message}: the manifest was edited or belongs to another model; re-export the bundle`, source);
  };
  const definition = taskDefinition(task.kind);
  if (definition === undefined) throw new BundleError(unregisteredKind(task.kind), source);
  definition.check?.(task as never, model, fail);
}
