import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { afterAll, expect, it } from 'vitest';
import { EVENTS, type Callback, type EventName } from './events';
import { Learner } from './learner';
import { crossEntropyLoss, mseLoss } from './losses';
import { accuracy } from './metrics';
import { fromFunction } from './parameters';
import { TensorDataLoader } from '@kindling/data';
import { blobLoaders, mlp, weightValues } from './test-fixtures';

describeEachBackend('Learner', () => {
  const data = blobLoaders(1);
  afterAll(() => data.dispose());

  it('trains from random weights: the loss falls and held-out accuracy passes 90%', async () => {
    const model = mlp(3);
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), metrics: [accuracy()] });
    const before = await learner.validate();
    await learner.fitOneCycle(6, 1e-2);
    const [first, last] = [learner.recorder.epochs[0]!, learner.recorder.epochs.at(-1)!];
    expect(last.trainLoss).toBeLessThan(first.trainLoss);
    expect(last.validLoss).toBeLessThan(before.loss * 0.5);
    expect(last.metrics.accuracy).toBeGreaterThan(0.9);
    learner.dispose();
    model.dispose();
  });

  it("a kernel the backend lacks is named with the fix (initBackend from @kindling/backend), not tfjs's bare message", async () => {
    const x = tf.ones([8, 1]);
    const weights = { w: tf.variable(tf.zeros([1, 1])) };
    const model = fromFunction({ weights }, () => {
      throw new Error("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
    });
    const learner = new Learner({ model, data: { train: new TensorDataLoader(x, x, { batchSize: 8 }) }, loss: mseLoss() });
    const failure = await learner.fit(1).catch((error: unknown) => error as Error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe("the 'wasm' backend has no 'Conv2DBackpropFilter' kernel, which training needs: start the backend with initBackend() from @kindling/backend (npm install @kindling/backend), which registers Kindling's kernels, instead of tf.setBackend('wasm')");
    expect(((failure as Error).cause as Error).message).toMatch(/^Kernel 'Conv2DBackpropFilter' not registered/);
    learner.dispose();
    tf.dispose([x, weights.w]);
  });

  it('trains a model written as a plain function of inputs and weights', async () => {
    // y = 3·x − 2 with noise; the model is w·x + b, starting from zero weights.
    const x = tf.linspace(-1, 1, 64).reshape([64, 1]);
    const y = tf.tidy(() => x.mul(3).sub(2).add(tf.randomNormal([64, 1], 0, 0.05, 'float32', 7)));
    const weights = { w: tf.variable(tf.zeros([1, 1])), b: tf.variable(tf.zeros([1])) };
    const model = fromFunction({ weights }, (inputs, { w, b }) => (inputs as tf.Tensor).matMul(w).add(b));
    const learner = new Learner({
      model,
      data: { train: new TensorDataLoader(x, y, { batchSize: 16, shuffle: true, seed: 2 }) },
      loss: mseLoss(),
    });
    await learner.fit(40, { lr: 0.1, weightDecay: 0 });
    expect((await weights.w.data())[0]).toBeCloseTo(3, 1);
    expect((await weights.b.data())[0]).toBeCloseTo(-2, 1);
    learner.dispose();
    tf.dispose([x, y, weights.w, weights.b]);
  });

  it('fires the closed list of events in fastai order', async () => {
    const model = mlp(5);
    const seen: EventName[] = [];
    const spy = Object.fromEntries(EVENTS.map((event) => [event, () => void seen.push(event)])) as Callback;
    const train = new TensorDataLoader(...(await (async () => {
      const d = blobLoaders(9, 120);
      return [d.train.inputs, d.train.targets] as const;
    })()), { batchSize: 120 });
    const learner = new Learner({ model, data: { train, valid: data.valid }, loss: crossEntropyLoss(), callbacks: [spy] });
    await learner.fit(1);
    const batch = ['beforeBatch', 'afterPred', 'afterLoss', 'beforeBackward', 'beforeStep', 'afterStep', 'afterBatch'];
    const validBatch = ['beforeBatch', 'afterPred', 'afterLoss', 'afterBatch'];
    expect(seen).toEqual([
      'beforeFit', 'beforeEpoch', 'beforeTrain', ...batch, ...batch, 'afterTrain',
      'beforeValidate', ...validBatch, ...validBatch, 'afterValidate', 'afterEpoch', 'afterFit',
    ]);
    learner.dispose();
    model.dispose();
  });

  it('cancels a scope cleanly: a cancelled training pass still validates', async () => {
    const model = mlp(5);
    const seen: string[] = [];
    const canceller: Callback = {
      order: 90, // after the recorder has recorded the batch
      afterBatch: (l) => (l.training && l.iteration === 1 ? l.cancel('train', 'enough') : undefined),
      afterCancelTrain: () => void seen.push('afterCancelTrain'),
      afterValidate: () => void seen.push('afterValidate'),
    };
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), callbacks: [canceller] });
    await learner.fit(1);
    expect(seen).toEqual(['afterCancelTrain', 'afterValidate']);
    expect(learner.recorder.losses).toHaveLength(2);
    learner.dispose();
    model.dispose();
  });

  it('refuses an asynchronous handler inside the gradient tape', async () => {
    const model = mlp(5);
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), callbacks: [{ name: 'slow', afterLoss: async () => {} }] });
    await expect(learner.fit(1)).rejects.toThrow("slow: 'afterLoss' runs inside the gradient tape and must be synchronous");
    learner.dispose();
    model.dispose();
  });

  it('is seedable: the same seed gives the same losses', async () => {
    const run = async () => {
      const model = mlp(11);
      const learner = new Learner({ model, data, loss: crossEntropyLoss(), seed: 4 });
      await learner.fitOneCycle(2, 1e-2);
      const losses = learner.recorder.losses.slice();
      learner.dispose();
      model.dispose();
      return losses;
    };
    const [a, b] = [await run(), await run()];
    expect(a.length).toBe(16);
    expect(b).toEqual(a);
  });

  it('stops on a NaN loss with a message naming the batch, before the weights change', async () => {
    const model = mlp(13);
    let calls = 0;
    const loss = crossEntropyLoss();
    const poisoned = (targets: tf.Tensor, predictions: tf.Tensor) => {
      calls++;
      return calls === 3 ? (loss(targets, predictions).mul(Number.NaN) as tf.Scalar) : loss(targets, predictions);
    };
    let weightsBefore: number[][] = [];
    const watcher: Callback = {
      beforeBatch: async (l) => {
        if (l.iteration === 2) weightsBefore = await weightValues(model);
      },
    };
    const learner = new Learner({ model, data, loss: poisoned, callbacks: [watcher] });
    const result = await learner.fit(2);
    expect(result.stopReason).toBe('loss became NaN at epoch 1, batch 3; training stopped before the weights were changed');
    expect(await weightValues(model)).toEqual(weightsBefore);
    expect((await weightValues(model)).flat().every(Number.isFinite)).toBe(true);
    learner.dispose();
    model.dispose();
  });

  it('leaks no tensors over fit, validate and lrFind', async () => {
    const model = mlp(17);
    const start = tf.memory().numTensors;
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), metrics: [accuracy()] });
    await learner.fitOneCycle(1, 1e-2);
    learner.dispose(); // the optimizer's moments are the only tensors a fit adds, and they belong to it
    expect(tf.memory().numTensors).toBe(start);
    await learner.fit(1, { lr: 1e-3 });
    const afterFit = tf.memory().numTensors;
    await learner.fit(1, { lr: 1e-3 });
    expect(tf.memory().numTensors).toBe(afterFit);
    await learner.validate();
    expect(tf.memory().numTensors).toBe(afterFit);
    await learner.lrFind({ iterations: 20 });
    expect(tf.memory().numTensors).toBe(afterFit);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });
});
