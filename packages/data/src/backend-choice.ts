import * as tf from '@tensorflow/tfjs';

/** Where the choice is kept: on `globalThis` under a registered symbol, so every copy of these packages sees it. */
const CHOSEN = Symbol.for('kindling.backend.chosen');
const WARNED = Symbol.for('kindling.backend.bareCpuWarned');

type Marks = { [CHOSEN]?: boolean; [WARNED]?: boolean };

/**
 * Records that the TF.js backend now running was chosen on purpose (`initBackend` from `@kindling/backend` calls
 * it), so that {@link warnIfBareCpu} stays quiet, `cpu` included.
 */
export function markBackendChosen(): void {
  (globalThis as Marks)[CHOSEN] = true;
}

/**
 * Warns once per process when `what` (a fit, a prediction) is about to run on TF.js's pure-JavaScript `cpu` backend
 * that nobody chose: what a program gets that never called `initBackend`, tens of times slower than torch or
 * wasm. The line names the fix. Returns whether it warned.
 */
export function warnIfBareCpu(what: string, warn: (line: string) => void = console.warn): boolean {
  const marks = globalThis as Marks;
  if (marks[CHOSEN] === true || marks[WARNED] === true || tf.getBackend() !== 'cpu') return false;
  marks[WARNED] = true;
  warn(
    `kindling: ${what} runs on TF.js's pure-JavaScript 'cpu' backend, tens of times slower than torch or wasm, because no backend was chosen: ` +
      "call `await initBackend()` (package @kindling/backend, its /node entry in Node) first; `initBackend({ backend: 'cpu' })` keeps cpu without this warning",
  );
  return true;
}
