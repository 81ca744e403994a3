/**
 * The browser side of @kindling/deploy: bundles in IndexedDB (`indexeddb://name`), and downloads and uploads of a
 * bundle's files. No `fs`, no server.
 */
import { bundleStore, httpAdapter, memoryAdapter, type BundleAdapter } from './adapters';
import { BUNDLE_FILE_EXTENSION, BUNDLE_FILES, bundleFiles, bundleFromFile, bundleFromFiles, bundleToFile, type Bundle } from './bundle';
import { BundleError } from './errors';
import type { LoadPredictorOptions, PredictorFor } from './load-predictor';
import type { TaskKind } from './tasks';

const DATABASE = 'kindling-bundles';
const STORE = 'bundles';

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new BundleError('IndexedDB is not available here'));
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new BundleError(`cannot open IndexedDB (${request.error?.message})`));
  });
}

function transact<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return openDatabase().then(
    (database) =>
      new Promise<T>((resolve, reject) => {
        const transaction = database.transaction(STORE, mode);
        const request = work(transaction.objectStore(STORE));
        // the whole bundle is one record written in one transaction: it is there entirely or not at all
        transaction.oncomplete = () => {
          database.close();
          resolve(request.result);
        };
        transaction.onerror = transaction.onabort = () => {
          database.close();
          reject(new BundleError(`IndexedDB: ${transaction.error?.message ?? 'the transaction failed'}`));
        };
      }),
  );
}

/** `indexeddb://name`: a bundle kept in the browser (one record per bundle). */
export const indexedDbAdapter: BundleAdapter = {
  name: 'indexeddb',
  handles: (url) => url.startsWith('indexeddb://'),
  async load(url) {
    const record = await transact<Record<string, Uint8Array> | undefined>('readonly', (store) => store.get(url.slice('indexeddb://'.length)));
    if (record === undefined) throw new BundleError('no bundle saved under this name in IndexedDB', url);
    return bundleFromFiles({ manifest: record[BUNDLE_FILES.manifest]!, modelJson: record[BUNDLE_FILES.model]!, weights: record[BUNDLE_FILES.weights]! }, url);
  },
  async save(bundle, url) {
    await transact('readwrite', (store) => store.put(bundleFiles(bundle), url.slice('indexeddb://'.length)));
  },
};

/** Names of the bundles saved in IndexedDB, as `indexeddb://…` URLs. */
export async function listIndexedDbBundles(): Promise<string[]> {
  const keys = await transact('readonly', (store) => store.getAllKeys());
  return keys.map((key) => `indexeddb://${String(key)}`);
}

/** The bundle's three files as File objects (to download, or to send). */
export function bundleAsFiles(bundle: Bundle): File[] {
  return Object.entries(bundleFiles(bundle)).map(([name, bytes]) => new File([bytes as Uint8Array<ArrayBuffer>], name, { type: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }));
}

/**
 * Starts the download of the bundle as one file, `<name>.kindling` (a zip of its three files: see `bundleToFile`),
 * which `loadPredictor`, `kindling predict` and `bundleFromUpload` read.
 */
export function downloadBundle(bundle: Bundle, name = 'model'): void {
  const file = new File([bundleToFile(bundle) as Uint8Array<ArrayBuffer>], `${name}${BUNDLE_FILE_EXTENSION}`, { type: 'application/zip' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(file);
  link.download = file.name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/**
 * A bundle from uploaded files (an `<input type="file" multiple>`'s FileList, or dropped files), checked: one
 * `.kindling` file, or the three files of a bundle's folder.
 */
export async function bundleFromUpload(files: FileList | readonly File[]): Promise<Bundle> {
  const list = Array.from(files);
  const single = list.length === 1 && !Object.values(BUNDLE_FILES).includes(list[0]!.name as never) ? list[0] : undefined;
  if (single !== undefined) return bundleFromFile(new Uint8Array(await single.arrayBuffer()), single.name);
  const byName = new Map(list.map((file) => [file.name, file]));
  const read = async (name: string) => {
    const file = byName.get(name);
    if (file === undefined) throw new BundleError(`${name} is missing: choose one ${BUNDLE_FILE_EXTENSION} file, or the bundle's three files (${Object.values(BUNDLE_FILES).join(', ')})`, 'upload');
    return new Uint8Array(await file.arrayBuffer());
  };
  return bundleFromFiles({ manifest: await read(BUNDLE_FILES.manifest), modelJson: await read(BUNDLE_FILES.model), weights: await read(BUNDLE_FILES.weights) }, 'upload');
}

const browserStore = bundleStore([indexedDbAdapter, httpAdapter, memoryAdapter]);

/** Loads a bundle from `http(s)://` (or a path relative to the page), `indexeddb://` or `memory://`. */
export async function loadBundle(url: string): Promise<Bundle> {
  return browserStore.loadBundle(absolute(url));
}
/** Saves a bundle to `indexeddb://name` (or `memory://`). */
export const saveBundle: (bundle: Bundle, url: string) => Promise<void> = browserStore.saveBundle;

/** A predictor from a bundle or its location (a URL relative to the page, `indexeddb://`), of a registered kind. */
export function loadPredictor<K extends TaskKind = TaskKind>(source: Bundle | string, options: LoadPredictorOptions<K> = {}): Promise<PredictorFor<K>> {
  return browserStore.loadPredictor<K>(typeof source === 'string' ? absolute(source) : source, options);
}

/** A relative URL (`./models/shapes/`) against the page, so bundles can sit beside the app. */
function absolute(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || typeof location === 'undefined') return url;
  return new URL(url, location.href).toString();
}
