import {
  backend_util,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  Concat,
  MaxPoolGrad,
  Mean,
  SplitV,
  Sum,
  Tile,
  unregisterKernel,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  getKernel,
  registerKernel,
  UnsortedSegmentSum,
  util,
  type DataType,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';

/**
 * The slice of the wasm backend's class these kernels use. Typed here so that this package does not
 * depend on the internals of `@tensorflow/tfjs-backend-wasm`.
 */
interface WasmBackendLike extends KernelBackend {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: backend_util.BackendValues): TensorInfo;
  readSync(dataId: object): backend_util.BackendValues;
  disposeData(dataId: object, force?: boolean): boolean;
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/**
 * Kernels the wasm backend lacks that training needs, built from wasm's own kernels; and some it has
 * but runs slowly on training's shapes: `Conv2DBackpropInput` (ten times a convolution), `Tile`
 * (which batch-norm gradients use to broadcast per-channel values over a whole batch), `Sum` and
 * `Mean` over the leading axes (batch norm's statistics and gradients, every bias gradient), and the
 * copies of a U-Net's skip connections (`Concat`, and `SplitV`, its gradient) and `MaxPoolGrad`.
 */
export const WASM_TRAINING_KERNELS = [
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  Tile,
  Sum,
  Mean,
  SplitV,
  Concat,
  MaxPoolGrad,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  UnsortedSegmentSum,
] as const;

/** A small call-site for another wasm kernel, so composite kernels read like ops. */
class WasmKernels {
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

/**
 * For every filter column j, the columns of `x` it reads (j·dw − left, + sw, …; zeros where they fall in
 * the padding), channels first: [fw·c, top + H + bottom, b, outW]. wasm's Transpose puts the channels
 * first; the shifted rows are then copied in JS straight into the wasm heap (wasm's Pad, Slice and Concat
 * took 5–10× longer for the same copies).
 */
function gatherFilterColumns(
  kernels: WasmKernels,
  x: TensorInfo,
  info: backend_util.Conv2DInfo,
  filterWidth: number,
  paddedHeight: number,
): TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const { outWidth, strideWidth, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const channelsFirst = kernels.transpose(x, [3, 1, 0, 2]); // [c, H, b, W]
  const out = kernels.empty([filterWidth * channels, paddedHeight, batch, outWidth]);
  const source = kernels.floats(channelsFirst);
  const target = kernels.floats(out);
  for (let j = 0; j < filterWidth; j++) {
    const shift = j * dilationWidth - left; // x column of output column 0
    const first = Math.min(outWidth, Math.max(0, Math.ceil(-shift / strideWidth)));
    const end = Math.max(first, Math.min(outWidth, Math.floor((width - 1 - shift) / strideWidth) + 1));
    for (let channel = 0; channel < channels; channel++) {
      for (let y = 0; y < paddedHeight; y++) {
        const row = y - top;
        const base = (((j * channels + channel) * paddedHeight + y) * batch) * outWidth;
        if (row < 0 || row >= height) {
          target.fill(0, base, base + batch * outWidth);
          continue;
        }
        for (let b = 0; b < batch; b++) {
          const start = base + b * outWidth;
          if (first > 0) target.fill(0, start, start + first);
          const read = ((channel * height + row) * batch + b) * width + shift + first * strideWidth;
          if (strideWidth === 1) {
            target.set(source.subarray(read, read + end - first), start + first);
          } else {
            for (let column = first, from = read; column < end; column++, from += strideWidth) target[start + column] = source[from]!;
          }
          if (end < outWidth) target.fill(0, start + end, start + outWidth);
        }
      }
    }
  }
  return out;
}

/**
 * The gradient of a convolution with respect to its filter, for NHWC input:
 *   dW[i, j, c, o] = Σ_{b, y, x} xPadded[b, y·sh + i·dh, x·sw + j·dw, c] · dy[b, y, x, o]
 * computed as one convolution whose contraction runs over long channels, which is what xnnpack's
 * convolutions are fast at: for each filter column j, the columns of `x` it reads are folded with the
 * batch into channels, so `x` becomes [fw·c, Hpadded, 1, b·outW] and `dy` the filter [outH, 1, b·outW, o];
 * the forward stride becomes the dilation along the height, and the output's rows i·dh are the filter's
 * rows. (With only the batch as channels, two per tap, the same convolution ran 2–4× slower.)
 */
function convBackpropFilter(
  kernels: WasmKernels,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): TensorInfo {
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
  );
  const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
  const batch = x.shape[0]!;
  const { outHeight, outWidth, strideHeight, dilationHeight } = info;
  // rows the forward convolution reads, padding included
  const paddedHeight = Math.max(info.padInfo.top + x.shape[1]! + info.padInfo.bottom, (outHeight - 1) * strideHeight + (filterHeight - 1) * dilationHeight + 1);
  const columns = gatherFilterColumns(kernels, x, info, filterWidth, paddedHeight);
  const input = kernels.reshape(columns, [filterWidth * inChannels, paddedHeight, 1, batch * outWidth]);
  const filter = kernels.reshape(kernels.transpose(dy, [1, 0, 2, 3]), [outHeight, 1, batch * outWidth, outChannels]);
  const full = kernels.call(
    'Conv2D',
    { x: input, filter },
    {
      strides: [1, 1],
      dilations: [strideHeight, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap,
  ); // [fw·c, Hpadded − (outH − 1)·sh, 1, o]
  const fullHeight = full.shape[1]!;
  const gradient = kernels.empty([filterHeight, filterWidth, inChannels, outChannels]);
  const source = kernels.floats(full);
  const target = kernels.floats(gradient);
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      for (let channel = 0; channel < inChannels; channel++) {
        const read = ((j * inChannels + channel) * fullHeight + i * dilationHeight) * outChannels;
        target.set(source.subarray(read, read + outChannels), ((i * filterWidth + j) * inChannels + channel) * outChannels);
      }
    }
  }
  return gradient;
}

const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: Pad;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('@kindling/backend: wasm Conv2DBackpropFilter supports NHWC only');
    return kernels.finish(convBackpropFilter(kernels, x, dy, filterShape, strides, 1, pad, dimRoundingMode));
  },
};

