/**
 * The demo end to end in headless Chromium, which offers WebGPU on SwiftShader (a software adapter, so the
 * page runs wasm unless the adapter is named): every view predicts what Node predicts with the same bundle,
 * WebGPU too when named, a gesture drawn with the mouse gets an answer, and a two-class model
 * trained in the page from drawn examples is exported and read back in Node. Screenshots go to
 * artifacts/.
 */
import { encodeWav, synthesizeSound } from '@kindling/audio';
import { initBackend } from '@kindling/backend';
import { generateTable, Random, type TableRow } from '@kindling/data';
import { loadPredictor } from '@kindling/deploy/node';
import { generateSegmentationDataset, generateShapesDataset } from '@kindling/image/node';
import { serializeRecording, synthesizePointer } from '@kindling/pointer';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.KINDLING_CHROMIUM ?? '/usr/bin/chromium';
const demo = new URL('..', import.meta.url).pathname;
const models = join(demo, 'dist', 'models');
const artifacts = join(demo, 'artifacts');
const TOLERANCE = 2e-3; // the page's backend against wasm in Node: float32 kernels that add in other orders

type Prediction = { label?: string; probabilities?: Record<string, number>; [key: string]: unknown };

function expectClose(inPage: Prediction, inNode: Prediction, what: string): void {
  expect(inPage.label, `${what}: label`).toBe(inNode.label);
  for (const [label, probability] of Object.entries(inNode.probabilities ?? {})) expect(Math.abs(inPage.probabilities![label]! - probability), `${what}: probability of ${label}`).toBeLessThan(TOLERANCE);
}

async function answerOf(page: Page, selector: string, previous?: string): Promise<Prediction> {
  await page.waitForFunction(([target, before]) => {
    const element = document.querySelector(target!) as HTMLElement | null;
    return element?.dataset.error !== undefined || (element?.dataset.prediction !== undefined && element.dataset.prediction !== before);
  }, [selector, previous] as const);
  const error = await page.locator(selector).getAttribute('data-error');
  if (error) throw new Error(`${selector}: ${error}`);
  return JSON.parse((await page.locator(selector).getAttribute('data-prediction'))!);
}

async function openView(page: Page, id: string): Promise<void> {
  await page.click(`#tab-${id}`);
  await page.waitForSelector(`#panel-${id}[data-state="ready"]`, { timeout: 60_000 });
}

/** Drags the mouse through points (relative to the element), button held. */
async function draw(page: Page, selector: string, points: Array<[number, number]>): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  await page.mouse.move(box.x + points[0]![0], box.y + points[0]![1]);
  await page.mouse.down();
  for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 3 });
  await page.mouse.up();
}

const circle = (random: Random): Array<[number, number]> => {
  const [cx, cy, r] = [210 + random.uniform(-40, 40), 150 + random.uniform(-25, 25), random.uniform(60, 100)];
  return Array.from({ length: 25 }, (_, k) => [cx + r * Math.cos((k / 24) * 2 * Math.PI), cy + r * Math.sin((k / 24) * 2 * Math.PI)]);
};
const zigzag = (random: Random): Array<[number, number]> => {
  const [top, bottom, left] = [random.uniform(40, 100), random.uniform(200, 260), random.uniform(30, 80)];
  return Array.from({ length: 7 }, (_, k) => [left + k * 50, k % 2 === 0 ? top : bottom]);
};

