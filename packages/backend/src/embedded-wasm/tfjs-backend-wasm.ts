// tfjs-backend-wasm.wasm as base64: the build (tsup.config.ts) defines KINDLING_WASM_PLAIN in the ESM build; a separate
// chunk, loaded only by a page that starts the wasm backend without wasmPaths. Empty where it is not defined.
declare const KINDLING_WASM_PLAIN: string | undefined;
const base64: string = typeof KINDLING_WASM_PLAIN === 'string' ? KINDLING_WASM_PLAIN : '';
export default base64;
