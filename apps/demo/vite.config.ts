import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP): without it a page has no SharedArrayBuffer, and the wasm backend runs on
 * one thread. The dev server and `vite preview` send these headers; `public/_headers` sends them from static
 * hosts that read that file (Netlify, Cloudflare Pages); elsewhere set them in the server's configuration.
 */
const crossOriginIsolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  // a static site that works from any folder (relative asset and model URLs)
  base: './',
  build: { target: 'es2022', outDir: 'dist', chunkSizeWarningLimit: 4000 },
  server: { port: 5173, headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation },
});
