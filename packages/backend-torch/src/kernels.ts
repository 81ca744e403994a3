import {
  backend_util,
  slice_util,
  util,
  type DataType,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';
import type { TorchAddon } from './addon';
import type { TorchBackend } from './torch-backend';

type Data = Float32Array | Int32Array | Uint8Array;
export type Inputs = Record<string, TensorInfo | undefined> | TensorInfo[];

/** What a libtorch kernel gets: the same arguments as a TF.js kernel, with the cpu kernel to fall back on. */
export interface KernelContext {
  inputs: Inputs;
  attrs: NamedAttrMap;
  backend: TorchBackend;
  torch: TorchAddon;
}

/** A libtorch kernel: its result, or `undefined` for a case it leaves to the cpu kernel (dtype, layout, rank). */
export type TorchKernel = (context: KernelContext) => TensorInfo | TensorInfo[] | undefined;

/** Thrown when libtorch rejects a call: names the kernel and the shapes it got. */
export class TorchKernelError extends Error {
  override name = 'TorchKernelError';
}

function dataOf(backend: TorchBackend, info: TensorInfo): Data {
  return backend.data.get(info.dataId).values as Data;
}

function isFloat(backend: TorchBackend, ...infos: Array<TensorInfo | undefined>): boolean {
  return infos.every((info) => info === undefined || (info.dtype === 'float32' && dataOf(backend, info) instanceof Float32Array));
}

function sizeOf(shape: readonly number[]): number {
  return util.sizeFromShape(shape as number[]);
}

const calls = new Map<string, number>();

/** How many times each kernel ran on libtorch in this process (the rest ran the cpu backend's code). */
export function torchKernelCalls(): ReadonlyMap<string, number> {
  return calls;
}

/** Runs a native call; a libtorch error becomes one that names the kernel and its inputs' shapes. */
function call(kernel: string, shapes: Record<string, readonly number[]>, work: () => void): void {
  calls.set(kernel, (calls.get(kernel) ?? 0) + 1);
  try {
    work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const described = Object.entries(shapes)
      .map(([name, shape]) => `${name} [${shape.join(',')}]`)
      .join(', ');
    throw new TorchKernelError(`torch ${kernel} failed for ${described}: ${message}`);
  }
}

function output(backend: TorchBackend, shape: number[], dtype: DataType, values: Data): TensorInfo {
  return backend.output(shape, dtype, values);
}

function named(inputs: Inputs): Record<string, TensorInfo | undefined> {
  return inputs as Record<string, TensorInfo | undefined>;
}

// --- convolutions ---------------------------------------------------------------------------------------

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5, prelu: 6 };

function convParameters(info: backend_util.Conv2DInfo, depthwise: boolean): number[] {
  const { top, bottom, left, right } = info.padInfo;
  return [info.strideHeight, info.strideWidth, top, bottom, left, right, info.dilationHeight, info.dilationWidth, depthwise ? 1 : 0];
}

function asPair(value: number | [number, number] | undefined | null): [number, number] {
  if (value === undefined || value === null) return [1, 1];
  return typeof value === 'number' ? [value, value] : value;
}

type Shape4D = [number, number, number, number];

/**
 * A convolution's geometry from its attributes, or `undefined` for what stays with the cpu kernel: NCHW data,
 * a rounding mode, an empty input or output.
 */
function convGeometry(attrs: NamedAttrMap, xShape: readonly number[], filterShape: readonly number[], depthwise: boolean): backend_util.Conv2DInfo | undefined {
  const { strides, pad, dataFormat = 'NHWC', dilations, dimRoundingMode } = attrs as {
    strides: [number, number] | number;
    pad: 'same';
    dataFormat?: string;
    dilations?: [number, number] | number | null;
    dimRoundingMode?: string;
  };
  if (dataFormat !== 'NHWC' || dimRoundingMode !== undefined || xShape.length !== 4 || sizeOf(xShape) === 0) return undefined;
  const info = backend_util.computeConv2DInfo(xShape as Shape4D, filterShape as Shape4D, strides, asPair(dilations), pad, undefined, depthwise);
  return sizeOf(info.outShape) === 0 ? undefined : info;
}

