import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@kindling/backend/testing';
import { expect, it } from 'vitest';
import { categoryBlock, DataBlock } from './data-block';
import { ConfigError, DataError } from './errors';
import { batchesOf, type Sample } from './loaders';
import { Pipeline, type ArrayItem } from './pipeline';
import { functionSplitter, randomSplitter } from './splitters';

/** A toy modality: a "word" item (`class/text`) becomes the counts of its letters a–e; its class is the folder part. */
function wordBlock(options: { reads: string[]; shifts?: boolean } = { reads: [] }) {
  return new DataBlock<string, string>({
    itemsName: 'words',
    getItems: (source) => source.split(' ').filter((word) => word !== ''),
    input: new Pipeline<string, ArrayItem>([
      {
        name: 'read the text',
        encode: (item: string) => {
          options.reads.push(item);
          return item.split('/')[1]!;
        },
      },
      {
        name: 'count letters a–e',
        encode: (text: string): ArrayItem => ({ data: Float32Array.from('abcde', (letter) => [...text].filter((c) => c === letter).length), shape: [5] }),
      },
      ...(options.shifts
        ? [
            {
              name: 'add 0 or 100 in training',
              random: true,
              encode: (counts: ArrayItem, { training, random }: { training: boolean; random?: { integer(n: number): number } }): ArrayItem =>
                training && random !== undefined ? { data: (counts.data as Float32Array).map((value) => value + 100 * random.integer(2)), shape: counts.shape } : counts,
            },
          ]
        : []),
    ]),
    target: categoryBlock((item: string) => item.split('/')[0]!),
    splitter: functionSplitter((item: string) => item.endsWith('!')),
    batchTransforms: [{ name: 'halve', encode: (batch) => ({ inputs: (batch.inputs as tf.Tensor).div(2), targets: batch.targets }), decode: (inputs) => inputs.mul(2) }],
  });
}

const WORDS = 'vowel/aae vowel/eea vowel/aee! consonant/bcd consonant/dcb consonant/cdd!';

