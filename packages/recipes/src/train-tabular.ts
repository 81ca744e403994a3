import { checkOutputs, checkpointing, planOf } from './checkpointing';
import { recipeCallbacks, reporters, workersLine, type RecipeOptions } from './recipe';
import { createBundle } from '@kindling/deploy';
import { saveBundle } from '@kindling/deploy/node';
import { ConfigError, delimiterFor, generateTable, randomSplitter, TableColumns, tabularTensors, TensorDataLoader, type TableRow } from '@kindling/data';
import { requireFile, streamCsvFile } from '@kindling/data/node';
import { accuracy, crossEntropyLoss, Learner, lossChart, mae, mseLoss, onLeader, rmse, trainingBudget, type Callback, type Metric } from '@kindling/learner';
import { renderChartPng, writeFileAtomic } from '@kindling/learner/node';
import { RowPredictor, tabularModel } from '@kindling/models';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { beatsBaseline, finishedEpoch, meanBaselineRmse, requireSplit } from './outcome';
import { join, resolve } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface TrainTabularOptions extends RecipeOptions {
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
  /** Hidden layer widths, comma separated, or `auto` (the default): one layer of 100 under 5,000 training rows, else 200,100. */
  layers: string;
  /** Dropout after each hidden layer, or `auto` (the default): 0.5 for a table under 5,000 training rows, else 0.1. */
  dropout: number | 'auto';
  /** A linear path from the features to the output beside the hidden layers (`--linear`; default false: on Adult subsets it changed nothing measurable). */
  linear?: boolean;
  /** Epochs, or `auto` (the default): enough for a minimum number of steps on this table's size. */
  epochs: number | 'auto';
  lr: number;
  /** Weight decay, or `auto` (the default): 1 for a table under 5,000 training rows, else 0.1. */
  wd: number | 'auto';
  /** Rows per batch, or `auto` (the default): sized by the table. */
  batchSize: number | 'auto';
  validPct: number;
  /**
   * After validation, train the same model and schedule again on every row (training and validation) and ship
   * that one: `auto` (the default) under 5,000 training rows, where the held-out fifth is a real loss of data;
   * `yes` or `no`. The metrics reported stay those of the validated run: they measure the schedule.
   */
  refit?: 'auto' | 'yes' | 'no';
  seed: number;
  out: string;
}

export interface TrainTabularResult {
  task: 'classification' | 'regression';
  /** Validation metrics of the last epoch (accuracy, or RMSE and MAE). */
  metrics: Record<string, number>;
  /** Classification: accuracy of always answering the most common training class on the validation rows. */
  majorityAccuracy?: number;
  testMetrics?: Record<string, number>;
  outputDirectory: string;
  /** False when the model does not beat always answering the most common class (or the training mean). */
  beatsBaseline: boolean;
  /** Whether the bundle's model was trained again on every row after validation. */
  refit: boolean;
}

/**
 * Below this many training rows, `--layers auto` is one layer of 100, `--dropout auto` 0.5 (else 0.1), `--wd auto`
 * 1 (else 0.1) and `--refit auto` trains again on every row.
 */
const SMALL_TABLE_ROWS = 5000;
/**
 * `--wd auto`: fastai's 0.1, and ten times that under 5,000 training rows. On thirteen small public tables (`pnpm
 * bench defaults`, `tables`: 69–524 training rows, three splits each) the mean test accuracy went 83.9% → 84.3% →
 * 84.8% at 0.1, 0.5 and 1 (logistic regression 84.8%); Adult's 700- and 3,000-row draws in bench/README.md.
 */
const WEIGHT_DECAY = 0.1;
const SMALL_TABLE_WEIGHT_DECAY = 1;
/** `--layers auto`: fastai's tabular default, and the one layer a small table gets. */
const LAYERS = [200, 100];
const SMALL_TABLE_LAYERS = [100];

const list = (value: string | undefined) => (value === undefined ? undefined : value.split(',').map((name) => name.trim()).filter((name) => name !== ''));

/** A CSV file's rows as they stream past (never all held as row objects). */
function csvRows(file: string, options: TrainTabularOptions): AsyncGenerator<TableRow> {
  return streamCsvFile(file, { columns: list(options.names), delimiter: options.delimiter ?? delimiterFor(file) });
}

/** A full garbage collection now (V8's own, reached without --expose-gc on the command line). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Keeps the JavaScript heap within `megabytes` of what was live after the last full collection. Over a long
 * epoch V8 lets the heap grow by the steps' garbage before it collects (measured: 111 → 238 MB over one epoch of
 * 3.1 million rows, more on a loaded machine), and a big table's resident memory peaks on that growth; a
 * collection of the ~100 MB that is live takes a few tens of milliseconds, every few thousand steps.
 */