/** Conv2D, DepthwiseConv2dNative and their fused forms (bias and activation applied by libtorch too). */
function convolution(depthwise: boolean, fused: boolean): TorchKernel {
  const kernel = fused ? (depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D') : depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  return ({ inputs, attrs, backend, torch }) => {
    const { x, filter, bias, preluActivationWeights } = named(inputs);
    const { activation = 'linear', leakyreluAlpha = 0.2 } = attrs as { activation?: string; leakyreluAlpha?: number };
    if (ACTIVATIONS[activation] === undefined || !isFloat(backend, x, filter, bias, preluActivationWeights)) return undefined;
    if (!fused && (bias !== undefined || preluActivationWeights !== undefined)) return undefined;
    const info = convGeometry(attrs, x!.shape, filter!.shape, depthwise);
    if (info === undefined) return undefined;
    const out = backend.floats(sizeOf(info.outShape));
    call(kernel, { x: x!.shape, filter: filter!.shape }, () =>
      torch.conv2d(
        dataOf(backend, x!), x!.shape, dataOf(backend, filter!), filter!.shape, out, info.outShape, convParameters(info, depthwise),
        bias === undefined ? null : dataOf(backend, bias), bias?.shape ?? [],
        ACTIVATIONS[activation]!, leakyreluAlpha,
        preluActivationWeights === undefined ? null : dataOf(backend, preluActivationWeights), preluActivationWeights?.shape ?? [],
      ),
    );
    return output(backend, info.outShape, 'float32', out);
  };
}

/** The gradients of a convolution: with respect to its input (also `conv2dTranspose`) or to its filter. */
function convolutionGradient(of: 'input' | 'filter', depthwise: boolean): TorchKernel {
  const kernel = depthwise ? `DepthwiseConv2dNativeBackprop${of === 'input' ? 'Input' : 'Filter'}` : `Conv2DBackprop${of === 'input' ? 'Input' : 'Filter'}`;
  return ({ inputs, attrs, backend, torch }) => {
    const { x, dy, filter } = named(inputs);
    const { inputShape, filterShape } = attrs as { inputShape?: Shape4D; filterShape?: Shape4D };
    const xShape = of === 'input' ? inputShape! : x!.shape;
    const wShape = of === 'input' ? filter!.shape : filterShape!;
    if (!isFloat(backend, dy, of === 'input' ? filter : x) || sizeOf(dy!.shape) === 0) return undefined;
    const info = convGeometry(attrs, xShape, wShape, depthwise);
    if (info === undefined || !util.arraysEqual(info.outShape, dy!.shape)) return undefined;
    const parameters = convParameters(info, depthwise);
    if (of === 'input') {
      const out = backend.floats(sizeOf(xShape));
      call(kernel, { dy: dy!.shape, filter: wShape, input: xShape }, () =>
        torch.conv2dBackpropInput(dataOf(backend, dy!), dy!.shape, dataOf(backend, filter!), wShape, out, xShape, parameters),
      );
      return output(backend, [...xShape], 'float32', out);
    }
    const out = backend.floats(sizeOf(wShape));
    call(kernel, { x: xShape, dy: dy!.shape, filter: wShape }, () =>
      torch.conv2dBackpropFilter(dataOf(backend, x!), xShape, dataOf(backend, dy!), dy!.shape, out, wShape, parameters),
    );
    return output(backend, [...wShape], 'float32', out);
  };
}

// --- matrix products --------------------------------------------------------------------------------------

function matrixProduct(fused: boolean): TorchKernel {
  return ({ inputs, attrs, backend, torch }) => {
    const { a, b, bias, preluActivationWeights } = named(inputs);
    const { transposeA = false, transposeB = false, activation = 'linear', leakyreluAlpha = 0.2 } = attrs as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
      leakyreluAlpha?: number;
    };
    if (!isFloat(backend, a, b, bias, preluActivationWeights) || ACTIVATIONS[activation] === undefined) return undefined;
    if (!fused && (bias !== undefined || preluActivationWeights !== undefined)) return undefined;
    const aShape = a!.shape, bShape = b!.shape;
    if (aShape.length < 2 || bShape.length < 2) return undefined;
    const m = transposeA ? aShape[aShape.length - 1]! : aShape[aShape.length - 2]!;
    const k = transposeA ? aShape[aShape.length - 2]! : aShape[aShape.length - 1]!;
    const k2 = transposeB ? bShape[bShape.length - 1]! : bShape[bShape.length - 2]!;
    const n = transposeB ? bShape[bShape.length - 2]! : bShape[bShape.length - 1]!;
    if (k !== k2) return undefined; // the cpu kernel names the mismatch
    const batch = backend_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
    const outShape = [...batch, m, n];
    const out = backend.floats(sizeOf(outShape));
    if (out.length === 0 || k === 0) return undefined;
    call(fused ? '_FusedMatMul' : 'BatchMatMul', { a: aShape, b: bShape }, () =>
      torch.matmul(
        dataOf(backend, a!), aShape, dataOf(backend, b!), bShape, transposeA, transposeB, out, outShape,
        bias === undefined ? null : dataOf(backend, bias), bias?.shape ?? [],
        ACTIVATIONS[activation]!, leakyreluAlpha,
        preluActivationWeights === undefined ? null : dataOf(backend, preluActivationWeights), preluActivationWeights?.shape ?? [],
      ),
    );
    return output(backend, outShape, 'float32', out);
  };
}

