/**
 * The browser side of @kindling/deploy: bundles in IndexedDB (`indexeddb://name`), downloads and
 * uploads of a bundle's files, and image decoding with the platform's decoders. No `fs`, no server.
 */
import { aspectRefusal } from '@kindling/image';
import { bundleStore, httpAdapter, memoryAdapter, type BundleAdapter } from './adapters';
import { BUNDLE_FILE_EXTENSION, BUNDLE_FILES, bundleFiles, bundleFromFile, bundleFromFiles, bundleToFile, type Bundle } from './bundle';
import { BundleError, InputError } from './errors';
import type { ImageDecoder, RawImage } from './image-predictor';
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

/**
 * Decodes with the browser: bytes or a Blob through createImageBitmap (no colour-space conversion or
 * alpha premultiplication, so PNG pixels come out exact), or an image, canvas, bitmap or ImageData.
 */
export const decodeImageInBrowser: ImageDecoder = async (input, source, limits = {}) => {
  if (typeof ImageData !== 'undefined' && input instanceof ImageData) return { data: input.data, width: input.width, height: input.height, channels: 4 };
  let drawable: CanvasImageSource;
  // bitmaps made here are closed here; the caller's own objects are left alone
  let owned = input instanceof Uint8Array || input instanceof Blob;
  try {
    if (input instanceof Uint8Array || input instanceof Blob) {
      const blob = input instanceof Blob ? input : new Blob([input as Uint8Array<ArrayBuffer>]);
      drawable = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } else {
      drawable = input as CanvasImageSource;
    }
  } catch (error) {
    throw new InputError(`cannot decode as an image (${(error as Error).message})`, source, { cause: error });
  }
  let { width, height } = drawable as { width: number; height: number };
  if (!(width > 0 && height > 0)) throw new InputError('the picture has no pixels (not loaded yet?)', source);
  if (limits.maxPixels !== undefined && width * height > limits.maxPixels) throw new InputError(`the picture has ${width}×${height} pixels, more than the limit of ${limits.maxPixels}`, source);
  // the same refusal as in Node, so a page and a server answer alike
  const misshapen = limits.maxAspect === undefined ? undefined : aspectRefusal(width, height, limits.maxAspect);
  if (misshapen !== undefined) throw new InputError(misshapen, source);
  const scale = limits.maxSide === undefined ? 1 : Math.min(1, limits.maxSide / Math.max(width, height));
  if (scale < 1) {
    // shrunk by the browser's own high-quality resize before its pixels are read
    [width, height] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
    const shrunk = await createImageBitmap(drawable as ImageBitmapSource, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
    if (owned) (drawable as ImageBitmap).close();
    drawable = shrunk;
    owned = true;
  }
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(drawable, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  if (owned) (drawable as ImageBitmap).close();
  return { data: pixels.data, width, height, channels: 4 } satisfies RawImage;
};

const browserStore = bundleStore([indexedDbAdapter, httpAdapter, memoryAdapter]);

/** Loads a bundle from `http(s)://` (or a path relative to the page), `indexeddb://` or `memory://`. */
export async function loadBundle(url: string): Promise<Bundle> {
  return browserStore.loadBundle(absolute(url));
}
/** Saves a bundle to `indexeddb://name` (or `memory://`). */
export const saveBundle: (bundle: Bundle, url: string) => Promise<void> = browserStore.saveBundle;

/** A predictor from a bundle or its location; image inputs may be files, Blobs, images or canvases. */
export function loadPredictor<K extends TaskKind = TaskKind>(source: Bundle | string, options: LoadPredictorOptions<K> = {}): Promise<PredictorFor<K>> {
  return browserStore.loadPredictor<K>(typeof source === 'string' ? absolute(source) : source, { decodeImage: decodeImageInBrowser, ...options });
}

/** A relative URL (`./models/shapes/`) against the page, so bundles can sit beside the app. */
function absolute(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || typeof location === 'undefined') return url;
  return new URL(url, location.href).toString();
}
