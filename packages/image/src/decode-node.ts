/** Decoding pictures in Node (sharp), shared by the image and segmentation data blocks and the Node predictors. */
import { DataError, type ArrayItem } from '@kindling/data';
import { loadSharp } from './peers';
import { aspectRefusal, assertResizeMethod, type ResizeMethod } from './transforms';

export interface LoadImageOptions {
  /** Square side to resize to; omit to keep the decoded size. */
  size?: number;
  method?: ResizeMethod;
  /** 3 for RGB (default), 1 for grey; any input (grey, RGBA, CMYK) is converted. */
  channels?: 1 | 3;
  /** Largest input in pixels before it is refused. Default 50 megapixels. */
  maxPixels?: number;
  /**
   * Without `size`: a picture wider or taller than this is shrunk to fit inside a square of this side
   * as it is decoded (JPEG and WebP decode at a fraction of their size; PNG rows stream through), so a
   * huge picture never exists at full size in memory. Smaller pictures come out untouched.
   */
  maxSide?: number;
  /**
   * Largest ratio of the longer side to the shorter, checked from the file's header before decoding: a strip of
   * 1,000,000×49 pixels cost 840 MB to shrink. Default none.
   */
  maxAspect?: number;
  /**
   * Largest picture, in pixels, of a format that is decoded whole before it can be shrunk (AVIF/HEIF, GIF, SVG, JPEG
   * 2000, JPEG XL…; JPEG and WebP shrink while decoding, PNG and TIFF stream), checked from the header: a 678-byte AVIF
   * of 7000×7000 took 960 MB. Default: `maxPixels`.
   */
  maxWholeDecodePixels?: number;
  /** How bytes are named in errors (a file path is its own name). Default `image bytes`. */
  source?: string;
}

/** Formats sharp can shrink while decoding, or stream row by row: their cost follows the output, not the input. */
const SHRINKING_FORMATS = new Set(['jpeg', 'webp', 'png', 'tiff', 'raw']);

/**
 * Decodes a PNG, JPEG, WebP (… whatever sharp reads) file or buffer into `[h, w, channels]` bytes,
 * resized to a square with crop, pad or squish. A bad file is a DataError naming it.
 */
export async function loadImage(input: string | Uint8Array, options: LoadImageOptions = {}): Promise<ArrayItem & { data: Uint8Array }> {
  const { size, method = 'crop', channels = 3, maxPixels = 50_000_000, maxSide, maxAspect = Infinity, maxWholeDecodePixels = maxPixels } = options;
  assertResizeMethod(method);
  const file = typeof input === 'string' ? input : (options.source ?? 'image bytes');
  const sharp = await loadSharp();
  if (maxAspect < Infinity || maxWholeDecodePixels < maxPixels) {
    // the header alone, before any pixel is decoded: what the picture will cost
    let header: { width?: number; height?: number; format?: string };
    try {
      header = await sharp(input, { failOn: 'error', limitInputPixels: false }).metadata();
    } catch (error) {
      throw new DataError(`cannot decode as an image (${(error as Error).message})`, { file }, { cause: error });
    }
    const { width = 0, height = 0, format = 'unknown' } = header;
    const misshapen = aspectRefusal(width, height, maxAspect);
    if (misshapen !== undefined) throw new DataError(misshapen, { file });
    if (!SHRINKING_FORMATS.has(format) && width * height > maxWholeDecodePixels) {
      throw new DataError(`a ${format.toUpperCase()} picture of ${width}×${height} pixels (${(width * height / 1e6).toFixed(1)} megapixels) is decoded whole before it can be shrunk; the limit for such formats is ${(maxWholeDecodePixels / 1e6).toFixed(0)} megapixels (JPEG, PNG and WebP are shrunk as they are read): send a smaller picture or another format`, { file });
    }
  }
  try {
    let image = sharp(input, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true }).rotate();
    image = channels === 1 ? image.grayscale() : image.removeAlpha().toColourspace('srgb');
    if (size !== undefined) {
      const fit = method === 'crop' ? 'cover' : method === 'pad' ? 'contain' : 'fill';
      image = image.resize(size, size, { fit, kernel: 'linear', background: { r: 0, g: 0, b: 0, alpha: 1 } });
    } else if (maxSide !== undefined) {
      image = image.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
    }
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    let pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels !== channels) pixels = convertChannels(pixels, info.channels, channels);
    return { data: pixels, shape: [info.height, info.width, channels] };
  } catch (error) {
    const message = (error as Error).message;
    if (/pixel limit/i.test(message)) throw new DataError(`image is larger than ${maxPixels} pixels; raise maxPixels to read it`, { file }, { cause: error });
    throw new DataError(`cannot decode as an image (${message})`, { file }, { cause: error });
  }
}

function convertChannels(pixels: Uint8Array, from: number, to: number): Uint8Array {
  const count = pixels.length / from;
  const result = new Uint8Array(count * to);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < to; c++) result[i * to + c] = pixels[i * from + Math.min(c, from - 1)]!;
  }
  return result;
}