/** Inserts `stride − 1` zeros between rows and columns of an NHWC tensor (the transpose of a strided read). */
function dilateSpatially(kernels: WasmKernels, x: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  let result = x;
  if (strideHeight > 1) {
    const rows = kernels.reshape(result, [batch * height, 1, width * channels]);
    const spread = kernels.pad(rows, [[0, 0], [0, strideHeight - 1], [0, 0]]);
    result = kernels.slice(kernels.reshape(spread, [batch, height * strideHeight, width, channels]), [0, 0, 0, 0], [batch, (height - 1) * strideHeight + 1, width, channels]);
  }
  if (strideWidth > 1) {
    const tallHeight = result.shape[1]!;
    const columns = kernels.reshape(result, [batch * tallHeight, width, 1, channels]);
    const spread = kernels.pad(columns, [[0, 0], [0, 0], [0, strideWidth - 1], [0, 0]]);
    result = kernels.slice(kernels.reshape(spread, [batch, tallHeight, width * strideWidth, channels]), [0, 0, 0, 0], [batch, tallHeight, (width - 1) * strideWidth + 1, channels]);
  }
  return result;
}

/**
 * The gradient of a convolution with respect to its input, as a stride-1 convolution of the
 * zero-dilated, padded `dy` with the filter flipped in space and transposed in channels:
 *   dx[p] = Σ_i dyPadded[p + (k−1−i)·d] · W[i]
 */
