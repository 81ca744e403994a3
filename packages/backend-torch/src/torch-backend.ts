import { type backend_util, type DataId, type DataType, type TensorInfo } from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TorchAddon } from './addon';

type Data = Float32Array | Int32Array | Uint8Array;

/**
 * Output memory libtorch's kernels write into, given back when a tensor is disposed and handed out again for
 * the next output of the same size: a training loop allocates the same sizes every step, and a fresh
 * JavaScript array each time costs the operating system's page faults and V8 collections (often more than
 * the kernel). Only arrays nobody else can see are reused: one a reader got (`dataSync`, `data`) or another
 * tensor shares (a zero-copy slice) is left to the collector.
 */
class OutputPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers this pool handed out and that no other tensor or reader has seen. */
  private readonly private = new WeakSet<ArrayBuffer>();
  private pooled = 0;

  constructor(private readonly limit: number) {}

  take(bytes: number): ArrayBuffer {
    const list = this.free.get(bytes);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.pooled -= bytes;
      return reused;
    }
    return new ArrayBuffer(bytes);
  }

  /** Marks a buffer as this pool's, as long as nothing else sees it. */
  own(buffer: ArrayBuffer): void {
    this.private.add(buffer);
  }

  /** Somebody else sees this buffer: it is never reused. */
  escape(values: unknown): void {
    const buffer = (values as { buffer?: unknown } | undefined)?.buffer;
    if (buffer instanceof ArrayBuffer) this.private.delete(buffer);
  }

  give(values: unknown): void {
    const buffer = (values as { buffer?: unknown } | undefined)?.buffer;
    if (!(buffer instanceof ArrayBuffer) || !this.private.has(buffer)) return;
    this.private.delete(buffer);
    if (this.pooled + buffer.byteLength > this.limit) return;
    const list = this.free.get(buffer.byteLength);
    if (list === undefined) this.free.set(buffer.byteLength, [buffer]);
    else list.push(buffer);
    this.pooled += buffer.byteLength;
  }

  clear(): void {
    this.free.clear();
    this.pooled = 0;
  }

  get bytes(): number {
    return this.pooled;
  }
}

/**
 * The cpu backend's class with libtorch behind its heaviest kernels: tensors are the same plain typed
 * arrays, so every kernel the cpu backend has works here too, and libtorch reads and writes them in place.
 */
export class TorchBackend extends MathBackendCPU {
  private readonly outputs: OutputPool;

  /** @internal made by registerTorchBackend */
  constructor(
    /** @internal the addon's functions */
    readonly torch: TorchAddon,
    poolBytes: number,
  ) {
    super();
    this.outputs = new OutputPool(poolBytes);
  }

  /** A float32 output array for a libtorch kernel; `zeroed` when the kernel writes only some of it. */
  floats(length: number, zeroed = false): Float32Array {
    const values = new Float32Array(this.outputs.take(length * 4));
    if (zeroed) values.fill(0);
    return values;
  }

  ints(length: number): Int32Array {
    return new Int32Array(this.outputs.take(length * 4));
  }

  /** A bool output array (TF.js keeps bools as bytes of 0 or 1). */
  bools(length: number): Uint8Array {
    return new Uint8Array(this.outputs.take(length));
  }

  /** @internal A tensor holding a libtorch kernel's output; its memory goes back to the pool when it is disposed. */
  output(shape: number[], dtype: DataType, values: Data): TensorInfo {
    const info = this.makeTensorInfo(shape, dtype, values);
    this.outputs.own(values.buffer as ArrayBuffer);
    return info;
  }

  /** Bytes of output memory kept for reuse. */
  get pooledBytes(): number {
    return this.outputs.bytes;
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.outputs.escape(values); // a second tensor on the same memory
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.outputs.escape(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.outputs.escape(values); // the reader may keep it past the tensor's disposal
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const gone = super.disposeData(dataId, force);
    if (gone && values !== undefined) this.outputs.give(values);
    return gone;
  }

  override dispose(): void {
    this.outputs.clear();
    super.dispose();
  }
}
