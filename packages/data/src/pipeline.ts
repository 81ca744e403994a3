import * as tf from '@tensorflow/tfjs';
import type { Random } from './random';

/** What a transform is told about the item it encodes: whether it is for training, and a seeded random source for augmentation. */
export interface TransformContext {
  /** True for training items (augmentation on), false for validation and for `summary()`. */
  training: boolean;
  /** Seeded by (seed, epoch, item): an augmentation drawn from it is reproducible. */
  random?: Random;
}

/**
 * One named transform of an item pipeline (read a file, decode, resize, encode a label…): `encode` takes the value
 * forward to what the model sees; `decode`, where one exists, takes an encoded value back to what a person reads
 * (an index back to its label, normalized numbers back to pixels). A lossy step (a resize) has no decode.
 */
export interface Transform<In = unknown, Out = unknown> {
  readonly name: string;
  encode(value: In, context: TransformContext): Out | Promise<Out>;
  decode?(value: Out): In | Promise<In>;
  /**
   * True when `encode` draws from `context.random` in training (a random crop, an augmentation): the value before
   * it may be kept between epochs, the value after it may not.
   */
  readonly random?: boolean;
}

/** Pixel or feature data of one item with its shape, before it becomes part of a batch tensor. */
export interface ArrayItem {
  data: Float32Array | Int32Array | Uint8Array | Uint8ClampedArray;
  shape: number[];
}

export function isArrayItem(value: unknown): value is ArrayItem {
  return typeof value === 'object' && value !== null && ArrayBuffer.isView((value as ArrayItem).data) && Array.isArray((value as ArrayItem).shape);
}

/** A short description of a value for `summary()`: a tensor's or array's shape, a label, a number. */
export function describe(value: unknown): string {
  if (value instanceof tf.Tensor) return `Tensor [${value.shape.join(', ')}] ${value.dtype}`;
  if (isArrayItem(value)) return `${value.data.constructor.name} [${value.shape.join(', ')}]`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number') return `${value}`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (value !== null && typeof value === 'object') return `{ ${Object.keys(value).join(', ')} }`;
  return String(value);
}

const NOT_TRAINING: TransformContext = { training: false };

/**
 * Transforms run in order: `encode` forward, `decode` backward through every transform that has one, `summary` walks
 * one item forward and reports what each produced.
 */
export class Pipeline<In = unknown, Out = unknown> {
  constructor(readonly transforms: ReadonlyArray<Transform<any, any>>) {} // eslint-disable-line @typescript-eslint/no-explicit-any

  async encode(value: In, context: TransformContext = NOT_TRAINING): Promise<Out> {
    return (await this.encodeSteps(value, context)) as Out;
  }

  /** Runs the transforms from `from` up to (not including) `to`: a pipeline's first part, or the rest of one whose first part was kept. */
  async encodeSteps(value: unknown, context: TransformContext = NOT_TRAINING, from = 0, to = this.transforms.length): Promise<unknown> {
    let current = value;
    for (const transform of this.transforms.slice(from, to)) current = await transform.encode(current, context);
    return current;
  }

  /**
   * Takes an encoded value back through the transforms, last first, as far as each has a `decode`: stops before the
   * first that has none (a resize cannot be undone) and returns what it reached.
   */
  async decode(value: Out): Promise<unknown> {
    let current: unknown = value;
    for (const transform of [...this.transforms].reverse()) {
      if (transform.decode === undefined) break;
      current = await transform.decode(current);
    }
    return current;
  }

  /** How many transforms from the start never draw from the random source: their output may be kept between epochs. */
  get steadyPrefix(): number {
    const first = this.transforms.findIndex((transform) => transform.random === true);
    return first === -1 ? this.transforms.length : first;
  }

  /** Runs one item through every transform (as for validation) and lists `transform → what came out`. */
  async summary(value: In): Promise<string[]> {
    const lines = [`input → ${describe(value)}`];
    let current: unknown = value;
    for (const transform of this.transforms) {
      current = await transform.encode(current, NOT_TRAINING);
      lines.push(`${transform.name} → ${describe(current)}`);
    }
    return lines;
  }
}
