import { recognisedAcrossCopies } from '@kindling/data';

/**
 * A bundle that cannot be used as it is: a missing or tampered file, a format from a newer Kindling, a
 * task this version does not know. The message names the bundle (and the file) and says what to do.
 */
export class BundleError extends Error {
  override readonly name = 'BundleError';

  constructor(
    message: string,
    readonly source?: string,
    options?: { cause?: unknown },
  ) {
    super(source === undefined ? message : `${source}: ${message}`, options);
  }
}

/**
 * An input a predictor cannot take (wrong type, an unknown column or user, undecodable bytes): the
 * caller's mistake, answered with a 4xx by the server. `field` names the part of the input at fault.
 */
export class InputError extends Error {
  override readonly name = 'InputError';

  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(field === undefined ? message : `${field}: ${message}`, options);
  }
}

recognisedAcrossCopies(BundleError, 'BundleError');
recognisedAcrossCopies(InputError, 'InputError');
