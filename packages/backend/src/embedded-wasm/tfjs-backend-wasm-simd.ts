// tfjs-backend-wasm-simd.wasm as base64: the build (tsup.config.ts) defines KINDLING_WASM_SIMD in the ESM build; a separate
// chunk, loaded only by a page that starts the wasm backend without wasmPaths. Empty where it is not defined.
declare const KINDLING_WASM_SIMD: string | undefined;
const base64: string = typeof KINDLING_WASM_SIMD === 'string' ? KINDLING_WASM_SIMD : '';
export default base64;
