import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { libraryConfig } from '../../tsup.base';

// tfjs-backend-wasm's three binaries, embedded as base64 in the ES module build (each its own lazy chunk, see
// src/embedded-wasm.ts): a page's bundler or a script tag gets them with no copying. The CommonJS build (Node,
// whose wasm backend reads the files) leaves them out.
const wasmFolder = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const embedded = (file: string): string => JSON.stringify(readFileSync(join(wasmFolder, file)).toString('base64'));

// shims: `import.meta.url` in the CommonJS build (the Node entry resolves tfjs-backend-wasm's files from it)
export default libraryConfig(['src/index.ts', 'src/node.ts', 'src/testing.ts'], {
  shims: true,
  esbuildOptions(options, context) {
    if (context.format !== 'esm') return;
    options.define = {
      ...options.define,
      KINDLING_WASM_PLAIN: embedded('tfjs-backend-wasm.wasm'),
      KINDLING_WASM_SIMD: embedded('tfjs-backend-wasm-simd.wasm'),
      KINDLING_WASM_THREADED: embedded('tfjs-backend-wasm-threaded-simd.wasm'),
    };
  },
});
