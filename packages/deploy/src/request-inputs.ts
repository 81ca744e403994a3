import { InputError } from './errors';

/** Refuses a request that holds no input, or more than `maxInputs`. */
export function checkInputCount(count: number, maxInputs: number): void {
  if (count === 0) throw new InputError('no inputs in the request', 'body');
  if (count > maxInputs) throw new InputError(`${count} inputs in one request; the limit is ${maxInputs}`, 'body');
}

/**
 * A parsed JSON body's inputs, as the server reads them on its own thread and on a preparation worker alike: one
 * input, a list, or `{ inputs: [...] }`; `batch` says it was a list (answered as a list). No body, no input or too
 * many are refused.
 */
export function jsonBodyInputs(body: unknown, maxInputs: number): { values: unknown[]; batch: boolean } {
  if (body === undefined || body === null) throw new InputError('the request has no body: send JSON, a file (image/*, audio/*, application/octet-stream) or multipart/form-data', 'body');
  const list = Array.isArray(body) ? body : typeof body === 'object' && Array.isArray((body as { inputs?: unknown }).inputs) ? (body as { inputs: unknown[] }).inputs : undefined;
  const values = list ?? [body];
  checkInputCount(values.length, maxInputs);
  return { values, batch: list !== undefined };
}
