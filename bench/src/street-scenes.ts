import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * Street-like scenes for the segmentation defaults: 4:3 pictures with large regions (sky, buildings, road)
 * and small, thin or rare objects (poles two or three pixels wide, signs of a few pixels, people, cars) —
 * what a fixed 64-pixel square loses. Index masks; `codes.txt` lists the classes in mask-value order.
 */
export const STREET_CODES = ['sky', 'building', 'road', 'pole', 'sign', 'person', 'car'] as const;

/** A small seeded generator (mulberry32), the same in every run. */
function randomOf(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `count` scenes of `width`×`height` into `directory` (`images/N.png`, `masks/N.png`, `codes.txt`). */
export async function writeStreetScenes(directory: string, options: { count: number; width?: number; height?: number; seed?: number }): Promise<void> {
  const { count, width = 192, height = 144, seed = 7 } = options;
  const random = randomOf(seed);
  const uniform = (low: number, high: number) => low + (high - low) * random();
  const integer = (low: number, high: number) => Math.floor(uniform(low, high + 1));
  mkdirSync(join(directory, 'images'), { recursive: true });
  mkdirSync(join(directory, 'masks'), { recursive: true });
  for (let n = 0; n < count; n++) {
    const pixels = new Uint8Array(width * height * 3);
    const mask = new Uint8Array(width * height);
    const paint = (x: number, y: number, code: number, colour: readonly number[], noise = 14) => {
      if (x < 0 || y < 0 || x >= width || y >= height) return;
      const at = y * width + x;
      mask[at] = code;
      for (let c = 0; c < 3; c++) pixels[at * 3 + c] = Math.max(0, Math.min(255, Math.round(colour[c]! + uniform(-noise, noise))));
    };
    const horizon = Math.round(height * uniform(0.42, 0.6));
    const sky = [integer(90, 170), integer(140, 210), integer(190, 250)];
    const road = [integer(60, 110), integer(60, 110), integer(60, 115)];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (y < horizon) paint(x, y, 0, sky.map((value) => value - y * 0.3), 6);
        else paint(x, y, 2, road, 18);
      }
    }
    // buildings standing on the horizon, with rows of windows
    for (let x = integer(-20, 0); x < width; ) {
      const wide = integer(18, 54);
      if (random() < 0.75) {
        const top = integer(Math.round(horizon * 0.1), Math.round(horizon * 0.8));
        const wall = [integer(90, 180), integer(70, 150), integer(60, 140)];
        for (let y = top; y < horizon; y++) {
          for (let dx = 0; dx < wide; dx++) {
            const window = (y - top) % 9 > 4 && dx % 8 > 3;
            paint(x + dx, y, 1, window ? wall.map((value) => value * 0.55) : wall, 10);
          }
        }
      }
      x += wide + integer(0, 10);
    }
    // cars on the road
    for (let car = integer(0, 3); car > 0; car--) {
      const [long, tall] = [integer(18, 30), integer(8, 12)];
      const [left, bottom] = [integer(-5, width - long + 5), integer(horizon + tall + 2, height - 1)];
      const body = [integer(20, 235), integer(20, 235), integer(20, 235)];
      for (let y = bottom - tall; y < bottom; y++) for (let x = left; x < left + long; x++) paint(x, y, 6, y < bottom - tall * 0.6 && (x - left < 3 || left + long - x < 4) ? road : body, 12);
    }
    // people: small upright ellipses on the road
    for (let person = integer(0, 3); person > 0; person--) {
      const [cx, bottom] = [integer(4, width - 5), integer(horizon + 10, height - 2)];
      const [rx, ry] = [uniform(1.4, 2.2), uniform(4, 5.5)];
      const clothes = [integer(20, 235), integer(20, 235), integer(20, 235)];
      const cy = bottom - ry;
      for (let y = Math.floor(cy - ry); y <= Math.ceil(cy + ry); y++) {
        for (let x = Math.floor(cx - rx); x <= Math.ceil(cx + rx); x++) if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) paint(x, y, 5, clothes, 12);
      }
    }
    // poles two or three pixels wide, most with a sign at the top
    for (let pole = integer(1, 3); pole > 0; pole--) {
      const [x0, thick] = [integer(3, width - 4), integer(2, 3)];
      const base = integer(horizon + 4, Math.min(height - 1, horizon + 30));
      const top = Math.max(2, base - integer(40, 75));
      const metal = [integer(40, 150), integer(40, 150), integer(40, 150)];
      for (let y = top; y < base; y++) for (let dx = 0; dx < thick; dx++) paint(x0 + dx, y, 3, metal, 10);
      if (random() < 0.7) {
        const side = integer(5, 8);
        const colour = [[220, 40, 40], [240, 200, 30], [40, 90, 220]][integer(0, 2)]!;
        const round = random() < 0.5;
        for (let y = 0; y < side; y++) {
          for (let x = 0; x < side; x++) {
            const [dx, dy] = [x + 0.5 - side / 2, y + 0.5 - side / 2];
            if (!round || dx * dx + dy * dy <= (side / 2) ** 2) paint(x0 + Math.floor(thick / 2) - Math.floor(side / 2) + x, top - side + y, 4, colour, 10);
          }
        }
      }
    }
    const name = `${String(n).padStart(4, '0')}.png`;
    writeFileSync(join(directory, 'images', name), await sharp(Buffer.from(pixels.buffer), { raw: { width, height, channels: 3 } }).png().toBuffer());
    writeFileSync(join(directory, 'masks', name), await sharp(Buffer.from(mask.buffer), { raw: { width, height, channels: 1 } }).png().toBuffer());
  }
  writeFileSync(join(directory, 'codes.txt'), `${STREET_CODES.join('\n')}\n`);
}
