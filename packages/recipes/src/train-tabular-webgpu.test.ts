import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { swiftShaderAvailability } from '@kindling/backend/node';
import { fastestTestBackend } from '@kindling/backend/testing';
import { describe, expect, it } from 'vitest';
import { predict, useBackend } from './fixtures/test-support';
import { trainTabular, type TrainTabularOptions } from './train-tabular';
import { generateTable } from '@kindling/tabular';

/**
 * The tabular recipe on Node WebGPU (Dawn on SwiftShader, a software adapter whose threads crowd every other suite):
 * its own file, so that `pnpm test` runs it in the phase for heavy files (`test:heavy`), not beside every suite.
 */
const options = (out: string): TrainTabularOptions => ({ layers: [64, 32], dropout: 0, epochs: 3, lr: 1e-2, wd: 0.01, batchSize: 512, validPct: 0.2, seed: 1, out });

describe('kindling train tabular', () => {
  const webgpu = swiftShaderAvailability();
  it.runIf(webgpu.available)('trains and predicts on Node WebGPU through Dawn (SwiftShader, named), past the majority baseline', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-tabular-webgpu-'));
    // few, large batches: every kernel call is slow on a software adapter
    await useBackend('webgpu', 'swiftshader');
    const result = await trainTabular(undefined, options(join(root, 'out')));
    expect(result.metrics.accuracy!).toBeGreaterThan(result.majorityAccuracy! + 0.1);
    const { rows: fresh } = generateTable({ rows: 50, seed: 32 });
    const [first] = await predict(join(root, 'out'), [JSON.stringify({ ...fresh[0], income: undefined })]);
    await useBackend('cpu');
    const onCpu = await predict(join(root, 'out'), [JSON.stringify({ ...fresh[0], income: undefined })]);
    await useBackend(fastestTestBackend());
    const probabilities = (answer: typeof first) => Object.values((answer!.prediction as { probabilities: Record<string, number> }).probabilities);
    probabilities(first).forEach((value, index) => expect(value).toBeCloseTo(probabilities(onCpu[0])[index]!, 4));
  }, 300_000);
  if (!webgpu.available) it.skip(`on Node WebGPU: ${webgpu.reason}`, () => undefined);
});
