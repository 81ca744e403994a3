import { CHECKPOINT_OPTIONS, checkOutputs, checkpointing, planOf, type CheckpointFlags } from './checkpointing';
import { choice, namer, realNumber, settle, sharedOptions, text, toggle, wholeNumbers, type OptionsGiven } from './options';
import { recipeCallbacks, reporters, workersLine, type RecipeOptions } from './recipe';
import { createBundle } from '@kindling/deploy';
import type { TabularTask } from '@kindling/tabular';
import { saveBundle } from '@kindling/deploy/node';
import { ConfigError, delimiterFor, randomSplitter, TensorDataLoader } from '@kindling/data';
import { requireFile, streamCsvFile } from '@kindling/data/node';
import { accuracy, crossEntropyLoss, Learner, lossChart, mae, mseLoss, onLeader, rmse, trainingBudget, type Callback, type Metric } from '@kindling/learner';
import { renderChartPng, writeFileAtomic } from '@kindling/learner/node';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { beatsBaseline, finishedEpoch, meanBaselineRmse, requireSplit } from './outcome';
import { join, resolve } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateTable, RowPredictor, TableColumns, type TableRow, tabularModel, tabularTensors } from '@kindling/tabular';

/** `trainTabular`'s settings: each one's type, default and help (the CLI's `kindling train tabular` flags are made from them). */
export const TRAIN_TABULAR_OPTIONS = {
  target: text({ help: 'the column to predict (default for the generated table: income)', placeholder: 'column' }),
  names: text({ help: 'column names, comma separated, for a file without a header row', placeholder: 'names' }),
  delimiter: text({ help: 'field delimiter (default: tab for .tsv, else comma)', placeholder: 'char' }),
  cat: text({ help: 'columns to treat as categories, comma separated (others are inferred)', placeholder: 'columns' }),
  cont: text({ help: 'columns to treat as continuous numbers', placeholder: 'columns' }),
  date: text({ help: 'date columns, split into year, month, day, weekday, …', placeholder: 'columns' }),
  ignore: text({ help: 'columns to leave out (ids, leaks)', placeholder: 'columns' }),
  task: choice({ help: 'classification or regression (default: inferred from the target)', placeholder: 'task', choices: ['classification', 'regression'] }),
  test: text({ help: 'a test file with the same columns, scored once after training', placeholder: 'file' }),
  layers: wholeNumbers({ help: 'hidden layer widths, comma separated, or auto (100 under 5,000 training rows, else 200,100)', placeholder: 'sizes', default: 'auto', auto: true, example: '200,100', max: 4096, most: 8 }),
  dropout: realNumber({ help: 'dropout after each hidden layer (default auto: 0.5 under 5,000 training rows, else 0.1)', placeholder: 'rate', default: 'auto', auto: true, min: 0, below: 1 }),
  linear: toggle({ help: 'add a linear path from the features to the output beside the hidden layers (wide and deep)', default: false }),
  epochs: sharedOptions.epochs('auto', 'enough for 200 steps, 5–100 epochs'),
  lr: sharedOptions.lr(1e-2),
  wd: realNumber({ help: 'weight decay (default auto: 1 under 5,000 training rows, else 0.1)', placeholder: 'decay', default: 'auto', auto: true, min: 0 }),
  batchSize: sharedOptions.batchSize('rows', 'auto', 'about 32 batches an epoch, 16–256 rows'),
  validPct: sharedOptions.validPct('share of rows held out for validation'),
  refit: choice({
    help: 'after validation, train the same model and schedule again on every row and ship that one: auto (under 5,000 training rows), yes or no',
    placeholder: 'when',
    choices: ['auto', 'yes', 'no'],
    default: 'auto',
  }),
  seed: sharedOptions.seed(),
  out: sharedOptions.out('tabular', ' and its kindling.json'),
  ...CHECKPOINT_OPTIONS,
};

/** What `trainTabular` may be given: every setting of {@link TRAIN_TABULAR_OPTIONS} (each optional), and what every recipe takes. */
export type TrainTabularOptions = RecipeOptions & Omit<OptionsGiven<typeof TRAIN_TABULAR_OPTIONS>, keyof CheckpointFlags>;

/** The settings a run goes with: its defaults filled in. */
type TabularSettings = ReturnType<typeof settle<typeof TRAIN_TABULAR_OPTIONS, TrainTabularOptions>>;

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
 * Below this many training rows, `auto` layers are one layer of 100, `auto` dropout 0.5 (else 0.1), `auto` weight
 * decay 1 (else 0.1) and `auto` refit trains again on every row.
 */
const SMALL_TABLE_ROWS = 5000;
/**
 * Weight decay `auto`: fastai's 0.1, and ten times that under 5,000 training rows. On thirteen small public tables (`pnpm
 * bench defaults`, `tables`: 69–524 training rows, three splits each) the mean test accuracy went 83.9% → 84.3% →
 * 84.8% at 0.1, 0.5 and 1 (logistic regression 84.8%); Adult's 700- and 3,000-row draws in bench/README.md.
 */
const WEIGHT_DECAY = 0.1;
const SMALL_TABLE_WEIGHT_DECAY = 1;
/** Layers `auto`: fastai's tabular default, and the one layer a small table gets. */
const LAYERS = [200, 100];
const SMALL_TABLE_LAYERS = [100];

const list = (value: string | undefined) => (value === undefined ? undefined : value.split(',').map((name) => name.trim()).filter((name) => name !== ''));

