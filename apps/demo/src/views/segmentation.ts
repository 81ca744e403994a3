import { loadPredictor } from '@kindling/deploy/browser';
import { browserImageDecoder as decodeImageInBrowser, type SegmentationPredictor } from '@kindling/image/predict';
import { colorizeMask, overlayMask, pictureShape } from '@kindling/image';
import { drawPixels, el, filePicker, linkResult, reveal, showAnswer, showError, startWork } from '../ui';
import { aboutLine, aboutOf, MODELS, percent, resizedPixels, sampleBytes, sampleButtons } from './shared';

/** Segmentation: a class for every pixel, shown as coloured regions over the picture. */
export async function segmentationView(panel: HTMLElement): Promise<void> {
  const [predictor, about] = await Promise.all([loadPredictor(`${MODELS}/segmentation/`) as Promise<SegmentationPredictor>, aboutOf('segmentation')]);
  const { codes, palette, preprocessing } = predictor.task;
  const { width, height } = pictureShape(preprocessing);
  const scale = Math.max(1, Math.floor(256 / Math.max(width, height)));
  const overlay = el('canvas', { className: 'pixels', role: 'img', 'aria-label': 'the picture with each pixel coloured by its class' });
  const mask = el('canvas', { className: 'pixels', role: 'img', 'aria-label': 'the predicted classes alone' });
  const sureness = el('canvas', { className: 'pixels', role: 'img', 'aria-label': 'how sure the model is of each pixel: white certain, black a guess' });
  const answer = el('output', { id: 'segmentation-answer', className: 'answer', 'aria-live': 'polite' });
  const legend = el('ul', { className: 'bars', 'aria-label': 'classes and their share of the picture' });
  linkResult(answer, legend, overlay, mask, sureness);

  const run = async (file: Blob, name: string) => {
    startWork(answer);
    try {
      const raw = await decodeImageInBrowser(file, name);
      const prediction = await predictor.predict(raw);
      drawPixels(overlay, overlayMask(await resizedPixels(raw, preprocessing), prediction.mask, palette), width, height, { scale });
      drawPixels(mask, colorizeMask(prediction.mask, palette), width, height, { scale });
      // from a guess among the classes (black) to certain (white)
      const guess = 255 / (codes.length - (predictor.task.voidIndex === null ? 0 : 1));
      drawPixels(sureness, Uint8ClampedArray.from(prediction.confidenceMap, (value) => (255 * (value - guess)) / (255 - guess)), width, height, { channels: 1, scale });
      const found = Object.entries(prediction.coverage).filter(([, share]) => share > 0).sort((a, b) => b[1] - a[1]);
      showAnswer(answer, found.map(([code, share]) => `${code} ${percent(share)}`).join(', '), prediction);
      legend.replaceChildren(...codes.map((code, index) => el('li', {}, el('span', {}, code), el('span', { className: 'bar', style: `background: rgb(${palette[index]!.join(',')})` }), el('span', {}, percent(prediction.coverage[code] ?? 0)))));
    } catch (error) {
      showError(answer, error);
    }
  };

  panel.append(
    el('p', {}, `A U-Net trained by \`kindling train segment\` gives every pixel a class: ${codes.join(', ')}.`),
    aboutLine(about),
    sampleButtons('segmentation-samples', about.samples, (sample) => `section ${sample.file!.split('/').at(-1)!.replace(/\.png$/, '')}`, async (sample) => {
      try {
        await run(await sampleBytes(sample), sample.file!);
      } catch (error) {
        showError(answer, error);
      }
    }, answer),
    el('div', { className: 'row' },
      filePicker({ label: 'Choose a picture', accept: 'image/*', id: 'segmentation-file', onFiles: async ([file]) => {
        await run(file!, file!.name);
        reveal(answer);
      } }),
      el('figure', {}, overlay, el('figcaption', {}, 'classes over the picture')),
      el('figure', {}, mask, el('figcaption', {}, 'classes')),
      el('figure', {}, sureness, el('figcaption', {}, 'how sure: white certain, black a guess')),
      el('div', { className: 'result' }, answer, legend),
    ),
  );
}
