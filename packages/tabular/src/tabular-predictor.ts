import { InputError, isRecord, jsonValueInWords, Predictor, type Bundle } from '@kindling/deploy';
import { RowPredictor, type TabularPrediction } from './model';
import { TabularProcessor, type TableRow, type TabularProcessorState } from './processor';
import type * as tf from '@tensorflow/tfjs';

/** A table row → a class or a value, with the fitted processor (vocabularies, medians, means, stds). */
export interface TabularTask {
  kind: 'tabular';
  processor: TabularProcessorState;
  /**
   * How the training file was laid out, so that `kindling predict` reads a file like it: the column names it was
   * given when it had no header row (`--names`), its delimiter when not a comma.
   */
  file?: { columns?: string[]; delimiter?: string };
}

/**
 * A tabular answer. `notSure` says why it is not worth trusting when the row holds a number outside the range
 * seen in training or a category never seen there (bundles written by Kindling 0.2 or later).
 */
export type TabularAnswer = TabularPrediction & { notSure?: string };

/** A table row (column name → value) → a class with probabilities, or a value. */
export class TabularPredictor extends Predictor<TableRow, TabularAnswer, { row: TableRow; notSure?: string }, TabularTask> {
  readonly kind = 'tabular';
  readonly processor: TabularProcessor;
  private readonly rows: RowPredictor;

  constructor(bundle: Bundle, model: tf.LayersModel) {
    super(bundle, model);
    this.processor = TabularProcessor.fromJSON((bundle.manifest.task as TabularTask).processor);
    this.rows = new RowPredictor(model, this.processor);
  }

  async prepare(input: TableRow): Promise<{ row: TableRow; notSure?: string }> {
    if (!isRecord(input)) throw new InputError(`expected a row object { "column": value, … }, got ${jsonValueInWords(input)}`, 'row');
    for (const [name, value] of Object.entries(input)) {
      if (value !== null && value !== undefined && !['string', 'number', 'boolean'].includes(typeof value) && !(value instanceof Date)) throw new InputError(`must be a string, number, boolean or null, not ${jsonValueInWords(value)}`, name);
    }
    const { schema } = this.processor;
    const columns = [...schema.categorical, ...schema.continuous, ...schema.dates];
    // own columns only: `constructor` or `toString` would otherwise be found on every object
    const missing = columns.filter((column) => !Object.hasOwn(input, column));
    if (missing.length > 0) {
      throw new InputError(`no column ${missing.map((column) => `'${column}'`).join(', ')}: a row needs the columns the model was trained on (${columns.join(', ')}); give null for a value you do not know`, 'row');
    }
    // processing one row alone names its problems (a bad number) before it joins a batch
    this.processor.process([input], { source: 'row', rowNumbers: [1] });
    const unseen = this.processor.unseen(input);
    const notSure = unseen.length === 0 ? undefined : `unlike the training rows: ${unseen.join('; ')}`;
    return notSure === undefined ? { row: input } : { row: input, notSure };
  }

  async run(prepared: ReadonlyArray<{ row: TableRow; notSure?: string }>): Promise<TabularAnswer[]> {
    const answers = await this.rows.predictBatchAsync(prepared.map((item) => item.row), { source: 'rows', topK: this.topK });
    return answers.map((answer, index) => (prepared[index]!.notSure === undefined ? answer : { ...answer, notSure: prepared[index]!.notSure }));
  }

  inputFromJson(value: unknown): TableRow {
    if (isRecord(value) && isRecord(value.row)) return value.row as TableRow;
    if (isRecord(value)) return value as TableRow;
    throw new InputError(`expected a row object { "column": value, … }, got ${jsonValueInWords(value)}`, 'row');
  }

  describeInput(): string {
    const { schema } = this.processor;
    const columns = [...schema.categorical, ...schema.continuous, ...schema.dates];
    return `a row object with the columns ${columns.join(', ')} (missing values allowed); predicts '${schema.target}'`;
  }
}
