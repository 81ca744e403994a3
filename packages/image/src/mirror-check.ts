import { labelSafety, labelSafetyWhy, type LabelSafety } from '@kindling/data';

/**
 * Whether a horizontal flip keeps a picture's label: the rule behind `flip: 'auto'` (`labelSafety` from
 * `@kindling/data` on the pictures and their mirror images). Mirroring a shoe that points left makes a shoe that
 * points right, still nearer shoes than shirts; mirroring a 3 makes a shape nearer no digit. When the pictures
 * themselves are recognised barely above chance by their class's mean picture (photos, where a class is no
 * single shape) the check cannot tell and flips stay on, fastai's default.
 */

/** Pictures of one size: `height × width × channels` bytes each, row-major, with their class indices. */
export interface MirrorCheckInput {
  pictures: readonly Uint8Array[];
  labels: readonly number[];
  height: number;
  width: number;
  channels: number;
}

export interface MirrorCheck extends LabelSafety {
  /** Whether horizontal flips are on by the rule. */
  flip: boolean;
  /** One line saying what was measured and decided. */
  why: string;
}

/** A picture's mirror image (left and right swapped). */
export function mirrored(picture: Uint8Array, height: number, width: number, channels: number): Uint8Array {
  const out = new Uint8Array(picture.length);
  const rowLength = width * channels;
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const source = row * rowLength + (width - 1 - column) * channels;
      const target = row * rowLength + column * channels;
      for (let channel = 0; channel < channels; channel++) out[target + channel] = picture[source + channel]!;
    }
  }
  return out;
}

export function mirrorCheck(input: MirrorCheckInput): MirrorCheck {
  const { pictures, labels, height, width, channels } = input;
  if (pictures.length === 0) throw new RangeError('a mirror check needs pictures');
  pictures.forEach((picture, i) => {
    if (picture.length !== height * width * channels) throw new RangeError(`picture ${i} has ${picture.length} bytes, not ${height}×${width}×${channels}`);
  });
  const check = labelSafety({ examples: pictures, changed: pictures.map((picture) => mirrored(picture, height, width, channels)), labels }, { examples: 'training pictures', changed: 'mirrored' });
  const flip = check.keepsLabels !== false;
  return { ...check, flip, why: labelSafetyWhy('horizontal flips', check, flip, 'flips stay on') };
}