// --- element by element -----------------------------------------------------------------------------------

const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, Pow: 7 };

function binary(kernel: string): TorchKernel {
  const op = BINARY[kernel]!;
  return ({ inputs, backend, torch }) => {
    const { a, b } = named(inputs);
    if (!isFloat(backend, a, b)) return undefined;
    const outShape = backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    const out = backend.floats(sizeOf(outShape));
    if (out.length === 0) return undefined;
    call(kernel, { a: a!.shape, b: b!.shape }, () => torch.binary(op, dataOf(backend, a!), a!.shape, dataOf(backend, b!), b!.shape, out, outShape));
    return output(backend, outShape, 'float32', out);
  };
}

const COMPARISONS: Record<string, number> = { Greater: 0, GreaterEqual: 1, Less: 2, LessEqual: 3, Equal: 4, NotEqual: 5, LogicalAnd: 6, LogicalOr: 7 };

/** Comparisons of two float tensors, and logical and/or of two bool tensors, with broadcasting: a bool result. */
function comparison(kernel: string): TorchKernel {
  const op = COMPARISONS[kernel]!;
  const logical = kernel === 'LogicalAnd' || kernel === 'LogicalOr';
  return ({ inputs, backend, torch }) => {
    const { a, b } = named(inputs);
    const takes = (info: TensorInfo) => (logical ? info.dtype === 'bool' && dataOf(backend, info) instanceof Uint8Array : isFloat(backend, info));
    if (!takes(a!) || !takes(b!)) return undefined;
    const outShape = backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    if (sizeOf(outShape) === 0) return undefined;
    const out = backend.bools(sizeOf(outShape));
    call(kernel, { a: a!.shape, b: b!.shape }, () => torch.compare(op, dataOf(backend, a!), a!.shape, dataOf(backend, b!), b!.shape, out, outShape));
    return output(backend, outShape, 'bool', out);
  };
}

const reverse: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const typed = floatOrInt(backend, x!);
  if (typed === undefined || x!.shape.length === 0 || sizeOf(x!.shape) === 0) return undefined;
  const axes = util.parseAxisParam((attrs as { dims: number | number[] }).dims, x!.shape);
  if (axes.length === 0) return undefined;
  const out = typed.make(typed.values.length);
  call('Reverse', { x: x!.shape }, () => torch.reverse(typed.values, x!.shape, axes, out));
  return output(backend, [...x!.shape], x!.dtype, out);
};

const UNARY: Record<string, number> = {
  Exp: 0, Log: 1, Sqrt: 2, Rsqrt: 3, Square: 4, Neg: 5, Abs: 6, Tanh: 7, Sigmoid: 8, Relu: 9, Relu6: 10, Elu: 11, LeakyRelu: 12,
  Step: 13, Reciprocal: 14, Floor: 15, Ceil: 16, Round: 17, Sign: 18, Log1p: 19, Expm1: 20, Sin: 21, Cos: 22, Erf: 23, Selu: 24,
  ClipByValue: 25, Softplus: 26,
};

function unary(kernel: string): TorchKernel {
  const op = UNARY[kernel]!;
  return ({ inputs, attrs, backend, torch }) => {
    const x = (named(inputs).x ?? (inputs as TensorInfo[])[0])!;
    if (!isFloat(backend, x)) return undefined;
    const size = sizeOf(x.shape);
    if (size === 0) return undefined;
    const { alpha = 0, clipValueMin = 0, clipValueMax = 0 } = attrs as { alpha?: number; clipValueMin?: number; clipValueMax?: number };
    const first = kernel === 'ClipByValue' ? clipValueMin : alpha;
    const out = backend.floats(size);
    call(kernel, { x: x.shape }, () => torch.unary(op, dataOf(backend, x), out, first, clipValueMax));
    return output(backend, [...x.shape], 'float32', out);
  };
}

// --- reductions -------------------------------------------------------------------------------------------

const REDUCTIONS: Record<string, number> = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4, ArgMax: 5, ArgMin: 6 };

