// tfjs-backend-wasm-threaded-simd.wasm as base64: the build (tsup.config.ts) defines KINDLING_WASM_THREADED in the ESM build; a separate
// chunk, loaded only by a page that starts the wasm backend without wasmPaths. Empty where it is not defined.
declare const KINDLING_WASM_THREADED: string | undefined;
const base64: string = typeof KINDLING_WASM_THREADED === 'string' ? KINDLING_WASM_THREADED : '';
export default base64;
