import { defineConfig } from 'tsup';

// The script-tag build (script-tag/kindling.ts): everything bundled, for the browser, minified, into
// dist/script/ — run after the library build (`pnpm build`), which cleans dist/.
export default defineConfig({
  entry: { kindling: 'script-tag/kindling.ts' },
  outDir: 'dist/script',
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
