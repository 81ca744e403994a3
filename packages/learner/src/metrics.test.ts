import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { accuracy, dice, errorRate, f1Score, iou, mae, mse, precision, r2Score, recall, rmse, topKAccuracy, type Metric } from './metrics';
import { crossEntropyLoss, diceLoss, mseLoss } from './losses';

/** Feeds batches to a metric the way the Learner does over a validation pass. */
async function run(metric: Metric, batches: Array<[number[][] | number[], number[]]>): Promise<number> {
  metric.reset();
  for (const [predictions, targets] of batches) {
    const p = tf.tensor(predictions);
    const t = tf.tensor(targets, undefined, 'int32');
    await metric.accumulate(p, t);
    tf.dispose([p, t]);
  }
  return metric.value();
}

// Logits for 6 items over 3 classes; predicted classes [0, 1, 2, 1, 0, 2], actual [0, 1, 1, 1, 2, 2].
const logits = [
  [3, 1, 0],
  [0, 2, 1],
  [0, 1, 4],
  [1, 5, 2],
  [2, 0, 1],
  [0, 0, 9],
];
const labels = [0, 1, 1, 1, 2, 2];

describeEachBackend('metrics match hand-computed values', () => {
  it('accuracy and error rate over uneven batches count items, not batch means', async () => {
    // batch 1: 1 item, correct; batch 2: 5 items, 3 correct → 4/6, not mean(1, 3/5) = 0.8
    const batches: Array<[number[][], number[]]> = [
      [logits.slice(0, 1), labels.slice(0, 1)],
      [logits.slice(1), labels.slice(1)],
    ];
    expect(await run(accuracy(), batches)).toBeCloseTo(4 / 6, 10);
    expect(await run(errorRate(), batches)).toBeCloseTo(2 / 6, 10);
  });

  it('top-k accuracy', async () => {
    // top-2 per item: {0,1} {1,2} {2,1} {1,2} {0,2} {2,0|1}: item 3 (actual 1, top2 {2,1}) hits; item 5 (actual 2, {0,2}) hits
    expect(await run(topKAccuracy(2), [[logits, labels]])).toBeCloseTo(6 / 6, 10);
    expect(await run(topKAccuracy(1), [[logits, labels]])).toBeCloseTo(4 / 6, 10);
  });

  it('macro precision, recall and F1', async () => {
    // class 0: tp 1, fp 1 (item 5), fn 0 → P 1/2, R 1, F1 2/3
    // class 1: tp 2, fp 0, fn 1 (item 3 predicted 2) → P 1, R 2/3, F1 4/5
    // class 2: tp 1, fp 1 (item 3), fn 1 (item 5) → P 1/2, R 1/2, F1 1/2
    expect(await run(precision(), [[logits, labels]])).toBeCloseTo((1 / 2 + 1 + 1 / 2) / 3, 10);
    expect(await run(recall(), [[logits, labels]])).toBeCloseTo((1 + 2 / 3 + 1 / 2) / 3, 10);
    expect(await run(f1Score(), [[logits, labels]])).toBeCloseTo((2 / 3 + 4 / 5 + 1 / 2) / 3, 10);
    const perClass = precision();
    await run(perClass, [[logits, labels]]);
    expect(perClass.perClass()).toEqual([0.5, 1, 0.5]);
  });

  it('Dice and IoU per class and mean, with an ignored class', async () => {
    // Same counts as above: IoU = tp / (tp + fp + fn) → [1/2, 2/3, 1/3]; Dice = 2tp / (2tp + fp + fn) → [2/3, 4/5, 1/2]
    const meanIoU = iou();
    expect(await run(meanIoU, [[logits, labels]])).toBeCloseTo((1 / 2 + 2 / 3 + 1 / 3) / 3, 10);
    expect(meanIoU.perClass().map((v) => Number(v.toFixed(6)))).toEqual([0.5, 0.666667, 0.333333]);
    expect(await run(dice({ average: 1 }), [[logits, labels]])).toBeCloseTo(4 / 5, 10);
    // ignoring class 2 drops items 5 and 6 → tp0 1, fp0 0; tp1 2, fn1 1 (predicted 2)
    const ignored = iou({ ignoreIndex: 2 });
    await run(ignored, [[logits, labels]]);
    expect(ignored.perClass().slice(0, 2)).toEqual([1, 2 / 3]);
    // the ignored (void) class has no score and stays out of the mean
    expect(ignored.perClass()[2]).toBeNaN();
    expect(ignored.value()).toBeCloseTo((1 + 2 / 3) / 2, 10);
    // pixel-shaped input: [1, 2, 3, classes] logits against [1, 2, 3] masks
    const pixels = [[[logits.slice(0, 3), logits.slice(3)]]] as unknown as number[][];
    expect(await run(accuracy(), [[pixels, [[labels.slice(0, 3), labels.slice(3)]] as unknown as number[]]])).toBeCloseTo(4 / 6, 10);
  });

  it('MSE, RMSE, MAE and R² over the whole set', async () => {
    const predictions = [1, 2, 3, 4];
    const targets = [1.5, 2, 2, 5];
    const batches: Array<[number[], number[]]> = [
      [predictions.slice(0, 1), targets.slice(0, 1)],
      [predictions.slice(1), targets.slice(1)],
    ];
    const floatRun = async (metric: Metric) => {
      metric.reset();
      for (const [p, t] of batches) {
        const [predicted, target] = [tf.tensor(p), tf.tensor(t)];
        await metric.accumulate(predicted, target);
        tf.dispose([predicted, target]);
      }
      return metric.value();
    };
    const squared = (0.25 + 0 + 1 + 1) / 4;
    expect(await floatRun(mse())).toBeCloseTo(squared, 6);
    expect(await floatRun(rmse())).toBeCloseTo(Math.sqrt(squared), 6);
    expect(await floatRun(mae())).toBeCloseTo((0.5 + 0 + 1 + 1) / 4, 6);
    const mean = (1.5 + 2 + 2 + 5) / 4;
    const total = [1.5, 2, 2, 5].reduce((s, y) => s + (y - mean) ** 2, 0);
    expect(await floatRun(r2Score())).toBeCloseTo(1 - (squared * 4) / total, 6);
  });

  it('losses: cross-entropy with ignore index and class weights, MSE and Dice', async () => {
    const logSoftmax = (row: number[], k: number) => row[k]! - Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const expected = -(logSoftmax([2, 0], 0) + logSoftmax([0, 1], 1)) / 2;
    const weighted = -(1 * logSoftmax([2, 0], 0) + 3 * logSoftmax([0, 1], 1)) / 4;
    const losses = tf.tidy(() => {
      const z = tf.tensor2d([[2, 0], [0, 1], [1, 1]]);
      const y = tf.tensor1d([0, 1, 255], 'int32');
      // perfect confident prediction → Dice loss near 0; the opposite → near 1
      const perfect = tf.tensor2d([[20, -20], [-20, 20]]);
      return [
        crossEntropyLoss({ ignoreIndex: 255 })(y, z),
        crossEntropyLoss({ ignoreIndex: 255, classWeights: [1, 3] })(y, z),
        mseLoss()(tf.tensor1d([1, 2]), tf.tensor1d([2, 4])),
        diceLoss({ smooth: 0 })(tf.tensor1d([0, 1], 'int32'), perfect),
        diceLoss({ smooth: 0 })(tf.tensor1d([1, 0], 'int32'), perfect),
      ];
    });
    const [crossEntropy, weightedCrossEntropy, mse, diceRight, diceWrong] = await Promise.all(losses.map(async (loss) => (await loss.data())[0]!));
    tf.dispose(losses);
    expect(crossEntropy).toBeCloseTo(expected, 5);
    expect(weightedCrossEntropy).toBeCloseTo(weighted, 5);
    expect(mse).toBeCloseTo(2.5, 6);
    expect(diceRight).toBeCloseTo(0, 4);
    expect(diceWrong).toBeCloseTo(1, 4);
  });

});