function reduction(kernel: string): TorchKernel {
  const op = REDUCTIONS[kernel]!;
  const isArg = kernel === 'ArgMax' || kernel === 'ArgMin';
  return ({ inputs, attrs, backend, torch }) => {
    const { x } = named(inputs);
    if (!isFloat(backend, x) || sizeOf(x!.shape) === 0 || x!.shape.length === 0) return undefined;
    const { axis, reductionIndices, keepDims = false } = attrs as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims?: boolean };
    const axes = util.parseAxisParam((kernel === 'Max' ? reductionIndices : axis) ?? [], x!.shape);
    if (axes.length === 0 || (isArg && axes.length !== 1)) return undefined;
    const [reducedShape] = backend_util.computeOutAndReduceShapes(x!.shape, axes);
    const outShape = keepDims && !isArg ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    const out = isArg ? backend.ints(sizeOf(outShape)) : backend.floats(sizeOf(outShape));
    call(kernel, { x: x!.shape }, () => torch.reduce(op, dataOf(backend, x!), x!.shape, axes, out));
    return output(backend, outShape, isArg ? 'int32' : 'float32', out);
  };
}

const softmax: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { logits } = named(inputs);
  const { dim } = attrs as { dim: number };
  const rank = logits!.shape.length;
  if (!isFloat(backend, logits) || rank === 0 || (dim !== -1 && dim !== rank - 1) || sizeOf(logits!.shape) === 0) return undefined;
  const out = backend.floats(sizeOf(logits!.shape));
  call('Softmax', { logits: logits!.shape }, () => torch.softmax(dataOf(backend, logits!), logits!.shape, out));
  return output(backend, [...logits!.shape], 'float32', out);
};

// --- moving data ------------------------------------------------------------------------------------------

/** float32 or int32 values this backend can hand to libtorch, with a fresh output array of `length`. */
function floatOrInt(backend: TorchBackend, info: TensorInfo): { values: Float32Array | Int32Array; make: (length: number) => Float32Array | Int32Array } | undefined {
  const values = dataOf(backend, info);
  if (info.dtype === 'float32' && values instanceof Float32Array) return { values, make: (length) => backend.floats(length) };
  if (info.dtype === 'int32' && values instanceof Int32Array) return { values, make: (length) => backend.ints(length) };
  return undefined;
}

const transpose: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const { perm } = attrs as { perm: number[] };
  const typed = floatOrInt(backend, x!);
  if (typed === undefined || sizeOf(x!.shape) === 0 || x!.shape.length < 2) return undefined;
  const outShape = perm.map((axis) => x!.shape[axis]!);
  const out = typed.make(typed.values.length);
  call('Transpose', { x: x!.shape }, () => torch.transpose(typed.values, x!.shape, perm, out));
  return output(backend, outShape, x!.dtype, out);
};

const padV2: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const { paddings, constantValue } = attrs as unknown as { paddings: Array<[number, number]>; constantValue: number };
  if (!isFloat(backend, x) || sizeOf(x!.shape) === 0 || x!.shape.length === 0) return undefined;
  const outShape = x!.shape.map((size, axis) => paddings[axis]![0] + size + paddings[axis]![1]);
  const out = backend.floats(sizeOf(outShape));
  call('PadV2', { x: x!.shape }, () => torch.pad(dataOf(backend, x!), x!.shape, paddings.flat(), constantValue, out, outShape));
  return output(backend, outShape, 'float32', out);
};

const mirrorPad: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const { paddings, mode } = attrs as unknown as { paddings: Array<[number, number]>; mode: 'reflect' | 'symmetric' };
  if (!isFloat(backend, x) || sizeOf(x!.shape) === 0 || x!.shape.length === 0) return undefined;
  const offset = mode === 'reflect' ? 0 : 1;
  // a padding wider than the mirror allows (reflect: size − 1, symmetric: size) is the cpu kernel's to refuse
  const widest = (axis: number) => x!.shape[axis]! - 1 + offset;
  if (paddings.some(([before, after], axis) => before < 0 || after < 0 || before > widest(axis) || after > widest(axis))) return undefined;
  const outShape = x!.shape.map((size, axis) => paddings[axis]![0] + size + paddings[axis]![1]);
  const out = backend.floats(sizeOf(outShape));
  call('MirrorPad', { x: x!.shape }, () => torch.mirrorPad(dataOf(backend, x!), x!.shape, paddings.flat(), offset, out, outShape));
  return output(backend, outShape, 'float32', out);
};

const FILL_MODES: Readonly<Record<string, number>> = { constant: 0, reflect: 1, wrap: 2, nearest: 3 };

