import { defineConfig } from 'tsup';

// The script-tag build (src/kindling.ts): everything bundled, for the browser, minified, into dist/.
export default defineConfig({
  entry: { kindling: 'src/kindling.ts' },
  outDir: 'dist',
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  noExternal: [/.*/],
  splitting: true,
  minify: true,
  dts: false,
  sourcemap: false,
  clean: true,
});
