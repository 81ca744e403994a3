import * as tf from '@tensorflow/tfjs';
import { backendLabel, startBenchBackend } from './threads';
import { TensorDataLoader } from '@kindling/data';
import { streamCsvFile } from '@kindling/data/node';
import { accuracy, crossEntropyLoss, Learner } from '@kindling/learner';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { datasetsRoot } from './fashion-mnist';
import { hasPythonModule, runPythonBaseline } from './python-baseline';
import { printTable } from './table';
import { inferTabularSchema, type TableRow, tabularModel, TabularProcessor, tabularTensors } from '@kindling/tabular';

const COLUMNS = ['age', 'workclass', 'fnlwgt', 'education', 'education-num', 'marital-status', 'occupation', 'relationship', 'race', 'sex', 'capital-gain', 'capital-loss', 'hours-per-week', 'native-country', 'income'];
const EPOCHS = Number(process.env.KINDLING_BENCH_EPOCHS ?? 5);

async function read(path: string): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  for await (const row of streamCsvFile(path, { columns: COLUMNS })) rows.push(row);
  return rows;
}

interface SklearnResult {
  logistic: { accuracy: number; seconds: number };
  boosting: { accuracy: number; seconds: number };
  majority: number;
}

/** UCI Adult income, the given train/test split: Kindling's tabular model beside scikit-learn in the same run. */
export async function benchTabular(): Promise<void> {
  const folder = join(datasetsRoot(), 'tabular', 'adult');
  const trainFile = join(folder, 'adult-train.csv');
  const testFile = join(folder, 'adult-test.csv');
  console.log(`\n## Tabular: UCI Adult income (train 32,561 rows → test 16,281 rows; MLP 200-100, ${EPOCHS} epochs one-cycle)\n`);
  if (!existsSync(trainFile)) {
    console.log(`no Adult data at ${folder} (set KINDLING_DATASETS): skipped`);
    return;
  }
  const report = await startBenchBackend();
  const trainRows = await read(trainFile);
  const testRows = await read(testFile);
  const start = performance.now();
  const schema = inferTabularSchema(trainRows, { target: 'income', source: trainFile });
  const processor = TabularProcessor.fit(trainRows, schema, { source: trainFile, rowNumbers: trainRows.map((_, index) => index + 1) });
  const train = tabularTensors(processor.process(trainRows, { source: trainFile, withTarget: true, rowNumbers: trainRows.map((_, index) => index + 1) }), processor);
  const test = tabularTensors(processor.process(testRows, { source: testFile, withTarget: true, rowNumbers: testRows.map((_, index) => index + 1) }), processor);
  const model = tabularModel({ cardinalities: processor.cardinalities, continuous: processor.continuousNames.length, outputs: 2, layers: [200, 100], dropout: 0.1, seed: 42 });
  const learner = new Learner({
    model,
    data: { train: new TensorDataLoader(train.inputs, train.targets!, { batchSize: 256, shuffle: true, seed: 42, dropLast: true }) },
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    seed: 42,
  });
  await learner.fitOneCycle(EPOCHS, 1e-2, { weightDecay: 0.1 });
  const seconds = (performance.now() - start) / 1000;
  const { metrics } = await learner.validate(new TensorDataLoader(test.inputs, test.targets!, { batchSize: 4096 }));
  const rows = [[`Kindling (${backendLabel(report)}), ${EPOCHS} epochs`, (metrics.accuracy! * 100).toFixed(2), seconds.toFixed(1)]];
  if (hasPythonModule('sklearn')) {
    const sklearn = runPythonBaseline<SklearnResult>('sklearn_adult.py', [trainFile, testFile]);
    rows.push(['scikit-learn logistic regression (baseline)', (sklearn.logistic.accuracy * 100).toFixed(2), sklearn.logistic.seconds.toFixed(1)]);
    rows.push(['scikit-learn hist. gradient boosting (baseline)', (sklearn.boosting.accuracy * 100).toFixed(2), sklearn.boosting.seconds.toFixed(1)]);
    rows.push(['always <=50K', (sklearn.majority * 100).toFixed(2), '']);
  } else {
    console.log('scikit-learn is not installed (Debian python3-sklearn): no baseline this run.');
  }
  rows.push(['fastai v2, 1 epoch one-cycle (published)', '84.1', '']);
  printTable(['run', 'test accuracy %', 'seconds (preprocess + train)'], rows);
  console.log(`\ninputs: ${processor.categoricalNames.length} categorical [${processor.categoricalNames.join(', ')}], ${processor.continuousNames.length} continuous [${processor.continuousNames.join(', ')}]`);
  learner.dispose();
  model.dispose();
  tf.dispose([...train.inputs, train.targets!, ...test.inputs, test.targets!]);
}
