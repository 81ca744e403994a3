import * as tf from '@tensorflow/tfjs';
import { resizeImage, type ResizeMethod } from './transforms';

/** What the browser can turn into pixels. */
export type BrowserImageSource = Blob | ImageBitmap | HTMLImageElement | HTMLCanvasElement | ImageData | OffscreenCanvas;

/**
 * Decodes a picture in the browser with the platform's decoders (createImageBitmap) and makes it a
 * `[size, size, channels]` tensor of 0–255 values, resized like the Node loader does.
 */
export async function decodeImageInBrowser(source: BrowserImageSource, options: { size?: number; method?: ResizeMethod; channels?: 1 | 3 } = {}): Promise<tf.Tensor3D> {
  const bitmap = source instanceof Blob ? await createImageBitmap(source) : source;
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('decodeImageInBrowser: no 2d canvas context');
  if (bitmap instanceof ImageData) context.putImageData(bitmap, 0, 0);
  else context.drawImage(bitmap as CanvasImageSource, 0, 0);
  const pixels = tf.browser.fromPixels(context.getImageData(0, 0, bitmap.width, bitmap.height), options.channels ?? 3);
  if (options.size === undefined) return pixels;
  const resized = tf.tidy(() => resizeImage(pixels.toFloat() as tf.Tensor3D, options.size!, options.method ?? 'crop').round() as tf.Tensor3D);
  pixels.dispose();
  return resized;
}
