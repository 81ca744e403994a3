import { SoundPipeline, decodeWav, spectrogramToRgba, type SoundPreprocessing, type Spectrogram } from '@kindling/audio';
import { TensorDataLoader } from '@kindling/data';
import { createBundle, describeValues, familiarityOf, type AnyPredictor, type Bundle, type Familiarity, type TaskSpec } from '@kindling/deploy';
import { downloadBundle, loadBundle, loadPredictor, saveBundle } from '@kindling/deploy/browser';
import { browserImageDecoder as decodeImageInBrowser, ImagePreparation, type ImagePreprocessing } from '@kindling/image/predict';
import { visionLearner } from '@kindling/recipes';
import { cleanEvents, rasterize, type PointerRecording, type RasterOptions } from '@kindling/pointer';
import * as tf from '@tensorflow/tfjs';
import { clearAnswer, clearError, drawPixels, el, linkResult, nextFrame, renderBars, renderChart, reveal, showAnswer, showError, startWork } from '../ui';
import { createPad } from './pad';
import { everyFrame, openDevice, percent, recordMicrophone, resizedPixels, snapshot } from './shared';

type Kind = 'gestures' | 'pictures' | 'sounds';

const RASTER: RasterOptions = { size: 32, fit: 'bbox' };
const PICTURES: ImagePreprocessing = { size: 32, method: 'crop', channels: 3, stats: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } };
const SOUNDS: SoundPreprocessing = { sampleRate: 16000, duration: 1, spectrogram: { nFft: 512, hopLength: 160, mels: 40 }, normalize: 'example' };
/** Each class needs this many examples: one in every four is held out to measure the model's accuracy. */
const MIN_EXAMPLES = 4;
const HELD_OUT_EVERY = 4;
/** Where "Save in this browser" keeps the bundle. */
const SAVED = 'indexeddb://taught';
/** Pictures a burst takes from the camera, and the pause between them. */
const BURST = { pictures: 10, milliseconds: 150 };

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

const KIND_OF_TASK: Record<TaskSpec['kind'], Kind | undefined> = { pointer: 'gestures', image: 'pictures', sound: 'sounds', segmentation: undefined, tabular: undefined, collab: undefined };

/** The model input shape and the bundle's task for what is being taught. */
function taskFor(kind: Kind, labels: string[]): { shape: [number, number, number]; task: TaskSpec } {
  if (kind === 'gestures') return { shape: [32, 32, 3], task: { kind: 'pointer', labels, preprocessing: { window: 'whole', raster: RASTER } } };
  if (kind === 'pictures') return { shape: [32, 32, 3], task: { kind: 'image', labels, preprocessing: PICTURES } };
  return { shape: new SoundPipeline(SOUNDS).shape, task: { kind: 'sound', labels, preprocessing: SOUNDS } };
}

/**
 * "Not sure" for a taught model, as \`kindling train\` records it for its bundles: the range of the training
 * examples' level, contrast and detail (as the model sees them), and the confidence under which held-out answers
 * were mostly wrong (with ten or more held out). A few examples give narrow ranges, so each is widened by half
 * its width on both sides: a blank picture, noise, silence or a tone still falls outside.
 */