const transform: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { image, transforms } = named(inputs);
  const { interpolation, fillMode, fillValue, outputShape } = attrs as unknown as {
    interpolation: 'nearest' | 'bilinear';
    fillMode: string;
    fillValue: number;
    outputShape?: [number, number] | null;
  };
  const mode = FILL_MODES[fillMode];
  if (!isFloat(backend, image, transforms) || image!.shape.length !== 4 || mode === undefined || (interpolation !== 'nearest' && interpolation !== 'bilinear')) return undefined;
  const [batch, height, width, channels] = image!.shape as [number, number, number, number];
  const [outHeight, outWidth] = outputShape ?? [height, width];
  const outShape = [batch, outHeight, outWidth, channels];
  const count = transforms!.shape[0]!;
  if (sizeOf(outShape) === 0 || sizeOf(image!.shape) === 0 || (count !== 1 && count !== batch)) return undefined;
  const out = backend.floats(sizeOf(outShape));
  call('Transform', { image: image!.shape, transforms: transforms!.shape }, () =>
    torch.transform(dataOf(backend, image!), image!.shape, dataOf(backend, transforms!), count, interpolation === 'bilinear' ? 1 : 0, mode, fillValue, out, outShape),
  );
  return output(backend, outShape, 'float32', out);
};

const slice: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const typed = floatOrInt(backend, x!);
  if (typed === undefined || x!.shape.length === 0) return undefined;
  const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [start, extent] = slice_util.parseSliceParams(x!, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x!, start, extent);
  if (sizeOf(extent) === 0 || util.arraysEqual(extent, x!.shape)) return undefined; // empty, or the whole: the cpu kernel's shortcuts
  const out = typed.make(sizeOf(extent));
  call('Slice', { x: x!.shape }, () => torch.slice(typed.values, x!.shape, start, extent, out));
  return output(backend, extent, x!.dtype, out);
};

/** int32 or bool to float32 as a new float array: TF.js's cpu `Cast` keeps the integers' array, which no libtorch float kernel takes. */
const cast: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const values = dataOf(backend, x!);
  if ((attrs as { dtype: DataType }).dtype !== 'float32' || (x!.dtype !== 'int32' && x!.dtype !== 'bool') || values instanceof Float32Array || values.length === 0) return undefined;
  const out = backend.floats(values.length);
  call('Cast', { x: x!.shape }, () => torch.cast(values, out));
  return output(backend, [...x!.shape], 'float32', out);
};

const concat: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const parts = (inputs as TensorInfo[]).filter((part) => sizeOf(part.shape) > 0);
  if (parts.length < 2 || !isFloat(backend, ...parts)) return undefined;
  const axis = util.parseAxisParam((attrs as { axis: number }).axis, parts[0]!.shape)[0]!;
  const shapes = parts.map((part) => part.shape);
  backend_util.assertParamsConsistent(shapes, axis);
  const outShape = backend_util.computeOutShape(shapes, axis);
  const out = backend.floats(sizeOf(outShape));
  call('Concat', { first: shapes[0]!, last: shapes[shapes.length - 1]! }, () =>
    torch.concat(parts.map((part) => dataOf(backend, part)), shapes, axis, out, outShape),
  );
  return output(backend, outShape, 'float32', out);
};

const gather: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x, indices } = named(inputs);
  const { axis, batchDims = 0 } = attrs as { axis: number; batchDims?: number };
  if (batchDims !== 0 || !isFloat(backend, x) || indices!.dtype !== 'int32' || x!.shape.length === 0) return undefined;
  const indexValues = dataOf(backend, indices!);
  if (!(indexValues instanceof Int32Array) || indexValues.length === 0 || sizeOf(x!.shape) === 0) return undefined;
  const along = util.parseAxisParam(axis, x!.shape)[0]!;
  // an index out of range goes to the cpu kernel, which names it as TF.js does
  const limit = x!.shape[along]!;
  for (const index of indexValues) if (index < 0 || index >= limit) return undefined;
  const outShape = [...x!.shape.slice(0, along), ...indices!.shape, ...x!.shape.slice(along + 1)];
  const out = backend.floats(sizeOf(outShape));
  call('GatherV2', { x: x!.shape, indices: indices!.shape }, () =>
    torch.gather(dataOf(backend, x!), x!.shape, indexValues, indexValues.length, along, out, outShape),
  );
  return output(backend, outShape, 'float32', out);
};

const unsortedSegmentSum: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x, segmentIds } = named(inputs);
  const { numSegments } = attrs as { numSegments: number };
  if (!isFloat(backend, x) || segmentIds!.dtype !== 'int32' || segmentIds!.shape.length !== 1 || x!.shape.length === 0) return undefined;
  if (segmentIds!.shape[0] !== x!.shape[0] || sizeOf(x!.shape) === 0) return undefined;
  const outShape = [numSegments, ...x!.shape.slice(1)];
  const out = backend.floats(sizeOf(outShape));
  call('UnsortedSegmentSum', { x: x!.shape, segmentIds: segmentIds!.shape }, () =>
    torch.segmentSum(dataOf(backend, x!), x!.shape, dataOf(backend, segmentIds!), numSegments, out),
  );
  return output(backend, outShape, 'float32', out);
};

