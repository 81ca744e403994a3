import { checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { startBackend, type BackendFlags } from './backend-flags';
import { createBundle } from '@kindling/deploy';
import { saveBundle } from '@kindling/deploy/node';
import { ConfigError, generateTable, inferTabularSchema, randomSplitter, TabularProcessor, tabularTensors, TensorDataLoader, type TableRow } from '@kindling/data';
import { requireFile, streamCsvFile } from '@kindling/data/node';
import { accuracy, crossEntropyLoss, Learner, lossChart, mae, mseLoss, rmse, type Metric } from '@kindling/learner';
import { progressBar, renderChartPng, writeFileAtomic } from '@kindling/learner/node';
import { TabularPredictor, tabularModel } from '@kindling/models';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { finishedEpoch, requireSplit } from './outcome';
import { join, resolve } from 'node:path';

export interface TrainTabularOptions extends BackendFlags, CheckpointFlags {
  target?: string;
  names?: string;
  delimiter?: string;
  cat?: string;
  cont?: string;
  date?: string;
  ignore?: string;
  task?: string;
  /** A second file with the same columns, scored once after training. */
  test?: string;
  layers: string;
  dropout: number;
  epochs: number;
  lr: number;
  wd: number;
  batchSize: number;
  validPct: number;
  seed: number;
  out: string;
  quiet?: boolean;
}

export interface TrainTabularResult {
  task: 'classification' | 'regression';
  /** Validation metrics of the last epoch (accuracy, or RMSE and MAE). */
  metrics: Record<string, number>;
  /** Classification: accuracy of always answering the most common training class on the validation rows. */
  majorityAccuracy?: number;
  testMetrics?: Record<string, number>;
  outputDirectory: string;
}

const list = (value: string | undefined) => (value === undefined ? undefined : value.split(',').map((name) => name.trim()).filter((name) => name !== ''));

async function readTable(file: string, options: TrainTabularOptions): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  for await (const row of streamCsvFile(file, { columns: list(options.names), delimiter: options.delimiter ?? (/\.tsv$/i.test(file) ? '\t' : ',') })) rows.push(row);
  return rows;
}

