import { defineConfig } from 'tsup';

export default defineConfig({
  // the bin `kindling` (cli) and the programmatic entry (index: runKindling, with its types); shared code in chunks
  entry: ['src/cli.ts', 'src/index.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
});
