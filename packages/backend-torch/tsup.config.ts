import { libraryConfig } from '../../tsup.base';

// shims: `import.meta.url` in the CommonJS build (the addon is found from it)
export default libraryConfig(['src/index.ts'], { shims: true });