function convBackpropInput(
  kernels: WasmKernels,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): TensorInfo {
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode);
  const [batch, height, width] = inputShape;
  const [filterHeight, filterWidth] = filter.shape as [number, number, number, number];
  if (tilesExactly(info, height, width)) return convBackpropInputByTiles(kernels, dy, filter, info);
  const dilated = dilateSpatially(kernels, dy, info.strideHeight, info.strideWidth);
  const reachHeight = (filterHeight - 1) * info.dilationHeight;
  const reachWidth = (filterWidth - 1) * info.dilationWidth;
  const before = [reachHeight - info.padInfo.top, reachWidth - info.padInfo.left];
  const after = [height + reachHeight - before[0]! - dilated.shape[1]!, width + reachWidth - before[1]! - dilated.shape[2]!];
  const padded = kernels.pad(dilated, [[0, 0], [Math.max(before[0]!, 0), Math.max(after[0]!, 0)], [Math.max(before[1]!, 0), Math.max(after[1]!, 0)], [0, 0]]);
  const window = kernels.slice(
    padded,
    [0, Math.max(-before[0]!, 0), Math.max(-before[1]!, 0), 0],
    [batch, height + reachHeight, width + reachWidth, padded.shape[3]!],
  );
  const flipped = kernels.transpose(kernels.call('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
  return kernels.call(
    'Conv2D',
    { x: window, filter: flipped },
    { strides: [1, 1], dilations: [info.dilationHeight, info.dilationWidth], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
  );
}

/** Each output pixel of the forward convolution read its own filter-sized tile of the input, and they cover it (a 2×2 stride-2 transposed convolution, or a 1×1 one). */
function tilesExactly(info: backend_util.Conv2DInfo, height: number, width: number): boolean {
  const { padInfo } = info;
  return (
    info.filterHeight === info.strideHeight &&
    info.filterWidth === info.strideWidth &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    padInfo.top === 0 &&
    padInfo.bottom === 0 &&
    padInfo.left === 0 &&
    padInfo.right === 0 &&
    info.outHeight * info.strideHeight === height &&
    info.outWidth * info.strideWidth === width
  );
}

/**
 * The input gradient when the filter tiles the input (see `tilesExactly`): every output pixel's tile
 * is dy at that pixel times the filter, one matrix product [b·outH·outW, o] × [o, fh·fw·c], its rows
 * then laid back out as tiles. A quarter of the work of the zero-dilated convolution below.
 */
function convBackpropInputByTiles(kernels: WasmKernels, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const [filterHeight, filterWidth, inChannels, outChannels] = filter.shape as [number, number, number, number];
  const { batchSize, outHeight, outWidth } = info;
  // a 1×1 convolution: xnnpack's matrix product (wasm's BatchMatMul runs 4× slower on these shapes)
  const product = kernels.call(
    'Conv2D',
    {
      x: dy,
      filter: kernels.reshape(kernels.transpose(filter, [3, 0, 1, 2]), [1, 1, outChannels, filterHeight * filterWidth * inChannels]),
    },
    { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
  ); // [b, outH, outW, fh·fw·c]
  const tiles = kernels.reshape(product, [batchSize * outHeight, outWidth, filterHeight, filterWidth * inChannels]);
  const rows = filterHeight === 1 ? tiles : kernels.transpose(tiles, [0, 2, 1, 3]); // [b·outH, fh, outW, fw·c]
  return kernels.reshape(rows, [batchSize, outHeight * filterHeight, outWidth * filterWidth, inChannels]);
}

const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: Pad;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('@kindling/backend: wasm Conv2DBackpropInput supports NHWC only');
    // a dy that is not the forward output of inputShape (conv2dTranspose asked for an inconsistent size): wasm's own kernel's answer
    const forward = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
    if (forward.outHeight !== dy.shape[1] || forward.outWidth !== dy.shape[2]) return original(Conv2DBackpropInput, args);
    return kernels.finish(convBackpropInput(kernels, dy, filter, inputShape, strides, 1, pad, dimRoundingMode));
  },
};

/**
 * A depthwise filter [h, w, c, m] as the block-diagonal filter of an ordinary convolution
 * [h', w', c, c·m], dilated by inserting zeros when `dilations` exceed 1.
 */
function blockDiagonalFilter(
  values: Float32Array,
  [height, width, channels, multiplier]: number[],
  dilationHeight: number,
  dilationWidth: number,
): { values: Float32Array; shape: number[] } {
  const fullHeight = (height! - 1) * dilationHeight + 1;
  const fullWidth = (width! - 1) * dilationWidth + 1;
  const outChannels = channels! * multiplier!;
  const full = new Float32Array(fullHeight * fullWidth * channels! * outChannels);
  for (let i = 0; i < height!; i++) {
    for (let j = 0; j < width!; j++) {
      for (let c = 0; c < channels!; c++) {
        for (let k = 0; k < multiplier!; k++) {
          const source = ((i * width! + j) * channels! + c) * multiplier! + k;
          const target = ((i * dilationHeight * fullWidth + j * dilationWidth) * channels! + c) * outChannels + c * multiplier! + k;
          full[target] = values[source]!;
        }
      }
    }
  }
  return { values: full, shape: [fullHeight, fullWidth, channels!, outChannels] };
}

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const kernels = new WasmKernels(wasm);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseAttrs & {
      inputShape: [number, number, number, number];
    };
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const full = blockDiagonalFilter(
      wasm.readSync(filter.dataId) as Float32Array,
      filter.shape,
      info.dilationHeight,
      info.dilationWidth,
    );
    const fullFilter = kernels.fromValues(full.values, full.shape, 'float32');
    const { top, bottom, left, right } = info.padInfo;
    const dx = kernels.call(
      'Conv2DBackpropInput',
      { dy, filter: fullFilter },
      {
        strides: [info.strideHeight, info.strideWidth],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        inputShape,
      } as unknown as NamedAttrMap,
    );
    return kernels.finish(dx);
  },
};

