import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from './errors';
import type { Labeller } from './labellers';
import { ItemDataLoader, type Batch, type BatchTransform, type Sample } from './loaders';
import { type Pipeline, type ArrayItem, type Transform, type TransformContext } from './pipeline';
import type { Splitter } from './splitters';
import { Vocab } from './vocab';

/** A category target: a label read from each item, encoded as its index in a vocabulary of every item's label. */
export interface CategoryBlock<Item> {
  readonly kind: 'category';
  readonly label: Labeller<Item>;
  /** A fixed vocabulary (labels in index order); default: the sorted labels of all items. */
  readonly vocab?: Vocab;
}

/** The target block of a classifier: `label` reads an item's class (`parentFolderLabel()`, `regexLabel(…)`, a column). */
export function categoryBlock<Item>(label: Labeller<Item>, options: { vocab?: Vocab } = {}): CategoryBlock<Item> {
  return { kind: 'category', label, ...options };
}

/** A transform of whole batches on the backend (scaling, augmentation, normalization), with the way back where there is one. */
export interface BatchStep {
  readonly name: string;
  readonly encode: BatchTransform;
  /** Takes model inputs back towards what a person sees (normalized numbers back to pixels). */
  decode?(inputs: tf.Tensor): tf.Tensor;
}

/**
 * A data block, fastai's DataBlock: how to find the items of a source, read each item's input and target, split
 * them into training and validation, and transform items and batches. The folder loaders of every modality
 * (`imageFolderDataLoaders`, `soundFolderDataLoaders`, `pointerFolderDataLoaders`, `segmentationDataLoaders`) are
 * data blocks; a modality of your own is one too.
 */
export interface DataBlockOptions<Source, Item> {
  /** What the items are called in messages and summaries: `pictures`, `clips`, `samples`. */
  readonly itemsName: string;
  /** Item discovery: the items of a source (the files of a folder, the windows of recordings). */
  getItems(source: Source): Promise<readonly Item[]> | readonly Item[];
  /** How an item is named in errors and reports (a file path). Default: `String(item)` for strings, else `item #index`. */
  itemName?(item: Item): string;
  /** The model input of an item: from the item to its values. */
  readonly input: Pipeline<Item, ArrayItem>;
  /** The target: a category (`categoryBlock`), or a pipeline from the item to values (a mask). */
  readonly target: CategoryBlock<Item> | Pipeline<Item, ArrayItem>;
  readonly splitter: Splitter<Item>;
  /** Transforms of an encoded (input, target) pair together, such as the same random crop of a picture and its mask. */
  readonly itemTransforms?: ReadonlyArray<Transform<Sample, Sample>>;
  /** Transforms of whole batches on the backend, in order. */
  readonly batchTransforms?: ReadonlyArray<BatchStep>;
  /** Replaces the input pipeline's own walk in `summary()` (a modality that describes its steps better). */
  summarizeInput?(item: Item): Promise<string[]>;
}

export interface DataLoadersOptions {
  /** Items per batch, or a function of the number of training items that sizes it. Default 64. */
  batchSize?: number | ((trainingItems: number) => number);
  seed?: number;
  /** `stop` on the first bad item (default), or `skip` it and list it in the loader's `skipped`. */
  onError?: 'stop' | 'skip';
  /** Batches loaded ahead while the model trains. Default 2. */
  prefetch?: number;
}

/** What `DataBlock.dataLoaders` returns: the two loaders and what a run reports and a bundle records. */
export interface BlockDataLoaders<Item> {
  train: ItemDataLoader<Item>;
  valid: ItemDataLoader<Item>;
  /** Every item found, in discovery order. */
  items: readonly Item[];
  /** The category vocabulary (a category target only). */
  vocab: Vocab | undefined;
  batchSize: number;
  /**
   * The training items as validation reads them: in order, without augmentation (a new loader each call; it decodes
   * what it reads). For describing what the training data looks like, as `kindling train` does for "not sure".
   */
  plainTrain(): ItemDataLoader<Item>;
  /** Walks one training item through every transform and says what each made. */
  summary(): Promise<string[]>;
  /**
   * Takes a batch back to what a person reads: inputs through the batch steps' `decode`s (last first, while each
   * has one), category targets to their labels. The caller disposes the returned tensors.
   */
  decodeBatch(batch: Batch): Promise<{ inputs: tf.Tensor; targets: string[] | tf.Tensor }>;
}

const isCategory = <Item>(target: CategoryBlock<Item> | Pipeline<Item, ArrayItem>): target is CategoryBlock<Item> => (target as CategoryBlock<Item>).kind === 'category';

/** The data block: see `DataBlockOptions`. */
export class DataBlock<Source, Item> {
  constructor(readonly options: DataBlockOptions<Source, Item>) {}

