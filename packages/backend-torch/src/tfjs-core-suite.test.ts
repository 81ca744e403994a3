import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { torchSkipReason } from './test-support';

const run = promisify(execFile);

const reason = torchSkipReason("TF.js's op suite on torch");

describe.skipIf(reason !== undefined)("TF.js's own op test suite (@tensorflow/tfjs-core dist/tests.js)", () => {
  it('passes on the torch backend, but for the exclusions listed with their reasons in tfjs-core-suite/exclusions.cjs', async () => {
    const script = fileURLToPath(new URL('../tfjs-core-suite/run.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, [script], { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }).catch((error: { stdout?: string; message: string }) => {
      throw new Error(error.stdout?.split('\n').filter((line) => line.startsWith('FAILED') || line.includes('suite on')).join('\n') || error.message);
    });
    const summary = stdout.split('\n').find((line) => line.startsWith('tfjs-core suite on torch'));
    expect(summary).toMatch(/^tfjs-core suite on torch: passed, \d{4,} passed, 0 failed/);
    const passed = Number(/(\d+) passed/.exec(summary!)![1]);
    expect(passed).toBeGreaterThan(4000); // the whole suite ran, not a filtered slice
  });
});
