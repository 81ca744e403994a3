import type { ImagePreprocessing, RawImage } from '@kindling/image/predict';
import { el, reveal } from '../ui';
import { pictureShape, squareBytes } from '@kindling/image';

/** Where the trainer's bundles sit in the built site. */
export const MODELS = './models';

/** The small picture a model sees (before normalization), as RGB bytes: the resize training and serving share. */
export async function resizedPixels(image: RawImage, preprocessing: ImagePreprocessing): Promise<Uint8Array> {
  const { size, method, channels } = preprocessing;
  const { height } = pictureShape(preprocessing);
  const values = await squareBytes(image, size, method, channels, height);
  if (channels === 3) return values;
  const rgb = new Uint8Array(size * height * 3);
  values.forEach((value, index) => rgb.set([value, value, value], index * 3));
  return rgb;
}

/** A video frame (camera) as a canvas the image decoder can read. */
export function snapshot(video: HTMLVideoElement): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d')!.drawImage(video, 0, 0);
  return canvas;
}

/**
 * Answers from the camera continuously: `answer` gets a frame every `milliseconds` while the video plays (the
 * next frame waits for the last answer). Returns the function that stops it.
 */
export function everyFrame(video: HTMLVideoElement, milliseconds: number, answer: (frame: HTMLCanvasElement) => Promise<void>): () => void {
  let busy = false;
  const timer = window.setInterval(() => {
    if (busy || video.videoWidth === 0) return;
    busy = true;
    void answer(snapshot(video)).finally(() => (busy = false));
  }, milliseconds);
  return () => clearInterval(timer);
}

export function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** The camera's or the microphone's stream, or an error a person can act on (not the browser's "Requested device not found"). */
export async function openDevice(device: 'camera' | 'microphone'): Promise<MediaStream> {
  if (navigator.mediaDevices?.getUserMedia === undefined) throw new Error(`this page cannot use a ${device} here (it needs https or localhost)`);
  try {
    return await navigator.mediaDevices.getUserMedia(device === 'camera' ? { video: true } : { audio: true });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NotFoundError' || name === 'OverconstrainedError') throw new Error(`no ${device} found on this device`);
    if (name === 'NotAllowedError' || name === 'SecurityError') throw new Error(`the ${device} is not allowed: allow it for this page in the browser's site settings`);
    if (name === 'NotReadableError') throw new Error(`the ${device} is busy in another application`);
    throw new Error(`the ${device} cannot start (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Records `seconds` from the microphone: mono samples and their rate. */
export async function recordMicrophone(seconds: number): Promise<{ samples: Float32Array; sampleRate: number }> {
  const stream = await openDevice('microphone');
  try {
    const recorder = new MediaRecorder(stream);
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 300));
    recorder.stop();
    await stopped;
    const context = new AudioContext();
    try {
      const buffer = await context.decodeAudioData(await new Blob(chunks).arrayBuffer());
      return { samples: buffer.getChannelData(0).slice(), sampleRate: buffer.sampleRate };
    } finally {
      await context.close();
    }
  } finally {
    for (const track of stream.getTracks()) track.stop();
  }
}

/** One sample input of a view, from the held-out part of its data (`samples/<view>/…`, or a table row). */
export interface Sample {
  /** The file, relative to the site. */
  file?: string;
  /** A table row (the tabular view). */
  row?: Record<string, string | number | null>;
  /** Items someone likes (the recommendations view). */
  liked?: string[];
  /** The true answer, when the data has one. */
  truth?: string;
}

/** What a view's model was trained on, under which licence, and how it scores on data it did not see. */
export interface ViewAbout {
  data: string;
  licence: string;
  source?: string;
  trainedOn: string;
  heldOut: string;
  score: { metric: string; value: number };
  samples: Sample[];
  /** Column names in words, with units (the tables view). */
  fields?: Record<string, string>;
}

let abouts: Promise<Record<string, ViewAbout>> | undefined;

/** The record `pnpm --filter @kindling/demo models` writes beside the bundles (models/about.json). */
export async function aboutOf(view: string): Promise<ViewAbout> {
  abouts ??= fetch(`${MODELS}/about.json`).then((response) => {
    if (!response.ok) throw new Error(`cannot read ${MODELS}/about.json (${response.status})`);
    return response.json() as Promise<Record<string, ViewAbout>>;
  });
  const about = (await abouts)[view];
  if (about === undefined) throw new Error(`models/about.json says nothing of the ${view} view: run pnpm --filter @kindling/demo models ${view}`);
  return about;
}

/** "Trained on … (licence); on held-out …: accuracy 89.1%." with a link to the data. */
export function aboutLine(about: ViewAbout): HTMLElement {
  const score = about.score.metric === 'MSE' ? about.score.value.toFixed(3) : percent(about.score.value);
  return el('p', { className: 'about' },
    'Data: ', about.source === undefined ? about.data : el('a', { href: about.source, rel: 'noopener' }, about.data), ` — licence ${about.licence}. `,
    `Trained on ${about.trainedOn}; on ${about.heldOut}, which it never saw, its ${about.score.metric} is ${score}.`);
}

/**
 * One-click sample inputs: a button per sample (`data-sample` holds its file), in a group named for the view;
 * the answer is brought into view once given.
 */
export function sampleButtons(id: string, samples: readonly Sample[], name: (sample: Sample, index: number) => string, pick: (sample: Sample) => void | Promise<void>, answer: HTMLElement): HTMLElement {
  return el('div', { className: 'samples', id, role: 'group', 'aria-label': 'samples held out from training' },
    el('span', {}, 'Try a sample: '),
    ...samples.map((sample, index) => el('button', { type: 'button', className: 'sample', dataset: { sample: sample.file ?? String(index) }, onclick: async () => {
      await pick(sample);
      reveal(answer);
    } }, name(sample, index))));
}

/** A sample's bytes (fetched from the site). */
export async function sampleBytes(sample: Sample): Promise<Blob> {
  const response = await fetch(`./${sample.file!}`);
  if (!response.ok) throw new Error(`cannot read the sample ${sample.file} (${response.status})`);
  return response.blob();
}
