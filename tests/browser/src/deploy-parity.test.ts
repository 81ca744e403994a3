import { initBackend } from '@kindling/backend';
import type { RawImage } from '@kindling/image/predict';
import { loadPredictor, saveBundle } from '@kindling/deploy/node';
import { exampleBundle, exampleInputs, KINDS } from '@kindling/deploy-tests/testing';
import { encodePng } from '@kindling/image/node';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, hasChromium, launchChromium, warnIfSkipped } from './chromium';

/** Every number in `actual` within `tolerance` of `expected`; everything else equal. Returns the largest difference. */
function compare(actual: unknown, expected: unknown, path: string, tolerance: number): number {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    const difference = Math.abs((actual as number) - expected);
    expect(difference, `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
    return difference;
  }
  if (expected !== null && typeof expected === 'object') {
    const expectedEntries = ArrayBuffer.isView(expected) ? Array.from(expected as Uint8Array) : expected;
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expectedEntries).sort());
    let worst = 0;
    for (const [key, value] of Object.entries(expectedEntries)) worst = Math.max(worst, compare((actual as Record<string, unknown>)[key], value, `${path}.${key}`, tolerance));
    return worst;
  }
  expect(actual, path).toEqual(expected);
  return 0;
}

describe.skipIf(!hasChromium)('a bundle predicts the same in headless Chromium as in Node', () => {
  let server: Server;
  let base: string;
  let page: Page;
  let close: () => Promise<void>;
  const root = mkdtempSync(join(tmpdir(), 'kindling-deploy-browser-'));
  const inputs = new Map<string, unknown[]>();

  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
    for (const kind of KINDS) {
      await saveBundle(await exampleBundle(kind, 5), join(root, kind));
      let raw = exampleInputs(kind, 3, 9);
      // pictures travel as PNG files: decoded by sharp in Node, by createImageBitmap in the page
      if (kind === 'image' || kind === 'segmentation') raw = await Promise.all((raw as RawImage[]).map((image) => encodePng({ data: image.data as Uint8Array, shape: [image.height, image.width, 3] })));
      inputs.set(kind, raw);
    }
    cpSync(join(root, 'pointer'), join(root, 'tampered'), { recursive: true });
    const weights = readFileSync(join(root, 'tampered', 'weights.bin'));
    weights[10] = weights[10]! ^ 1;
    writeFileSync(join(root, 'tampered', 'weights.bin'), weights);
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>deploy parity</title>');
    server = createServer((request, response) => {
      const path = normalize(join(root, decodeURIComponent(new URL(request.url!, 'http://x').pathname)));
      try {
        const body = readFileSync(path);
        response.writeHead(200, { 'content-type': path.endsWith('.html') ? 'text/html' : path.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(body);
      } catch {
        response.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const script = await bundleForBrowser('./deploy-entry.ts');
    const browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${base}/index.html`);
    await page.addScriptTag({ content: script });
    close = async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    };
  });

  afterAll(async () => close?.());

  /** Inputs as JSON for the page: bytes as `{ bytes: [...] }`. */
  const forPage = (kind: string) => inputs.get(kind)!.map((input) => (input instanceof Uint8Array ? { bytes: Array.from(input) } : input));

  for (const kind of KINDS) {
    it(`${kind}: loaded over http in the page, the bundle answers as in Node within 1e-5`, async () => {
      const predictor = await loadPredictor(join(root, kind));
      const inNode = await predictor.predictBatch(inputs.get(kind)! as never[]);
      predictor.dispose();
      const inPage = await page.evaluate(([url, values]) => (globalThis as unknown as { kindlingDeploy: { predict(url: string, inputs: unknown[]): Promise<{ backend: string; predictions: unknown[] }> } }).kindlingDeploy.predict(url, values), [`${base}/${kind}/`, forPage(kind)] as const);
      expect(inPage.backend).toBe('cpu');
      expect(inPage.predictions).toHaveLength(inNode.length);
      const worst = compare(inPage.predictions, inNode, kind, 1e-5);
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  }

  it('keeps a bundle in IndexedDB and predicts the same from there', async () => {
    const predictor = await loadPredictor(join(root, 'image'));
    const inNode = await predictor.predictBatch(inputs.get('image')! as never[]);
    predictor.dispose();
    const fromIndexedDb = await page.evaluate(([url, values]) => (globalThis as unknown as { kindlingDeploy: { predictThroughIndexedDb(url: string, name: string, inputs: unknown[]): Promise<unknown[]> } }).kindlingDeploy.predictThroughIndexedDb(url, 'shapes', values), [`${base}/image/`, forPage('image')] as const);
    compare(fromIndexedDb, inNode, 'indexeddb', 1e-5);
  });

  it('exports a bundle from the page as one .kindling file that Node, and the page over http, load and predict with, and reads uploaded files', async () => {
    let started = 0;
    page.on('download', () => started++);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.evaluate((url) => (globalThis as unknown as { kindlingDeploy: { download(url: string): Promise<void> } }).kindlingDeploy.download(url), `${base}/sound/`),
    ]);
    expect(download.suggestedFilename()).toBe('model.kindling');
    const downloaded = join(root, 'downloaded', 'model.kindling');
    await download.saveAs(downloaded);
    expect(started, 'downloads started by one export').toBe(1);
    const fromDownload = await loadPredictor(downloaded);
    const original = await loadPredictor(join(root, 'sound'));
    const soundInNode = await original.predictBatch(inputs.get('sound')! as never[]);
    expect(await fromDownload.predictBatch(inputs.get('sound')! as never[])).toEqual(soundInNode);
    fromDownload.dispose();
    original.dispose();
    // the same file fetched by the page, and chosen in a file input
    const overHttp = await page.evaluate(([url, values]) => (globalThis as unknown as { kindlingDeploy: { predict(url: string, inputs: unknown[]): Promise<{ predictions: unknown[] }> } }).kindlingDeploy.predict(url, values), [`${base}/downloaded/model.kindling`, forPage('sound')] as const);
    compare(overHttp.predictions, soundInNode, 'model.kindling over http', 1e-5);
    const uploaded = await page.evaluate(([url, values]) => (globalThis as unknown as { kindlingDeploy: { predictFromFileUpload(url: string, inputs: unknown[]): Promise<unknown[]> } }).kindlingDeploy.predictFromFileUpload(url, values), [`${base}/downloaded/model.kindling`, forPage('sound')] as const);
    compare(uploaded, soundInNode, 'model.kindling uploaded', 1e-5);

    const predictor = await loadPredictor(join(root, 'tabular'));
    const inNode = await predictor.predictBatch(inputs.get('tabular')! as never[]);
    predictor.dispose();
    const fromUpload = await page.evaluate(([url, values]) => (globalThis as unknown as { kindlingDeploy: { predictFromUpload(url: string, inputs: unknown[]): Promise<unknown[]> } }).kindlingDeploy.predictFromUpload(url, values), [`${base}/tabular/`, forPage('tabular')] as const);
    compare(fromUpload, inNode, 'upload', 1e-5);
    const incomplete = await page.evaluate((url) => (globalThis as unknown as { kindlingDeploy: { uploadError(url: string): Promise<string> } }).kindlingDeploy.uploadError(url), `${base}/tabular/`);
    expect(incomplete).toBe("upload: weights.bin is missing: choose one .kindling file, or the bundle's three files (kindling.json, model.json, weights.bin)");
  });

  it('refuses a tampered weight file in the browser too', async () => {
    const message = await page.evaluate((url) => (globalThis as unknown as { kindlingDeploy: { loadError(url: string): Promise<string> } }).kindlingDeploy.loadError(url), `${base}/tampered/`);
    expect(message).toMatch(/tampered\/: weights\.bin does not match its checksum/);
    const missing = await page.evaluate((url) => (globalThis as unknown as { kindlingDeploy: { loadError(url: string): Promise<string> } }).kindlingDeploy.loadError(url), `${base}/nothing/`);
    expect(missing).toMatch(/answered 404/);
  });
});

warnIfSkipped('deploy browser parity');
