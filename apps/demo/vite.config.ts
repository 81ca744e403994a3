import { defineConfig } from 'vite';

export default defineConfig({
  // a static site that works from any folder (relative asset and model URLs)
  base: './',
  build: { target: 'es2022', outDir: 'dist', chunkSizeWarningLimit: 4000 },
  server: { port: 5173 },
});
