import { DataError, parseCsv } from '@kindling/data';

/** What happened: the pointer moved, a button went down or up, a click was reported, the wheel turned. */
export type PointerEventType = 'move' | 'down' | 'up' | 'click' | 'wheel';
/** The button involved; `other` is any further button (back, forward: Balabit's XButton). */
export type PointerButton = 'none' | 'left' | 'right' | 'middle' | 'other';

/**
 * One timestamped pointer event. `t` is in milliseconds (any origin, increasing), `x`/`y` in screen or
 * element pixels (origin top left), `button` the button involved or held, `delta` the wheel's vertical
 * step (positive = down) for `wheel` events.
 */
export interface PointerSample {
  t: number;
  type: PointerEventType;
  x: number;
  y: number;
  button: PointerButton;
  delta?: number;
}

/**
 * Kindling's pointer recording format (JSON):
 * `{ "format": "kindling-pointer@1", "screen": { "width": 1920, "height": 1080 }, "events": [
 *   { "t": 0, "type": "move", "x": 10, "y": 20, "button": "none" }, … ] }`.
 * `screen` (optional) is the area the coordinates live in, for screen-scaled pictures.
 */
export interface PointerRecording {
  format: 'kindling-pointer@1';
  screen?: { width: number; height: number };
  events: PointerSample[];
}

const TYPES = new Set<PointerEventType>(['move', 'down', 'up', 'click', 'wheel']);

/**
 * The largest time a recording may hold, in milliseconds from its origin either way: 2^53, past which float64 can no
 * longer tell one millisecond from the next (about 285,000 years: any real clock's epoch milliseconds are far below).
 */
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** A DataError naming the event when its time is a number beyond {@link MAX_TIME} (non-finite times are dropped and counted). */
function checkTime(t: unknown, what: string, where: { file: string; row: number }, field = 't'): void {
  if (typeof t === 'number' && Number.isFinite(t) && Math.abs(t) > MAX_TIME) {
    throw new DataError(`${what}: its time ${t} ms is past 2^53 ms, where milliseconds can no longer be told apart; times are milliseconds from any origin`, { ...where, field });
  }
}
const BUTTONS = new Set<PointerButton>(['none', 'left', 'right', 'middle', 'other']);

/** Reads a Kindling pointer recording; a malformed event is a DataError naming the file and event. */
export function parseRecording(text: string, source = 'recording'): PointerRecording {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DataError(`not JSON: ${(error as Error).message}`, { file: source }, { cause: error });
  }
  return checkRecording(json, source);
}

/** Checks a parsed value is a Kindling pointer recording (format, event types, buttons); a DataError names the event otherwise. */
export function checkRecording(value: unknown, source = 'recording'): PointerRecording {
  const recording = value as Partial<PointerRecording>;
  if (recording?.format !== 'kindling-pointer@1' || !Array.isArray(recording.events)) {
    throw new DataError("not a Kindling pointer recording (expected { format: 'kindling-pointer@1', events: [...] })", { file: source });
  }
  recording.events.forEach((event, index) => {
    const where = { file: source, row: index + 1 };
    if (!TYPES.has(event?.type)) throw new DataError(`event ${index + 1}: unknown type '${String(event?.type)}' (known: ${[...TYPES].join(', ')})`, where);
    if (!BUTTONS.has(event.button)) throw new DataError(`event ${index + 1}: unknown button '${String(event.button)}' (known: ${[...BUTTONS].join(', ')})`, where);
    checkTime(event.t, `event ${index + 1}`, where);
  });
  return recording as PointerRecording;
}

export function serializeRecording(recording: Omit<PointerRecording, 'format'>): string {
  return JSON.stringify({ format: 'kindling-pointer@1', ...recording });
}

const BALABIT_BUTTONS: Record<string, PointerButton> = { NoButton: 'none', Left: 'left', Right: 'right', Scroll: 'middle', XButton: 'other' };

/**
 * Reads a Balabit mouse-dynamics CSV (`record timestamp,client timestamp,button,state,x,y`, seconds):
 * Move → move, Drag → move with the left button held, Pressed/Released → down/up, Scroll Up/Down →
 * wheel (delta −1/+1). An unknown button or state is a DataError naming the file and row.
 */
export function parseBalabitCsv(text: string, source = 'balabit.csv'): PointerRecording {
  const rows = parseCsv(text, { source });
  return {
    format: 'kindling-pointer@1',
    events: rows.map((row, index) => {
      const where = { file: source, row: index + 2 };
      const button = BALABIT_BUTTONS[row.button ?? ''];
      if (button === undefined) throw new DataError(`unknown button '${row.button}' (known: ${Object.keys(BALABIT_BUTTONS).join(', ')})`, { ...where, field: 'button' });
      const t = Number(row['client timestamp']) * 1000;
      checkTime(t, 'the event', where, 'client timestamp');
      const x = Number(row.x);
      const y = Number(row.y);
      switch (row.state) {
        case 'Move':
          return { t, type: 'move', x, y, button };
        case 'Drag':
          return { t, type: 'move', x, y, button: button === 'none' ? 'left' : button };
        case 'Pressed':
          return { t, type: 'down', x, y, button };
        case 'Released':
          return { t, type: 'up', x, y, button };
        case 'Down':
        case 'Up':
          return { t, type: 'wheel', x, y, button: 'none', delta: row.state === 'Down' ? 1 : -1 };
        default:
          throw new DataError(`unknown state '${row.state}' (known: Move, Drag, Pressed, Released, Down, Up)`, { ...where, field: 'state' });
      }
    }),
  };
}

/** What `cleanEvents` repaired or dropped. */
export interface CleanReport {
  /** Events moved to restore time order. */
  reordered: number;
  duplicates: number;
  /** Events with a non-finite time or coordinate. */
  invalid: number;
  /** Events outside the screen (or at negative coordinates), dropped. */
  outOfRange: number;
}

/**
 * The defined behaviour for messy recordings: events are sorted by time (stable; counted), exact
 * duplicates dropped, events with NaN/∞ dropped, and events at negative coordinates or outside
 * `screen` (when known) dropped — each with a count in the report.
 */
export function cleanEvents(events: readonly PointerSample[], screen?: { width: number; height: number }): { events: PointerSample[]; report: CleanReport } {
  const report: CleanReport = { reordered: 0, duplicates: 0, invalid: 0, outOfRange: 0 };
  const valid = events.filter((event) => {
    if (!Number.isFinite(event.t) || !Number.isFinite(event.x) || !Number.isFinite(event.y)) {
      report.invalid++;
      return false;
    }
    if (event.x < 0 || event.y < 0 || (screen && (event.x > screen.width || event.y > screen.height))) {
      report.outOfRange++;
      return false;
    }
    return true;
  });
  const order = valid.map((event, index) => ({ event, index }));
  order.sort((a, b) => a.event.t - b.event.t || a.index - b.index);
  order.forEach((entry, position) => {
    if (entry.index !== position) report.reordered++;
  });
  const out: PointerSample[] = [];
  for (const { event } of order) {
    const last = out.at(-1);
    if (last && last.t === event.t && last.type === event.type && last.x === event.x && last.y === event.y && last.button === event.button && last.delta === event.delta) {
      report.duplicates++;
      continue;
    }
    out.push(event);
  }
  return { events: out, report };
}