describe.skipIf(!existsSync(CHROMIUM))('the demo in headless Chromium (WebGPU on SwiftShader offered)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  const inputs = mkdtempSync(join(tmpdir(), 'kindling-demo-e2e-'));

  beforeAll(async () => {
    if (!existsSync(join(demo, 'dist', 'index.html'))) throw new Error(`no built demo in ${join(demo, 'dist')}: run pnpm --filter demo build first`);
    mkdirSync(artifacts, { recursive: true });
    await initBackend({ backend: 'wasm', log: false });
    server = await preview({ root: demo, logLevel: 'silent', preview: { port: 0, host: '127.0.0.1', open: false } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForSelector('#backend-status[data-backend]', { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('passes the software WebGPU adapter (SwiftShader) over for wasm, and says why', async () => {
    expect(await page.getAttribute('#backend-status', 'data-backend')).toBe('wasm');
    expect(await page.textContent('#backend-status')).toMatch(/runs on wasm .*not webgpu: only a software adapter/);
  });

  it('on WebGPU when the software adapter is named (?gpu-adapter=swiftshader): a shape gets the answer Node gives', async () => {
    const named = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    named.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await named.goto(`${server.resolvedUrls!.local[0]!}?gpu-adapter=swiftshader`);
    await named.waitForSelector('#backend-status[data-backend]', { timeout: 60_000 });
    expect(await named.getAttribute('#backend-status', 'data-backend')).toBe('webgpu');
    expect(await named.textContent('#backend-status')).toMatch(/runs on webgpu .*a software adapter/);
    const shapes = await generateShapesDataset(join(inputs, 'shapes-webgpu'), { perClass: 1, size: 48, seed: 78 });
    await openView(named, 'image');
    const node = await loadPredictor(join(models, 'image'));
    await named.setInputFiles('#image-file', join(shapes, 'square/0000.png'));
    const inPage = await answerOf(named, '#image-answer');
    const { readFile } = await import('node:fs/promises');
    expectClose(inPage, (await node.predict(new Uint8Array(await readFile(join(shapes, 'square/0000.png'))) as never)) as Prediction, 'square on webgpu');
    node.dispose();
    await named.close();
  });

  it('pictures: the answer for a shape matches Node', async () => {
    const shapes = await generateShapesDataset(join(inputs, 'shapes'), { perClass: 2, size: 48, seed: 77 });
    await openView(page, 'image');
    const node = await loadPredictor(join(models, 'image'));
    for (const file of ['circle/0000.png', 'star/0001.png']) {
      const previous = (await page.getAttribute('#image-answer', 'data-prediction')) ?? undefined;
      await page.setInputFiles('#image-file', join(shapes, file));
      const inPage = await answerOf(page, '#image-answer', previous);
      const { readFile } = await import('node:fs/promises');
      expectClose(inPage, (await node.predict(new Uint8Array(await readFile(join(shapes, file))) as never)) as Prediction, file);
    }
    node.dispose();
    await page.screenshot({ path: join(artifacts, 'image.png'), fullPage: true });
  });

  it('sounds: the answer for a WAV file matches Node', async () => {
    const wav = encodeWav({ sampleRate: 16000, channels: [synthesizeSound('chirp', new Random(4), { sampleRate: 16000, duration: 1 })] });
    writeFileSync(join(inputs, 'chirp.wav'), wav);
    await openView(page, 'sound');
    await page.setInputFiles('#sound-file', join(inputs, 'chirp.wav'));
    const inPage = await answerOf(page, '#sound-answer');
    const node = await loadPredictor(join(models, 'sound'));
    expectClose(inPage, (await node.predict(wav as never)) as Prediction, 'chirp.wav');
    expect(inPage.label).toBe('chirp');
    node.dispose();
    await page.screenshot({ path: join(artifacts, 'sound.png'), fullPage: true });
  });

  it('mouse movements: a recording file matches Node, and a gesture drawn with the mouse gets an answer', async () => {
    const recording = { format: 'kindling-pointer@1' as const, ...synthesizePointer('human', new Random(12)) };
    writeFileSync(join(inputs, 'session.json'), serializeRecording(recording));
    await openView(page, 'mouse');
    await page.setInputFiles('#mouse-file', join(inputs, 'session.json'));
    const inPage = await answerOf(page, '#mouse-answer');
    const node = await loadPredictor(join(models, 'pointer'));
    expectClose(inPage, (await node.predict(recording as never)) as Prediction, 'session.json');
    node.dispose();
    const before = await page.getAttribute('#mouse-answer', 'data-prediction');
    await draw(page, '#mouse-pad', [[40, 250], [120, 90], [260, 200], [380, 60]]);
    const drawn = await answerOf(page, '#mouse-answer', before ?? undefined);
    expect(['bot', 'human']).toContain(drawn.label);
    await page.screenshot({ path: join(artifacts, 'mouse.png'), fullPage: true });
  });

  it('segmentation: the mask for a scene matches Node', async () => {
    const scenes = await generateSegmentationDataset(join(inputs, 'scenes'), { count: 2, size: 48, seed: 9 });
    const file = join(scenes, 'images', '0001.png');
    await openView(page, 'segmentation');
    await page.setInputFiles('#segmentation-file', file);
    const inPage = (await answerOf(page, '#segmentation-answer')) as { mask: number[]; coverage: Record<string, number> };
    const node = await loadPredictor(join(models, 'segmentation'));
    const { readFile } = await import('node:fs/promises');
    const inNode = (await node.predict(new Uint8Array(await readFile(file)) as never)) as { mask: Uint8Array };
    const same = inPage.mask.filter((value, index) => value === inNode.mask[index]).length / inNode.mask.length;
    expect(same).toBeGreaterThan(0.99);
    expect(Object.keys(inPage.coverage).length).toBeGreaterThan(1);
    node.dispose();
    await page.screenshot({ path: join(artifacts, 'segmentation.png'), fullPage: true });
  });

  it('tables: the answer follows the form and matches Node for the same row', async () => {
    await openView(page, 'tabular');
    const { rows } = generateTable({ rows: 1, seed: 42 });
    const { income: _, ...row } = rows[0]!;
    for (const [column, value] of Object.entries(row)) {
      const field = `#field-${column}`;
      if ((await page.locator(field).evaluate((element) => element.tagName)) === 'SELECT') await page.selectOption(field, value);
      else await page.fill(field, value);
    }
    const typed: TableRow = Object.fromEntries(Object.entries(row).map(([column, value]) => [column, /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value]));
    // the answer for the whole filled-in row, not for a form half filled in
    await page.waitForFunction((expected) => {
      const asked = JSON.parse(document.getElementById('tabular-answer')?.dataset.row ?? '{}') as Record<string, unknown>;
      return Object.entries(expected).every(([column, value]) => String(asked[column]) === value);
    }, row);
    const inPage = JSON.parse((await page.getAttribute('#tabular-answer', 'data-prediction'))!) as Prediction;
    const node = await loadPredictor(join(models, 'tabular'));
    expectClose(inPage, (await node.predict(typed as never)) as Prediction, 'row');
    node.dispose();
    await page.screenshot({ path: join(artifacts, 'tabular.png'), fullPage: true });
  });

  it('recommendations: liked items give the recommendations Node gives', async () => {
    await openView(page, 'recommend');
    const boxes = page.locator('#item-list input[type=checkbox]');
    const liked: string[] = [];
    for (let index = 0; index < 3; index++) {
      const box = boxes.nth(index);
      liked.push((await box.getAttribute('value'))!);
      const previous = (await page.getAttribute('#recommend-answer', 'data-prediction')) ?? undefined;
      await box.check();
      await answerOf(page, '#recommend-answer', previous);
    }
    const inPage = (await answerOf(page, '#recommend-answer')) as { items: Array<{ item: string; score: number }> };
    const node = await loadPredictor(join(models, 'collab'));
    const inNode = (await node.predict({ liked, count: 10 } as never)) as { items: Array<{ item: string; score: number }> };
    expect(inPage.items.map((entry) => entry.item)).toEqual(inNode.items.map((entry) => entry.item));
    inPage.items.forEach((entry, index) => expect(Math.abs(entry.score - inNode.items[index]!.score)).toBeLessThan(1e-4));
    // items like the first recommendation
    await page.locator('#recommend-results button').first().click();
    const similar = (await answerOf(page, '#similar-answer')) as { items: Array<{ item: string }> };
    const similarInNode = (await node.predict({ similarTo: inNode.items[0]!.item, count: 5 } as never)) as { items: Array<{ item: string }> };
    expect(similar.items.map((entry) => entry.item)).toEqual(similarInNode.items.map((entry) => entry.item));
    node.dispose();
    await page.screenshot({ path: join(artifacts, 'recommend.png'), fullPage: true });
  });

  it('teach it: trains a two-class gesture model in the page, recognises new drawings, and exports a bundle Node reads', async () => {
    await openView(page, 'teach');
    const random = new Random(3);
    for (const [index, shape] of [circle, zigzag].entries()) {
      for (let example = 0; example < 6; example++) {
        await draw(page, '#teach-pad', shape(random));
        await page.locator('.class-card').nth(index).locator('.add-example').click();
      }
    }
    expect(await page.locator('.class-card').nth(0).textContent()).toMatch(/6 examples/);
    await page.click('#teach-train');
    // the page stays responsive while it trains: the tabs answer and the status keeps changing
    await page.waitForSelector('#teach-status:has-text("training: epoch")', { timeout: 60_000 });
    expect(await page.evaluate(() => document.getElementById('teach-status')!.textContent)).toMatch(/training: epoch/);
    await page.waitForSelector('#teach-status[data-trained="true"]', { timeout: 240_000 });
    await page.screenshot({ path: join(artifacts, 'teach-trained.png'), fullPage: true });

    const answers: Prediction[] = [];
    for (const shape of [circle, zigzag]) {
      const previous = (await page.getAttribute('#teach-answer', 'data-prediction')) ?? undefined;
      await draw(page, '#teach-pad', shape(random));
      answers.push(await answerOf(page, '#teach-answer', previous));
    }
    expect(answers.map((answer) => answer.label)).toEqual(['circle', 'zigzag']);
    const lastDrawing = JSON.parse((await page.getAttribute('#teach-answer', 'data-input'))!);

    const downloads = join(inputs, 'taught');
    const saved: Array<Promise<void>> = [];
    const three = new Promise<void>((resolve) =>
      page.on('download', (download) => {
        saved.push(download.saveAs(join(downloads, download.suggestedFilename())));
        if (saved.length === 3) resolve();
      }),
    );
    await page.click('#teach-export');
    await three;
    await Promise.all(saved);
    const node = await loadPredictor(downloads);
    expect(node.kind).toBe('pointer');
    expectClose(answers[1]!, (await node.predict(lastDrawing as never)) as Prediction, 'the exported bundle');
    node.dispose();
    // and the command line reads it: `kindling predict <bundle> <recording> --json`
    writeFileSync(join(inputs, 'drawing.json'), JSON.stringify(lastDrawing));
    const cli = join(dirname(createRequire(import.meta.url).resolve('@kindling/trainer/package.json')), 'dist', 'cli.js');
    const printed = execFileSync(process.execPath, [cli, 'predict', downloads, join(inputs, 'drawing.json'), '--json', '--backend', 'wasm'], { encoding: 'utf8' });
    expectClose(JSON.parse(printed.trim().split('\n').at(-1)!).prediction, answers[1]!, 'kindling predict');
    await page.screenshot({ path: join(artifacts, 'teach-tested.png'), fullPage: true });
  });
});

if (!existsSync(CHROMIUM)) console.warn(`demo end-to-end tests skipped: no Chromium at ${CHROMIUM} (apt install chromium, or set KINDLING_CHROMIUM)`);
