import type { PointerPredictor } from '@kindling/pointer/predict';
import { loadPredictor } from '@kindling/deploy/browser';
import { cleanEvents, parseRecording, rasterize, samplesOf, type PointerRecording } from '@kindling/pointer';
import { clearAnswer, drawPixels, el, filePicker, linkResult, renderBars, reveal, showAnswer, showError, startWork } from '../ui';
import { createPad } from './pad';
import { aboutLine, aboutOf, MODELS, percent, sampleBytes, sampleButtons } from './shared';

/** Mouse movements: move and click in a pad, see the picture the model sees and whether it looks human. */
export async function mouseView(panel: HTMLElement): Promise<void> {
  const [predictor, about] = await Promise.all([loadPredictor(`${MODELS}/pointer/`) as Promise<PointerPredictor>, aboutOf('mouse')]);
  const { labels, preprocessing } = predictor.task;
  const size = preprocessing.raster.size ?? 64;
  const picture = el('canvas', { className: 'pixels', role: 'img', 'aria-label': 'the recording drawn as the model sees it: lines coloured by speed, acceleration and direction, circles for clicks' });
  const answer = el('output', { id: 'mouse-answer', className: 'answer', 'aria-live': 'polite' });
  const bars = el('ul', { className: 'bars', 'aria-label': 'most likely classes' });
  linkResult(answer, bars, picture);

  /** Answers a recording; while drawing, each stroke keeps the last answer until its own (no flicker). */
  const run = async (recording: PointerRecording, options: { live?: boolean } = {}) => {
    startWork(answer, { keep: options.live });
    try {
      const { events } = cleanEvents(recording.events, recording.screen);
      const first = samplesOf(events, preprocessing.window)[0] ?? events;
      drawPixels(picture, rasterize(first, { ...preprocessing.raster, screen: recording.screen ?? preprocessing.raster.screen }), size, size, { floats: true, scale: Math.max(2, Math.floor(192 / size)) });
      const prediction = await predictor.predict(recording);
      showAnswer(answer, `${prediction.label} (${percent(prediction.confidence)})`, prediction);
      renderBars(bars, prediction.probabilities);
    } catch (error) {
      showError(answer, error);
    }
  };
  const pad = createPad({ id: 'mouse-pad', label: 'drawing pad: move the mouse and click inside it', onStroke: () => void run(pad.recording(), { live: true }) });

  panel.append(
    el('p', {}, `Movements become pictures — lines coloured by speed, acceleration and direction, clicks as circles — read by an image model (${labels.join(' vs ')}). Move and click in the pad a few times.`),
    aboutLine(about),
    sampleButtons('mouse-samples', about.samples, (sample) => `a ${sample.truth ?? 'recorded'} session`, async (sample) => {
      try {
        await run(parseRecording(await (await sampleBytes(sample)).text(), sample.file!));
      } catch (error) {
        showError(answer, error);
      }
    }, answer),
    el('div', { className: 'row' },
      el('div', {}, pad.element, el('p', {},
        el('button', { type: 'button', onclick: async () => {
          await run(pad.recording());
          reveal(answer);
        } }, 'Predict'), ' ',
        el('button', { type: 'button', onclick: () => {
          pad.clear();
          clearAnswer(answer);
        } }, 'Clear'),
      )),
      el('figure', {}, picture, el('figcaption', {}, 'what the model sees')),
      el('div', { className: 'result' }, answer, bars),
    ),
    filePicker({ label: 'Or choose a recording (kindling-pointer@1 JSON)', accept: '.json,application/json', id: 'mouse-file', onFiles: async ([file]) => {
      try {
        await run(parseRecording(await file!.text(), file!.name));
      } catch (error) {
        showError(answer, error);
      }
      reveal(answer);
    } }),
  );
}
