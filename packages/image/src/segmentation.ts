import { DataError } from '@kindling/data';

/** How a mask file stores classes: grey values that are class indices, 0/255 binary, or colours from a palette. */
export type MaskMode = 'index' | 'binary' | 'palette';
export type Colour = readonly [number, number, number];

/** Reads a codes file: one class name per line (blank lines ignored); a duplicate is a DataError. */
export function parseCodes(text: string, source = 'codes'): string[] {
  const codes = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const seen = new Set<string>();
  codes.forEach((code, index) => {
    if (seen.has(code)) throw new DataError(`class '${code}' is listed twice`, { file: source, row: index + 1 });
    seen.add(code);
  });
  if (codes.length < 2) throw new DataError(`a segmentation needs at least two classes, found ${codes.length}`, { file: source });
  return codes;
}

/** The index of the `void` class (case-insensitive), ignored by losses and metrics; undefined when there is none. */
export function voidIndexOf(codes: readonly string[]): number | undefined {
  const index = codes.findIndex((code) => /^void$/i.test(code));
  return index < 0 ? undefined : index;
}

export interface MaskDecodeOptions {
  mode: MaskMode;
  /** Number of classes (the codes). */
  classes: number;
  /** Palette mode: the colour of each class, in class order. */
  palette?: readonly Colour[];
  /** Index mode: grey value 255 means void when the codes have a void class. */
  voidIndex?: number;
  source?: string;
}

/**
 * Turns decoded mask pixels (`channels` per pixel) into one class index per pixel. A value that is not
 * a class (an index ≥ classes, a colour missing from the palette) is a DataError naming the file, the
 * value and where it is.
 */
export function maskFromPixels(pixels: Uint8Array, channels: number, width: number, options: MaskDecodeOptions): Uint8Array {
  const { mode, classes, palette, voidIndex, source } = options;
  const count = pixels.length / channels;
  const mask = new Uint8Array(count);
  const where = (index: number) => `(x ${index % width}, y ${Math.floor(index / width)})`;
  if (mode === 'palette') {
    if (!palette || palette.length !== classes) throw new DataError(`palette masks need one colour per class (${classes}), got ${palette?.length ?? 0}`, { file: source });
    const lookup = new Map(palette.map((colour, index) => [(colour[0] << 16) | (colour[1] << 8) | colour[2], index]));
    for (let i = 0; i < count; i++) {
      const key = (pixels[i * channels]! << 16) | (pixels[i * channels + Math.min(1, channels - 1)]! << 8) | pixels[i * channels + Math.min(2, channels - 1)]!;
      const index = lookup.get(key);
      if (index === undefined) throw new DataError(`colour rgb(${key >> 16}, ${(key >> 8) & 255}, ${key & 255}) at ${where(i)} is not in the palette`, { file: source });
      mask[i] = index;
    }
    return mask;
  }
  for (let i = 0; i < count; i++) {
    const value = pixels[i * channels]!;
    if (mode === 'binary') {
      mask[i] = value >= 128 ? 1 : 0;
      continue;
    }
    if (value === 255 && voidIndex !== undefined) mask[i] = voidIndex;
    else if (value >= classes) throw new DataError(`mask value ${value} at ${where(i)} is not a class: the codes name ${classes} (0–${classes - 1})`, { file: source });
    else mask[i] = value;
  }
  return mask;
}

/** Distinct colours for `count` classes (class 0 black, then well-separated hues). */
export function defaultPalette(count: number): Colour[] {
  return Array.from({ length: count }, (_, index) => {
    if (index === 0) return [0, 0, 0] as const;
    const hue = ((index - 1) * 137.508) % 360;
    const [r, g, b] = hslToRgb(hue, 0.75, 0.55);
    return [r, g, b] as const;
  });
}

function hslToRgb(hue: number, saturation: number, lightness: number): [number, number, number] {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - chroma / 2;
  const [r, g, b] = hue < 60 ? [chroma, x, 0] : hue < 120 ? [x, chroma, 0] : hue < 180 ? [0, chroma, x] : hue < 240 ? [0, x, chroma] : hue < 300 ? [x, 0, chroma] : [chroma, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** Colours a class-index mask: RGB bytes, one palette colour per class. */
export function colorizeMask(mask: ArrayLike<number>, palette: readonly Colour[]): Uint8Array {
  const rgb = new Uint8Array(mask.length * 3);
  for (let i = 0; i < mask.length; i++) {
    const colour = palette[mask[i]!] ?? [255, 255, 255];
    rgb.set(colour, i * 3);
  }
  return rgb;
}

/** Blends a colourized mask over an RGB picture of the same size (`alpha` = mask opacity). */
export function overlayMask(image: Uint8Array, mask: ArrayLike<number>, palette: readonly Colour[], alpha = 0.5): Uint8Array {
  const colours = colorizeMask(mask, palette);
  const out = new Uint8Array(colours.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(image[i]! * (1 - alpha) + colours[i]! * alpha);
  return out;
}
