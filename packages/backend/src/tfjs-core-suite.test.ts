import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { torchBuilt } from './testing';

const run = promisify(execFile);

/** Runs TF.js's op suite on `backend` (tfjs-core-suite/run.mjs) and returns its summary line. */
async function opSuite(backend: 'torch' | 'wasm'): Promise<string> {
  const script = fileURLToPath(new URL('../tfjs-core-suite/run.mjs', import.meta.url));
  const { stdout } = await run(process.execPath, [script, backend], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 }).catch((error: { stdout?: string; message: string }) => {
    throw new Error(error.stdout?.split('\n').filter((line) => line.startsWith('FAILED') || line.includes('suite on')).join('\n') || error.message);
  });
  const summary = stdout.split('\n').find((line) => line.startsWith(`tfjs-core suite on ${backend}`));
  expect(summary).toMatch(new RegExp(`^tfjs-core suite on ${backend}: passed, \\d{4,} passed, 0 failed`));
  return summary!;
}

describe("TF.js's own op test suite (@tensorflow/tfjs-core dist/tests.js)", () => {
  it.skipIf(!torchBuilt())('passes on torch, but for the exclusions listed with their reasons in tfjs-core-suite/exclusions-torch.cjs', { timeout: 900_000 }, async () => {
    const passed = Number(/(\d+) passed/.exec(await opSuite('torch'))![1]);
    expect(passed).toBeGreaterThan(4000); // the whole suite ran, not a filtered slice
  });

  it('passes on wasm with Kindling\'s kernels, but for the exclusions listed with their reasons in tfjs-core-suite/exclusions-wasm.cjs', { timeout: 900_000 }, async () => {
    const passed = Number(/(\d+) passed/.exec(await opSuite('wasm'))![1]);
    expect(passed).toBeGreaterThan(3000);
  });
});
