import { describeEachBackend, trainingTestBackends } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { Learner } from './learner';
import { crossEntropyLoss } from './losses';
import { blobLoaders, mlp, weightValues } from './test-fixtures';

describeEachBackend('lrFind', () => {
  it('sweeps exponentially, suggests a sane rate, stops on divergence and restores the weights', async () => {
    const data = blobLoaders(3, 16);
    const model = mlp(21);
    const learner = new Learner({ model, data, loss: crossEntropyLoss() });
    const before = await weightValues(model);
    const initial = await learner.validate();
    const result = await learner.lrFind({ startLr: 1e-6, endLr: 100, iterations: 100 });
    // exponential: constant ratio between consecutive rates
    const ratio = result.lrs[1]! / result.lrs[0]!;
    expect(result.lrs[10]! / result.lrs[9]!).toBeCloseTo(ratio, 6);
    expect(result.lrs[0]).toBeCloseTo(1e-6, 12);
    // Adam on this problem diverges well before 100: the sweep must have stopped early.
    expect(result.lrs.length).toBeLessThan(100);
    expect(result.suggested).toBeGreaterThan(1e-4);
    expect(result.suggested).toBeLessThan(1);
    expect(result.suggestions.minimum).toBeGreaterThan(1e-5);
    expect(result.suggestions.minimum).toBeLessThan(1);
    expect(await weightValues(model)).toEqual(before);
    expect(learner.recorder.losses).toHaveLength(0);
    // training at the suggestion works
    await learner.fitOneCycle(4, result.suggested);
    expect(learner.recorder.epochs.at(-1)!.validLoss).toBeLessThan(initial.loss * 0.5);
    learner.dispose();
    model.dispose();
    data.dispose();
  });
}, trainingTestBackends()); // the loop's logic: not on SwiftShader (see trainingTestBackends)
