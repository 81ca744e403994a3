import * as tf from '@tensorflow/tfjs';

/** The three builds of tfjs-backend-wasm; tfjs picks one by what the browser supports. */
export const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;
export type WasmBinary = (typeof WASM_BINARIES)[number];

// literal specifiers, so that every bundler (Vite, esbuild, webpack) sees them and emits each as a lazy chunk
const EMBEDDED: Record<WasmBinary, () => Promise<{ default: string }>> = {
  'tfjs-backend-wasm.wasm': () => import('./embedded-wasm/tfjs-backend-wasm'),
  'tfjs-backend-wasm-simd.wasm': () => import('./embedded-wasm/tfjs-backend-wasm-simd'),
  'tfjs-backend-wasm-threaded-simd.wasm': () => import('./embedded-wasm/tfjs-backend-wasm-threaded-simd'),
};

/** The binary tfjs-backend-wasm will fetch here, decided as it decides (SIMD, and threads where the page is cross-origin isolated). */
export async function wasmBinaryFor(): Promise<WasmBinary> {
  const [simd, threads] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
  return simd && threads ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
}

function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index += 1) bytes[index] = text.charCodeAt(index);
  return bytes;
}

/**
 * `wasmPaths` for a page that gave none: the one binary this browser needs, from the copy this package's ESM
 * build embeds (as Emscripten's SINGLE_FILE does), served to tfjs as a `blob:` URL. Nothing to copy, no bundler
 * setting; a page that serves the `.wasm` files itself passes `wasmPaths` and never loads these chunks.
 */
export async function embeddedWasmPaths(): Promise<{ paths: Record<WasmBinary, string>; binary: WasmBinary }> {
  const binary = await wasmBinaryFor();
  const base64 = (await EMBEDDED[binary]()).default;
  if (base64 === '') {
    throw new Error(
      `this build of @kindling/backend embeds no ${binary} (only its ES module build does): import it as an ES module, or serve node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm and pass initBackend({ wasmPaths: '/that/folder/' })`,
    );
  }
  const url = URL.createObjectURL(new Blob([decodeBase64(base64)], { type: 'application/wasm' }));
  // tfjs wants an entry for each name; it fetches only `binary`
  const paths = Object.fromEntries(WASM_BINARIES.map((name) => [name, url])) as Record<WasmBinary, string>;
  return { paths, binary };
}
