import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt install chromium), or KINDLING_CHROMIUM. */
export const CHROMIUM = process.env.KINDLING_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** A headless Chromium; Playwright gives every launch a fresh, empty user-data-dir. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Bundles a test entry for the page (one IIFE script, browser platform: a Node-only import would fail here). */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({ entryPoints: [new URL(entry, import.meta.url).pathname], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'silent' });
  return result.outputFiles[0]!.text;
}

export function warnIfSkipped(what: string): void {
  if (!hasChromium) console.warn(`${what} skipped: no Chromium at ${CHROMIUM} (apt install chromium, or set KINDLING_CHROMIUM)`);
}
