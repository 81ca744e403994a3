/**
 * The script-tag build of Kindling for web pages with no bundler: one ES module, self-contained (TensorFlow.js,
 * `@kindling/backend` with its embedded wasm binaries, and the browser side of `@kindling/deploy`), served as
 * it is from a CDN or a folder:
 *
 * ```html
 * <script type="module">
 *   import { initBackend, loadPredictor } from 'https://cdn.jsdelivr.net/npm/@kindling/deploy/dist/script/kindling.js';
 *   await initBackend();
 *   const predictor = await loadPredictor('./model/', { kind: 'image' });
 * </script>
 * ```
 *
 * Built by `tsup.script.config.ts` into `dist/script/`; the lazy chunks beside it (a wasm binary each) load only
 * when the wasm backend starts. Projects with a bundler import the packages instead.
 */
export * as tf from '@tensorflow/tfjs';
export { BACKEND_ORDER, BackendError, initBackend } from '@kindling/backend';
export type { BackendName, BackendReport, InitBackendOptions } from '@kindling/backend';
export { bundleAsFiles, bundleFromUpload, decodeImageInBrowser, downloadBundle, indexedDbAdapter, listIndexedDbBundles, loadBundle, loadPredictor, saveBundle } from '../src/browser';
export { BundleError, createBundle, InputError, registerTask, registeredTaskKinds, TASK_KINDS } from '../src/index';
