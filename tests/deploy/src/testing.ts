/**
 * Small example bundles for every task kind (tiny seeded models with real preprocessing) and raw
 * inputs for them: for tests, the browser parity check, the server benchmark and trying the server
 * without training first.
 */
import { encodeWav, SoundPipeline, synthesizeSound, type SoundPreprocessing } from '@kindling/audio';
import { soundTask } from '@kindling/audio/predict';
import { Random } from '@kindling/data';
import { defaultPalette } from '@kindling/image';
import { imageTask, segmentationTask } from '@kindling/image/node';
import type { ImagePreprocessing, RawImage } from '@kindling/image/predict';
import { resnet, unet } from '@kindling/models';
import { synthesizePointer, type PointerRecording } from '@kindling/pointer';
import { pointerTask } from '@kindling/pointer/node';
import { createBundle, registerTask, type Bundle, type TaskKind } from '@kindling/deploy';
import { type CollabQuery, collabTask, dotProductBias, generateTable, inferTabularSchema, type TableRow, tabularModel, TabularProcessor } from '@kindling/tabular';
import { tabularTask } from '@kindling/tabular/node';

// every modality's task kind, registered as the CLI registers them (with their Node file readers)
for (const task of [imageTask, segmentationTask, soundTask, pointerTask, tabularTask, collabTask]) registerTask(task);

/** Every task kind Kindling defines, each registered above. */
export const KINDS: readonly TaskKind[] = ['image', 'sound', 'pointer', 'segmentation', 'tabular', 'collab'];

const IMAGE: ImagePreprocessing = { size: 16, method: 'crop', channels: 3, stats: { mean: [0.5, 0.45, 0.4], std: [0.25, 0.25, 0.3] } };
const SOUND: SoundPreprocessing = { sampleRate: 8000, duration: 0.5, spectrogram: { nFft: 256, hopLength: 128, mels: 16 }, normalize: 'example' };

/** A bundle of `kind` with a tiny seeded model (untrained: for checking that predictions travel intact). */
export async function exampleBundle(kind: TaskKind, seed = 1): Promise<Bundle> {
  const metrics = { note: 'untrained example' };
  switch (kind) {
    case 'image': {
      const model = resnet({ inputShape: [IMAGE.size, IMAGE.size, 3], classes: 3, widths: [4, 8], seed });
      return disposeAfter(model, createBundle(model, { kind, labels: ['cat', 'dog', 'fox'], preprocessing: IMAGE }, { metrics }));
    }
    case 'segmentation': {
      const model = unet({ inputShape: [IMAGE.size, IMAGE.size, 3], classes: 3, widths: [4, 8], seed });
      return disposeAfter(model, createBundle(model, { kind, codes: ['background', 'shape', 'void'], voidIndex: 2, palette: defaultPalette(3), preprocessing: IMAGE }, { metrics }));
    }
    case 'sound': {
      const model = resnet({ inputShape: new SoundPipeline(SOUND).shape, classes: 2, widths: [4, 8], seed });
      return disposeAfter(model, createBundle(model, { kind, labels: ['tone', 'noise'], preprocessing: SOUND }, { metrics }));
    }
    case 'pointer': {
      const model = resnet({ inputShape: [16, 16, 3], classes: 2, widths: [4, 8], seed });
      return disposeAfter(model, createBundle(model, { kind, labels: ['bot', 'human'], preprocessing: { window: { by: 'events', size: 20 }, raster: { size: 16, fit: 'bbox' } } }, { metrics }));
    }
    case 'tabular': {
      const { rows } = generateTable({ rows: 300, seed });
      const processor = TabularProcessor.fit(rows, inferTabularSchema(rows, { target: 'income', source: 'example' }), { source: 'example' });
      const model = tabularModel({ cardinalities: processor.cardinalities, continuous: processor.continuousNames.length, outputs: processor.targetLabels!.length, layers: [8], seed });
      return disposeAfter(model, createBundle(model, { kind, processor: processor.toJSON() }, { metrics }));
    }
    case 'collab': {
      const users = Array.from({ length: 12 }, (_, index) => `u${index}`);
      const items = Array.from({ length: 20 }, (_, index) => `movie ${index}`);
      const model = dotProductBias({ users: users.length, items: items.length, factors: 4, yRange: [0, 5.5], seed });
      return disposeAfter(model, createBundle(model, { kind, model: 'dot', users, items, yRange: [0, 5.5], implicit: false }, { metrics }));
    }
    default:
      throw new Error(`no example bundle of kind '${kind}': Kindling makes examples of its own kinds only`);
  }
}

async function disposeAfter(model: { dispose(): void }, bundle: Promise<Bundle>): Promise<Bundle> {
  try {
    return await bundle;
  } finally {
    model.dispose();
  }
}

/** Raw inputs for an example bundle of `kind`: pixels, WAV bytes, recordings, rows or queries. */
export function exampleInputs(kind: TaskKind, count = 3, seed = 2): unknown[] {
  const random = new Random(seed);
  switch (kind) {
    case 'image':
    case 'segmentation':
      return Array.from({ length: count }, (_, index): RawImage => {
        const [width, height] = [20 + 4 * index, 18 + 3 * index];
        const data = new Uint8Array(width * height * 3);
        for (let i = 0; i < data.length; i++) data[i] = Math.floor(random.next() * 256);
        return { data, width, height, channels: 3 };
      });
    case 'sound':
      return Array.from({ length: count }, (_, index) => encodeWav({ sampleRate: 11025, channels: [synthesizeSound(index % 2 === 0 ? 'tone' : 'noise', random, { sampleRate: 11025, duration: 0.6 })] }));
    case 'pointer':
      return Array.from({ length: count }, (_, index): PointerRecording => ({ format: 'kindling-pointer@1', ...synthesizePointer(index % 2 === 0 ? 'human' : 'bot', random) }));
    case 'tabular':
      return generateTable({ rows: count, seed }).rows.map(({ income: _, ...row }): TableRow => row);
    case 'collab':
      return [{ user: 'u1', item: 'movie 3' }, { user: 'u2' , count: 3 }, { liked: ['movie 1', 'movie 2'], count: 3 }, { similarTo: 'movie 4', count: 3 }, { user: 'u5', item: 'movie 7' }].slice(0, Math.max(count, 1)) satisfies CollabQuery[];
    default:
      throw new Error(`no example inputs of kind '${kind}': Kindling makes examples of its own kinds only`);
  }
}
