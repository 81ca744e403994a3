/** Loading and saving tfjs layers models on disk (file://), and from http(s):// URLs. */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * A path from `file://…`, a plain path, or a path to `model.json` → the model's directory. As in tfjs-node,
 * `file://` may be followed by a relative path (`file://runs/model`, `file://./runs/model`); `file:///…` and
 * `file://localhost/…` are file URLs (percent-escapes decoded).
 */
function modelDirectory(location: string): string {
  const url = location.startsWith('file:///') || location.startsWith('file://localhost/');
  const path = url ? fileURLToPath(location) : location.startsWith('file://') ? location.slice('file://'.length) : location;
  return basename(path) === MODEL_JSON ? dirname(resolve(path)) : resolve(path);
}

/**
 * A tfjs IOHandler for a directory holding `model.json` and its weight files. Saving writes a new
 * directory beside the target and renames it into place, so a crash never leaves half a model.
 */
export function fileSystemModel(location: string): tf.io.IOHandler {
  const directory = modelDirectory(location);
  return {
    async save(artifacts) {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('fileSystemModel: binary topologies are not supported');
      const staging = `${directory}.saving-${process.pid}-${Date.now()}`;
      await mkdir(staging, { recursive: true });
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(staging, WEIGHTS_BIN), new Uint8Array(weightData));
      await writeFile(join(staging, MODEL_JSON), JSON.stringify(modelJson));
      const previous = `${directory}.previous-${process.pid}-${Date.now()}`;
      await rename(directory, previous).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await rename(staging, directory);
      await rm(previous, { recursive: true, force: true });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs, weightData }) };
    },
    async load() {
      const jsonPath = join(directory, MODEL_JSON);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(jsonPath, 'utf8'));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(`${jsonPath}: ${code === 'ENOENT' ? 'no model here' : `not a tfjs model.json (${(error as Error).message})`}`);
      }
      const buffers: Uint8Array[] = [];
      for (const group of modelJson.weightsManifest ?? []) {
        for (const path of group.paths) {
          const file = join(directory, path);
          try {
            buffers.push(await readFile(file));
          } catch {
            throw new Error(`${file}: a weight file listed in ${jsonPath} is missing`);
          }
        }
      }
      const weightData = tf.io.CompositeArrayBuffer.join(buffers.map((buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer));
      const weightSpecs = (modelJson.weightsManifest ?? []).flatMap((group) => group.weights);
      const expected = weightSpecs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
      if (weightData.byteLength < expected) throw new Error(`${directory}: the weight files hold ${weightData.byteLength} bytes, the manifest needs ${expected}`);
      return { modelTopology: modelJson.modelTopology, format: modelJson.format, generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy, trainingConfig: modelJson.trainingConfig, weightSpecs, weightData };
    },
  };
}

/**
 * Loads a pretrained tfjs layers model from `file://…` or a path (read here), or `http(s)://…` (fetched
 * by tfjs). A model that cannot be read is an error that names where it looked.
 */
export async function loadLayersModel(location: string): Promise<tf.LayersModel> {
  if (/^https?:\/\//.test(location)) {
    try {
      return await tf.loadLayersModel(location);
    } catch (error) {
      throw new Error(`${location}: cannot load a tfjs layers model (${(error as Error).message})`);
    }
  }
  return tf.loadLayersModel(fileSystemModel(location));
}

/** Saves a layers model to a directory (`model.json` + `weights.bin`), atomically. */
export async function saveLayersModel(model: tf.LayersModel, location: string): Promise<void> {
  await mkdir(dirname(modelDirectory(location)), { recursive: true });
  await model.save(fileSystemModel(location));
}
