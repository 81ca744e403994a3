// What the wasm training kernels share: the slice of the wasm backend they use, a call-site for wasm's own kernels,
// wasm's kernels that a replacement falls back to, and a fast copy. One kernel per file beside this one (as tfjs does).
import { type backend_util, getKernel, util, type DataType, type KernelBackend, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

/**
 * The slice of the wasm backend's class these kernels use. Typed here so that this package does not
 * depend on the internals of `@tensorflow/tfjs-backend-wasm`.
 */
export interface WasmBackendLike extends KernelBackend {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: backend_util.BackendValues): TensorInfo;
  readSync(dataId: object): backend_util.BackendValues;
  disposeData(dataId: object, force?: boolean): boolean;
}

export type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
/** A small call-site for another wasm kernel, so composite kernels read like ops. */
export class WasmKernels {
  private readonly temporaries: TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  call(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, 'wasm');
    if (kernel === undefined) {
      throw new Error(`@kindling/backend: the wasm backend has no '${name}' kernel to build on`);
    }
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.temporaries.push(out);
    return out;
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.call('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.call('Reshape', { x }, { shape });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([before, after]) => before === 0 && after === 0)) return x;
    return this.call('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (size.every((extent, axis) => extent === x.shape[axis]) && begin.every((start) => start === 0)) return x;
    return this.call('Slice', { x }, { begin, size });
  }

  /**
   * A float32 tensor's values in place on the wasm heap (no copy), for kernels written in JS. Read from
   * the memory itself: the module's views can lag behind a heap that grew.
   */
  floats(info: TensorInfo): Float32Array {
    if (info.dtype !== 'float32') throw new Error('@kindling/backend: expected a float32 tensor of the wasm backend');
    return this.values(info) as Float32Array;
  }

  /** A float32 or int32 tensor's values in place on the wasm heap (see `floats`). */
  values(info: TensorInfo): Float32Array | Int32Array {
    const { wasm, dataIdMap } = this.backend;
    const entry = dataIdMap.get(info.dataId);
    if (entry === undefined || (info.dtype !== 'float32' && info.dtype !== 'int32')) throw new Error('@kindling/backend: expected a float32 or int32 tensor of the wasm backend');
    const buffer = wasm.wasmMemory?.buffer ?? wasm.HEAPU8.buffer;
    const size = util.sizeFromShape(info.shape);
    return info.dtype === 'float32' ? new Float32Array(buffer, entry.memoryOffset, size) : new Int32Array(buffer, entry.memoryOffset, size);
  }

  /** A new tensor, its values left for the caller to write (see `floats`). */
  empty(shape: number[], dtype: DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.temporaries.push(out);
    return out;
  }

  fromValues(values: backend_util.BackendValues, shape: number[], dtype: DataType): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype, undefined, values);
    this.temporaries.push(out);
    return out;
  }

  /**
   * Releases every intermediate except `keep`, which becomes the kernel's output. Each kernel output
   * holds one reference: a new buffer, or (Reshape) one more on a buffer it shares, so releasing each
   * once balances them, and a buffer `keep` shares survives through its own reference.
   */
  finish(keep: TensorInfo): TensorInfo {
    for (const info of this.temporaries) {
      if (info !== keep) this.backend.disposeData(info.dataId);
    }
    this.temporaries.length = 0;
    return keep;
  }
}
/** wasm's own kernels that the ones here replace, kept for the cases the replacements leave to them. */
export const originalKernels = new Map<string, KernelConfig['kernelFunc']>();

/** Runs wasm's own kernel for a case a replacement leaves to it. */
export function original(kernelName: string, args: Parameters<KernelConfig['kernelFunc']>[0]): ReturnType<KernelConfig['kernelFunc']> {
  const kernelFunc = originalKernels.get(kernelName);
  if (kernelFunc === undefined) throw new Error(`@kindling/backend: the wasm backend has no '${kernelName}' kernel of its own`);
  return kernelFunc(args);
}

/** Copies `length` values; a loop for short runs, where a typed-array `set` costs more than it copies. */
export function copyRun(source: Float32Array | Int32Array, from: number, target: Float32Array | Int32Array, to: number, length: number): void {
  if (length >= 64) {
    target.set(source.subarray(from, from + length), to);
    return;
  }
  for (let k = 0; k < length; k++) target[to + k] = source[from + k]!;
}
