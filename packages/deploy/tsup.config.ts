import { libraryConfig } from '../../tsup.base';

// src/prepare-worker.ts is the server's worker-thread script (found beside server.js / server.cjs, not an export);
// shims: `import.meta.url` in the CommonJS build, which finds it
export default libraryConfig(['src/index.ts', 'src/node.ts', 'src/browser.ts', 'src/server.ts', 'src/prepare-worker.ts'], { shims: true });