/** Reads the [h, w, c, c·m] diagonal blocks back into a depthwise filter [h, w, c, m]. */
function diagonalBlocks(values: Float32Array, [height, width, channels, multiplier]: number[]): Float32Array {
  const outChannels = channels! * multiplier!;
  const result = new Float32Array(height! * width! * channels! * multiplier!);
  for (let position = 0; position < height! * width!; position++) {
    for (let c = 0; c < channels!; c++) {
      for (let k = 0; k < multiplier!; k++) {
        result[(position * channels! + c) * multiplier! + k] = values[(position * channels! + c) * outChannels + c * multiplier! + k]!;
      }
    }
  }
  return result;
}

const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const kernels = new WasmKernels(wasm);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseAttrs & {
      filterShape: [number, number, number, number];
    };
    const [height, width, channels, multiplier] = filterShape;
    const full = convBackpropFilter(
      kernels,
      x,
      dy,
      [height, width, channels, channels * multiplier],
      strides,
      dilations,
      pad,
      dimRoundingMode,
    );
    const values = diagonalBlocks(wasm.readSync(full.dataId) as Float32Array, filterShape);
    return kernels.finish(kernels.fromValues(values, filterShape, 'float32'));
  },
};

/** `UnsortedSegmentSum` (the gradient of `gather`, so of every embedding) as wasm's `ScatterNd`, which sums duplicates. */
const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackendLike;
    const kernels = new WasmKernels(wasm);
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
    const leading = segmentIds.shape.length === 0 ? 1 : util.sizeFromShape(segmentIds.shape);
    const rest = x.shape.slice(segmentIds.shape.length);
    // TensorFlow drops negative ids; ScatterNd would reject them, so they are sent to an extra row.
    let indices = segmentIds;
    let rows = numSegments;
    if (ids.some((id) => id < 0 || id >= numSegments)) {
      if (ids.some((id) => id >= numSegments)) {
        throw new Error(`@kindling/backend: UnsortedSegmentSum segment id out of range [0, ${numSegments})`);
      }
      indices = kernels.fromValues(Int32Array.from(ids, (id) => (id < 0 ? numSegments : id)), [leading], 'int32');
      rows = numSegments + 1;
    }
    const updates = kernels.reshape(x, [leading, ...rest]);
    const scattered = kernels.call(
      'ScatterNd',
      { indices: kernels.reshape(indices, [leading, 1]), updates },
      { shape: [rows, ...rest] },
    );
    return kernels.finish(kernels.slice(scattered, scattered.shape.map(() => 0), [numSegments, ...rest]));
  },
};

/** wasm's own kernels that the ones here replace, kept for the cases the replacements leave to them. */
const originalKernels = new Map<string, KernelConfig['kernelFunc']>();

/** Runs wasm's own kernel for a case a replacement leaves to it. */
function original(kernelName: string, args: Parameters<KernelConfig['kernelFunc']>[0]): ReturnType<KernelConfig['kernelFunc']> {
  const kernelFunc = originalKernels.get(kernelName);
  if (kernelFunc === undefined) throw new Error(`@kindling/backend: the wasm backend has no '${kernelName}' kernel of its own`);
  return kernelFunc(args);
}

/**
 * Tile as a broadcast multiply: x reshaped with a unit axis beside each repeated one, times ones of
 * the repeats' shape, reshaped back. xnnpack's broadcasting runs this far faster than wasm's Tile.
 */
