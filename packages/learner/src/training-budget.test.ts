import { describe, expect, it } from 'vitest';
import { trainingBudget } from './training-budget';

describe('trainingBudget', () => {
  it('gives a small table small batches and enough epochs for the minimum steps', () => {
    const small = trainingBudget({ items: 560 });
    expect(small.batchSize).toBe(16);
    expect(small.epochs).toBe(6); // 35 steps an epoch, 200 steps
    expect(small.steps).toBeGreaterThanOrEqual(200);
    expect(small.why).toContain('560 training items');
  });

  it('keeps big data at the largest batch and the fewest epochs', () => {
    const big = trainingBudget({ items: 26_048 });
    expect(big.batchSize).toBe(256);
    expect(big.epochs).toBe(5);
    expect(trainingBudget({ items: 1_000_000 }).epochs).toBe(5);
  });

  it('keeps what the user chose, and says so', () => {
    const chosen = trainingBudget({ items: 560, batchSize: 64, epochs: 3 });
    expect([chosen.batchSize, chosen.epochs, chosen.steps]).toEqual([64, 3, 24]);
    expect(chosen.why).toBe('560 training items → batch 64 (asked for), 3 epochs (asked for): 24 steps');
    // a command line names its flags as the source
    expect(trainingBudget({ items: 560, batchSize: 64, batchSource: '--batch-size', epochs: 3, epochsSource: '--epochs' }).why).toBe('560 training items → batch 64 (--batch-size), 3 epochs (--epochs): 24 steps');
    expect(trainingBudget({ items: 560, batchSize: 64 }).epochs).toBe(25);
    // the sound command's schedule: its default batch, 1,200 steps, 10–40 epochs (2,000 recordings: 20 epochs)
    const sound = trainingBudget({ items: 2000, batchSize: 32, batchSource: 'the default', minSteps: 1200, epochBounds: [10, 40] });
    expect([sound.batchSize, sound.epochs, sound.steps]).toEqual([32, 20, 1240]);
    expect(sound.why).toBe('2000 training items → batch 32 (the default), 20 epochs (at least 1200 steps, within 10–40 epochs): 1240 steps');
  });

  it('never asks for a batch larger than the data, nor more epochs than the bound', () => {
    const tiny = trainingBudget({ items: 6 });
    expect(tiny.batchSize).toBe(6);
    expect(tiny.epochs).toBe(100);
    expect(() => trainingBudget({ items: 0 })).toThrow(/at least one item/);
  });
});
