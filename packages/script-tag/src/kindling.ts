/**
 * The script-tag build of Kindling for web pages with no bundler: one ES module, self-contained (TensorFlow.js,
 * `@kindling/backend` with its embedded wasm binaries, the browser side of `@kindling/deploy`, and every modality's
 * task kind registered: pictures, masks, sounds, mouse movements, table rows, recommendations), served as it is from
 * a CDN or a folder:
 *
 * ```html
 * <script type="module">
 *   import { initBackend, loadPredictor } from 'https://cdn.jsdelivr.net/npm/@kindling/script-tag/dist/kindling.js';
 *   await initBackend();
 *   const predictor = await loadPredictor('./model/', { kind: 'image' });
 * </script>
 * ```
 *
 * Built by `tsup.config.ts` into `dist/`; the lazy chunks beside it (a wasm binary each) load only when the wasm
 * backend starts. Projects with a bundler import the packages instead, and register only the kinds they read.
 */
import { soundTask } from '@kindling/audio/predict';
import { registerTask } from '@kindling/deploy';
import { browserImageDecoder, imageTask, segmentationTask } from '@kindling/image/predict';
import { pointerTask } from '@kindling/pointer/predict';
import { collabTask, tabularTask } from '@kindling/tabular';

export * as tf from '@tensorflow/tfjs';
export { BACKEND_ORDER, BackendError, initBackend } from '@kindling/backend';
export type { BackendName, BackendReport, InitBackendOptions } from '@kindling/backend';
export { bundleAsFiles, bundleFromUpload, downloadBundle, indexedDbAdapter, listIndexedDbBundles, loadBundle, loadPredictor, saveBundle } from '@kindling/deploy/browser';
/** Decodes a picture with the browser (bytes, a Blob, an image, a canvas) to pixels. */
export const decodeImageInBrowser = browserImageDecoder;
export { BundleError, createBundle, InputError, registerTask, registeredTaskKinds, TASK_KINDS } from '@kindling/deploy';

// every kind a page may load: the point of one file is not to choose
registerTask(imageTask);
registerTask(segmentationTask);
registerTask(soundTask);
registerTask(pointerTask);
registerTask(tabularTask);
registerTask(collabTask);