const addN: TorchKernel = ({ inputs, backend, torch }) => {
  const parts = inputs as TensorInfo[];
  if (parts.length < 2 || !isFloat(backend, ...parts) || !parts.every((part) => util.arraysEqual(part.shape, parts[0]!.shape))) return undefined;
  const size = sizeOf(parts[0]!.shape);
  if (size === 0) return undefined;
  const out = backend.floats(size);
  call('AddN', { x: parts[0]!.shape }, () => torch.addN(parts.map((part) => dataOf(backend, part)), size, out));
  return output(backend, [...parts[0]!.shape], 'float32', out);
};

const tile: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x } = named(inputs);
  const { reps } = attrs as { reps: number[] };
  const typed = floatOrInt(backend, x!);
  if (typed === undefined || x!.shape.length === 0 || reps.length !== x!.shape.length || sizeOf(x!.shape) === 0) return undefined;
  const outShape = x!.shape.map((size, axis) => size * reps[axis]!);
  if (sizeOf(outShape) === 0) return undefined;
  const out = typed.make(sizeOf(outShape));
  call('Tile', { x: x!.shape }, () => torch.tile(typed.values, x!.shape, reps, out, outShape));
  return output(backend, outShape, x!.dtype, out);
};

/** Pieces along an axis into arrays of their own (SplitV; Unpack drops the axis from each piece's shape). */
function pieces(kernel: 'SplitV' | 'Unpack'): (context: KernelContext) => TensorInfo[] | undefined {
  return ({ inputs, attrs, backend, torch }) => {
    const { x, value } = named(inputs);
    const input = (x ?? value)!;
    const typed = floatOrInt(backend, input);
    if (typed === undefined || input.shape.length === 0 || sizeOf(input.shape) === 0) return undefined;
    const axis = util.parseAxisParam((attrs as { axis: number }).axis, input.shape)[0]!;
    let sizes: number[];
    if (kernel === 'Unpack') sizes = new Array<number>(input.shape[axis]!).fill(1);
    else sizes = backend_util.prepareSplitSize(input, (attrs as { numOrSizeSplits: number | number[] }).numOrSizeSplits, axis);
    const shapes = sizes.map((size) => (kernel === 'Unpack' ? input.shape.filter((_, a) => a !== axis) : input.shape.map((length, a) => (a === axis ? size : length))));
    const outs = shapes.map((shape) => typed.make(sizeOf(shape)));
    call(kernel, { x: input.shape }, () => torch.split(typed.values, input.shape, axis, sizes, outs, shapes));
    return outs.map((out, i) => output(backend, shapes[i]!, input.dtype, out));
  };
}

// --- pooling and normalization ----------------------------------------------------------------------------

function poolParameters(info: backend_util.Conv2DInfo): number[] {
  const { top, bottom, left, right } = info.padInfo;
  return [info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, top, bottom, left, right];
}

function poolInfo(shape: readonly number[], attrs: NamedAttrMap): backend_util.Conv2DInfo | undefined {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'same';
    dimRoundingMode?: string;
  };
  if (dimRoundingMode !== undefined || shape.length !== 4 || sizeOf(shape) === 0) return undefined;
  const info = backend_util.computePool2DInfo(shape as [number, number, number, number], filterSize, strides, 1, pad);
  const { top, bottom, left, right } = info.padInfo;
  // a window wholly in the padding: TF.js's own rule for it stays with the cpu kernel
  if (Math.max(top, bottom) >= info.filterHeight || Math.max(left, right) >= info.filterWidth) return undefined;
  return info;
}

function pool(kind: 'max' | 'avg'): TorchKernel {
  return ({ inputs, attrs, backend, torch }) => {
    const { x } = named(inputs);
    if (!isFloat(backend, x)) return undefined;
    const info = poolInfo(x!.shape, attrs);
    if (info === undefined || sizeOf(info.outShape) === 0) return undefined;
    const out = backend.floats(sizeOf(info.outShape));
    const run = kind === 'max' ? torch.maxPool : torch.avgPool;
    call(kind === 'max' ? 'MaxPool' : 'AvgPool', { x: x!.shape }, () => run(dataOf(backend, x!), x!.shape, poolParameters(info), out, info.outShape));
    return output(backend, info.outShape, 'float32', out);
  };
}

const maxPoolGrad: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { dy, input } = named(inputs);
  if (!isFloat(backend, dy, input)) return undefined;
  const info = poolInfo(input!.shape, attrs);
  if (info === undefined || !util.arraysEqual(info.outShape, dy!.shape)) return undefined;
  const out = backend.floats(sizeOf(input!.shape), true);
  call('MaxPoolGrad', { dy: dy!.shape, input: input!.shape }, () =>
    torch.maxPoolGrad(dataOf(backend, dy!), dy!.shape, dataOf(backend, input!), input!.shape, poolParameters(info), out),
  );
  return output(backend, [...input!.shape], 'float32', out);
};

