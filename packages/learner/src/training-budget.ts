/** What {@link trainingBudget} is sized by, and the bounds it keeps to. */
export interface TrainingBudgetOptions {
  /** Training items (rows, pictures, recordings). */
  items: number;
  /** A batch size the user chose; otherwise one is sized from `items`. */
  batchSize?: number;
  /** Where a given `batchSize` came from, for the reason in words (a flag's name). Default `asked for`. */
  batchSource?: string;
  /** Epochs the user chose; otherwise enough for `minSteps`. */
  epochs?: number;
  /** Where given `epochs` came from, for the reason in words (a flag's name). Default `asked for`. */
  epochsSource?: string;
  /** Smallest and largest batch size chosen. Default 16 and 256. */
  batchBounds?: readonly [number, number];
  /** Items per step the chosen batch size aims at: about `items / batchesPerEpoch`. Default 32. */
  batchesPerEpoch?: number;
  /** Optimizer steps the run should take at least. Default 200. */
  minSteps?: number;
  /** Fewest and most epochs chosen. Default 5 and 100. */
  epochBounds?: readonly [number, number];
}

/** A run's batch size and epochs, with the reason in words (for the run's summary). */
export interface TrainingBudget {
  batchSize: number;
  epochs: number;
  steps: number;
  why: string;
}

/**
 * Sizes a run by its data: a fixed number of epochs and batch size that suit 30,000 rows leave 700 rows
 * with 20 steps, which barely moves a model from its initial weights. The batch size is the power of two
 * nearest below `items / batchesPerEpoch` (within `batchBounds`); the epochs are enough for `minSteps`
 * optimizer steps (within `epochBounds`). A value the user gave is kept, and the reason says so.
 */
export function trainingBudget(options: TrainingBudgetOptions): TrainingBudget {
  const { items, batchesPerEpoch = 32, minSteps = 200 } = options;
  const [minBatch, maxBatch] = options.batchBounds ?? [16, 256];
  const [minEpochs, maxEpochs] = options.epochBounds ?? [5, 100];
  if (!Number.isInteger(items) || items < 1) throw new RangeError(`a training budget needs at least one item; got ${items}`);
  const sized = 2 ** Math.floor(Math.log2(Math.max(1, items / batchesPerEpoch)));
  const batchSize = options.batchSize ?? Math.min(maxBatch, Math.max(minBatch, sized), items);
  const stepsPerEpoch = Math.max(1, Math.floor(items / batchSize));
  const epochs = options.epochs ?? Math.min(maxEpochs, Math.max(minEpochs, Math.ceil(minSteps / stepsPerEpoch)));
  const batchWhy = options.batchSize === undefined ? `batch ${batchSize} (about ${batchesPerEpoch} batches an epoch, within ${minBatch}–${maxBatch})` : `batch ${batchSize} (${options.batchSource ?? 'asked for'})`;
  const epochWhy = options.epochs === undefined ? `${epochs} epochs (at least ${minSteps} steps, within ${minEpochs}–${maxEpochs} epochs)` : `${epochs} epochs (${options.epochsSource ?? 'asked for'})`;
  return { batchSize, epochs, steps: epochs * stepsPerEpoch, why: `${items} training items → ${batchWhy}, ${epochWhy}: ${epochs * stepsPerEpoch} steps` };
}
