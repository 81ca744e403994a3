import { libraryConfig } from '../../tsup.base';

// shims: `import.meta.url` in the CommonJS build (pointerTask tells the prediction server's workers where it is)
export default libraryConfig(['src/index.ts', 'src/node.ts', 'src/predict.ts'], { shims: true });