const avgPoolGrad: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { dy, input } = named(inputs);
  if (!isFloat(backend, dy)) return undefined;
  const info = poolInfo(input!.shape, attrs);
  if (info === undefined || !util.arraysEqual(info.outShape, dy!.shape)) return undefined;
  const out = backend.floats(sizeOf(input!.shape));
  call('AvgPoolGrad', { dy: dy!.shape, input: input!.shape }, () =>
    torch.avgPoolGrad(dataOf(backend, dy!), dy!.shape, input!.shape, poolParameters(info), out),
  );
  return output(backend, [...input!.shape], 'float32', out);
};

/** A batch-norm parameter's shape for libtorch's broadcasting, when TF.js's (cycling along the values) agrees. */
function parameterShape(parameter: TensorInfo | undefined, xShape: readonly number[]): readonly number[] | undefined | null {
  if (parameter === undefined) return undefined;
  const size = sizeOf(parameter.shape);
  if (size === 1) return [1];
  if (size === xShape[xShape.length - 1]) return [size];
  if (size === sizeOf(xShape)) return xShape;
  return null;
}

const fusedBatchNorm: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x, mean, variance, offset, scale } = named(inputs);
  if (!isFloat(backend, x, mean, variance, offset, scale) || sizeOf(x!.shape) === 0) return undefined;
  const shapes = [mean, variance, offset, scale].map((parameter) => parameterShape(parameter, x!.shape));
  if (shapes.some((shape) => shape === null)) return undefined;
  const [meanShape, varianceShape, offsetShape, scaleShape] = shapes as Array<readonly number[] | undefined>;
  const { varianceEpsilon = 0.001 } = attrs as { varianceEpsilon?: number };
  const out = backend.floats(sizeOf(x!.shape));
  call('FusedBatchNorm', { x: x!.shape, mean: mean!.shape }, () =>
    torch.batchNorm(
      dataOf(backend, x!), x!.shape, dataOf(backend, mean!), meanShape!, dataOf(backend, variance!), varianceShape!,
      offset === undefined ? null : dataOf(backend, offset), offsetShape ?? [], scale === undefined ? null : dataOf(backend, scale), scaleShape ?? [],
      varianceEpsilon, out,
    ),
  );
  return output(backend, [...x!.shape], 'float32', out);
};

/**
 * Kernels of Kindling's own ops, which no TF.js backend has (`@kindling/models` uses them where the backend
 * registers them and TF.js's composite ops elsewhere). The contract, by kernel name:
 * - `KindlingBatchNormTraining`: inputs `{ x, scale, offset }` (statistics over every axis but the last, `scale` and
 *   `offset` one value per channel), attrs `{ epsilon }`; outputs `[y, mean, variance]` (the batch's biased variance,
 *   as `tf.moments` gives it).
 * - `KindlingBatchNormTrainingGrad`: inputs `{ dy, x, scale, mean, variance }`, attrs `{ epsilon, output }`; the
 *   gradient of `output` (`x`, through the batch's statistics too, `scale` or `offset`): one each, as TF.js asks
 *   for each input's gradient on its own and drops what it did not ask for.
 */
const batchNormTraining: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { x, scale, offset } = named(inputs);
  const channels = batchNormChannels(backend, 'KindlingBatchNormTraining', x!, [scale!, offset!]);
  const { epsilon } = attrs as { epsilon: number };
  const [y, mean, variance] = [backend.floats(sizeOf(x!.shape)), backend.floats(channels), backend.floats(channels)];
  call('KindlingBatchNormTraining', { x: x!.shape }, () =>
    torch.batchNormTraining(dataOf(backend, x!), x!.shape, dataOf(backend, scale!), dataOf(backend, offset!), epsilon, y, mean, variance),
  );
  return [output(backend, [...x!.shape], 'float32', y), output(backend, [channels], 'float32', mean), output(backend, [channels], 'float32', variance)];
};

const GRADIENT_OUTPUTS = ['x', 'scale', 'offset'] as const;

