import { describeEachBackend } from '@kindling/backend/testing';
import { describe, expect, it } from 'vitest';
import { Learner } from './learner';
import { crossEntropyLoss } from './losses';
import { cosineSchedule, oneCycleSchedules } from './schedule';
import { blobLoaders, mlp } from './test-fixtures';

describe('one-cycle schedules', () => {
  it('follow the fastai formula at checked positions', () => {
    const { lr, momentum } = oneCycleSchedules();
    const lrMax = 1;
    expect(lr(0)).toBeCloseTo(lrMax / 25, 12);
    expect(lr(0.125)).toBeCloseTo((lrMax / 25 + lrMax) / 2, 12); // half-way up the warm-up cosine
    expect(lr(0.25)).toBeCloseTo(lrMax, 12);
    expect(lr(0.625)).toBeCloseTo((lrMax + lrMax / 1e5) / 2, 12); // half-way down the annealing cosine
    expect(lr(1)).toBeCloseTo(lrMax / 1e5, 12);
    // 1/4 of the way into the warm-up: start + (1 + cos(π·3/4))·(end − start)/2
    const quarter = 1 / 25 + ((1 + Math.cos(Math.PI * 0.75)) * (1 - 1 / 25)) / 2;
    expect(lr(0.0625)).toBeCloseTo(quarter, 12);
    expect(momentum(0)).toBeCloseTo(0.95, 12);
    expect(momentum(0.125)).toBeCloseTo(0.9, 12);
    expect(momentum(0.25)).toBeCloseTo(0.85, 12);
    expect(momentum(0.625)).toBeCloseTo(0.9, 12);
    expect(momentum(1)).toBeCloseTo(0.95, 12);
  });

  it('cosineSchedule runs from start to end', () => {
    const schedule = cosineSchedule(10, 2);
    expect(schedule(0)).toBe(10);
    expect(schedule(1)).toBeCloseTo(2, 12);
    expect(schedule(0.5)).toBeCloseTo(6, 12);
  });
});

describeEachBackend('fitOneCycle', () => {
  it('sets the learning rate and momentum of every batch from the formula', async () => {
    const data = blobLoaders(2);
    const model = mlp(1);
    const learner = new Learner({ model, data, loss: crossEntropyLoss() });
    await learner.fitOneCycle(2, 0.01, { pctStart: 0.3, div: 10, divFinal: 1000 });
    const { lr, momentum } = oneCycleSchedules({ pctStart: 0.3, div: 10, divFinal: 1000 });
    const total = 2 * data.train.length;
    expect(learner.recorder.lrs).toHaveLength(total);
    for (const step of [0, 3, 7, 12, total - 1]) {
      expect(learner.recorder.lrs[step]).toBeCloseTo(0.01 * lr(step / total), 10);
      expect(learner.recorder.momentums[step]).toBeCloseTo(momentum(step / total), 10);
    }
    learner.dispose();
    model.dispose();
    data.dispose();
  });

  it('spreads a learning-rate range over parameter groups (discriminative rates)', async () => {
    const data = blobLoaders(2);
    const model = mlp(1);
    const { fromLayersModel } = await import('./parameters');
    const learner = new Learner({ model: fromLayersModel(model, { splitAt: 1 }), data, loss: crossEntropyLoss() });
    await learner.fitOneCycle(1, [1e-4, 1e-2]);
    const [body, head] = learner.optimizer.hyper;
    expect(head!.lr / body!.lr).toBeCloseTo(100, 6);
    learner.dispose();
    model.dispose();
    data.dispose();
  });
});
