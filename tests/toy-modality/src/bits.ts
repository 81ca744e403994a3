/**
 * A modality of one's own, in a package of its own: bit strings ("0110…") classified by whether most bits are ones.
 * Everything Kindling needs of it lives here — its data block, its task record (declared into `TaskRegistry`), its
 * predictor and the task definition to register — exactly as `@kindling/audio/predict` holds the sound modality's.
 * Nothing in Kindling names it; an app that reads it adds one line to its list of modalities (`registerTask(bitsTask)`).
 */
import { categoryBlock, DataBlock, Pipeline, randomSplitter, type ArrayItem } from '@kindling/data';
import { classify, InputError, isRecord, jsonValueInWords, Predictor, type Classification, type TaskDefinition } from '@kindling/deploy';
import * as tf from '@tensorflow/tfjs';

/** How many bits an input holds. */
export const LENGTH = 12;

/** The one input pipeline, for training items and served inputs alike: text → checked → numbers. */
export const bitsPipeline = new Pipeline<string, ArrayItem>([
  {
    name: `read ${LENGTH} bits`,
    encode: (text: string) => {
      if (!new RegExp(`^[01]{${LENGTH}}$`).test(text)) throw new InputError(`expected ${LENGTH} bits (0 or 1), got ${JSON.stringify(text)}`, 'bits');
      return text;
    },
  },
  { name: 'as numbers', encode: (text: string): ArrayItem => ({ data: Float32Array.from(text, (bit) => Number(bit)), shape: [LENGTH] }), decode: (item: ArrayItem) => Array.from(item.data).join('') },
]);

const ones = (text: string) => [...text].filter((bit) => bit === '1').length;

/** The data block: bit strings (ties left out), labelled by their majority, a quarter held out. */
export function bitsBlock(seed = 1): DataBlock<readonly string[], string> {
  return new DataBlock<readonly string[], string>({
    itemsName: 'bit strings',
    getItems: (source) => source.filter((text) => ones(text) !== LENGTH / 2),
    input: bitsPipeline,
    target: categoryBlock((text: string) => (ones(text) > LENGTH / 2 ? 'mostly ones' : 'mostly zeros')),
    splitter: randomSplitter({ validPct: 0.25, seed }),
  });
}

/** The task record a bundle of bits carries. */
export interface BitsTask {
  kind: 'bits';
  labels: readonly string[];
}

declare module '@kindling/deploy' {
  interface TaskRegistry {
    bits: BitsTask;
  }
  interface PredictorByKind {
    bits: BitsPredictor;
  }
}

/** A bit string → its class, through the training pipeline unchanged. */
export class BitsPredictor extends Predictor<string, Classification, Float32Array, BitsTask> {
  readonly kind = 'bits';

  async prepare(input: string): Promise<Float32Array> {
    return (await bitsPipeline.encode(input)).data as Float32Array;
  }

  async run(prepared: readonly Float32Array[]): Promise<Classification[]> {
    const probabilities = tf.tidy(() => tf.softmax(this.model.predict(tf.stack(prepared.map((bits) => tf.tensor1d(bits)))) as tf.Tensor2D));
    const values = (await probabilities.data()) as Float32Array;
    probabilities.dispose();
    return classify(values, this.task.labels, prepared.length, this.topK);
  }

  inputFromJson(value: unknown): string {
    if (typeof value === 'string') return value;
    if (isRecord(value) && typeof value.bits === 'string') return value.bits;
    throw new InputError(`expected { "bits": "0110…" }, got ${jsonValueInWords(value)}`, 'bits');
  }

  describeInput(): string {
    return `${LENGTH} bits as a string`;
  }
}

/** The bits task for `registerTask`: a bundle's model must take `LENGTH` numbers. */
export const bitsTask: TaskDefinition<'bits'> = {
  kind: 'bits',
  check: (_task, model, fail) => void (model.inputs[0]!.shape[1] !== LENGTH && fail(`the model does not take ${LENGTH} bits`)),
  createPredictor: (bundle, model) => new BitsPredictor(bundle, model),
};
