/** Bundles on disk (`file://` or a path) and the inputs files hold: the Node side of @kindling/deploy. */
import { DataError } from '@kindling/data';
import { writeFileAtomic } from '@kindling/data/node';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleStore, httpAdapter, memoryAdapter, type BundleAdapter } from './adapters';
import { BUNDLE_FILE_EXTENSION, BUNDLE_FILES, bundleFiles, bundleFromFile, bundleFromFiles, bundleToFile, type Bundle } from './bundle';
import { BundleError } from './errors';
import type { LoadPredictorOptions, PredictorFor } from './load-predictor';
import type { SomePredictor } from './predictor';
import { taskDefinition, type FileInput } from './registry';
import type { TaskKind } from './tasks';

export type { FileInput } from './registry';

/** A bundle's directory from `file://…`, a path, or the path of its `kindling.json`. */
export function bundleDirectory(location: string): string {
  const path = localPath(location);
  return basename(path) === BUNDLE_FILES.manifest ? dirname(resolve(path)) : resolve(path);
}

/** A local location as a path: `file://…` or a plain path. */
function localPath(location: string): string {
  if (!location.startsWith('file://')) return location;
  try {
    return fileURLToPath(location);
  } catch (error) {
    // file://out/image reads "out" as a host name
    throw new BundleError(`not a local file URL: write file:///absolute/path (three slashes) or a plain path such as ${location.slice('file://'.length)}`, location, { cause: error });
  }
}

/** Whether a location names a one-file bundle: a path ending in `.kindling`, or any file other than a `kindling.json`. */
async function isBundleFile(location: string): Promise<boolean> {
  const path = localPath(location);
  if (path.toLowerCase().endsWith(BUNDLE_FILE_EXTENSION)) return true;
  if (basename(path) === BUNDLE_FILES.manifest) return false;
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/**
 * A directory holding `kindling.json`, `model.json` and `weights.bin`, or the same bundle as one
 * `.kindling` file (a zip of the three). Each file is written atomically (a temporary file renamed into place),
 * the manifest last; other files in the directory are left alone.
 */
export const fileAdapter: BundleAdapter = {
  name: 'file',
  handles: (url) => url.startsWith('file://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url),
  async load(url) {
    if (await isBundleFile(url)) {
      const path = resolve(localPath(url));
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(path));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new BundleError(code === 'ENOENT' ? 'no such file: not a Kindling bundle' : `cannot read it (${code ?? (error as Error).message})`, path, { cause: error });
      }
      return bundleFromFile(bytes, path);
    }
    const directory = bundleDirectory(url);
    const read = async (name: string) => {
      try {
        return new Uint8Array(await readFile(join(directory, name)));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && name === BUNDLE_FILES.manifest) throw new BundleError(`no ${BUNDLE_FILES.manifest} here: not a Kindling bundle (train one with \`kindling train …\`)`, directory, { cause: error });
        throw new BundleError(`cannot read ${name} (${code ?? (error as Error).message})`, directory, { cause: error });
      }
    };
    const manifest = await read(BUNDLE_FILES.manifest);
    return bundleFromFiles({ manifest, modelJson: await read(BUNDLE_FILES.model), weights: await read(BUNDLE_FILES.weights) }, directory);
  },
  async save(bundle, url) {
    if (localPath(url).toLowerCase().endsWith(BUNDLE_FILE_EXTENSION)) {
      const path = resolve(localPath(url));
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, bundleToFile(bundle));
      return;
    }
    const directory = bundleDirectory(url);
    await mkdir(directory, { recursive: true });
    for (const [name, bytes] of Object.entries(bundleFiles(bundle))) await writeFileAtomic(join(directory, name), bytes);
  },
};

const nodeStore = bundleStore([fileAdapter, memoryAdapter, httpAdapter]);

/** Loads a bundle from a directory or a `.kindling` file, `file://`, `http(s)://` or `memory://`, checking its checksums. */
export const loadBundle = nodeStore.loadBundle;
/** Saves a bundle to a directory, or as one file to a path ending in `.kindling` (or `file://`, `memory://`). */
export const saveBundle: (bundle: Bundle, url: string) => Promise<void> = nodeStore.saveBundle;

/** A predictor from a bundle or its location (a directory, a `.kindling` file, a URL), of a registered kind. */
export function loadPredictor<K extends TaskKind = TaskKind>(source: Bundle | string, options: LoadPredictorOptions<K> = {}): Promise<PredictorFor<K>> {
  return nodeStore.loadPredictor<K>(source, options);
}

/**
 * The inputs a file holds for `predictor`, as its kind's definition reads them (registered from a modality's Node
 * entry point: every row of a CSV table from `@kindling/tabular/node`, a pointer session in a Balabit CSV from
 * `@kindling/pointer/node`); otherwise a `.json` file as the kind's JSON input (`readJsonInputFile`) and any other
 * file (a picture, a WAV) as its bytes. The CLI's `kindling predict` reads its files with it.
 */
export async function readInputFile(predictor: SomePredictor, path: string): Promise<FileInput[]> {
  const reader = taskDefinition(predictor.kind)?.readInputFile;
  if (reader !== undefined) return reader(path, predictor);
  if (extname(path).toLowerCase() === '.json') return readJsonInputFile(predictor, path);
  return [{ name: path, input: new Uint8Array(await readFile(path)) }];
}

/**
 * A `.json` file as one input of `predictor`'s kind (its `inputFromJson`): what `readInputFile` makes of one, for a
 * definition's own `readInputFile` to hand its `.json` files to. A file that is not JSON is a DataError naming it.
 */
export async function readJsonInputFile(predictor: SomePredictor, path: string): Promise<FileInput[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new DataError(`not JSON (${(error as Error).message})`, { file: path }, { cause: error });
  }
  return [{ name: path, input: predictor.inputFromJson(value) }];
}