const tileConfig: KernelConfig = {
  kernelName: Tile,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs as { x: TensorInfo };
    const { reps } = attrs as unknown as { reps: number[] };
    const xShape: number[] = [];
    const onesShape: number[] = [];
    x.shape.forEach((extent, axis) => {
      const repeat = reps[axis]!;
      if (repeat === 1) {
        xShape.push(extent);
        onesShape.push(1);
      } else if (extent === 1) {
        xShape.push(1);
        onesShape.push(repeat);
      } else {
        xShape.push(1, extent);
        onesShape.push(repeat, 1);
      }
    });
    if (x.dtype !== 'float32' || xShape.length > 6) return original(Tile, args);
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const ones = kernels.call('Fill', {}, { shape: onesShape, value: 1, dtype: 'float32' });
    const product = kernels.call('Multiply', { a: kernels.reshape(x, xShape), b: ones });
    return kernels.finish(kernels.reshape(product, x.shape.map((extent, axis) => extent * reps[axis]!)));
  },
};

/**
 * Sum and Mean over leading axes (batch, height, width of NHWC: batch norm and bias gradients) as one
 * average pooling over a window that covers them: xnnpack pools in a single pass, where wasm's Sum and
 * Mean first transpose the reduced axes inward (ten times slower on a [2, 256, 256, 16] tensor).
 */
function leadingAxesReduction(kernelName: typeof Sum | typeof Mean): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const { x } = inputs as { x: TensorInfo };
      const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const reduced = axes.length;
      const leading = reduced > 0 && reduced < x.shape.length && axes.every((value, index) => value === index);
      const size = util.sizeFromShape(x.shape);
      if (x.dtype !== 'float32' || !leading || size === 0) return original(kernelName, args);
      const kernels = new WasmKernels(backend as WasmBackendLike);
      const outer = util.sizeFromShape(x.shape.slice(0, reduced - 1));
      const last = x.shape[reduced - 1]!;
      const kept = x.shape.slice(reduced);
      const channels = util.sizeFromShape(kept);
      const mean = kernels.call(
        'AvgPool',
        { x: kernels.reshape(x, [1, outer, last, channels]) },
        { filterSize: [outer, last], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined } as unknown as NamedAttrMap,
      );
      const result = kernelName === Mean ? mean : kernels.call('Multiply', { a: mean, b: kernels.fromValues(new Float32Array([outer * last]), [], 'float32') });
      return kernels.finish(kernels.reshape(result, keepDims ? [...x.shape.slice(0, reduced).map(() => 1), ...kept] : kept));
    },
  };
}

const sumConfig = leadingAxesReduction(Sum);
const meanConfig = leadingAxesReduction(Mean);

/** Copies `length` values; a loop for short runs, where a typed-array `set` costs more than it copies. */
function copyRun(source: Float32Array | Int32Array, from: number, target: Float32Array | Int32Array, to: number, length: number): void {
  if (length >= 64) {
    target.set(source.subarray(from, from + length), to);
    return;
  }
  for (let k = 0; k < length; k++) target[to + k] = source[from + k]!;
}

/**
 * Concat of float32 or int32 tensors, row by row straight on the wasm heap: wasm's copies each row with
 * a typed-array `set`, which costs more than the copy when rows are a few channels (a U-Net's skip connections).
 */
const concatConfig: KernelConfig = {
  kernelName: Concat,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const tensors = (inputs as unknown as TensorInfo[]).filter((tensor) => util.sizeFromShape(tensor.shape) > 0);
    const dtype = tensors[0]?.dtype;
    if (tensors.length < 2 || (dtype !== 'float32' && dtype !== 'int32') || tensors.some((tensor) => tensor.dtype !== dtype)) return original(Concat, args);
    const axis = util.parseAxisParam((attrs as unknown as { axis: number }).axis, tensors[0]!.shape)[0]!;
    backend_util.assertParamsConsistent(tensors.map((tensor) => tensor.shape), axis);
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const out = kernels.empty(backend_util.computeOutShape(tensors.map((tensor) => tensor.shape), axis), dtype);
    const rows = util.sizeFromShape(tensors[0]!.shape.slice(0, axis));
    const runs = tensors.map((tensor) => util.sizeFromShape(tensor.shape.slice(axis)));
    const total = runs.reduce((sum, run) => sum + run, 0);
    const target = kernels.values(out);
    let offset = 0;
    tensors.forEach((tensor, index) => {
      const source = kernels.values(tensor);
      const run = runs[index]!;
      for (let row = 0; row < rows; row++) copyRun(source, row * run, target, row * total + offset, run);
      offset += run;
    });
    return kernels.finish(out);
  },
};