function familiarityFrom(model: tf.LayersModel, examples: ReadonlyArray<{ features: Float32Array; label: number; heldOut: boolean }>, shape: [number, number, number], heldOutInputs: tf.Tensor4D): Familiarity {
  const held = examples.filter((example) => example.heldOut);
  const probabilities = held.length === 0 ? [] : tf.tidy(() => tf.softmax(model.predict(heldOutInputs) as tf.Tensor2D).arraySync());
  const familiarity = familiarityOf(examples.filter((example) => !example.heldOut).map((example) => describeValues(example.features, shape)), {
    confidences: probabilities.map((row) => Math.max(...row)),
    correct: probabilities.map((row, index) => row.indexOf(Math.max(...row)) === held[index]!.label),
  });
  const ranges = Object.fromEntries(Object.entries(familiarity.ranges).map(([name, [low, high]]) => [name, [low - (high - low) / 2, high + (high - low) / 2]])) as Familiarity['ranges'];
  return { ...familiarity, ranges };
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

/** A spectrogram as a small picture (time left to right, pitch upwards), as the Sounds view draws it. */
function spectrogramThumbnail(spectrogram: Spectrogram): HTMLCanvasElement {
  const rgba = spectrogramToRgba(spectrogram);
  const canvas = el('canvas', { className: 'pixels', width: rgba.width, height: rgba.height });
  canvas.getContext('2d')!.putImageData(new ImageData(rgba.data as Uint8ClampedArray<ArrayBuffer>, rgba.width, rgba.height), 0, 0);
  return canvas;
}

/**
 * Teachable-Machine style: name classes, collect examples in the page (mouse gestures, pictures or
 * sounds; a burst of camera pictures at once; any example removed with a click), train with the Learner here for
 * the epochs chosen — yielding to the page between batches, stoppable — with one example in four held out to
 * measure accuracy, test (live from the camera too), and export the bundle that `kindling predict` reads in Node,
 * or keep it in this browser and reopen it later.
 */
export async function teachView(panel: HTMLElement): Promise<void> {
  let kind: Kind = 'gestures';
  const classes: TaughtClass[] = [];
  let model: tf.LayersModel | undefined;
  let predictor: AnyPredictor | undefined;
  let bundle: Bundle | undefined;
  let stopRequested = false;
  let stopFrames: (() => void) | undefined;

  const status = el('p', { id: 'teach-status', role: 'status', 'aria-live': 'polite' });
  const progress = el('progress', { id: 'teach-progress', max: 1, value: 0, 'aria-label': 'training progress' });
  const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  chart.classList.add('chart');
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', 'training loss, batch by batch');
  const answer = el('output', { id: 'teach-answer', className: 'answer', 'aria-live': 'polite' });
  const bars = el('ul', { className: 'bars', 'aria-label': 'probability of each class' });
  linkResult(answer, bars);
  const classList = el('div', { className: 'classes', id: 'teach-classes' });
  const pictureImage = new ImagePreparation(PICTURES, decodeImageInBrowser);
  const pipeline = new SoundPipeline(SOUNDS);
  const video = el('video', { autoplay: true, playsInline: true, muted: true, width: 200, hidden: true, 'aria-label': 'camera' });

  const say = (text: string) => {
    clearError(status);
    status.textContent = text;
  };
  const stopCamera = () => {
    const stream = video.srcObject as MediaStream | null;
    for (const track of stream?.getTracks() ?? []) track.stop();
    video.srcObject = null;
    video.hidden = true;
  };
  /**
   * The camera's preview in `place` (the class card taking pictures, or the test area), started if it is off;
   * resolves once it shows a picture, so the first click already takes one.
   */
  const startCamera = async (place: HTMLElement) => {
    if (video.parentElement !== place) place.append(video);
    if (video.hidden) {
      video.srcObject = await openDevice('camera');
      video.hidden = false;
      await video.play().catch(() => undefined);
    }
    for (let waited = 0; video.videoWidth === 0; waited += 50) {
      if (waited > 10_000) throw new Error('the camera started but gave no picture within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /** Answers one test input; drawings and camera frames keep the last answer until their own. */
  const testInput = async (features: () => Promise<{ input: unknown }>, options: { live?: boolean } = {}) => {
    if (!predictor) return;
    startWork(answer, { keep: options.live });
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
        void testInput(async () => ({ input: recording }), { live: true }).then(() => pad.clear());
      }
    },
  });
  const testing = el('input', { type: 'checkbox', id: 'teach-test-mode', disabled: true });
  // gestures only: drawings in the pad are predicted instead of collected
  const testModeLabel = el('span', {}, el('label', { htmlFor: 'teach-test-mode', style: 'display: inline' }, testing, ' test mode (drawings are predicted, not collected)'));

  const ready = () => classes.filter((entry) => entry.examples.length >= MIN_EXAMPLES).length;
  const updateTrain = () => {
    train.disabled = ready() < 2;
    train.title = train.disabled ? `each of at least two classes needs ${MIN_EXAMPLES} examples (one in ${HELD_OUT_EVERY} is held out to measure accuracy)` : '';
  };
  const showCount = (taught: TaughtClass) => {
    const count = taught.examples.length;
    taught.count.textContent = `${count} example${count === 1 ? '' : 's'}${count < MIN_EXAMPLES ? ` (${MIN_EXAMPLES - count} more to train)` : ''}`;
  };
  const addExample = (taught: TaughtClass, example: Example) => {
    taught.examples.push(example);
    // each example's thumbnail is a button that removes it
    const remove = el('button', { type: 'button', className: 'thumb', 'aria-label': `remove this example of ${taught.name.value || 'the class'}`, title: 'remove this example', onclick: () => {
      const index = taught.examples.indexOf(example);
      if (index >= 0) taught.examples.splice(index, 1);
      remove.remove();
      showCount(taught);
      updateTrain();
    } }, example.thumbnail);
    taught.thumbs.append(remove);
    showCount(taught);
    updateTrain();
  };
  const pictureExample = async (source: Blob | HTMLCanvasElement, name: string): Promise<Example> => {
    const raw = await decodeImageInBrowser(source, name);
    return { features: (await pictureImage.prepare(raw)).features, thumbnail: thumbnail(await resizedPixels(raw, PICTURES), false) };
  };
  const soundExample = (audio: Parameters<SoundPipeline['prepare']>[0], name: string): Example => {
    const features = pipeline.features(pipeline.prepare(audio, name));
    return { features: features.data, thumbnail: spectrogramThumbnail(features) };
  };

  const addClass = (name: string) => {
    const taught: TaughtClass = { name: el('input', { type: 'text', value: name, 'aria-label': 'class name' }), examples: [], card: el('div', { className: 'class-card' }), thumbs: el('div', { className: 'thumbs' }), count: el('span', {}) };
    const index = classes.length + 1;
    const files = el('input', { type: 'file', multiple: true, id: `teach-files-${index}`, accept: kind === 'pictures' ? 'image/*' : '.wav,audio/wav', onchange: async () => {
      for (const file of Array.from(files.files ?? [])) {
        try {
          if (kind === 'pictures') addExample(taught, await pictureExample(file, file.name));
          else addExample(taught, soundExample(decodeWav(new Uint8Array(await file.arrayBuffer()), file.name), file.name));
        } catch (error) {
          showError(status, error);
        }
      }
      files.value = '';
    } });
    const addPicture = async () => addExample(taught, await pictureExample(snapshot(video), 'camera'));
    // pictures: a click takes one (starting the camera in this card); holding the button down takes one every
    // BURST.milliseconds until it is let go
    let held: { timer: number; pictures: number } | undefined;
    const stopHolding = () => {
      if (held !== undefined) clearInterval(held.timer);
    };
    const capture = el('button', { type: 'button', className: 'add-example', onclick: async () => {
      if (held !== undefined) {
        // the click that ends a hold: the hold took its pictures
        const took = held.pictures;
        held = undefined;
        if (took > 0) return;
      }
      clearError(status);
      try {
        if (kind === 'gestures') {
          const features = gestureFeatures(pad.recording());
          addExample(taught, { features, thumbnail: thumbnail(features, true) });
          pad.clear();
        } else if (kind === 'pictures') {
          await startCamera(taught.card);
          await addPicture();
        } else {
          capture.disabled = true;
          capture.textContent = `Recording ${SOUNDS.duration} s…`;
          const { samples, sampleRate } = await recordMicrophone(SOUNDS.duration);
          addExample(taught, soundExample({ sampleRate, channels: [samples] }, 'microphone'));
        }
      } catch (error) {
        showError(status, error);
      } finally {
        if (kind === 'sounds') {
          capture.disabled = false;
          capture.textContent = 'Record an example';
        }
      }
    } }, kind === 'gestures' ? 'Add the drawing' : kind === 'pictures' ? 'Add a camera picture' : 'Record an example');
    if (kind === 'pictures') {
      capture.title = 'click for one picture; hold down for one every 0.15 s';
      capture.addEventListener('pointerdown', () => {
        stopHolding();
        const hold = { timer: 0, pictures: 0 };
        held = hold;
        const start = Date.now();
        hold.timer = window.setInterval(() => {
          if (Date.now() - start < 400 || video.videoWidth === 0) return; // a click, not a hold (yet)
          hold.pictures++;
          void addPicture().catch((error: unknown) => showError(status, error));
        }, BURST.milliseconds);
        void startCamera(taught.card).catch((error: unknown) => showError(status, error));
      });
      for (const end of ['pointerup', 'pointerleave', 'pointercancel']) capture.addEventListener(end, stopHolding);
    }
    // pictures: a burst of camera pictures at once (move the thing a little between them)
    const burst = kind !== 'pictures' ? undefined : el('button', { type: 'button', className: 'add-burst', onclick: async () => {
      clearError(status);
      try {
        await startCamera(taught.card);
        burst!.disabled = true;
        for (let picture = 0; picture < BURST.pictures; picture++) {
          await addPicture();
          await new Promise((resolve) => setTimeout(resolve, BURST.milliseconds));
        }
      } catch (error) {
        showError(status, error);
      } finally {
        burst!.disabled = false;
      }
    } }, `Add ${BURST.pictures} in a burst`);
    taught.card.append(el('label', {}, 'Class ', taught.name), capture, ...(burst ? [' ', burst] : []), ...(kind === 'gestures' ? [] : [el('label', { htmlFor: files.id }, 'or add files ', files)]), el('p', {}, taught.count), taught.thumbs);
    showCount(taught);
    classes.push(taught);
    classList.append(taught.card);
  };

  const forgetModel = () => {
    model?.dispose();
    model = undefined;
    predictor = undefined;
    bundle = undefined;
    testing.disabled = true;
    testing.checked = false;
    liveBox.checked = false;
    listening++; // a microphone loop ends
    stopLive();
    exportButton.disabled = saveButton.disabled = true;
    delete status.dataset.trained;
  };
  // switching what to teach starts over: no old classes, model, chart, answer, status or running camera
  const reset = () => {
    classes.length = 0;
    classList.replaceChildren();
    forgetModel();
    stopCamera();
    renderChart(chart, []);
    progress.value = 0;
    clearAnswer(answer);
    say(`Give each class at least ${MIN_EXAMPLES} examples${kind === 'gestures' ? ' (draw in the pad, then add the drawing)' : ''}.`);
    pad.element.hidden = kind !== 'gestures';
    liveLabel.hidden = kind === 'gestures';
    liveText.textContent = kind === 'pictures' ? ' test live from the camera' : ' test live from the microphone';
    testModeLabel.hidden = kind !== 'gestures';
    addClass(kind === 'gestures' ? 'circle' : 'first');
    addClass(kind === 'gestures' ? 'zigzag' : 'second');
    updateTrain();
  };

  const epochsInput = el('input', { type: 'number', id: 'teach-epochs', min: 1, max: 200, value: 20, 'aria-label': 'epochs' });
  const stopButton = el('button', { type: 'button', id: 'teach-stop', disabled: true, onclick: () => {
    stopRequested = true;
    stopButton.disabled = true;
    status.textContent = 'stopping after this batch…';
  } }, 'Stop');

  const train = el('button', { type: 'button', className: 'primary', id: 'teach-train', disabled: true, onclick: async () => {
    const usable = classes.filter((entry) => entry.examples.length > 0);
    const labels = usable.map((entry) => entry.name.value.trim() || 'unnamed');
    if (new Set(labels).size !== labels.length) return showError(status, new Error('two classes have the same name'));
    if (usable.some((entry) => entry.examples.length < MIN_EXAMPLES)) return showError(status, new Error(`every class needs at least ${MIN_EXAMPLES} examples`));
    const epochs = Math.round(Number(epochsInput.value));
    if (!(epochs >= 1 && epochs <= 200)) return showError(status, new Error('epochs must be a whole number from 1 to 200'));
    say('starting…');
    forgetModel();
    stopCamera(); // not needed while training
    train.disabled = true;
    stopRequested = false;
    stopButton.disabled = false;
    const { shape, task } = taskFor(kind, labels);
    const all = usable.flatMap((entry, label) => entry.examples.map((example, index) => ({ features: example.features, label, heldOut: index % HELD_OUT_EVERY === HELD_OUT_EVERY - 1 })));
    const tensorsOf = (examples: typeof all) => ({
      inputs: tf.tensor4d(Float32Array.from(examples.flatMap((example) => Array.from(example.features))), [examples.length, ...shape]),
      targets: tf.tensor1d(examples.map((example) => example.label), 'int32'),
    });
    const trainSet = tensorsOf(all.filter((example) => !example.heldOut));
    const validSet = tensorsOf(all.filter((example) => example.heldOut));
    const trainCount = all.length - validSet.targets.shape[0];
    // a small ResNet sized for the examples and its Learner (fastai's vision_learner), as kindling train builds them
    const built = visionLearner(
      {
        train: new TensorDataLoader(trainSet.inputs, trainSet.targets, { batchSize: 8, shuffle: true, seed: 1 }),
        valid: new TensorDataLoader(validSet.inputs, validSet.targets, { batchSize: 32 }),
        vocab: { size: labels.length },
      },
      shape,
      {
        arch: [8, 16, 32],
        seed: 1,
        callbacks: [
          {
            name: 'page',
            order: 60,
            async afterBatch(current) {
              if (stopRequested) current.cancel('fit', 'stopped from the page');
              const done = current.recorder.losses.length;
              progress.value = done / (epochs * Math.ceil(trainCount / 8));
              status.textContent = `training: epoch ${current.epoch + 1} of ${epochs}, loss ${current.recorder.smoothLosses.at(-1)?.toFixed(3)}`;
              renderChart(chart, [
                { name: 'train loss', colour: '#c2410c', points: current.recorder.losses.map((loss, index) => [index + 1, loss]) },
                { name: 'smoothed', colour: '#1d4ed8', points: current.recorder.smoothLosses.map((loss, index) => [index + 1, loss]) },
              ]);
              await nextFrame(); // let the page paint and take input between batches
            },
          },
        ],
      },
    );
    model = built.model;
    const learner = built.learner;
    try {
      await learner.fitOneCycle(epochs, 1e-2);
      const ran = learner.recorder.epochs.length;
      const held = learner.recorder.epochs.at(-1)?.metrics.accuracy;
      const metrics = { trainLoss: learner.recorder.smoothLosses.at(-1), ...(held === undefined ? {} : { accuracy: held }) };
      const familiarity = familiarityFrom(model, all, shape, validSet.inputs);
      bundle = await createBundle(model, { ...task, familiarity } as TaskSpec, { metrics, training: { epochs: ran, lr: 1e-2, examples: trainCount, heldOut: validSet.targets.shape[0], in: 'browser' } });
      predictor = await loadPredictor(bundle, { model });
      const stopped = learner.stopReason === undefined ? '' : `stopped after ${ran} of ${epochs} epochs; `;
      const accuracyText = held === undefined ? '' : `; accuracy on the ${validSet.targets.shape[0]} held-out examples ${percent(held)}`;
      say(`${stopped}trained on ${trainCount} examples of ${labels.length} classes (final loss ${learner.recorder.smoothLosses.at(-1)?.toFixed(3)})${accuracyText}. Test it${kind === 'gestures' ? ' by drawing in the pad' : ''}, then download it or keep it in this browser.`);
      status.dataset.trained = 'true';
      testing.disabled = false;
      testing.checked = true;
      exportButton.disabled = saveButton.disabled = false;
    } catch (error) {
      showError(status, error);
    } finally {
      learner.dispose();
      tf.dispose([trainSet.inputs, trainSet.targets, validSet.inputs, validSet.targets]);
      stopButton.disabled = true;
      updateTrain();
    }
  } }, 'Train');

  // one file named for its classes (circle-zigzag.kindling)
  const fileName = (trained: Bundle) => ((trained.manifest.task as { labels?: readonly string[] }).labels ?? []).join('-').replace(/[^\p{L}\p{N}_-]+/gu, '_').slice(0, 80) || 'model';
  const exportButton = el('button', { type: 'button', id: 'teach-export', disabled: true, onclick: () => bundle && downloadBundle(bundle, fileName(bundle)) }, 'Download the model');
  const saveButton = el('button', { type: 'button', id: 'teach-save', disabled: true, onclick: async () => {
    if (!bundle) return;
    try {
      await saveBundle(bundle, SAVED);
      say(`saved in this browser (${SAVED}); "Open the saved model" brings it back, after a reload too`);
    } catch (error) {
      showError(status, error);
    }
  } }, 'Save in this browser');
  const openButton = el('button', { type: 'button', id: 'teach-open', onclick: async () => {
    try {
      const saved = await loadBundle(SAVED);
      const savedKind = KIND_OF_TASK[saved.manifest.task.kind];
      if (savedKind === undefined) throw new Error(`the saved model is a ${saved.manifest.task.kind} model, not one taught here`);
      kind = savedKind;
      kindPicker.value = savedKind;
      reset();
      bundle = saved;
      predictor = await loadPredictor(saved);
      const labels = (saved.manifest.task as { labels?: readonly string[] }).labels ?? [];
      say(`opened the model saved in this browser: ${kind}, classes ${labels.join(', ')}. Test it${kind === 'gestures' ? ' by drawing in the pad' : ''}.`);
      status.dataset.trained = 'true';
      testing.disabled = false;
      testing.checked = true;
      exportButton.disabled = false;
    } catch (error) {
      showError(status, new Error(`no model saved in this browser yet, or it cannot be read (${error instanceof Error ? error.message : String(error)})`));
    }
  } }, 'Open the saved model');
  const testFiles = el('input', { type: 'file', id: 'teach-test-file', accept: 'image/*,.wav,audio/wav', onchange: () => {
    const file = testFiles.files?.[0];
    if (file) void testInput(async () => ({ input: kind === 'pictures' ? file : new Uint8Array(await file.arrayBuffer()) })).then(() => reveal(answer));
  } });

  // pictures: predict the camera continuously
  const stopLive = () => {
    stopFrames?.();
    stopFrames = undefined;
  };
  // pictures: test live from the camera (its preview beside the answer); sounds: from the microphone, one
  // recording after another; unticked, the camera goes off
  let listening = 0; // the microphone loop that runs; an older one ends
  const liveArea = el('div', { className: 'live' });
  const liveBox = el('input', { type: 'checkbox', id: 'teach-live', onchange: async () => {
    stopLive();
    const round = ++listening;
    if (!liveBox.checked) return stopCamera();
    try {
      if (kind === 'pictures') {
        await startCamera(liveArea);
        stopFrames = everyFrame(video, 400, (frame) => testInput(async () => ({ input: frame }), { live: true }));
        return;
      }
      while (liveBox.checked && round === listening) {
        const { samples, sampleRate } = await recordMicrophone(SOUNDS.duration);
        if (liveBox.checked && round === listening) await testInput(async () => ({ input: { samples, sampleRate } }), { live: true });
      }
    } catch (error) {
      liveBox.checked = false;
      showError(answer, error);
    }
  } });
  const liveText = el('span', {}, ' test live from the camera');
  const liveLabel = el('div', {}, el('label', { htmlFor: 'teach-live', style: 'display: inline' }, liveBox, liveText), liveArea);

  const kindPicker = el('select', { id: 'teach-kind', onchange: () => {
    kind = kindPicker.value as Kind;
    reset();
  } }, el('option', { value: 'gestures' }, 'mouse gestures'), el('option', { value: 'pictures' }, 'pictures'), el('option', { value: 'sounds' }, 'sounds'));

  panel.append(
    el('p', {}, `Teach it something new: name two or more classes, give each at least ${MIN_EXAMPLES} examples, and train a small model right here (one example in ${HELD_OUT_EVERY} is held out to measure its accuracy). The examples and the model stay in this browser until you download the model: one .kindling file, which \`kindling predict\` and \`loadPredictor\` read in Node. Click an example to remove it.`),
    el('p', {}, el('label', { htmlFor: 'teach-kind' }, 'What to teach: ', kindPicker), ' ', el('button', { type: 'button', id: 'teach-add-class', onclick: () => addClass(`class ${classes.length + 1}`) }, 'Add a class'), ' ', openButton),
    el('div', { className: 'row' }, pad.element, classList),
    el('p', {}, el('label', { htmlFor: 'teach-epochs', style: 'display: inline' }, 'Epochs ', epochsInput), ' ', train, ' ', stopButton, ' ', progress, ' ', testModeLabel),
    status,
    chart,
    el('div', { className: 'row' }, el('div', {}, el('label', { htmlFor: 'teach-test-file' }, 'Test with a file ', testFiles), liveLabel, el('div', { className: 'result' }, answer, bars)), el('p', {}, exportButton, ' ', saveButton)),
  );
  reset();
}
