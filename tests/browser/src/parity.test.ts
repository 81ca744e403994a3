import { describe, expect, it } from 'vitest';
import { bundleForBrowser, hasChromium, launchChromium, warnIfSkipped } from './chromium';
import { parityCases } from './parity-cases';

describe.skipIf(!hasChromium)('the same numbers in headless Chromium as in Node', () => {
  it('spectrograms, MFCCs, resampling and pointer pictures match exactly', async () => {
    const script = await bundleForBrowser('./parity-entry.ts');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><title>parity</title>');
      await page.addScriptTag({ content: script });
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
  });
});

warnIfSkipped('browser parity');