/** `kindling train tabular [file.csv] --target <column>`: a table in, a model predicting one column out. */
export async function trainTabular(file: string | undefined, options: TrainTabularOptions): Promise<TrainTabularResult> {
  const say = (line: string) => {
    if (!options.quiet) console.log(line);
  };
  if (options.task !== undefined && !['classification', 'regression'].includes(options.task)) throw new ConfigError(`--task must be classification or regression, not '${options.task}'`);
  const layers = list(options.layers)!.map(Number);
  if (layers.some((units) => !Number.isInteger(units) || units <= 0)) throw new ConfigError(`--layers must be whole numbers separated by commas, like 200,100 (got '${options.layers}')`);
  if (file !== undefined && options.target === undefined) throw new ConfigError('--target <column> is required with a file: which column should be predicted?');
  // every file named is checked before anything trains, so a typo in --test costs no training run
  for (const path of [file, options.test]) if (path !== undefined) await requireFile(path, 'a CSV file');
  await startBackend(options, options.quiet);

  let rows: TableRow[];
  const source = file ?? 'generated table';
  if (file === undefined) {
    const generated = generateTable({ rows: 3000, seed: options.seed });
    rows = generated.rows;
    say(`generated 3,000 rows of an income table (missing values, categories, a date) whose planted rule agrees with ${(generated.ruleAccuracy * 100).toFixed(1)}% of the labels`);
  } else {
    rows = await readTable(file, options);
  }
  const target = options.target ?? 'income';
  const schema = inferTabularSchema(rows, {
    target,
    categorical: list(options.cat),
    continuous: list(options.cont),
    dates: list(options.date),
    ignore: list(options.ignore),
    task: options.task as 'classification' | 'regression' | undefined,
    source,
  });
  say(`predicting '${schema.target}' (${schema.task}) from ${schema.categorical.length} categorical [${schema.categorical.join(', ')}], ${schema.continuous.length} continuous [${schema.continuous.join(', ')}]${schema.dates.length > 0 ? ` and ${schema.dates.length} date [${schema.dates.join(', ')}]` : ''} columns`);
  const firstRow = options.names === undefined ? 2 : 1;
  const split = randomSplitter<number>({ validPct: options.validPct, seed: options.seed })(Array.from(rows.keys()));
  requireSplit(split, 'rows', source);
  const processor = TabularProcessor.fit(split.train.map((index) => rows[index]!), schema, { source, rowNumbers: split.train.map((index) => index + firstRow) });
  const data = processor.process(rows, { source, withTarget: true, rowNumbers: rows.map((_, index) => index + firstRow) });
  const train = tabularTensors(data, processor, split.train);
  const valid = tabularTensors(data, processor, split.valid);
  const classification = schema.task === 'classification';
  let yRange: [number, number] | undefined;
  if (!classification) {
    let [low, high] = [Infinity, -Infinity];
    for (const index of split.train) [low, high] = [Math.min(low, data.target![index]!), Math.max(high, data.target![index]!)];
    yRange = [low - 0.05 * (high - low), high + 0.05 * (high - low)];
  }
  const model = tabularModel({
    cardinalities: processor.cardinalities,
    continuous: processor.continuousNames.length,
    outputs: classification ? processor.targetLabels!.length : 1,
    layers,
    dropout: options.dropout,
    yRange,
    seed: options.seed,
  });
  const metrics: Metric[] = classification ? [accuracy()] : [rmse(), mae()];
  const learner = new Learner({
    model,
    data: {
      train: new TensorDataLoader(train.inputs, train.targets!, { batchSize: options.batchSize, shuffle: true, seed: options.seed, dropLast: true }),
      valid: new TensorDataLoader(valid.inputs, valid.targets!, { batchSize: 4096 }),
    },
    loss: classification ? crossEntropyLoss() : mseLoss(),
    metrics,
    callbacks: options.quiet ? [] : [progressBar()],
    seed: options.seed,
  });
  let testTensors: ReturnType<typeof tabularTensors> | undefined;
  try {
    say(`${split.train.length} training and ${split.valid.length} validation rows; preprocessing fit on the training rows only`);
    const resuming = await checkpointing(options, planOf('tabular', file, options));
    await learner.fitOneCycle(options.epochs, options.lr, { weightDecay: options.wd, callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    const final = finishedEpoch(learner);
    const names = metrics.map((metric) => metric.name);
    const table = new Table({ head: ['epoch', 'train loss', 'valid loss', ...names, 'seconds'], style: { head: [], border: [] } });
    for (const record of learner.recorder.epochs) {
      table.push([record.epoch + 1, record.trainLoss.toFixed(4), record.validLoss.toFixed(4), ...names.map((name) => record.metrics[name]!.toFixed(4)), record.seconds.toFixed(1)]);
    }
    say(table.toString());
    let majorityAccuracy: number | undefined;
    if (classification) {
      const counts = new Map<number, number>();
      for (const index of split.train) counts.set(data.target![index]!, (counts.get(data.target![index]!) ?? 0) + 1);
      const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      majorityAccuracy = split.valid.filter((index) => data.target![index] === majority).length / split.valid.length;
      say(`validation accuracy ${(final.metrics.accuracy! * 100).toFixed(2)}% against ${(majorityAccuracy * 100).toFixed(2)}% for always answering '${processor.decodeTarget(majority)}'`);
    }
    let testMetrics: Record<string, number> | undefined;
    if (options.test !== undefined) {
      const testRows = await readTable(options.test, options);
      const testData = processor.process(testRows, { source: options.test, withTarget: true, rowNumbers: testRows.map((_, index) => index + firstRow) });
      testTensors = tabularTensors(testData, processor);
      const scored = await learner.validate(new TensorDataLoader(testTensors.inputs, testTensors.targets!, { batchSize: 4096 }));
      testMetrics = { loss: scored.loss, ...scored.metrics };
      say(`test set (${testRows.length} rows): ${Object.entries(testMetrics).map(([name, value]) => `${name} ${value.toFixed(4)}`).join(', ')}`);
    }
    const example = rows[split.valid[0]!]!;
    const predictor = new TabularPredictor(model, processor);
    say(`example: ${JSON.stringify(example)}\n  → ${JSON.stringify(predictor.predict(example))}`);

    const outputDirectory = resolve(options.out);
    const bundle = await createBundle(model, { kind: 'tabular', processor: processor.toJSON() }, {
      metrics: { validLoss: final.validLoss, ...final.metrics, majorityAccuracy, test: testMetrics },
      training: { layers, yRange, dropout: options.dropout, epochs: options.epochs, lr: options.lr, weightDecay: options.wd, batchSize: options.batchSize, seed: options.seed },
    });
    await saveBundle(bundle, outputDirectory);
    await writeFileAtomic(join(outputDirectory, 'loss.png'), renderChartPng(lossChart(learner)));
    say(`the bundle (kindling.json with the fitted preprocessing, model.json, weights.bin) and loss.png are in ${outputDirectory}`);
    return { task: schema.task, metrics: final.metrics, majorityAccuracy, testMetrics, outputDirectory };
  } finally {
    learner.dispose();
    model.dispose();
    tf.dispose([...train.inputs, train.targets!, ...valid.inputs, valid.targets!, ...(testTensors ? [...testTensors.inputs, testTensors.targets!] : [])]);
  }
}