/** A CSV file's rows as they stream past (never all held as row objects). */
function csvRows(file: string, options: TabularSettings): AsyncGenerator<TableRow> {
  return streamCsvFile(file, { columns: list(options.names), delimiter: options.delimiter ?? delimiterFor(file) });
}

/** A full garbage collection now (V8's own, reached without Node's expose-gc flag on the command line). */
function collectGarbage(): void {
  setFlagsFromString(`${'-'.repeat(2)}expose-gc`); // a V8 flag, not one of Kindling's
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
async function prepareTable(file: string | undefined, options: TabularSettings, say: (line: string) => void) {
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
    task: options.task,
    source,
    firstRow: options.names === undefined ? 2 : 1,
  });
  const schema = columns.schema;
  if (schema.identifiers !== undefined) {
    say(`left out ${schema.identifiers.map((name) => `'${name}'`).join(', ')}: identifiers (text whose values hardly recur, most rows their own), which a model cannot learn from; ${namer(options)('cat')} ${schema.identifiers.join(',')} keeps them as categories`);
  }
  say(`predicting '${schema.target}' (${schema.task}) from ${schema.categorical.length} categorical [${schema.categorical.join(', ')}], ${schema.continuous.length} continuous [${schema.continuous.join(', ')}]${schema.dates.length > 0 ? ` and ${schema.dates.length} date [${schema.dates.join(', ')}]` : ''} columns`);
  const split = randomSplitter<number>({ validPct: options.validPct, seed: options.seed })(Array.from({ length: columns.size }, (_, index) => index));
  requireSplit(split, 'rows', source, namer(options));
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
async function prepareTensors(file: string | undefined, options: TabularSettings, say: (line: string) => void) {
  const { schema, split, processor, trainData, validData, example } = await prepareTable(file, options, say);
  collectGarbage(); // the columns, now that they are processed
  return { schema, split, processor, example, train: tabularTensors(trainData, processor), valid: tabularTensors(validData, processor), trainTargets: trainData.target!, validTargets: validData.target! };
}

/** `kindling train tabular [file.csv]` with its target column: a table in, a model predicting one column out. */
export async function trainTabular(file: string | undefined, given: TrainTabularOptions = {}): Promise<TrainTabularResult> {
  const options = settle(TRAIN_TABULAR_OPTIONS, given);
  const name = namer(options);
  const { say, warn } = reporters(options);
  const askedLayers = options.layers === 'auto' ? undefined : options.layers;
  const refitWhen = options.refit;
  if (file !== undefined && options.target === undefined) throw new ConfigError(`${name('target')} <column> is required with a file: which column should be predicted?`);
  // every file named is checked before anything trains, so a typo in the test file costs no training run
  for (const path of [file, options.test]) if (path !== undefined) await requireFile(path, 'a CSV file');

  await checkOutputs(options); // a read-only or full output folder is one line now, not after the training
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
      linear: options.linear,
      seed: options.seed,
    });
  const validated = newModel();
  const metrics: Metric[] = classification ? [accuracy()] : [rmse(), mae()];
  const budget = trainingBudget({ items: split.train.length, epochs: options.epochs === 'auto' ? undefined : options.epochs, epochsSource: options.optionName?.('epochs'), batchSize: options.batchSize === 'auto' ? undefined : options.batchSize, batchSource: options.optionName?.('batchSize') });
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
    const final = finishedEpoch(learner, { name });
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
      say(`refit: the same model and schedule${epochs} trained again on all ${(split.train.length + split.valid.length).toLocaleString('en-US')} rows${refitWhen === 'auto' ? ` (under ${SMALL_TABLE_ROWS.toLocaleString('en-US')} training rows; ${name('refit')} no keeps the validated model)` : ''}; the validation figures above are its estimate`);
      everyRow = { inputs: train.inputs.map((part, index) => tf.concat([part, valid.inputs[index]!])), targets: tf.concat([train.targets!, valid.targets!]) };
      model = newModel();
      refitLearner = newLearner(model, everyRow);
      // stopped early: the schedule validation chose: one-cycle over the epochs up to the one it kept
      await refitLearner.fitOneCycle(learner.keptEpoch === undefined ? budget.epochs : learner.keptEpoch + 1, options.lr, { weightDecay });
      finishedEpoch(refitLearner, { name }); // a loss that became NaN stops here too, before the bundle
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
      const bundle = await createBundle(model, { kind: 'tabular', processor: processor.toJSON(), ...(Object.keys(layout).length === 0 ? {} : { file: layout }) } satisfies TabularTask, {
        metrics: { validLoss: final.validLoss, ...final.metrics, majorityAccuracy, test: testMetrics },
        training: { layers, yRange, dropout, linear: options.linear, epochs: budget.epochs, lr: options.lr, weightDecay, batchSize: budget.batchSize, seed: options.seed, refit },
      });
      await saveBundle(bundle, outputDirectory);
      await writeFileAtomic(join(outputDirectory, 'loss.png'), await renderChartPng(lossChart(learner)));
      say(`the bundle (kindling.json with the fitted preprocessing, model.json, weights.bin) and loss.png are in ${outputDirectory}`);
      const beats = classification
        ? beatsBaseline({ metric: 'validation accuracy', model: final.metrics.accuracy!, baseline: majorityAccuracy!, baselineName: `always answering the most common class`, higherIsBetter: true, format: (value) => `${(value * 100).toFixed(2)}%` }, warn, name)
        : beatsBaseline({ metric: 'validation RMSE', model: final.metrics.rmse!, baseline: meanBaselineRmse(trainTargets, validTargets).rmse, baselineName: 'always answering the training mean', higherIsBetter: false, format: (value) => value.toPrecision(4) }, warn, name);
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
