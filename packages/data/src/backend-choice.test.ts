import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { markBackendChosen, warnIfBareCpu } from './backend-choice';

const forget = () => {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('kindling.backend.chosen')];
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('kindling.backend.bareCpuWarned')];
};

describe('the bare cpu backend is named, once', () => {
  afterEach(forget);

  it("warns once, naming the fix, when nothing chose tfjs's cpu backend; a chosen backend stays quiet", async () => {
    forget();
    await tf.setBackend('cpu');
    const lines: string[] = [];
    expect(warnIfBareCpu('training', (line) => lines.push(line))).toBe(true);
    expect(warnIfBareCpu('training', (line) => lines.push(line))).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kindling: training runs on TF\.js's pure-JavaScript 'cpu' backend.*call `await initBackend\(\)` \(package @kindling\/backend/);
    forget();
    markBackendChosen();
    expect(warnIfBareCpu('training', (line) => lines.push(line))).toBe(false);
    expect(lines).toHaveLength(1);
  });
});
