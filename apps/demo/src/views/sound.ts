import { decodeWav, spectrogramToRgba, type AudioData } from '@kindling/audio';
import type { SoundPredictor } from '@kindling/audio/predict';
import { loadPredictor } from '@kindling/deploy/browser';
import { el, filePicker, linkResult, renderBars, reveal, showAnswer, showError, showPart, startWork } from '../ui';
import { aboutLine, aboutOf, MODELS, percent, recordMicrophone, sampleBytes, sampleButtons } from './shared';

/** Sounds: record from the microphone or choose a WAV; see its spectrogram and the prediction. */
export async function soundView(panel: HTMLElement): Promise<void> {
  const [predictor, about] = await Promise.all([loadPredictor(`${MODELS}/sound/`) as Promise<SoundPredictor>, aboutOf('sound')]);
  const { labels, preprocessing } = predictor.task;
  const picture = el('canvas', { className: 'pixels', role: 'img', 'aria-label': 'the spectrogram the model sees (time left to right, pitch upwards)' });
  const answer = el('output', { id: 'sound-answer', className: 'answer', 'aria-live': 'polite' });
  const bars = el('ul', { className: 'bars', 'aria-label': 'most likely classes' });
  linkResult(answer, bars, picture);

  /** Answers one recording; while listening continuously, the last answer stays until the next one's. */
  const run = async (audio: AudioData, input: Uint8Array | { samples: Float32Array; sampleRate: number }, options: { live?: boolean } = {}) => {
    startWork(answer, { keep: options.live });
    try {
      const spectrogram = predictor.pipeline.features(predictor.pipeline.prepare(audio, 'recording'));
      const rgba = spectrogramToRgba(spectrogram);
      picture.width = rgba.width;
      picture.height = rgba.height;
      picture.style.width = `${rgba.width * 3}px`;
      picture.style.height = 'auto';
      picture.getContext('2d')!.putImageData(new ImageData(rgba.data as Uint8ClampedArray<ArrayBuffer>, rgba.width, rgba.height), 0, 0);
      showPart(picture);
      const prediction = await predictor.predict(input);
      showAnswer(answer, `${prediction.label} (${percent(prediction.confidence)})`, prediction);
      renderBars(bars, prediction.probabilities);
    } catch (error) {
      showError(answer, error);
    }
  };

  const record = el('button', {
    type: 'button',
    onclick: async () => {
      try {
        record.disabled = true;
        record.textContent = `Recording ${preprocessing.duration} s…`;
        const { samples, sampleRate } = await recordMicrophone(preprocessing.duration);
        player.hidden = true; // the sample played is no longer what is answered
        await run({ sampleRate, channels: [samples] }, { samples, sampleRate });
      } catch (error) {
        showError(answer, error);
      } finally {
        reveal(answer);
        record.disabled = false;
        record.textContent = 'Record from the microphone';
      }
    },
  }, 'Record from the microphone');
  // live: one recording after another, each answered, until stopped
  let listening = false;
  let round = 0; // a loop left over from an earlier start ends instead of running beside the new one
  const listen = el('button', {
    type: 'button',
    id: 'sound-listen',
    'aria-pressed': 'false',
    onclick: async () => {
      listening = !listening;
      listen.setAttribute('aria-pressed', String(listening));
      listen.textContent = listening ? 'Stop listening' : 'Listen continuously';
      record.disabled = listening;
      const mine = ++round;
      while (listening && mine === round) {
        try {
          const { samples, sampleRate } = await recordMicrophone(preprocessing.duration);
          player.hidden = true;
          if (listening && mine === round) await run({ sampleRate, channels: [samples] }, { samples, sampleRate }, { live: true });
        } catch (error) {
          showError(answer, error);
          listening = false;
          listen.setAttribute('aria-pressed', 'false');
          listen.textContent = 'Listen continuously';
          record.disabled = false;
        }
      }
    },
  }, 'Listen continuously');

  const player = el('audio', { controls: true, hidden: true, 'aria-label': 'the sample you chose' });
  const sampleGroup = sampleButtons('sound-samples', about.samples, (sample) => sample.truth === undefined ? 'a recording' : `“${sample.truth}”`, async (sample) => {
    try {
      const blob = await sampleBytes(sample);
      player.src = URL.createObjectURL(blob);
      player.hidden = false;
      const bytes = new Uint8Array(await blob.arrayBuffer());
      await run(decodeWav(bytes, sample.file!), bytes);
    } catch (error) {
      showError(answer, error);
    }
  }, answer);

  panel.append(
    el('p', {}, `Sounds become pictures: a log-mel spectrogram (${preprocessing.spectrogram.mels ?? 64} mel bands at ${preprocessing.sampleRate} Hz, ${preprocessing.duration} s), read by an image model. Classes: ${labels.join(', ')}.`),
    aboutLine(about),
    sampleGroup,
    player,
    el('div', { className: 'row' },
      el('div', {},
        filePicker({ label: 'Choose a WAV file', accept: '.wav,audio/wav', id: 'sound-file', onFiles: async ([file]) => {
          const bytes = new Uint8Array(await file!.arrayBuffer());
          player.hidden = true;
          try {
            await run(decodeWav(bytes, file!.name), bytes);
          } catch (error) {
            showError(answer, error);
          }
          reveal(answer);
        } }),
        el('p', {}, record, ' ', listen),
      ),
      el('figure', {}, picture, el('figcaption', {}, 'what the model sees')),
      el('div', { className: 'result' }, answer, bars),
    ),
  );
}
