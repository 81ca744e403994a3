import { libraryConfig } from '../../tsup.base';

// shims: `import.meta.url` in the CommonJS build (the Node entry resolves tfjs-backend-wasm's files from it)
export default libraryConfig(['src/index.ts', 'src/node.ts', 'src/testing.ts'], { shims: true });
