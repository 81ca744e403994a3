/** A backend was asked for that cannot run here, or none could start. The message says why. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
}
