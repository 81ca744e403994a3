import type { PointerButton, PointerSample } from './recording';

export interface RasterOptions {
  /** Side of the square picture in pixels. Default 64. */
  size?: number;
  /**
   * Scale to the sample's own bounding box (default; shape and dynamics matter), to the whole screen
   * (place matters), or `both`: the two pictures stacked as six channels (bounding box first).
   */
  fit?: 'bbox' | 'screen' | 'both';
  /** The coordinate area for `fit: 'screen'` or `'both'`. */
  screen?: { width: number; height: number };
  /** Empty border in pixels. Default 2. */
  margin?: number;
  /** Line width in pixels. Default 1.5. */
  lineWidth?: number;
  /** Radius of a left click's circle in pixels (right ×1.6, middle ×1.3). Default 2.5. */
  clickRadius?: number;
  /** Speed (px/ms) drawn at full brightness. Default 3. */
  speedScale?: number;
  /**
   * How speed and acceleration become brightness: `linear` (default) up to their scales, or `log`, the
   * logarithm from a hundredth of the scale to the scale, which spreads the many slow movements of real
   * recordings (a median of ~0.2 px/ms) over the range instead of leaving them all dim.
   */
  dynamics?: 'linear' | 'log';
  /** Acceleration (px/ms²) drawn at full brightness. Default 0.05. */
  accelerationScale?: number;
  /** Smallest extent (px) a bounding box is scaled from, so a tiny jiggle is not blown up. Default 50. */
  minExtent?: number;
}

/** Colours of click circles by button (R, G, B in [0, 1]). */
export const CLICK_COLOURS: Record<PointerButton, [number, number, number]> = {
  left: [1, 1, 1],
  right: [1, 0, 1],
  middle: [0, 1, 1],
  other: [0, 1, 0],
  none: [1, 1, 0],
};

/** The brightness a feature in [0, 1] gets on a line: lines stay visible even when slow. */
const shade = (feature: number) => 0.3 + 0.7 * Math.min(1, Math.max(0, feature));

/** A value's share of its scale, linear or logarithmic (log(1 + 100·v/scale) / log(101)). */
const LOG_RANGE = Math.log1p(100);
const relative = (value: number, scale: number, dynamics: 'linear' | 'log') => (dynamics === 'log' ? Math.log1p((100 * value) / scale) / LOG_RANGE : value / scale);

/** Channels of the pictures `rasterize` draws with these options: 3, or 6 for `fit: 'both'`. */
export function rasterChannels(options: RasterOptions = {}): number {
  return options.fit === 'both' ? 6 : 3;
}

/**
 * Draws a sample as a `[size, size, 3]` picture with values in [0, 1]: each movement is an
 * anti-aliased line whose red channel is its speed, green its acceleration and blue its direction
 * (angle around the circle); each button press (or click) is a filled circle coloured and sized by its
 * button. With `fit: 'both'`, `[size, size, 6]`: the bounding-box picture, then the screen picture.
 * Pure TypeScript: the same pixels in Node and in the browser.
 */
export function rasterize(events: readonly PointerSample[], options: RasterOptions = {}): Float32Array {
  if (options.fit !== 'both') return drawView(events, { ...options, fit: options.fit });
  const shape = drawView(events, { ...options, fit: 'bbox' });
  const place = drawView(events, { ...options, fit: 'screen' });
  const image = new Float32Array(shape.length * 2);
  for (let pixel = 0; pixel < shape.length / 3; pixel++) {
    image.set(shape.subarray(pixel * 3, pixel * 3 + 3), pixel * 6);
    image.set(place.subarray(pixel * 3, pixel * 3 + 3), pixel * 6 + 3);
  }
  return image;
}

