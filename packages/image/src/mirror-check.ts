/**
 * Whether a horizontal flip keeps a picture's label: the rule behind `flip: 'auto'`.
 *
 * Each class is summarised by its mean picture; a picture is "recognised" when it is nearest (squared distance)
 * to its own class's mean, taken without it (a picture always looks like a mean it is part of). Mirroring a shoe that points left makes a shoe that points right, still nearer shoes
 * than shirts; mirroring a 3 makes a shape nearer no digit. The check compares how often mirrored pictures are
 * recognised with how often the pictures themselves are, both measured above chance (the commonest class's
 * share): when mirroring keeps less than half of that margin, flips would teach the model pictures that belong
 * to no class, or to another one, and they stay off. When the pictures themselves are recognised barely above
 * chance (photos, where a class is no single shape), the check cannot tell and flips stay on, fastai's default.
 * Plain TypeScript on bytes: the same answer in Node and the browser.
 */

/** Pictures of one size: `height × width × channels` bytes each, row-major, with their class indices. */
export interface MirrorCheckInput {
  pictures: readonly Uint8Array[];
  labels: readonly number[];
  height: number;
  width: number;
  channels: number;
}

export interface MirrorCheck {
  /** Whether horizontal flips are label-safe by the rule. */
  flip: boolean;
  /** Share of pictures nearest their own class's mean. */
  recognised: number;
  /** The same share for their mirror images. */
  recognisedMirrored: number;
  /** The commonest class's share. */
  chance: number;
  /** One line saying what was measured and decided. */
  why: string;
}

/** Below this margin over chance the pictures' own recognition is too weak to judge mirroring by. */
const UNDECIDABLE_MARGIN = 0.1;
/** Mirroring must keep at least this share of the margin over chance. */
const KEPT_MARGIN = 0.5;

export function mirrorCheck(input: MirrorCheckInput): MirrorCheck {
  const { pictures, labels, height, width, channels } = input;
  const area = height * width * channels;
  if (pictures.length !== labels.length) throw new RangeError(`${pictures.length} pictures but ${labels.length} labels`);
  if (pictures.length === 0) throw new RangeError('a mirror check needs pictures');
  const classes = Math.max(...labels) + 1;
  const sums = Array.from({ length: classes }, () => new Float64Array(area));
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < pictures.length; i++) {
    const picture = pictures[i]!;
    if (picture.length !== area) throw new RangeError(`picture ${i} has ${picture.length} bytes, not ${height}×${width}×${channels}`);
    const sum = sums[labels[i]!]!;
    for (let k = 0; k < area; k++) sum[k]! += picture[k]!;
    counts[labels[i]!]!++;
  }
  const rowLength = width * channels;
  /** The class whose mean is nearest picture `index` (mirrored or not); its own class's mean leaves it out, so a picture is never compared with itself. */
  const nearest = (index: number, mirrored: boolean): number => {
    const picture = pictures[index]!;
    const own = labels[index]!;
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let label = 0; label < classes; label++) {
      const count = counts[label]! - (label === own ? 1 : 0);
      if (count === 0) continue;
      const sum = sums[label]!;
      let distance = 0;
      for (let row = 0; row < height; row++) {
        for (let column = 0; column < width; column++) {
          const source = row * rowLength + (mirrored ? width - 1 - column : column) * channels;
          const target = row * rowLength + column * channels;
          for (let channel = 0; channel < channels; channel++) {
            const mean = (sum[target + channel]! - (label === own ? picture[target + channel]! : 0)) / count;
            const difference = picture[source + channel]! - mean;
            distance += difference * difference;
          }
        }
      }
      if (distance < bestDistance) {
        bestDistance = distance;
        best = label;
      }
    }
    return best;
  };
  let plain = 0;
  let mirrored = 0;
  for (let i = 0; i < pictures.length; i++) {
    if (nearest(i, false) === labels[i]) plain++;
    if (nearest(i, true) === labels[i]) mirrored++;
  }
  const recognised = plain / pictures.length;
  const recognisedMirrored = mirrored / pictures.length;
  const chance = Math.max(...counts) / pictures.length;
  const margin = recognised - chance;
  const share = (value: number) => `${(value * 100).toFixed(0)}%`;
  const measured = `${pictures.length} training pictures are nearest their class's mean picture ${share(recognised)} of the time, mirrored ${share(recognisedMirrored)} (chance ${share(chance)})`;
  if (margin < UNDECIDABLE_MARGIN) {
    return { flip: true, recognised, recognisedMirrored, chance, why: `horizontal flips on: ${measured}, too close to chance to judge mirroring by` };
  }
  const kept = (recognisedMirrored - chance) / margin;
  const flip = kept >= KEPT_MARGIN;
  return {
    flip,
    recognised,
    recognisedMirrored,
    chance,
    why: `horizontal flips ${flip ? 'on' : 'off'}: ${measured}; mirroring keeps ${share(Math.max(0, kept))} of the margin over chance (${flip ? 'at least' : 'under'} ${share(KEPT_MARGIN)}${flip ? '' : ': a mirrored picture is not the same class'})`,
  };
}
