import { BUNDLE_FILE_EXTENSION, BUNDLE_FILES, bundleFiles, bundleFromFile, bundleFromFiles, type Bundle } from './bundle';
import { BundleError } from './errors';
import { loadPredictor as predictorFor, type LoadPredictorOptions, type PredictorFor } from './load-predictor';
import type { TaskKind } from './tasks';

/**
 * Where bundles live, keyed by URL scheme (as tfjs keys its IO handlers): `memory://`, `http(s)://`
 * here; the file system in `@kindling/deploy/node`; IndexedDB in `@kindling/deploy/browser`.
 */
export interface BundleAdapter {
  name: string;
  handles(url: string): boolean;
  load(url: string): Promise<Bundle>;
  /** Absent for read-only places (http). */
  save?(bundle: Bundle, url: string): Promise<void>;
}

const memory = new Map<string, Record<string, Uint8Array>>();

/** `memory://name`: bundles kept as bytes in this process (tests, and handing a bundle between parts of an app). */
export const memoryAdapter: BundleAdapter = {
  name: 'memory',
  handles: (url) => url.startsWith('memory://'),
  async load(url) {
    const files = memory.get(url);
    if (files === undefined) throw new BundleError('no bundle saved here', url);
    return bundleFromFiles({ manifest: files[BUNDLE_FILES.manifest]!, modelJson: files[BUNDLE_FILES.model]!, weights: files[BUNDLE_FILES.weights]! }, url);
  },
  async save(bundle, url) {
    // copies, so later changes to the caller's arrays do not reach the stored bundle
    memory.set(url, Object.fromEntries(Object.entries(bundleFiles(bundle)).map(([name, bytes]) => [name, bytes.slice()])));
  },
};

/** The URL of one of a bundle's files, given the bundle's URL (its folder, or its `kindling.json`). */
export function bundleFileUrl(url: string, file: string): string {
  const base = url.endsWith(`/${BUNDLE_FILES.manifest}`) ? url.slice(0, -BUNDLE_FILES.manifest.length) : url.endsWith('/') ? url : `${url}/`;
  return new URL(file, base).toString();
}

/**
 * `http(s)://…/bundle/` (its three files), or `http(s)://…/model.kindling` (the bundle as one file): fetched with
 * the platform's fetch (Node 18+, browsers). Read-only.
 */
export const httpAdapter: BundleAdapter = {
  name: 'http',
  handles: (url) => /^https?:\/\//i.test(url),
  async load(url) {
    const fetchFile = async (file: string | undefined): Promise<Uint8Array> => {
      const location = file === undefined ? url : bundleFileUrl(url, file);
      let response: Response;
      try {
        response = await fetch(location);
      } catch (error) {
        throw new BundleError(`cannot fetch ${file ?? 'it'} (${(error as Error).message})`, url, { cause: error });
      }
      if (!response.ok) throw new BundleError(`fetching ${location} answered ${response.status} ${response.statusText}`.trim(), url);
      return new Uint8Array(await response.arrayBuffer());
    };
    if (new URL(url).pathname.toLowerCase().endsWith(BUNDLE_FILE_EXTENSION)) return bundleFromFile(await fetchFile(undefined), url);
    const [manifest, modelJson, weights] = await Promise.all([fetchFile(BUNDLE_FILES.manifest), fetchFile(BUNDLE_FILES.model), fetchFile(BUNDLE_FILES.weights)]);
    return bundleFromFiles({ manifest, modelJson, weights }, url);
  },
};

/** Loading and saving through a list of adapters, the first that handles a URL wins. */
export function bundleStore(adapters: readonly BundleAdapter[]) {
  const adapterFor = (url: string) => {
    const adapter = adapters.find((candidate) => candidate.handles(url));
    if (adapter === undefined) throw new BundleError(`no adapter for this location (known here: ${adapters.map((a) => a.name).join(', ')})`, url);
    return adapter;
  };
  return {
    async loadBundle(url: string): Promise<Bundle> {
      return adapterFor(url).load(url);
    },
    async saveBundle(bundle: Bundle, url: string): Promise<void> {
      const adapter = adapterFor(url);
      if (adapter.save === undefined) throw new BundleError(`the ${adapter.name} adapter cannot save`, url);
      await adapter.save(bundle, url);
    },
    /** A predictor from a bundle or the location of one. */
    async loadPredictor<K extends TaskKind = TaskKind>(source: Bundle | string, options: LoadPredictorOptions<K> = {}): Promise<PredictorFor<K>> {
      return predictorFor<K>(typeof source === 'string' ? await adapterFor(source).load(source) : source, { source: typeof source === 'string' ? source : undefined, ...options });
    },
  };
}

const defaultStore = bundleStore([memoryAdapter, httpAdapter]);

/** Loads a bundle from `memory://` or `http(s)://` (the Node and browser entry points add their places). */
export const loadBundle = defaultStore.loadBundle;
/** Saves a bundle to `memory://` (the Node and browser entry points add their places). */
export const saveBundle = defaultStore.saveBundle;
/** A predictor from a bundle or its `memory://` / `http(s)://` location; pixels only for images (no decoder here). */
export const loadPredictor = defaultStore.loadPredictor;
