import { describe, expect, it } from 'vitest';
import type { Learner } from '../learner';
import { yieldToEventLoop } from './training-callbacks';

describe('yieldToEventLoop', () => {
  const learner = {} as Learner;
  const pending = () => {
    const state = { ran: false };
    setImmediate(() => (state.ran = true));
    return state;
  };

  it('gives the event loop a turn every n batches', async () => {
    const callback = yieldToEventLoop(2);
    const first = pending();
    await callback.afterBatch!(learner);
    expect(first.ran).toBe(false); // only microtasks ran
    await callback.afterBatch!(learner);
    expect(first.ran).toBe(true);
  });

  it('or once the given milliseconds have passed since the last turn', async () => {
    const callback = yieldToEventLoop({ milliseconds: 30 });
    const early = pending();
    await callback.afterBatch!(learner);
    expect(early.ran).toBe(false);
    const until = performance.now() + 40;
    while (performance.now() < until) {
      // a synchronous kernel keeping the loop busy
    }
    await callback.afterBatch!(learner);
    expect(early.ran).toBe(true);
  });
});
