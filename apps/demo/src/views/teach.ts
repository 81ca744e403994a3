import { SoundPipeline, decodeWav, type SoundPreprocessing } from '@kindling/audio';
import { TensorDataLoader } from '@kindling/data';
import { createBundle, ImagePreparation, type AnyPredictor, type Bundle, type ImagePreprocessing, type TaskSpec } from '@kindling/deploy';
import { decodeImageInBrowser, downloadBundle, loadPredictor, saveBundle } from '@kindling/deploy/browser';
import { accuracy, crossEntropyLoss, fromLayersModel, Learner } from '@kindling/learner';
import { HEAD_LAYER, resnet } from '@kindling/models';
import { cleanEvents, rasterize, type PointerRecording, type RasterOptions } from '@kindling/pointer';
import * as tf from '@tensorflow/tfjs';
import { clearError, drawPixels, el, nextFrame, renderBars, renderChart, showAnswer, showError } from '../ui';
import { createPad } from './pad';
import { percent, recordMicrophone, resizedPixels, snapshot } from './shared';

type Kind = 'gestures' | 'pictures' | 'sounds';

const RASTER: RasterOptions = { size: 32, fit: 'bbox' };
const PICTURES: ImagePreprocessing = { size: 32, method: 'crop', channels: 3, stats: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } };
const SOUNDS: SoundPreprocessing = { sampleRate: 16000, duration: 1, spectrogram: { nFft: 512, hopLength: 160, mels: 40 }, normalize: 'example' };

interface Example {
  features: Float32Array;
  thumbnail: HTMLCanvasElement;
}

interface TaughtClass {
  name: HTMLInputElement;
  examples: Example[];
  card: HTMLElement;
  thumbs: HTMLElement;
  count: HTMLElement;
}

/** The model input shape and the bundle's task for what is being taught. */
function taskFor(kind: Kind, labels: string[]): { shape: [number, number, number]; task: TaskSpec } {
  if (kind === 'gestures') return { shape: [32, 32, 3], task: { kind: 'pointer', labels, preprocessing: { window: 'whole', raster: RASTER } } };
  if (kind === 'pictures') return { shape: [32, 32, 3], task: { kind: 'image', labels, preprocessing: PICTURES } };
  return { shape: new SoundPipeline(SOUNDS).shape, task: { kind: 'sound', labels, preprocessing: SOUNDS } };
}

/** Gesture → the picture a pointer bundle makes of it (the same steps as its predictor). */
function gestureFeatures(recording: PointerRecording): Float32Array {
  const { events } = cleanEvents(recording.events, recording.screen);
  if (events.length < 2) throw new Error('draw something in the pad first');
  return rasterize(events, { screen: recording.screen, ...RASTER });
}

function thumbnail(pixels: ArrayLike<number>, floats: boolean): HTMLCanvasElement {
  const canvas = el('canvas', { className: 'pixels' });
  drawPixels(canvas, pixels, 32, 32, { floats, scale: 1 });
  return canvas;
}

/**
 * Teachable-Machine style: name classes, collect examples in the page (mouse gestures, pictures or
 * sounds), train with the Learner here — yielding to the page between batches — test, and export the
 * bundle that `kindling predict` reads in Node.
 */