const batchNormTrainingGrad: TorchKernel = ({ inputs, attrs, backend, torch }) => {
  const { dy, x, scale, mean, variance } = named(inputs);
  const channels = batchNormChannels(backend, 'KindlingBatchNormTrainingGrad', x!, [scale!, mean!, variance!], [dy!]);
  const { epsilon, output: wanted } = attrs as { epsilon: number; output: (typeof GRADIENT_OUTPUTS)[number] };
  const which = GRADIENT_OUTPUTS.indexOf(wanted);
  if (which < 0) throw new TorchKernelError(`torch KindlingBatchNormTrainingGrad: output must be x, scale or offset, not ${String(wanted)}`);
  const shape = which === 0 ? [...x!.shape] : [channels];
  const out = backend.floats(sizeOf(shape));
  call('KindlingBatchNormTrainingGrad', { dy: dy!.shape, x: x!.shape }, () =>
    torch.batchNormTrainingGrad(dataOf(backend, dy!), dataOf(backend, x!), x!.shape, dataOf(backend, scale!), dataOf(backend, mean!), dataOf(backend, variance!), epsilon, which, out),
  );
  return output(backend, shape, 'float32', out);
};

/** The channels of a training batch norm's input, after checking what the kernels need (no cpu kernel to fall back on). */
function batchNormChannels(backend: TorchBackend, kernel: string, x: TensorInfo, perChannel: TensorInfo[], sameAsX: TensorInfo[] = []): number {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  if (x.shape.length < 2 || channels === 0 || sizeOf(x.shape) === 0) throw new TorchKernelError(`torch ${kernel} needs a non-empty input of rank 2 or more, not [${x.shape.join(',')}]`);
  if (!isFloat(backend, x, ...perChannel, ...sameAsX)) throw new TorchKernelError(`torch ${kernel} takes float32 tensors`);
  const wrong = [...perChannel.filter((info) => sizeOf(info.shape) !== channels), ...sameAsX.filter((info) => !util.arraysEqual(info.shape, x.shape))][0];
  if (wrong !== undefined) throw new TorchKernelError(`torch ${kernel}: an input of shape [${wrong.shape.join(',')}] beside x [${x.shape.join(',')}]`);
  return channels;
}

/** @internal Kindling's own kernels on libtorch (see `batchNormTraining`), registered beside the TF.js ones. */
export const KINDLING_KERNELS: Readonly<Record<string, TorchKernel>> = {
  KindlingBatchNormTraining: batchNormTraining,
  KindlingBatchNormTrainingGrad: batchNormTrainingGrad,
};

/** @internal The kernels libtorch runs, by TF.js kernel name (their implementations; see TORCH_KERNEL_NAMES). */
export const TORCH_KERNELS: Readonly<Record<string, TorchKernel>> = {
  Conv2D: convolution(false, false),
  FusedConv2D: convolution(false, true),
  DepthwiseConv2dNative: convolution(true, false),
  FusedDepthwiseConv2D: convolution(true, true),
  Conv2DBackpropInput: convolutionGradient('input', false),
  Conv2DBackpropFilter: convolutionGradient('filter', false),
  DepthwiseConv2dNativeBackpropInput: convolutionGradient('input', true),
  DepthwiseConv2dNativeBackpropFilter: convolutionGradient('filter', true),
  BatchMatMul: matrixProduct(false),
  _FusedMatMul: matrixProduct(true),
  ...Object.fromEntries(Object.keys(BINARY).map((name) => [name, binary(name)])),
  ...Object.fromEntries(Object.keys(UNARY).map((name) => [name, unary(name)])),
  ...Object.fromEntries(Object.keys(COMPARISONS).map((name) => [name, comparison(name)])),
  Reverse: reverse,
  ...Object.fromEntries(Object.keys(REDUCTIONS).map((name) => [name, reduction(name)])),
  Softmax: softmax,
  Transpose: transpose,
  PadV2: padV2,
  Slice: slice,
  Cast: cast,
  MirrorPad: mirrorPad,
  Transform: transform,
  Concat: concat,
  GatherV2: gather,
  UnsortedSegmentSum: unsortedSegmentSum,
  AddN: addN,
  Tile: tile,
  SplitV: pieces('SplitV'),
  Unpack: pieces('Unpack'),
  MaxPool: pool('max'),
  AvgPool: pool('avg'),
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  FusedBatchNorm: fusedBatchNorm,
};

/** A TF.js kernel function that runs `kernel` and falls back on `cpu` for the cases it leaves. */
export function withFallback(kernel: TorchKernel, cpu: KernelFunc, torch: TorchAddon): KernelFunc {
  return (args) => {
    const result = kernel({ inputs: args.inputs as Inputs, attrs: args.attrs ?? {}, backend: args.backend as TorchBackend, torch });
    return result ?? cpu(args);
  };
}

/** The TF.js kernels libtorch runs, by name. Every other kernel is the cpu backend's. */
export const TORCH_KERNEL_NAMES: readonly string[] = Object.freeze([...Object.keys(TORCH_KERNELS), ...Object.keys(KINDLING_KERNELS)]);
