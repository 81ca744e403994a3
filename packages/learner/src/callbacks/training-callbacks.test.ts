import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, trainingTestBackends } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { Learner } from '../learner';
import { crossEntropyLoss } from '../losses';
import { accuracy } from '../metrics';
import { fromLayersModel, stableWeights } from '../parameters';

const stableWeightNames = (model: tf.LayersModel) => stableWeights(model).map((weight) => weight.name);
import { blobLoaders, mlp, weightValues } from '../test-fixtures';
import { averageWeights, earlyStopping, gradientClipping, progress, saveBest, validateEvery, type ProgressEvent } from './training-callbacks';

describeEachBackend('training callbacks', () => {
  it('early stopping stops when the monitored metric stops improving', async () => {
    const data = blobLoaders(6);
    const model = mlp(41);
    const stopper = earlyStopping({ monitor: 'accuracy', patience: 2, minDelta: 0.5 }); // an impossible improvement
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), metrics: [accuracy()], callbacks: [stopper] });
    const result = await learner.fit(10, { lr: 1e-3 });
    expect(learner.recorder.epochs).toHaveLength(3); // epoch 1 sets the best, 2 and 3 fail to beat it by 0.5
    expect(stopper.stoppedAt).toBe(2);
    expect(result.stopReason).toBe('no improvement in accuracy for 2 epoch(s)');
    learner.dispose();
    model.dispose();
    data.dispose();
  });

  it('validateEvery validates every n-th epoch and the last only; early stopping counts validated epochs', async () => {
    const data = blobLoaders(6);
    const model = mlp(44);
    let passes = 0;
    const counter = { order: 90, afterValidate: () => void passes++ };
    let batches = 0;
    const validBatches = { order: 90, afterBatch: (l: Learner) => void (!l.training && batches++) };
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), metrics: [accuracy()], callbacks: [validateEvery(3), counter, validBatches] });
    await learner.fit(7, { lr: 1e-2 });
    const epochs = learner.recorder.epochs;
    expect(epochs.map((epoch) => epoch.validated)).toEqual([false, false, true, false, false, true, true]);
    for (const epoch of epochs) {
      expect(Number.isNaN(epoch.validLoss)).toBe(!epoch.validated);
      expect(Object.keys(epoch.metrics)).toEqual(epoch.validated ? ['accuracy'] : []);
      expect(epoch.trainLoss).toBeGreaterThan(0);
    }
    expect(batches).toBe(3 * data.valid!.length!); // the skipped passes ran no batch
    expect(passes).toBe(7); // afterValidate still fires (after afterCancelValidate), as in fastai
    // outside a fit it stays out of the way
    const { metrics } = await learner.validate();
    expect(metrics.accuracy).toBeGreaterThan(0.5);
    // early stopping's patience counts validated epochs only: with an impossible improvement and patience 2,
    // it stops at the second validated epoch after the first (epochs 2, 4, 6 validated → stops after epoch 6)
    const stopper = earlyStopping({ monitor: 'accuracy', patience: 2, minDelta: 0.5 });
    const second = new Learner({ model, data, loss: crossEntropyLoss(), metrics: [accuracy()], callbacks: [validateEvery(2), stopper] });
    await second.fit(10, { lr: 1e-3 });
    expect(stopper.stoppedAt).toBe(5);
    expect(() => validateEvery(0)).toThrow(/whole number of epochs/);
    second.dispose();
    learner.dispose();
    model.dispose();
    data.dispose();
  });

  it('averageWeights puts the moving average of the later steps in place, batch-norm statistics too', async () => {
    const start = tf.memory().numTensors;
    const data = blobLoaders(6); // 240 training rows, batches of 32: 8 steps an epoch
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 8, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        tf.layers.batchNormalization({ momentum: 0.5 }),
        tf.layers.reLU(),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    const average = averageWeights({ decay: 0.8, from: 0.5 });
    // the expected average, computed here from every step's weights once averaging has begun
    let expected: number[][] | undefined;
    const spy = {
      order: 66,
      afterStep: async (learner: Learner) => {
        if (learner.trainIteration < 16) return; // 4 epochs × 8 steps: the second half starts at step 16
        const now = await weightValues(model);
        expected = expected === undefined ? now : expected.map((mean, i) => mean.map((value, j) => 0.8 * value + 0.2 * now[i]![j]!));
      },
    };
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), callbacks: [average, spy] });
    await learner.fit(4, { lr: 0.05 });
    const last = learner.recorder.epochs.at(-1)!;
    expect(average.updates).toBe(16);
    const final = await weightValues(model);
    final.forEach((values, i) => values.forEach((value, j) => expect(value).toBeCloseTo(expected![i]![j]!, 5)));
    // the batch-norm moving mean (weight 4 of 6) was averaged as well, not left at its last value
    expect(stableWeightNames(model)[4]).toContain('moving_mean');
    // the averaged model still classifies the blobs
    expect((await learner.validate()).loss).toBeLessThan(last.validLoss * 1.5);
    learner.dispose();
    model.dispose();
    data.dispose();
    expect(tf.memory().numTensors).toBe(start); // no average left behind
    expect(() => averageWeights({ decay: 1 })).toThrow('decay must be in [0, 1)');
  });

  it('saveBest puts back the weights of the best epoch', async () => {
    const data = blobLoaders(6);
    const model = mlp(43);
    let bestWeights: number[][] = [];
    const best = saveBest({ monitor: 'validLoss' });
    const spy = {
      order: 80,
      afterEpoch: async (l: Learner) => {
        if (best.bestEpoch === l.epoch) bestWeights = await weightValues(model);
      },
    };
    // A learning rate far too high makes later epochs worse than an early one.
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), callbacks: [best, spy] });
    await learner.fit(6, { lr: 0.5 });
    expect(learner.recorder.epochs).toHaveLength(6); // the history stays whole: only the weights go back
    const losses = learner.recorder.epochs.map((e) => e.validLoss);
    expect(best.best).toBe(Math.min(...losses));
    expect(best.bestEpoch).toBeLessThan(5); // a later epoch was worse, so the test means something
    expect(await weightValues(model)).toEqual(bestWeights);
    expect(learner.keptEpoch).toBe(best.bestEpoch); // reports read the kept epoch's figures from here
    learner.removeCallbacks(best, spy);
    await learner.fit(1, { lr: 1e-3 });
    expect(learner.keptEpoch).toBeUndefined(); // a new fit without saveBest ends with its last weights
    learner.dispose();
    model.dispose();
    data.dispose();
  });

  it('gradient clipping bounds the global gradient norm', async () => {
    const data = blobLoaders(6);
    const model = mlp(47);
    const norms: number[] = [];
    const measure = {
      order: 30,
      async beforeStep(l: Learner) {
        const norm = tf.tidy(() => tf.addN(Object.values(l.gradients!).map((g) => g.square().sum())).sqrt());
        norms.push((await norm.data())[0]!);
        norm.dispose();
      },
    };
    const learner = new Learner({ model, data, loss: crossEntropyLoss(), callbacks: [gradientClipping(0.05), measure] });
    await learner.fit(1);
    expect(norms.length).toBe(data.train.length);
    for (const norm of norms) expect(norm).toBeLessThanOrEqual(0.05 * (1 + 1e-4));
    learner.dispose();
    model.dispose();
    data.dispose();
  });

  it('freeze trains only the head; fineTune then trains everything with discriminative rates', async () => {
    const data = blobLoaders(6);
    const model = mlp(53);
    const learner = new Learner({ model: fromLayersModel(model, { splitAt: 1 }), data, loss: crossEntropyLoss(), metrics: [accuracy()] });
    const [bodyBefore, , headBefore] = await weightValues(model);
    learner.freeze();
    await learner.fit(1, { lr: 1e-2 });
    const [bodyFrozen, , headTrained] = await weightValues(model);
    expect(bodyFrozen).toEqual(bodyBefore);
    expect(headTrained).not.toEqual(headBefore);
    learner.unfreeze();
    const lrs: number[][] = [];
    await learner.fineTune(4, 4e-2, {
      lrMult: 10,
      callbacks: [{ afterFit: (l) => void lrs.push(l.optimizer.hyper.map((h) => h.lr)) }],
    });
    expect((await weightValues(model))[0]).not.toEqual(bodyFrozen);
    // unfrozen: the body trains 10× slower than the head
    expect(lrs.at(-1)![1]! / lrs.at(-1)![0]!).toBeCloseTo(10, 6);
    expect(learner.recorder.epochs.at(-1)!.metrics.accuracy).toBeGreaterThan(0.85);
    learner.dispose();
    model.dispose();
    data.dispose();
  });

  it('progress reports every batch with loss, throughput and ETA', async () => {
    const data = blobLoaders(6);
    const model = mlp(59);
    const events: ProgressEvent[] = [];
    const epochs: number[] = [];
    const learner = new Learner({
      model,
      data,
      loss: crossEntropyLoss(),
      callbacks: [progress({ batch: (event) => void events.push(event), epoch: (record) => void epochs.push(record.epoch) })],
    });
    await learner.fit(2);
    const train = events.filter((e) => e.phase === 'train');
    expect(train).toHaveLength(2 * data.train.length);
    expect(train[0]!.iterations).toBe(data.train.length);
    expect(train.every((e) => Number.isFinite(e.loss) && e.itemsPerSecond > 0)).toBe(true);
    expect(train.at(-1)!.etaSeconds).toBe(0);
    // the whole fit's estimate: none before a step is timed (the first one compiles), then the rest of the fit
    expect(train[0]!.fitEtaSeconds).toBeUndefined();
    expect(train[1]!.fitEtaSeconds).toBeGreaterThan(0);
    expect(train[1]!.secondsPerStep).toBeGreaterThan(0);
    expect(train[1]!.fitSteps).toBe(2 * data.train.length);
    expect(events.at(-1)!.fitEtaSeconds).toBe(0);
    expect(events.filter((e) => e.phase === 'valid')).toHaveLength(2 * data.valid.length);
    expect(epochs).toEqual([0, 1]);
    learner.dispose();
    model.dispose();
    data.dispose();
  });
}, trainingTestBackends()); // the loop's logic: not on SwiftShader (see trainingTestBackends)