/** SplitV (the gradient of Concat) of a float32 or int32 tensor, row by row on the wasm heap; wasm's slices each piece with a general-purpose Slice. */
const splitVConfig: KernelConfig = {
  kernelName: SplitV,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return original(SplitV, args);
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const $axis = util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x as unknown as Parameters<typeof backend_util.prepareSplitSize>[0], numOrSizeSplits, $axis);
    const wasm = backend as WasmBackendLike;
    const rows = util.sizeFromShape(x.shape.slice(0, $axis));
    const inner = util.sizeFromShape(x.shape.slice($axis + 1));
    const total = x.shape[$axis]! * inner;
    const outputs = sizes.map((size) => wasm.makeOutput(x.shape.map((extent, index) => (index === $axis ? size : extent)), x.dtype));
    const kernels = new WasmKernels(wasm);
    const source = kernels.values(x);
    let offset = 0;
    outputs.forEach((out, index) => {
      const run = sizes[index]! * inner;
      const target = kernels.values(out);
      for (let row = 0; row < rows; row++) copyRun(source, row * total + offset, target, row * run, run);
      offset += run;
    });
    return outputs;
  },
};

/**
 * MaxPoolGrad in JS on the wasm heap: each window's gradient goes to its first largest input, in the
 * window's row-major order (as tfjs's cpu kernel and TensorFlow do); about four times faster than
 * wasm's kernel on a U-Net's 2×2 poolings.
 */
const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') return original(MaxPoolGrad, args);
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
    const { top, left } = info.padInfo;
    const kernels = new WasmKernels(backend as WasmBackendLike);
    const dx = kernels.empty(input.shape);
    const x = kernels.floats(input);
    const gradient = kernels.floats(dy);
    const target = kernels.floats(dx);
    target.fill(0);
    const best = new Float32Array(channels);
    const where = new Int32Array(channels);
    for (let b = 0; b < batchSize; b++) {
      for (let outRow = 0; outRow < outHeight; outRow++) {
        const rowStart = Math.max(0, outRow * strideHeight - top);
        const rowEnd = Math.min(inHeight, outRow * strideHeight - top + effectiveFilterHeight);
        for (let outColumn = 0; outColumn < outWidth; outColumn++) {
          const columnStart = Math.max(0, outColumn * strideWidth - left);
          const columnEnd = Math.min(inWidth, outColumn * strideWidth - left + effectiveFilterWidth);
          best.fill(Number.NEGATIVE_INFINITY);
          where.fill(-1);
          for (let row = rowStart; row < rowEnd; row++) {
            for (let column = columnStart; column < columnEnd; column++) {
              const base = ((b * inHeight + row) * inWidth + column) * channels;
              for (let channel = 0; channel < channels; channel++) {
                const value = x[base + channel]!;
                if (value > best[channel]!) {
                  best[channel] = value;
                  where[channel] = base + channel;
                }
              }
            }
          }
          const read = ((b * outHeight + outRow) * outWidth + outColumn) * channels;
          for (let channel = 0; channel < channels; channel++) {
            const position = where[channel]!;
            if (position >= 0) target[position] = target[position]! + gradient[read + channel]!;
          }
        }
      }
    }
    return kernels.finish(dx);
  },
};

const configs: KernelConfig[] = [
  concatConfig,
  splitVConfig,
  maxPoolGradConfig,
  tileConfig,
  sumConfig,
  meanConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
];

/** Kernels wasm has that are replaced by faster ones (the rest are added only where wasm lacks them). */
const REPLACED: ReadonlySet<string> = new Set([Conv2DBackpropInput, Tile, Sum, Mean, Concat, SplitV, MaxPoolGrad]);

/**
 * Registers the training kernels the wasm backend lacks (and the faster Conv2DBackpropInput).
 * Safe to call more than once; a missing kernel that a later wasm release provides is left alone.
 * @returns the names of the kernels this call registered.
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  for (const config of configs) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing !== undefined) {
      if (!REPLACED.has(config.kernelName)) continue; // a later wasm release brought its own
      originalKernels.set(config.kernelName, existing.kernelFunc);
      unregisterKernel(config.kernelName, 'wasm');
      // wasm's kernel binds its native function in `setupFunc` when a wasm backend starts; the fallback needs
      // that on every backend started after this call too (tf.removeBackend, or registering before setBackend)
      registerKernel({ ...config, setupFunc: existing.setupFunc, disposeFunc: existing.disposeFunc });
      registered.push(config.kernelName);
      continue;
    }
    registerKernel(config);
    registered.push(config.kernelName);
  }
  return registered;
}
