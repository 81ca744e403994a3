// A downstream Node project (ESM, strict TypeScript) composing its own image pipeline from the published
// packages: pictures in a folder per class → data loaders → a small ResNet and its Learner (imageLearner, fastai's
// vision_learner) → a bundle → a predictor that answers for a picture's bytes.
import { initBackend } from '@kindling/backend/node';
import { createBundle, registerTask } from '@kindling/deploy';
import { loadPredictor, saveBundle } from '@kindling/deploy/node';
import { generateShapesDataset, imageFolderDataLoaders, imageTask } from '@kindling/image/node';
import { imageLearner } from '@kindling/recipes';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const epochs = Number(process.env.EPOCHS ?? 5);
const workspace = await mkdtemp(join(tmpdir(), 'kindling-example-'));

const report = await initBackend(); // the best backend here, said in one line
// Your own pictures work the same: a folder with one sub-folder per class.
const pictures = await generateShapesDataset(join(workspace, 'shapes'), { perClass: 24, size: 32, seed: 7 });
const data = await imageFolderDataLoaders(pictures, { size: 32, batchSize: 16, seed: 7 });
console.log((await data.summary()).join('\n'));

const { learner, model } = imageLearner(data, { arch: [8, 16], seed: 7 }); // a ResNet sized by the data, cross-entropy, accuracy
await learner.fitOneCycle(epochs, 1e-2);
const last = learner.recorder.epochs.at(-1)!;
console.log(`${epochs} epoch(s) on ${report.name}: validation accuracy ${(last.metrics.accuracy! * 100).toFixed(1)}%`);

const bundleFolder = join(workspace, 'bundle');
const task = { kind: 'image' as const, labels: [...data.vocab.labels], preprocessing: data.preprocessing };
await saveBundle(await createBundle(model, task, { metrics: { accuracy: last.metrics.accuracy! } }), bundleFolder);
learner.dispose();
model.dispose();

registerTask(imageTask); // the kind this program reads, from its package (Node: decoded with sharp)
const predictor = await loadPredictor(bundleFolder, { kind: 'image' });
const answer = await predictor.predict(await readFile(join(pictures, 'circle', '0000.png')));
console.log(`circle/0000.png → ${answer.label} (${(answer.confidence * 100).toFixed(1)}%)`);
predictor.dispose();