function heapBound(megabytes = 64): Callback {
  let floor = getHeapStatistics().used_heap_size;
  return {
    name: 'heapBound',
    afterBatch() {
      if (getHeapStatistics().used_heap_size - floor < megabytes * 2 ** 20) return;
      collectGarbage();
      floor = getHeapStatistics().used_heap_size;
    },
  };
}

/**
 * The table as model inputs: rows streamed into typed columns, split, preprocessing fit on the training
 * rows, both splits processed. The columns are garbage once this returns.
 */
async function prepareTable(file: string | undefined, options: TrainTabularOptions, say: (line: string) => void) {
  let rows: Iterable<TableRow> | AsyncIterable<TableRow>;
  const source = file ?? 'generated table';
  if (file === undefined) {
    const generated = generateTable({ rows: 3000, seed: options.seed });
    rows = generated.rows;
    say(`generated 3,000 rows of an income table (missing values, categories, a date) whose planted rule agrees with ${(generated.ruleAccuracy * 100).toFixed(1)}% of the labels`);
  } else {
    rows = csvRows(file, options);
  }
  // typed columns, read as the file streams past: 4–8 bytes a cell, the column kinds from the first 10,000 rows
  const columns = await TableColumns.read(rows, {
    target: options.target ?? 'income',
    categorical: list(options.cat),
    continuous: list(options.cont),
    dates: list(options.date),
    ignore: list(options.ignore),
    task: options.task as 'classification' | 'regression' | undefined,
    source,
    firstRow: options.names === undefined ? 2 : 1,
  });
  const schema = columns.schema;
  if (schema.identifiers !== undefined) {
    say(`left out ${schema.identifiers.map((name) => `'${name}'`).join(', ')}: identifiers (text whose values hardly recur, most rows their own), which a model cannot learn from; --cat ${schema.identifiers.join(',')} keeps them as categories`);
  }
  say(`predicting '${schema.target}' (${schema.task}) from ${schema.categorical.length} categorical [${schema.categorical.join(', ')}], ${schema.continuous.length} continuous [${schema.continuous.join(', ')}]${schema.dates.length > 0 ? ` and ${schema.dates.length} date [${schema.dates.join(', ')}]` : ''} columns`);
  const split = randomSplitter<number>({ validPct: options.validPct, seed: options.seed })(Array.from({ length: columns.size }, (_, index) => index));
  requireSplit(split, 'rows', source);
  const processor = columns.fit(split.train);
  collectGarbage(); // the split's and the fit's scratch arrays, before the processed copies are made
  const example = columns.sample[split.valid.find((index) => index < columns.sample.length) ?? 0]!;
  return { schema, split, processor, trainData: columns.process(processor, split.train), validData: columns.process(processor, split.valid), example };
}

/**
 * The table as tensors. For a big table, memory is given back at each step: the columns once processed,
 * the processed arrays once they are tensors (when this returns), so a 200 MB CSV never holds more than
 * two copies at a time.
 */
async function prepareTensors(file: string | undefined, options: TrainTabularOptions, say: (line: string) => void) {
  const { schema, split, processor, trainData, validData, example } = await prepareTable(file, options, say);
  collectGarbage(); // the columns, now that they are processed
  return { schema, split, processor, example, train: tabularTensors(trainData, processor), valid: tabularTensors(validData, processor), trainTargets: trainData.target!, validTargets: validData.target! };
}

