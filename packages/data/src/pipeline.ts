import * as tf from '@tensorflow/tfjs';

/** One named step of an item pipeline (read a file, decode, resize, encode a label…). */
export interface Step<In = unknown, Out = unknown> {
  readonly name: string;
  run(value: In): Out | Promise<Out>;
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

/** Steps run in order; `summary` runs them on one item and reports what each produced. */
export class Pipeline<In = unknown, Out = unknown> {
  constructor(readonly steps: ReadonlyArray<Step<any, any>>) {} // eslint-disable-line @typescript-eslint/no-explicit-any

  async run(value: In): Promise<Out> {
    let current: unknown = value;
    for (const step of this.steps) current = await step.run(current);
    return current as Out;
  }

  /** Runs one item through every step and lists `step → what came out`. */
  async summary(value: In): Promise<string[]> {
    const lines = [`input → ${describe(value)}`];
    let current: unknown = value;
    for (const step of this.steps) {
      current = await step.run(current);
      lines.push(`${step.name} → ${describe(current)}`);
    }
    return lines;
  }
}