export async function teachView(panel: HTMLElement): Promise<void> {
  let kind: Kind = 'gestures';
  const classes: TaughtClass[] = [];
  let model: tf.LayersModel | undefined;
  let predictor: AnyPredictor | undefined;
  let bundle: Bundle | undefined;

  const status = el('p', { id: 'teach-status', role: 'status', 'aria-live': 'polite' });
  const progress = el('progress', { id: 'teach-progress', max: 1, value: 0, 'aria-label': 'training progress' });
  const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  chart.classList.add('chart');
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', 'training loss, batch by batch');
  const answer = el('output', { id: 'teach-answer', className: 'answer', 'aria-live': 'polite' });
  const bars = el('ul', { className: 'bars', 'aria-label': 'probability of each class' });
  const classList = el('div', { className: 'classes', id: 'teach-classes' });
  const pictureImage = new ImagePreparation(PICTURES, decodeImageInBrowser);
  const pipeline = new SoundPipeline(SOUNDS);
  const video = el('video', { autoplay: true, playsInline: true, muted: true, width: 200, hidden: true, 'aria-label': 'camera' });

  const testInput = async (features: () => Promise<{ input: unknown }>) => {
    if (!predictor) return;
    clearError(answer);
    try {
      const prediction = (await predictor.predict((await features()).input as never)) as { label: string; confidence: number; probabilities: Record<string, number> };
      showAnswer(answer, `${prediction.label} (${percent(prediction.confidence)})`, prediction);
      renderBars(bars, prediction.probabilities);
    } catch (error) {
      showError(answer, error);
    }
  };

  const pad = createPad({
    id: 'teach-pad',
    label: 'drawing pad for gestures: draw one, then add it to a class (or test the trained model)',
    onStroke: () => {
      if (predictor && testing.checked) {
        const recording = pad.recording();
        answer.dataset.input = JSON.stringify(recording); // what was asked, for checking the exported bundle elsewhere
        void testInput(async () => ({ input: recording })).then(() => pad.clear());
      }
    },
  });
  const testing = el('input', { type: 'checkbox', id: 'teach-test-mode', disabled: true });

  const addExample = (taught: TaughtClass, example: Example) => {
    taught.examples.push(example);
    taught.thumbs.append(example.thumbnail);
    taught.count.textContent = `${taught.examples.length} example${taught.examples.length === 1 ? '' : 's'}`;
    train.disabled = classes.filter((entry) => entry.examples.length >= 2).length < 2;
  };

  const addClass = (name: string) => {
    const taught: TaughtClass = { name: el('input', { type: 'text', value: name, 'aria-label': 'class name' }), examples: [], card: el('div', { className: 'class-card' }), thumbs: el('div', { className: 'thumbs' }), count: el('span', {}, '0 examples') };
    const index = classes.length + 1;
    const files = el('input', { type: 'file', multiple: true, id: `teach-files-${index}`, accept: kind === 'pictures' ? 'image/*' : '.wav,audio/wav', onchange: async () => {
      for (const file of Array.from(files.files ?? [])) {
        try {
          if (kind === 'pictures') {
            const raw = await decodeImageInBrowser(file, file.name);
            addExample(taught, { features: (await pictureImage.prepare(raw)).features, thumbnail: thumbnail(await resizedPixels(raw, PICTURES), false) });
          } else {
            const features = pipeline.features(pipeline.prepare(decodeWav(new Uint8Array(await file.arrayBuffer()), file.name), file.name));
            addExample(taught, { features: features.data, thumbnail: el('canvas', { className: 'pixels' }) });
          }
        } catch (error) {
          showError(status, error);
        }
      }
      files.value = '';
    } });
    const capture = el('button', { type: 'button', className: 'add-example', onclick: async () => {
      clearError(status);
      try {
        if (kind === 'gestures') {
          const recording = pad.recording();
          const features = gestureFeatures(recording);
          addExample(taught, { features, thumbnail: thumbnail(features, true) });
          pad.clear();
        } else if (kind === 'pictures') {
          if (video.hidden) {
            video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
            video.hidden = false;
            return;
          }
          const raw = await decodeImageInBrowser(snapshot(video), 'camera');
          addExample(taught, { features: (await pictureImage.prepare(raw)).features, thumbnail: thumbnail(await resizedPixels(raw, PICTURES), false) });
        } else {
          const { samples, sampleRate } = await recordMicrophone(SOUNDS.duration);
          addExample(taught, { features: pipeline.features(pipeline.prepare({ sampleRate, channels: [samples] }, 'microphone')).data, thumbnail: el('canvas', { className: 'pixels' }) });
        }
      } catch (error) {
        showError(status, error);
      }
    } }, kind === 'gestures' ? 'Add the drawing' : kind === 'pictures' ? 'Add a camera picture' : 'Record an example');
    taught.card.append(el('label', {}, 'Class ', taught.name), capture, ...(kind === 'gestures' ? [] : [el('label', { htmlFor: files.id }, 'or add files ', files)]), el('p', {}, taught.count), taught.thumbs);
    classes.push(taught);
    classList.append(taught.card);
  };

  const reset = () => {
    classes.length = 0;
    classList.replaceChildren();
    model?.dispose();
    model = undefined;
    predictor = undefined;
    bundle = undefined;
    testing.disabled = true;
    testing.checked = false;
    exportButton.disabled = saveButton.disabled = true;
    pad.element.hidden = kind !== 'gestures';
    addClass(kind === 'gestures' ? 'circle' : 'first');
    addClass(kind === 'gestures' ? 'zigzag' : 'second');
  };

  const train = el('button', { type: 'button', className: 'primary', id: 'teach-train', disabled: true, onclick: async () => {
    const usable = classes.filter((entry) => entry.examples.length > 0);
    const labels = usable.map((entry) => entry.name.value.trim() || 'unnamed');
    if (new Set(labels).size !== labels.length) return showError(status, new Error('two classes have the same name'));
    clearError(status);
    train.disabled = true;
    const { shape, task } = taskFor(kind, labels);
    const examples = usable.flatMap((entry, label) => entry.examples.map((example) => ({ features: example.features, label })));
    const inputs = tf.tensor4d(Float32Array.from(examples.flatMap((example) => Array.from(example.features))), [examples.length, ...shape]);
    const targets = tf.tensor1d(examples.map((example) => example.label), 'int32');
    model?.dispose();
    model = resnet({ inputShape: shape, classes: labels.length, widths: [8, 16, 32], seed: 1 });
    const epochs = 20;
    const learner = new Learner({
      model: fromLayersModel(model, { splitAt: HEAD_LAYER }),
      data: { train: new TensorDataLoader(inputs, targets, { batchSize: 8, shuffle: true, seed: 1 }) },
      loss: crossEntropyLoss(),
      metrics: [accuracy()],
      seed: 1,
      callbacks: [
        {
          name: 'page',
          order: 60,
          async afterBatch(current) {
            const done = current.recorder.losses.length;
            const total = epochs * Math.ceil(examples.length / 8);
            progress.value = done / total;
            status.textContent = `training: epoch ${current.epoch + 1} of ${epochs}, loss ${current.recorder.smoothLosses.at(-1)?.toFixed(3)}`;
            renderChart(chart, [
              { name: 'train loss', colour: '#f0a070', points: current.recorder.losses.map((loss, index) => [index + 1, loss]) },
              { name: 'smoothed', colour: '#b4410c', points: current.recorder.smoothLosses.map((loss, index) => [index + 1, loss]) },
            ]);
            await nextFrame(); // let the page paint and take input between batches
          },
        },
      ],
    });
    try {
      await learner.fitOneCycle(epochs, 1e-2);
      bundle = await createBundle(model, task, { metrics: { trainLoss: learner.recorder.smoothLosses.at(-1) }, training: { epochs, lr: 1e-2, examples: examples.length, in: 'browser' } });
      predictor = await loadPredictor(bundle, { model });
      const final = learner.recorder.smoothLosses.at(-1)!;
      status.textContent = `trained on ${examples.length} examples of ${labels.length} classes (final loss ${final.toFixed(3)}); test it${kind === 'gestures' ? ' by drawing in the pad' : ''}, then export it`;
      status.dataset.trained = 'true';
      testing.disabled = false;
      testing.checked = true;
      exportButton.disabled = saveButton.disabled = false;
    } catch (error) {
      showError(status, error);
    } finally {
      learner.dispose();
      tf.dispose([inputs, targets]);
      train.disabled = false;
    }
  } }, 'Train');

  const exportButton = el('button', { type: 'button', id: 'teach-export', disabled: true, onclick: () => bundle && downloadBundle(bundle) }, 'Download the bundle');
  const saveButton = el('button', { type: 'button', id: 'teach-save', disabled: true, onclick: async () => {
    if (!bundle) return;
    await saveBundle(bundle, 'indexeddb://taught');
    status.textContent = 'saved in this browser as indexeddb://taught';
  } }, 'Save in this browser');
  const testFiles = el('input', { type: 'file', id: 'teach-test-file', accept: 'image/*,.wav,audio/wav', onchange: () => {
    const file = testFiles.files?.[0];
    if (file) void testInput(async () => ({ input: kind === 'pictures' ? file : new Uint8Array(await file.arrayBuffer()) }));
  } });
  const kindPicker = el('select', { id: 'teach-kind', onchange: () => {
    kind = kindPicker.value as Kind;
    reset();
  } }, el('option', { value: 'gestures' }, 'mouse gestures'), el('option', { value: 'pictures' }, 'pictures'), el('option', { value: 'sounds' }, 'sounds'));

  panel.append(
    el('p', {}, 'Teach it something new: name two or more classes, give each a few examples, and train a small model right here. The examples and the model stay in this browser until you download the bundle (kindling.json, model.json, weights.bin) — `kindling predict` reads it in Node.'),
    el('p', {}, el('label', { htmlFor: 'teach-kind' }, 'What to teach: ', kindPicker), ' ', el('button', { type: 'button', id: 'teach-add-class', onclick: () => addClass(`class ${classes.length + 1}`) }, 'Add a class')),
    el('div', { className: 'row' }, pad.element, classList),
    el('p', {}, train, ' ', progress, ' ', el('label', { htmlFor: 'teach-test-mode', style: 'display: inline' }, testing, ' test mode (drawings are predicted, not collected)')),
    status,
    chart,
    el('div', { className: 'row' }, el('div', {}, el('label', { htmlFor: 'teach-test-file' }, 'Test with a file ', testFiles), answer, bars), el('p', {}, exportButton, ' ', saveButton)),
    video,
  );
  reset();
}
