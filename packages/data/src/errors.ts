/** Where in the user's data a problem is: a file, a row, a field. */
export interface DataLocation {
  file?: string;
  row?: number;
  field?: string;
}

/**
 * A problem with the user's data (a corrupt image, a ragged row, an unknown label), with where it is.
 * The message names the place so a person can fix it.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  readonly file?: string;
  readonly row?: number;
  readonly field?: string;

  constructor(message: string, location: DataLocation = {}, options?: { cause?: unknown }) {
    const where = [
      location.file,
      location.row === undefined ? undefined : `row ${location.row}`,
      location.field === undefined ? undefined : `field '${location.field}'`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(where === '' ? message : `${where}: ${message}`, options);
    this.file = location.file;
    this.row = location.row;
    this.field = location.field;
  }
}

/** A setting that cannot work (a size of 0, an unknown method), named with what would. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Makes `value instanceof errorClass` recognise errors made by any copy of the package (its CommonJS and ESM
 * builds, or two installed versions), by a brand registered under `kindling.<key>` instead of class identity:
 * a downstream `catch (e) { if (e instanceof DataError) … }` works whichever build threw it. Subclasses keep
 * ordinary `instanceof`.
 */
export function recognisedAcrossCopies<T extends abstract new (...args: never[]) => Error>(errorClass: T, key: string): T {
  const brand = Symbol.for(`kindling.${key}`);
  Object.defineProperty(errorClass.prototype, brand, { value: true });
  Object.defineProperty(errorClass, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (this !== errorClass) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
    },
  });
  return errorClass;
}

recognisedAcrossCopies(DataError, 'DataError');
recognisedAcrossCopies(ConfigError, 'ConfigError');
