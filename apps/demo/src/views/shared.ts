import { pixelsToChannels, type ImagePreprocessing, type RawImage } from '@kindling/deploy';
import { resizeImage } from '@kindling/image';
import * as tf from '@tensorflow/tfjs';

/** Where the trainer's bundles sit in the built site. */
export const MODELS = './models';

/** The small square picture a model sees (before normalization), as RGB bytes. */
export async function resizedPixels(image: RawImage, preprocessing: ImagePreprocessing): Promise<Uint8Array> {
  const { size, method, channels } = preprocessing;
  const resized = tf.tidy(() => resizeImage(tf.tensor3d(pixelsToChannels(image, channels), [image.height, image.width, channels]), size, method).round().clipByValue(0, 255).toInt());
  // asynchronous read: a synchronous one stalls (and on some WebGPU drivers breaks) the GPU backend
  const values = Uint8Array.from(await resized.data());
  resized.dispose();
  if (channels === 3) return values;
  const rgb = new Uint8Array(size * size * 3);
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

export function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** Records `seconds` from the microphone: mono samples and their rate. */
export async function recordMicrophone(seconds: number): Promise<{ samples: Float32Array; sampleRate: number }> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
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
