import type { Random } from '@kindling/data';
import type { PointerSample } from './recording';

export const MOVEMENT_CLASSES = ['human', 'bot'] as const;
export const GESTURE_CLASSES = ['circle', 'zigzag', 'check', 'swipe'] as const;
export type MovementClass = (typeof MOVEMENT_CLASSES)[number];
export type GestureClass = (typeof GESTURE_CLASSES)[number];

const SCREEN = { width: 1280, height: 800 };
const clampX = (x: number) => Math.round(Math.min(SCREEN.width, Math.max(0, x)));
const clampY = (y: number) => Math.round(Math.min(SCREEN.height, Math.max(0, y)));

/** Minimum-jerk position profile: how far along a reach a person is at time fraction τ (bell-shaped speed). */
const minimumJerk = (tau: number) => tau ** 3 * (10 - 15 * tau + 6 * tau * tau);

function click(events: PointerSample[], t: number, x: number, y: number, holdMs: number): number {
  events.push({ t, type: 'down', x, y, button: 'left' });
  events.push({ t: t + holdMs, type: 'up', x, y, button: 'left' });
  return t + holdMs;
}

/**
 * A human-like session: reaches along curved paths with a bell-shaped speed profile, a small overshoot
 * corrected at the end, hand jitter, uneven sampling and clicks held for 60–160 ms.
 */
function human(random: Random, moves: number): PointerSample[] {
  const events: PointerSample[] = [];
  let [x, y] = [random.uniform(100, SCREEN.width - 100), random.uniform(100, SCREEN.height - 100)];
  let t = 0;
  for (let move = 0; move < moves; move++) {
    const [tx, ty] = [random.uniform(50, SCREEN.width - 50), random.uniform(50, SCREEN.height - 50)];
    const distance = Math.hypot(tx - x, ty - y);
    const duration = 250 + 120 * Math.log2(1 + distance / 20) + random.uniform(-60, 60);
    const bend = random.uniform(-0.35, 0.35) * distance;
    const [nx, ny] = distance > 0 ? [-(ty - y) / distance, (tx - x) / distance] : [0, 0];
    const overshoot = 1 + random.uniform(0.02, 0.08);
    const [sx, sy] = [x, y];
    for (let elapsed = 0; elapsed < duration; ) {
      elapsed += 8 + random.uniform(0, 16);
      const tau = Math.min(1, elapsed / duration);
      const along = minimumJerk(tau) * overshoot;
      const sideways = Math.sin(Math.PI * Math.min(1, along)) * bend;
      const px = sx + (tx - sx) * along + nx * sideways + random.normal() * 0.8;
      const py = sy + (ty - sy) * along + ny * sideways + random.normal() * 0.8;
      events.push({ t: t + elapsed, type: 'move', x: clampX(px), y: clampY(py), button: 'none' });
    }
    t = events.at(-1)?.t ?? t + duration;
    // correct the overshoot back onto the target
    for (let step = 1; step <= 4; step++) {
      t += 12 + random.uniform(0, 10);
      const back = 1 - step / 4;
      events.push({ t, type: 'move', x: clampX(tx + (tx - sx) * (overshoot - 1) * back), y: clampY(ty + (ty - sy) * (overshoot - 1) * back), button: 'none' });
    }
    t = click(events, t + random.uniform(40, 200), Math.round(tx), Math.round(ty), random.uniform(60, 160)) + random.uniform(100, 600);
    [x, y] = [tx, ty];
  }
  return events;
}

/** A bot-like session: straight lines at constant speed, clockwork sampling, instant clicks, teleports. */
function bot(random: Random, moves: number): PointerSample[] {
  const events: PointerSample[] = [];
  let [x, y] = [random.uniform(100, SCREEN.width - 100), random.uniform(100, SCREEN.height - 100)];
  let t = 0;
  const interval = [10, 16, 20][random.integer(3)]!;
  const speed = random.uniform(0.8, 3); // px/ms
  for (let move = 0; move < moves; move++) {
    const [tx, ty] = [random.uniform(50, SCREEN.width - 50), random.uniform(50, SCREEN.height - 50)];
    if (random.next() < 0.3) {
      t += interval;
      events.push({ t, type: 'move', x: Math.round(tx), y: Math.round(ty), button: 'none' }); // teleport
    } else {
      const steps = Math.max(2, Math.ceil(Math.hypot(tx - x, ty - y) / (speed * interval)));
      for (let step = 1; step <= steps; step++) {
        t += interval;
        events.push({ t, type: 'move', x: Math.round(x + ((tx - x) * step) / steps), y: Math.round(y + ((ty - y) * step) / steps), button: 'none' });
      }
    }
    t = click(events, t + interval, Math.round(tx), Math.round(ty), random.next() < 0.5 ? 0 : interval) + random.uniform(50, 400);
    [x, y] = [tx, ty];
  }
  return events;
}

/** A gesture drawn with the left button held, with human timing and jitter. */
function gesture(kind: GestureClass, random: Random): PointerSample[] {
  const size = random.uniform(120, 320);
  const [cx, cy] = [random.uniform(size, SCREEN.width - size), random.uniform(size, SCREEN.height - size)];
  const angle = random.uniform(-0.25, 0.25);
  const shape = (u: number): [number, number] => {
    switch (kind) {
      case 'circle':
        return [Math.cos(2 * Math.PI * u) / 2, Math.sin(2 * Math.PI * u) / 2];
      case 'zigzag': {
        const segment = Math.min(3, Math.floor(u * 4));
        const local = u * 4 - segment;
        return [-0.5 + u, segment % 2 === 0 ? -0.3 + 0.6 * local : 0.3 - 0.6 * local];
      }
      case 'check':
        return u < 0.3 ? [-0.5 + (u / 0.3) * 0.3, (u / 0.3) * 0.4] : [-0.2 + ((u - 0.3) / 0.7) * 0.7, 0.4 - ((u - 0.3) / 0.7) * 0.9];
      default:
        return [0.5 - u, 0.05 * Math.sin(Math.PI * u)];
    }
  };
  const duration = random.uniform(400, 900);
  const events: PointerSample[] = [];
  const point = (u: number): [number, number] => {
    const [sx, sy] = shape(u);
    return [clampX(cx + size * (sx * Math.cos(angle) - sy * Math.sin(angle)) + random.normal()), clampY(cy + size * (sx * Math.sin(angle) + sy * Math.cos(angle)) + random.normal())];
  };
  const [x0, y0] = point(0);
  events.push({ t: 0, type: 'down', x: x0, y: y0, button: 'left' });
  let elapsed = 0;
  while (elapsed < duration) {
    elapsed += 8 + random.uniform(0, 12);
    const [x, y] = point(minimumJerk(Math.min(1, elapsed / duration)));
    events.push({ t: elapsed, type: 'move', x, y, button: 'left' });
  }
  const last = events.at(-1)!;
  events.push({ t: elapsed + 10, type: 'up', x: last.x, y: last.y, button: 'left' });
  return events;
}

/**
 * Synthesizes one recording: `human` or `bot` sessions of a few reaches and clicks, or a gesture
 * (`circle`, `zigzag`, `check`, `swipe`). Coordinates live on a 1280×800 screen.
 */
export function synthesizePointer(kind: MovementClass | GestureClass, random: Random, options: { moves?: number } = {}): { screen: { width: number; height: number }; events: PointerSample[] } {
  const moves = options.moves ?? 3 + random.integer(3);
  const events = kind === 'human' ? human(random, moves) : kind === 'bot' ? bot(random, moves) : gesture(kind, random);
  return { screen: { ...SCREEN }, events };
}
