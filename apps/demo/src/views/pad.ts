import { recordPointer, type PointerRecording, type PointerSample } from '@kindling/pointer';
import { el } from '../ui';

export interface Pad {
  element: HTMLElement;
  /** The movements so far as a recording (coordinates in the pad, screen = its size). */
  recording(): PointerRecording;
  clear(): void;
}

/** Keyboard steps, in pixels of the pad: arrows move, with Shift three times as far. */
const STEP = 12;

/**
 * A drawing pad that records pointer events and shows the trail (lines) and presses (circles). It fits narrow
 * screens (at most 420×300, keeping its shape) and works from the keyboard: the arrow keys move a cursor, Space
 * held down draws (a press, moves with the button held, a release), Enter clicks.
 */
export function createPad(options: { id: string; label: string; onStroke?: () => void }): Pad {
  const trail = el('canvas', { width: 420, height: 300 });
  const cursor = el('span', { className: 'pad-cursor', hidden: true });
  const element = el('div', { className: 'pad', id: options.id, role: 'application', 'aria-label': `${options.label} (or use the arrow keys, Space held down to draw, Enter to click)`, tabIndex: 0 }, trail, cursor);
  const context = trail.getContext('2d')!;
  let previous: PointerSample | undefined;
  const recorder = recordPointer(element, {
    onEvent(event) {
      // the pad may be drawn smaller than its canvas (phones): trail coordinates in canvas pixels
      const scale = trail.width / Math.max(1, element.clientWidth);
      context.setTransform(scale, 0, 0, scale, 0, 0);
      if (event.type === 'down') {
        context.fillStyle = '#b4410c';
        context.beginPath();
        context.arc(event.x, event.y, 5, 0, Math.PI * 2);
        context.fill();
      }
      if (event.type === 'move' && previous) {
        context.strokeStyle = event.button === 'none' ? '#999' : '#222';
        context.beginPath();
        context.moveTo(previous.x, previous.y);
        context.lineTo(event.x, event.y);
        context.stroke();
      }
      previous = event;
      if (event.type === 'up') options.onStroke?.();
    },
  });
  const box = () => element.getBoundingClientRect();

  // the keyboard drives the same recorder through pointer events at a cursor
  const position = { x: 0, y: 0, placed: false, pressed: false };
  const send = (type: 'pointermove' | 'pointerdown' | 'pointerup') => {
    const { left, top } = box();
    element.dispatchEvent(new PointerEvent(type, { clientX: left + position.x, clientY: top + position.y, button: 0, buttons: position.pressed ? 1 : 0, bubbles: true }));
    cursor.hidden = false;
    cursor.style.transform = `translate(${position.x}px, ${position.y}px)`;
  };
  element.addEventListener('keydown', (event) => {
    const { width, height } = box();
    if (!position.placed) Object.assign(position, { x: width / 2, y: height / 2, placed: true });
    const step = event.shiftKey ? 3 * STEP : STEP;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const move = moves[event.key];
    if (move !== undefined) {
      position.x = Math.min(width - 2, Math.max(2, position.x + move[0]));
      position.y = Math.min(height - 2, Math.max(2, position.y + move[1]));
      send('pointermove');
    } else if (event.key === ' ' && !position.pressed) {
      position.pressed = true;
      send('pointerdown');
    } else if (event.key === 'Enter') {
      send('pointerdown');
      send('pointerup');
    } else return;
    event.preventDefault();
  });
  element.addEventListener('keyup', (event) => {
    if (event.key !== ' ' || !position.pressed) return;
    position.pressed = false;
    send('pointerup');
    event.preventDefault();
  });

  return {
    element,
    recording: () => ({ format: 'kindling-pointer@1', screen: { width: Math.round(box().width), height: Math.round(box().height) }, events: recorder.events.slice() }),
    clear() {
      recorder.clear();
      previous = undefined;
      context.clearRect(0, 0, trail.width, trail.height);
    },
  };
}