describeEachBackend('the data block', () => {
  it('finds, labels, splits and encodes items; batch transforms run on the backend and decode back; summary walks one item', async () => {
    const reads: string[] = [];
    const data = await wordBlock({ reads }).dataLoaders(WORDS, { batchSize: 2 });
    expect(data.vocab!.labels).toEqual(['consonant', 'vowel']);
    expect(data.valid.options.items).toEqual(['vowel/aee!', 'consonant/cdd!']);
    const before = tf.memory().numTensors;
    const batches = [];
    for await (const batch of batchesOf(data.valid)) batches.push(batch);
    expect(batches).toHaveLength(1);
    const batch = batches[0]!;
    expect(await (batch.inputs as tf.Tensor).array()).toEqual([
      [0.5, 0, 0, 0, 1],
      [0, 0, 0.5, 1, 0],
    ]);
    expect(await batch.targets.array()).toEqual([1, 0]);
    const decoded = await data.decodeBatch(batch);
    expect(await decoded.inputs.array()).toEqual([
      [1, 0, 0, 0, 2],
      [0, 0, 1, 2, 0],
    ]);
    expect(decoded.targets).toEqual(['vowel', 'consonant']);
    tf.dispose([batch.inputs as tf.Tensor, batch.targets, decoded.inputs]);
    expect(tf.memory().numTensors).toBe(before);
    // a second epoch reads nothing again: an item that never varies is kept whole
    for await (const again of batchesOf(data.valid)) tf.dispose([again.inputs as tf.Tensor, again.targets]);
    expect(reads.filter((item) => item.endsWith('!'))).toHaveLength(2);
    expect(await data.summary()).toEqual([
      'input → "vowel/aae"',
      'read the text → "aae"',
      'count letters a–e → Float32Array [5]',
      'label → "vowel" → 1 of 2 (consonant, vowel)',
      'batch → Tensor [2, 5] float32, then halve',
    ]);
  });

  it('keeps what does not vary and draws the rest anew each epoch, reproducibly for a seed', async () => {
    const reads: string[] = [];
    const epochValues = async (seed: number) => {
      const data = await wordBlock({ reads, shifts: true }).dataLoaders(WORDS, { batchSize: 4, seed });
      const epochs: number[][] = [];
      for (let epoch = 0; epoch < 3; epoch++) {
        data.train.setEpoch(epoch);
        const values: number[] = [];
        for await (const batch of batchesOf(data.train)) {
          values.push(...(await (batch.inputs as tf.Tensor).data()));
          tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
        }
        epochs.push(values);
      }
      return epochs;
    };
    const first = await epochValues(7);
    // four training words, read once each over three epochs; the shifts differ between epochs
    expect(reads).toHaveLength(4);
    expect(new Set(first.map((values) => values.join())).size).toBeGreaterThan(1);
    expect(await epochValues(7)).toEqual(first);
  });

  it('plainTrain() reads the training items in order, as validation reads its own: no augmentation', async () => {
    const data = await wordBlock({ reads: [], shifts: true }).dataLoaders(WORDS, { batchSize: 8, seed: 3 });
    const plain = data.plainTrain();
    expect(plain.options.items).toEqual(data.train.options.items);
    for (let epoch = 0; epoch < 2; epoch++) {
      plain.setEpoch(epoch);
      for await (const batch of batchesOf(plain)) {
        // the letter counts, halved by the batch transform, and never shifted by 100
        expect(await (batch.inputs as tf.Tensor).array()).toEqual([[1, 0, 0, 0, 0.5], [0.5, 0, 0, 0, 1], [0, 0.5, 0.5, 0.5, 0], [0, 0.5, 0.5, 0.5, 0]]);
        tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
      }
    }
  });

  it('item transforms change the encoded (input, target) pair, in training only', async () => {
    const block = wordBlock();
    const marked = new DataBlock<string, string>({
      ...block.options,
      itemTransforms: [
        {
          name: 'mark training pairs',
          random: true,
          encode: (sample: Sample, { training }) => (training ? { input: { data: Float32Array.of(10, ...(sample.input.data as Float32Array).slice(1)), shape: [5] }, target: 1 - (sample.target as number) } : sample),
        },
      ],
    });
    const data = await marked.dataLoaders(WORDS, { batchSize: 8 });
    for (const loader of [data.train, data.valid]) {
      for await (const batch of batchesOf(loader)) {
        const firsts = ((await (batch.inputs as tf.Tensor).array()) as number[][]).map((row) => row[0]);
        const targets = Array.from(await batch.targets.data());
        const names = loader.options.items.map((item) => (item.startsWith('vowel') ? 1 : 0));
        if (loader === data.train) {
          expect(firsts).toEqual([5, 5, 5, 5]);
          expect(targets.sort()).toEqual(names.map((index) => 1 - index).sort());
        } else {
          expect(firsts).toEqual([0.5, 0]);
          expect(targets).toEqual(names);
        }
        tf.dispose([batch.inputs as tf.Tensor, batch.targets]);
      }
    }
  });

  it('refuses no items, one class, an empty side of the split, and names the item a label fails on', async () => {
    await expect(wordBlock().dataLoaders('')).rejects.toThrow(DataError);
    await expect(wordBlock().dataLoaders(' ')).rejects.toThrow(/no words found$/);
    await expect(wordBlock().dataLoaders('vowel/a vowel/e!')).rejects.toThrow(new ConfigError("found only one class ('vowel') in vowel/a vowel/e!: a classifier needs at least two"));
    await expect(wordBlock().dataLoaders('vowel/a consonant/b')).rejects.toThrow(/^the split leaves 2 training and 0 validation words of 2 in vowel\/a consonant\/b; both need some/);
    const random = new DataBlock<string, string>({ ...wordBlock().options, splitter: randomSplitter({ validPct: 0.5, seed: 1 }), target: categoryBlock((item: string) => { if (!item.includes('/')) throw new DataError('not inside a class folder', { file: item }); return item.split('/')[0]!; }) });
    await expect(random.dataLoaders('vowel/a consonant/b loose')).rejects.toThrow('loose: not inside a class folder');
  });
});
