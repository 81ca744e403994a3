import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, hasChromium, launchChromium, warnIfSkipped } from './chromium';

warnIfSkipped('the browser backend set-up tests');

/** tfjs-backend-wasm's own folder of .wasm files, as a page's server would serve them once copied. */
const wasmFolder = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '..', 'dist');

type Started = { name?: string; skipped?: Array<{ name: string; reason: string }>; error?: string };

describe.skipIf(!hasChromium)('starting a backend in a page', () => {
  let server: Server;
  let browser: Browser;
  let base: string;
  let script: string;
  const requested: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = new URL(request.url!, 'http://x').pathname;
      requested.push(path);
      if (path === '/index.html') return void response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>backend</title>');
      if (path.startsWith('/copied/')) {
        try {
          const body = readFileSync(normalize(join(wasmFolder, path.slice('/copied/'.length))));
          return void response.writeHead(200, { 'content-type': 'application/wasm' }).end(body);
        } catch {
          // not there: a 404 below
        }
      }
      response.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    script = await bundleForBrowser('./backend-entry.ts');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A fresh page with the entry loaded; its console's lines are kept. */
  async function freshPage(): Promise<{ page: Page; console: string[] }> {
    const page = await browser.newPage();
    const lines: string[] = [];
    page.on('console', (message) => lines.push(message.text()));
    page.on('pageerror', (error) => lines.push(error.message));
    await page.goto(`${base}/index.html`);
    await page.addScriptTag({ content: script });
    return { page, console: lines };
  }

  const start = (page: Page, options: Record<string, unknown>) => page.evaluate((given) => (globalThis as unknown as { kindlingBackend: { start(options: unknown): Promise<Started> } }).kindlingBackend.start(given), options);

  it('wasm with no wasmPaths starts from the binary embedded in @kindling/backend: no .wasm file is fetched', async () => {
    const { page } = await freshPage();
    requested.length = 0;
    const started = await start(page, { backend: 'wasm' });
    expect(started.error).toBeUndefined();
    expect(started.name).toBe('wasm');
    expect(requested.filter((path) => path.endsWith('.wasm'))).toEqual([]);
    await page.close();
  });

  it('wasm with wasmPaths where nothing is served names the file, the folder and the fix, in one line', async () => {
    const { page } = await freshPage();
    const started = await start(page, { backend: 'wasm', wasmPaths: `${base}/missing/` });
    expect(started.error).toMatch(/^the 'wasm' backend was asked for but cannot run here: could not load tfjs-backend-wasm(-simd)?\.wasm from wasmPaths "http:\/\/127\.0\.0\.1:\d+\/missing\/": serve node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/\*\.wasm .* initBackend\(\{ wasmPaths: .* or pass no wasmPaths to use the embedded copy/);
    expect(started.error).not.toContain('\n');
    await page.close();
  });

  it('wasm with wasmPaths where they are served starts; auto never looks up the Node-only packages', async () => {
    const { page, console } = await freshPage();
    requested.length = 0;
    const started = await start(page, { backend: 'auto', wasmPaths: `${base}/copied/` });
    expect(started.error).toBeUndefined();
    expect(started.name).toBe('wasm');
    expect(started.skipped?.find((entry) => entry.name === 'tensorflow')?.reason).toBe('tfjs-node runs only in Node');
    expect(requested.some((path) => path.startsWith('/copied/') && path.endsWith('.wasm'))).toBe(true);
    expect([...requested, ...console].filter((line) => line.includes('tfjs-node'))).toEqual([]);
    await page.close();
  });
});
