import type { PointerButton, PointerRecording, PointerSample } from './recording';

const BUTTONS: Record<number, PointerButton> = { 0: 'left', 1: 'middle', 2: 'right', 3: 'other', 4: 'other' };
const HELD: Array<[number, PointerButton]> = [[1, 'left'], [2, 'right'], [4, 'middle'], [24, 'other']];

export interface PointerRecorder {
  /** Events so far, in the recording format. */
  readonly events: readonly PointerSample[];
  /** Stops listening and returns the recording (coordinates relative to the element, screen = its size). */
  stop(): PointerRecording;
  /** Forgets the events so far and keeps recording. */
  clear(): void;
}

/**
 * Records pointer events on an element (browser only): moves, button downs and ups, and wheel turns,
 * with times from `performance.now()` relative to the start and coordinates relative to the element.
 */
export function recordPointer(element: HTMLElement, options: { onEvent?: (event: PointerSample) => void } = {}): PointerRecorder {
  const events: PointerSample[] = [];
  const start = performance.now();
  const at = (event: MouseEvent) => {
    const box = element.getBoundingClientRect();
    return { t: event.timeStamp - start, x: event.clientX - box.left, y: event.clientY - box.top };
  };
  const push = (sample: PointerSample) => {
    events.push(sample);
    options.onEvent?.(sample);
  };
  const held = (buttons: number): PointerButton => HELD.find(([mask]) => (buttons & mask) !== 0)?.[1] ?? 'none';
  const onMove = (event: PointerEvent) => push({ ...at(event), type: 'move', button: held(event.buttons) });
  const onDown = (event: PointerEvent) => push({ ...at(event), type: 'down', button: BUTTONS[event.button] ?? 'left' });
  const onUp = (event: PointerEvent) => push({ ...at(event), type: 'up', button: BUTTONS[event.button] ?? 'left' });
  const onWheel = (event: WheelEvent) => push({ ...at(event), type: 'wheel', button: 'none', delta: Math.sign(event.deltaY) });
  element.addEventListener('pointermove', onMove);
  element.addEventListener('pointerdown', onDown);
  element.addEventListener('pointerup', onUp);
  element.addEventListener('wheel', onWheel, { passive: true });
  return {
    events,
    stop() {
      element.removeEventListener('pointermove', onMove);
      element.removeEventListener('pointerdown', onDown);
      element.removeEventListener('pointerup', onUp);
      element.removeEventListener('wheel', onWheel);
      const box = element.getBoundingClientRect();
      return { format: 'kindling-pointer@1', screen: { width: Math.round(box.width), height: Math.round(box.height) }, events: events.slice() };
    },
    clear() {
      events.length = 0;
    },
  };
}
