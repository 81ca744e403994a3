import { loadPredictor } from '@kindling/deploy/browser';
import { browserImageDecoder as decodeImageInBrowser, type ImagePredictor } from '@kindling/image/predict';
import { drawPixels, el, filePicker, linkResult, renderBars, reveal, showAnswer, showError, showPart, startWork } from '../ui';
import { aboutLine, aboutOf, everyFrame, MODELS, openDevice, percent, resizedPixels, sampleBytes, sampleButtons, snapshot } from './shared';

/** Pictures: upload, drop or take one with the camera; see what the model sees and its top classes. */
export async function imageView(panel: HTMLElement): Promise<void> {
  const [predictor, about] = await Promise.all([loadPredictor(`${MODELS}/image/`) as Promise<ImagePredictor>, aboutOf('image')]);
  const { preprocessing, labels } = predictor.task;
  const original = el('img', { className: 'preview', alt: 'the picture you chose' });
  const small = el('canvas', { className: 'pixels', role: 'img', 'aria-label': `what the model sees: the picture at ${preprocessing.size}×${preprocessing.size}` });
  const answer = el('output', { id: 'image-answer', className: 'answer', 'aria-live': 'polite' });
  const bars = el('ul', { className: 'bars', 'aria-label': 'most likely classes' });
  const video = el('video', { autoplay: true, playsInline: true, muted: true, width: 240, hidden: true, 'aria-label': 'camera' });
  linkResult(answer, bars, small, original);

  /** Answers one picture, shown as "your picture"; a live frame keeps the last answer until its own. */
  const run = async (source: Blob | HTMLCanvasElement, options: { live?: boolean } = {}) => {
    startWork(answer, { keep: options.live });
    if (original.src.startsWith('blob:')) URL.revokeObjectURL(original.src);
    original.src = source instanceof HTMLCanvasElement ? source.toDataURL('image/jpeg', 0.85) : URL.createObjectURL(source);
    showPart(original);
    try {
      const raw = await decodeImageInBrowser(source, source instanceof File ? source.name : 'picture');
      drawPixels(small, await resizedPixels(raw, preprocessing), preprocessing.size, preprocessing.size, { scale: Math.max(2, Math.floor(160 / preprocessing.size)) });
      const prediction = await predictor.predict(raw);
      showAnswer(answer, `${prediction.label} (${percent(prediction.confidence)})`, prediction);
      renderBars(bars, prediction.probabilities);
    } catch (error) {
      showError(answer, error);
    }
  };

  // live: a frame every 500 ms while the box is ticked (the next waits for the last answer)
  let stopFrames: (() => void) | undefined;
  const stopLive = () => {
    stopFrames?.();
    stopFrames = undefined;
    liveBox.checked = false;
  };
  const camera = el('button', {
    type: 'button',
    id: 'image-camera',
    onclick: async () => {
      try {
        if (!video.hidden) {
          stopLive();
          for (const track of (video.srcObject as MediaStream | null)?.getTracks() ?? []) track.stop();
          video.srcObject = null;
          video.hidden = true;
          take.disabled = liveBox.disabled = true;
          camera.textContent = 'Use the camera';
          return;
        }
        video.srcObject = await openDevice('camera');
        video.hidden = false;
        take.disabled = liveBox.disabled = false;
        camera.textContent = 'Stop the camera';
      } catch (error) {
        showError(answer, error);
      }
    },
  }, 'Use the camera');
  const take = el('button', { type: 'button', disabled: true, onclick: async () => {
    await run(snapshot(video));
    reveal(answer);
  } }, 'Take a picture');
  const liveBox = el('input', { type: 'checkbox', id: 'image-live', disabled: true, onchange: () => {
    if (!liveBox.checked) return stopLive();
    stopFrames = everyFrame(video, 500, (frame) => run(frame, { live: true }));
  } });

  const samples = sampleButtons('image-samples', about.samples, (sample) => sample.truth ?? 'a picture', async (sample) => {
    try {
      await run(await sampleBytes(sample));
    } catch (error) {
      showError(answer, error);
    }
  }, answer);

  panel.append(
    el('p', {}, `A ResNet trained by \`kindling train image\` tells ${labels.length} kinds of things apart: ${labels.join(', ')}. Give it a picture.`),
    aboutLine(about),
    samples,
    el('div', { className: 'row' },
      el('div', {},
        filePicker({ label: 'Choose a picture', accept: 'image/*', id: 'image-file', onFiles: async ([file]) => {
          await run(file!);
          reveal(answer);
        } }),
        el('p', {}, camera, ' ', take, ' ', el('label', { htmlFor: 'image-live', style: 'display: inline' }, liveBox, ' live')),
        video,
      ),
      el('figure', {}, original, el('figcaption', {}, 'your picture')),
      el('figure', {}, small, el('figcaption', {}, 'what the model sees')),
      el('div', { className: 'result' }, answer, bars),
    ),
  );
}
