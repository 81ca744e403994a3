import { recordPointer, type PointerRecording, type PointerSample } from '@kindling/pointer';
import { el } from '../ui';

export interface Pad {
  element: HTMLElement;
  /** The movements so far as a recording (coordinates in the pad, screen = its size). */
  recording(): PointerRecording;
  clear(): void;
}

/** A drawing pad that records pointer events and shows the trail (lines) and presses (circles). */
export function createPad(options: { id: string; label: string; onStroke?: () => void }): Pad {
  const trail = el('canvas', { width: 420, height: 300 });
  const element = el('div', { className: 'pad', id: options.id, role: 'application', 'aria-label': options.label, tabIndex: 0 }, trail);
  const context = trail.getContext('2d')!;
  let previous: PointerSample | undefined;
  const recorder = recordPointer(element, {
    onEvent(event) {
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