  /** Finds the items of `source`, splits them and returns a training and a validation loader. */
  async dataLoaders(source: Source, options: DataLoadersOptions = {}): Promise<BlockDataLoaders<Item>> {
    const block = this.options;
    const { seed = 42, onError = 'stop', prefetch } = options;
    const items = await block.getItems(source);
    const where = typeof source === 'string' ? source : `the ${block.itemsName} given`; // a folder names itself; a list of items would make a long line
    const nameOf = (item: Item, index: number) => block.itemName?.(item) ?? (typeof item === 'string' ? item : `item #${index}`);
    if (items.length === 0) throw new DataError(`no ${block.itemsName} found`, typeof source === 'string' ? { file: source } : {});
    const target = block.target;
    let vocab: Vocab | undefined;
    if (isCategory(target)) {
      vocab = target.vocab ?? Vocab.fromLabels(items.map((item) => target.label(item)));
      if (vocab.size < 2) throw new ConfigError(`found only one class ('${vocab.labels[0]}') in ${where}: a classifier needs at least two`);
    }
    const split = block.splitter(items);
    if (split.train.length === 0 || split.valid.length === 0) {
      throw new ConfigError(`the split leaves ${split.train.length} training and ${split.valid.length} validation ${block.itemsName} of ${items.length} in ${where}; both need some (add ${block.itemsName} or hold out another share)`);
    }
    const batchSize = typeof options.batchSize === 'function' ? options.batchSize(split.train.length) : (options.batchSize ?? 64);
    const encodeTarget = async (item: Item, context: TransformContext): Promise<number | ArrayItem> =>
      isCategory(target) ? vocab!.encode(target.label(item), { file: nameOf(item, 0) }) : target.encode(item, context);
    const itemTransforms = block.itemTransforms ?? [];
    const inputSteady = block.input.steadyPrefix;
    const targetSteady = isCategory(target) ? 0 : target.steadyPrefix;
    const varies = inputSteady < block.input.transforms.length || (!isCategory(target) && targetSteady < target.transforms.length) || itemTransforms.some((transform) => transform.random === true);
    // what does not change between epochs is kept per item, so a training item that varies (a random crop) is
    // decoded once; an item that never varies is kept whole by its loader
    const steady = new Map<Item, Promise<{ input: unknown; target: unknown }>>();
    const steadyPart = (item: Item) => {
      let part = steady.get(item);
      if (part === undefined) {
        const context: TransformContext = { training: true };
        part = (async () => ({
          input: await block.input.encodeSteps(item, context, 0, inputSteady),
          target: isCategory(target) ? await encodeTarget(item, context) : await target.encodeSteps(item, context, 0, targetSteady),
        }))();
        steady.set(item, part);
        part.catch(() => steady.delete(item));
      }
      return part;
    };
    const encodeItem = async (item: Item, context: TransformContext): Promise<Sample> => {
      let sample: Sample;
      if (context.training && varies) {
        const part = await steadyPart(item);
        sample = {
          input: (await block.input.encodeSteps(part.input, context, inputSteady)) as ArrayItem,
          target: isCategory(target) ? (part.target as number) : ((await target.encodeSteps(part.target, context, targetSteady)) as ArrayItem),
        };
      } else {
        sample = { input: await block.input.encode(item, context), target: await encodeTarget(item, context) };
      }
      for (const transform of itemTransforms) sample = await transform.encode(sample, context);
      return sample;
    };
    const batchSteps = block.batchTransforms ?? [];
    const batchTransform: BatchTransform | undefined =
      batchSteps.length === 0 ? undefined : (batch, context) => batchSteps.reduce((current, step) => step.encode(current, context), batch);
    const make = (indices: readonly number[], training: boolean) =>
      new ItemDataLoader<Item>({
        items: indices.map((index) => items[index]!),
        load: (item, _index, { random }) => encodeItem(item, { training, random }),
        batchSize,
        shuffle: training,
        training,
        seed,
        onError,
        prefetch,
        cache: !(training && varies),
        name: (item, index) => nameOf(item, index),
        batchTransform,
      });
    const train = make(split.train, true);
    const valid = make(split.valid, false);
    return {
      train,
      valid,
      items,
      vocab,
      batchSize,
      plainTrain: () => make(split.train, false),
      summary: async () => {
        const item = train.options.items[0]!;
        const lines = block.summarizeInput ? await block.summarizeInput(item) : await block.input.summary(item);
        if (isCategory(target)) {
          const label = target.label(item);
          lines.push(`label → ${JSON.stringify(label)} → ${vocab!.encode(label)} of ${vocab!.size} (${vocab!.labels.join(', ')})`);
        } else {
          lines.push(...(await target.summary(item)).slice(1).map((line) => `target: ${line}`));
        }
        if (itemTransforms.length > 0) lines.push(`item transforms in training → ${itemTransforms.map((transform) => transform.name).join(', ')}`);
        const input = await block.input.encode(item, { training: false });
        lines.push(`batch → Tensor [${batchSize}, ${input.shape.join(', ')}] float32${batchSteps.length === 0 ? '' : `, then ${batchSteps.map((step) => step.name).join(', ')}`}`);
        return lines;
      },
      decodeBatch: async (batch) => {
        const inputs = tf.tidy(() => {
          let current = (Array.isArray(batch.inputs) ? batch.inputs[0]! : batch.inputs).clone();
          for (const step of [...batchSteps].reverse()) {
            if (step.decode === undefined) break;
            current = step.decode(current);
          }
          return current;
        });
        if (!isCategory(target)) return { inputs, targets: batch.targets.clone() };
        return { inputs, targets: Array.from(await batch.targets.data(), (index) => vocab!.decode(index)) };
      },
    };
  }
}

