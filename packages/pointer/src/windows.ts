import type { PointerSample } from './recording';

/** How a session is cut into samples. */
export type WindowOptions =
  /** Consecutive runs of `size` events (every `stride`, default `size`); a shorter tail is kept when it has at least `minEvents` (default size/2). */
  | { by: 'events'; size: number; stride?: number; minEvents?: number; idleGap?: number }
  /** Time windows of `duration` ms starting every `stride` ms (default `duration`); windows with fewer than `minEvents` (default 2) events are dropped. */
  | { by: 'time'; duration: number; stride?: number; minEvents?: number; idleGap?: number }
  /** Actions: the moves that lead to a click, ending with its button-up (or down/click); stray moves before an idle gap are dropped. */
  | { by: 'actions'; minEvents?: number; idleGap?: number };

/**
 * Splits events where the pointer was idle longer than `idleGap` ms: a window never spans a pause.
 */
export function splitAtIdle(events: readonly PointerSample[], idleGap: number): PointerSample[][] {
  const parts: PointerSample[][] = [];
  let current: PointerSample[] = [];
  for (const event of events) {
    const last = current.at(-1);
    if (last && event.t - last.t > idleGap) {
      parts.push(current);
      current = [];
    }
    current.push(event);
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** Windows a recording is read by at most, unless its bundle says otherwise: training's `--max-windows` default. */
export const MAX_WINDOWS = 100;

/**
 * At most `limit` of `samples`, evenly spaced (the `k`-th of `limit` at `floor(k · count / limit)`): a long session
 * is read by a bounded number of windows in training and in prediction alike.
 */
export function keepEvenly<T>(samples: readonly T[], limit: number): T[] {
  if (samples.length <= limit) return samples.slice();
  const step = samples.length / limit;
  return Array.from({ length: limit }, (_, index) => samples[Math.floor(index * step)]!);
}

/** The samples of a session: the whole of it (when it has events), or its windows. */
export function samplesOf(events: readonly PointerSample[], window: WindowOptions | 'whole'): PointerSample[][] {
  if (window === 'whole') return events.length > 0 ? [events.slice()] : [];
  return cutWindows(events, window);
}

/**
 * Cuts time-sorted events into samples: by a number of events, by time windows, or by actions (a move
 * ended by a click). First the session is split at idle gaps longer than `idleGap` (default 10 s).
 */
export function cutWindows(events: readonly PointerSample[], options: WindowOptions): PointerSample[][] {
  const parts = splitAtIdle(events, options.idleGap ?? 10_000);
  const windows: PointerSample[][] = [];
  for (const part of parts) {
    if (options.by === 'events') {
      const { size, stride = size, minEvents = Math.ceil(size / 2) } = options;
      if (!(size >= 1 && stride >= 1)) throw new RangeError('cutWindows: size and stride must be at least 1');
      for (let start = 0; start < part.length; start += stride) {
        const window = part.slice(start, start + size);
        if (window.length === size || window.length >= minEvents) windows.push(window);
        if (start + size >= part.length) break;
      }
    } else if (options.by === 'time') {
      for (const window of timeWindows(part, options)) windows.push(window);
    } else {
      const { minEvents = 2 } = options;
      let current: PointerSample[] = [];
      let pressed = false;
      for (const event of part) {
        current.push(event);
        if (event.type === 'down') pressed = true;
        const ends = event.type === 'click' || (event.type === 'up' && pressed);
        if (ends) {
          if (current.length >= minEvents) windows.push(current);
          current = [];
          pressed = false;
        }
      }
    }
  }
  return windows;
}

/**
 * Time windows of one part: the `k`-th starts `k·stride` ms after the first event. `k` is a whole number that grows by
 * at least one each turn and jumps past stretches with no event, so the loop ends after at most (events + 1) ×
 * ceil(duration / stride) turns whatever the timestamps (times near 2^62, where adding a stride to a start no longer
 * changes it, or a long span of few events); times are taken relative to the first event.
 */
function timeWindows(part: readonly PointerSample[], options: { duration: number; stride?: number; minEvents?: number }): PointerSample[][] {
  const { duration, stride = duration, minEvents = 2 } = options;
  if (!(Number.isFinite(duration) && Number.isFinite(stride) && duration > 0 && stride > 0)) throw new RangeError('cutWindows: duration and stride must be positive numbers');
  const first = part[0]!.t;
  const offset = (index: number) => part[index]!.t - first;
  const span = offset(part.length - 1);
  const windows: PointerSample[][] = [];
  let low = 0;
  let high = 0;
  for (let k = 0; k * stride <= span; ) {
    const start = k * stride;
    while (low < part.length && offset(low) < start) low++;
    high = Math.max(high, low);
    while (high < part.length && offset(high) < start + duration) high++;
    if (high - low >= minEvents) windows.push(part.slice(low, high));
    // the next window that can hold an event: the one after this, or the first whose end passes the next event
    const next = low < part.length ? Math.floor((offset(low) - duration) / stride) + 1 : Infinity;
    k = Math.max(k + 1, next);
  }
  return windows;
}
