import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { parityCases } from './parity-cases';

const CHROMIUM = process.env.KINDLING_CHROMIUM ?? '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('the same numbers in headless Chromium as in Node', () => {
  it('spectrograms, MFCCs, resampling and pointer pictures match exactly', async () => {
    const bundle = await build({ entryPoints: [new URL('./parity-entry.ts', import.meta.url).pathname], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'silent' });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true, // Playwright gives every launch a fresh, empty user-data-dir
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><title>parity</title>');
      await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
      const inBrowser = await page.evaluate(() => (globalThis as unknown as { kindlingParity: () => Record<string, number[]> }).kindlingParity());
      const inNode = parityCases();
      for (const [name, values] of Object.entries(inNode)) {
        expect(values.length, name).toBeGreaterThan(0);
        expect(inBrowser[name]!.length, name).toBe(values.length);
        let worst = 0;
        values.forEach((value, index) => (worst = Math.max(worst, Math.abs(value - inBrowser[name]![index]!))));
        expect(worst, `${name}: largest difference`).toBe(0);
      }
    } finally {
      await browser.close();
    }
  }, 120_000);
});

if (!existsSync(CHROMIUM)) console.warn(`browser parity skipped: no Chromium at ${CHROMIUM} (apt install chromium, or set KINDLING_CHROMIUM)`);