/** `kindling train tabular [file.csv] --target <column>`: a table in, a model predicting one column out. */
export async function trainTabular(file: string | undefined, options: TrainTabularOptions): Promise<TrainTabularResult> {
  const { say, warn } = reporters(options);
  if (options.task !== undefined && !['classification', 'regression'].includes(options.task)) throw new ConfigError(`--task must be classification or regression, not '${options.task}'`);
  const askedLayers = options.layers === 'auto' ? undefined : list(options.layers)!.map(Number);
  if (askedLayers?.some((units) => !Number.isInteger(units) || units <= 0)) throw new ConfigError(`--layers must be auto or whole numbers separated by commas, like 200,100 (got '${options.layers}')`);
  const refitWhen = options.refit ?? 'auto';
  if (!['auto', 'yes', 'no'].includes(refitWhen)) throw new ConfigError(`--refit must be auto, yes or no, not '${refitWhen}'`);
  if (options.wd !== 'auto' && !(Number.isFinite(options.wd) && options.wd >= 0)) throw new ConfigError(`--wd must be auto or a number of at least 0, not '${options.wd}'`);
  if (file !== undefined && options.target === undefined) throw new ConfigError('--target <column> is required with a file: which column should be predicted?');
  // every file named is checked before anything trains, so a typo in --test costs no training run
  for (const path of [file, options.test]) if (path !== undefined) await requireFile(path, 'a CSV file');

  await checkOutputs(options); // a read-only or full --out is one line now, not after the training
  const firstRow = options.names === undefined ? 2 : 1;
  const { schema, split, processor, train, valid, trainTargets, validTargets, example } = await prepareTensors(file, options, say);
  collectGarbage(); // the processed arrays, now that they are tensors
  const classification = schema.task === 'classification';
  let yRange: [number, number] | undefined;
  if (!classification) {
    let [low, high] = [Infinity, -Infinity];
    for (const value of trainTargets) [low, high] = [Math.min(low, value), Math.max(high, value)];
    yRange = [low - 0.05 * (high - low), high + 0.05 * (high - low)];
  }
  // small tables overfit a 200-100 network: one layer of 100 and more dropout below 5,000 training rows (measured on
  // Adult subsets of 700 and 3,000 rows, wine and breast cancer beside logistic regression; bench/README.md, `defaults`)
  const small = split.train.length < SMALL_TABLE_ROWS;
  const layers = askedLayers ?? (small ? SMALL_TABLE_LAYERS : LAYERS);
  const dropout = options.dropout === 'auto' ? (small ? 0.5 : 0.1) : options.dropout;
  const weightDecay = options.wd === 'auto' ? (small ? SMALL_TABLE_WEIGHT_DECAY : WEIGHT_DECAY) : options.wd;
  const newModel = () =>
    tabularModel({
      cardinalities: processor.cardinalities,
      continuous: processor.continuousNames.length,
      outputs: classification ? processor.targetLabels!.length : 1,
      layers,
      dropout,
      yRange,
      linear: options.linear ?? false,
      seed: options.seed,
    });
  const validated = newModel();
  const metrics: Metric[] = classification ? [accuracy()] : [rmse(), mae()];
  const budget = trainingBudget({ items: split.train.length, epochs: options.epochs === 'auto' ? undefined : options.epochs, batchSize: options.batchSize === 'auto' ? undefined : options.batchSize });
  const newLearner = (model: tf.LayersModel, rows: { inputs: tf.Tensor[]; targets: tf.Tensor }, validRows?: { inputs: tf.Tensor[]; targets: tf.Tensor }) =>
    new Learner({
      model,
      data: {
        train: new TensorDataLoader(rows.inputs, rows.targets, { batchSize: budget.batchSize, shuffle: true, seed: options.seed, dropLast: true }),
        ...(validRows === undefined ? {} : { valid: new TensorDataLoader(validRows.inputs, validRows.targets, { batchSize: 4096 }) }),
      },
      loss: classification ? crossEntropyLoss() : mseLoss(),
      metrics,
      callbacks: [heapBound(), ...recipeCallbacks(options)],
      seed: options.seed,
    });
  const learner = newLearner(validated, { inputs: train.inputs, targets: train.targets! }, { inputs: valid.inputs, targets: valid.targets! });
  const refit = refitWhen === 'yes' || (refitWhen === 'auto' && small);
  let model = validated;
  let everyRow: { inputs: tf.Tensor[]; targets: tf.Tensor } | undefined;
  let refitLearner: Learner | undefined;
  let testTensors: ReturnType<typeof tabularTensors> | undefined;
  try {
    // the test file is read and checked before training: a bad row in it costs no training run
    if (options.test !== undefined) {
      const testTable = await TableColumns.read(csvRows(options.test, options), { target: schema.target, schema, source: options.test, firstRow });
      testTensors = tabularTensors(testTable.process(processor), processor);
    }
    say(`${split.train.length} training and ${split.valid.length} validation rows; preprocessing fit on the training rows only`);
    const sized = options.layers === 'auto' || options.dropout === 'auto' || options.wd === 'auto' ? ` (${small ? 'under' : 'at least'} ${SMALL_TABLE_ROWS.toLocaleString('en-US')} training rows)` : '';
    say(`schedule: ${budget.why}; hidden layers ${layers.join(',')}, dropout ${dropout}, weight decay ${weightDecay}${sized}${options.linear ? ', with a linear path beside the hidden layers' : ''}`);
    const workers = workersLine(options, budget.batchSize, 'rows');
    if (workers !== undefined) say(workers);
    const resuming = await checkpointing(options, planOf('tabular', file, { ...options, epochs: budget.epochs, batchSize: budget.batchSize }));
    await learner.fitOneCycle(budget.epochs, options.lr, { weightDecay, callbacks: resuming.callbacks, resumeFrom: resuming.resumeFrom });
    // the last epoch's weights are kept: restoring the epoch of lowest validation loss (saveBest) did no better on
    // Adult subsets of 700 and 3,000 rows (82.7% against 83.0% on 700 rows, 84.2% either way on 3,000, three seeds
    // each) and spread more, its choice made on a few hundred validation rows, while one-cycle ends annealed
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
      for (const value of trainTargets) counts.set(value, (counts.get(value) ?? 0) + 1);
      const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      majorityAccuracy = validTargets.filter((value) => value === majority).length / validTargets.length;
      say(`validation accuracy ${(final.metrics.accuracy! * 100).toFixed(2)}% against ${(majorityAccuracy * 100).toFixed(2)}% for always answering '${processor.decodeTarget(majority)}'`);
    }
    if (refit) {
      // the validated run measured this schedule; the model shipped learns from the held-out rows too
      const epochs = learner.keptEpoch === undefined ? '' : `, ${learner.keptEpoch + 1} epochs (where early stopping kept the weights)`;
      say(`refit: the same model and schedule${epochs} trained again on all ${(split.train.length + split.valid.length).toLocaleString('en-US')} rows${refitWhen === 'auto' ? ` (under ${SMALL_TABLE_ROWS.toLocaleString('en-US')} training rows; --refit no keeps the validated model)` : ''}; the validation figures above are its estimate`);
      everyRow = { inputs: train.inputs.map((part, index) => tf.concat([part, valid.inputs[index]!])), targets: tf.concat([train.targets!, valid.targets!]) };
      model = newModel();
      refitLearner = newLearner(model, everyRow);
      // with --early-stop, the schedule validation chose: one-cycle over the epochs up to the one it kept
      await refitLearner.fitOneCycle(learner.keptEpoch === undefined ? budget.epochs : learner.keptEpoch + 1, options.lr, { weightDecay });
      finishedEpoch(refitLearner); // a loss that became NaN stops here too, before the bundle
    }
    // the test set, the example and the bundle: rank 0's, once every worker has trained
    return await onLeader(options.group, async () => {
      let testMetrics: Record<string, number> | undefined;
      if (testTensors !== undefined) {
        const scored = await (refitLearner ?? learner).validate(new TensorDataLoader(testTensors.inputs, testTensors.targets!, { batchSize: 4096 }));
        testMetrics = { loss: scored.loss, ...scored.metrics };
        say(`test set (${testTensors.targets!.shape[0]} rows): ${Object.entries(testMetrics).map(([name, value]) => `${name} ${value.toFixed(4)}`).join(', ')}`);
      }
      const predictor = new RowPredictor(model, processor);
      say(`example: ${JSON.stringify(example)}\n  → ${JSON.stringify((await predictor.predictBatchAsync([example]))[0])}`);

      const outputDirectory = resolve(options.out);
      // predict reads files laid out as this one was (headerless with these names, this delimiter)
      const delimiter = options.delimiter ?? delimiterFor(file ?? '');
      const layout = { ...(options.names === undefined ? {} : { columns: list(options.names) }), ...(delimiter === ',' ? {} : { delimiter }) };
      const bundle = await createBundle(model, { kind: 'tabular', processor: processor.toJSON(), ...(Object.keys(layout).length === 0 ? {} : { file: layout }) }, {
        metrics: { validLoss: final.validLoss, ...final.metrics, majorityAccuracy, test: testMetrics },
        training: { layers, yRange, dropout, linear: options.linear ?? false, epochs: budget.epochs, lr: options.lr, weightDecay, batchSize: budget.batchSize, seed: options.seed, refit },
      });
      await saveBundle(bundle, outputDirectory);
      await writeFileAtomic(join(outputDirectory, 'loss.png'), await renderChartPng(lossChart(learner)));
      say(`the bundle (kindling.json with the fitted preprocessing, model.json, weights.bin) and loss.png are in ${outputDirectory}`);
      const beats = classification
        ? beatsBaseline({ metric: 'validation accuracy', model: final.metrics.accuracy!, baseline: majorityAccuracy!, baselineName: `always answering the most common class`, higherIsBetter: true, format: (value) => `${(value * 100).toFixed(2)}%` }, warn)
        : beatsBaseline({ metric: 'validation RMSE', model: final.metrics.rmse!, baseline: meanBaselineRmse(trainTargets, validTargets).rmse, baselineName: 'always answering the training mean', higherIsBetter: false, format: (value) => value.toPrecision(4) }, warn);
      return { task: schema.task, metrics: final.metrics, majorityAccuracy, testMetrics, outputDirectory, beatsBaseline: beats, refit };
    });
  } finally {
    learner.dispose();
    refitLearner?.dispose();
    validated.dispose();
    if (model !== validated) model.dispose();
    tf.dispose([...train.inputs, train.targets!, ...valid.inputs, valid.targets!, ...(testTensors ? [...testTensors.inputs, testTensors.targets!] : []), ...(everyRow ? [...everyRow.inputs, everyRow.targets] : [])]);
  }
}