function drawView(events: readonly PointerSample[], options: RasterOptions & { fit?: 'bbox' | 'screen' }): Float32Array {
  const { size = 64, fit = 'bbox', margin = 2, lineWidth = 1.5, clickRadius = 2.5, speedScale = 3, accelerationScale = 0.05, minExtent = 50, dynamics = 'linear' } = options;
  const image = new Float32Array(size * size * 3);
  if (events.length === 0) return image;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  if (fit === 'screen') {
    if (!options.screen) throw new RangeError("rasterize: drawing on the screen (fit 'screen' or 'both') needs the screen size (options.screen or the recording's screen)");
    [minX, minY, maxX, maxY] = [0, 0, options.screen.width, options.screen.height];
  } else {
    for (const event of events) [minX, minY, maxX, maxY] = [Math.min(minX, event.x), Math.min(minY, event.y), Math.max(maxX, event.x), Math.max(maxY, event.y)];
  }
  const extent = Math.max(maxX - minX, maxY - minY, fit === 'bbox' ? minExtent : 1);
  const scale = (size - 2 * margin) / extent;
  // centre the box in the picture
  const offsetX = margin + (size - 2 * margin - (maxX - minX) * scale) / 2;
  const offsetY = margin + (size - 2 * margin - (maxY - minY) * scale) / 2;
  const px = (x: number) => offsetX + (x - minX) * scale;
  const py = (y: number) => offsetY + (y - minY) * scale;

  let previous: PointerSample | undefined;
  let previousSpeed = 0;
  for (const event of events) {
    if (event.type === 'down' || event.type === 'click') {
      const radius = clickRadius * (event.button === 'right' ? 1.6 : event.button === 'middle' ? 1.3 : 1);
      drawDisk(image, size, px(event.x), py(event.y), radius, CLICK_COLOURS[event.button]);
    }
    if (event.type !== 'move' && event.type !== 'down' && event.type !== 'up') continue;
    if (previous) {
      const dx = event.x - previous.x;
      const dy = event.y - previous.y;
      const distance = Math.hypot(dx, dy);
      const dt = Math.max(1, event.t - previous.t);
      const speed = distance / dt;
      const acceleration = Math.abs(speed - previousSpeed) / dt;
      previousSpeed = speed;
      if (distance > 0) {
        const direction = (Math.atan2(dy, dx) + Math.PI) / (2 * Math.PI);
        drawLine(image, size, px(previous.x), py(previous.y), px(event.x), py(event.y), lineWidth, [shade(relative(speed, speedScale, dynamics)), shade(relative(acceleration, accelerationScale, dynamics)), shade(direction)]);
      }
    }
    previous = event;
  }
  return image;
}

/** Coverage of a pixel whose centre is `distance` from a shape edge of half-width `half`: 1 inside, a 1-pixel ramp. */
const coverage = (distance: number, half: number) => Math.min(1, Math.max(0, half + 0.5 - distance));

function blend(image: Float32Array, size: number, x: number, y: number, amount: number, colour: readonly number[]): void {
  const base = (y * size + x) * 3;
  for (let c = 0; c < 3; c++) image[base + c] = Math.max(image[base + c]!, amount * colour[c]!);
}

/** An anti-aliased line of width `width` from (x0, y0) to (x1, y1), pixel centres at +0.5. */
export function drawLine(image: Float32Array, size: number, x0: number, y0: number, x1: number, y1: number, width: number, colour: readonly number[]): void {
  const half = width / 2;
  const reach = half + 1;
  const left = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
  const right = Math.min(size - 1, Math.ceil(Math.max(x0, x1) + reach));
  const top = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
  const bottom = Math.min(size - 1, Math.ceil(Math.max(y0, y1) + reach));
  const dx = x1 - x0;
  const dy = y1 - y0;
  const lengthSquared = dx * dx + dy * dy;
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const cx = x + 0.5;
      const cy = y + 0.5;
      const along = lengthSquared === 0 ? 0 : Math.min(1, Math.max(0, ((cx - x0) * dx + (cy - y0) * dy) / lengthSquared));
      const amount = coverage(Math.hypot(cx - (x0 + along * dx), cy - (y0 + along * dy)), half);
      if (amount > 0) blend(image, size, x, y, amount, colour);
    }
  }
}

/** An anti-aliased filled circle. */
export function drawDisk(image: Float32Array, size: number, x0: number, y0: number, radius: number, colour: readonly number[]): void {
  for (let y = Math.max(0, Math.floor(y0 - radius - 1)); y <= Math.min(size - 1, Math.ceil(y0 + radius + 1)); y++) {
    for (let x = Math.max(0, Math.floor(x0 - radius - 1)); x <= Math.min(size - 1, Math.ceil(x0 + radius + 1)); x++) {
      const amount = coverage(Math.hypot(x + 0.5 - x0, y + 0.5 - y0) - radius, 0);
      if (amount > 0) blend(image, size, x, y, amount, colour);
    }
  }
}
