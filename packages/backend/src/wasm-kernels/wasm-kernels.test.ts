import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../init-backend';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Runs one kernel on a backend with the given inputs (as plain arrays) and returns its output values. */
async function runOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, { values: Float32Array | Int32Array; shape: number[]; dtype?: 'float32' | 'int32' }>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, input] of Object.entries(inputs)) tensors[name] = tf.tensor(input.values, input.shape, input.dtype ?? 'float32');
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  out.dispose();
  for (const tensor of Object.values(tensors)) tensor.dispose();
  return result;
}

/** Concat (whose kernel takes its inputs as an array) of the given pieces on a backend. */
async function concatOn(
  backend: 'cpu' | 'wasm',
  pieces: Array<{ values: Float32Array | Int32Array; shape: number[]; dtype?: 'float32' | 'int32' }>,
  axis: number,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors = pieces.map((piece) => tf.tensor(piece.values, piece.shape, piece.dtype ?? 'float32'));
  const out = tf.concat(tensors, axis);
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  tf.dispose([out, ...tensors]);
  return result;
}

/** Runs a kernel with several outputs (SplitV) and returns each output's values. */
async function runAllOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, { values: Float32Array | Int32Array; shape: number[]; dtype?: 'float32' | 'int32' }>,
  attrs: Record<string, unknown>,
): Promise<Array<{ values: Float32Array; shape: number[] }>> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, input] of Object.entries(inputs)) tensors[name] = tf.tensor(input.values, input.shape, input.dtype ?? 'float32');
  const outs = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor[];
  const results = await Promise.all(outs.map(async (out) => ({ values: (await out.data()) as Float32Array, shape: out.shape })));
  tf.dispose([...outs, ...Object.values(tensors)]);
  return results;
}

function random(size: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

function expectClose(actual: { values: Float32Array; shape: number[] }, expected: { values: Float32Array; shape: number[] }, label: string) {
  expect(actual.shape, label).toEqual(expected.shape);
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < expected.values.length; i++) {
    scale = Math.max(scale, Math.abs(expected.values[i]!));
    worst = Math.max(worst, Math.abs(actual.values[i]! - expected.values[i]!));
  }
  expect(worst / scale, label).toBeLessThanOrEqual(1e-4);
}

/**
 * Naive depthwise gradients straight from the definition. tfjs's cpu kernels ignore dilations in
 * these two gradients (tfjs never calls them with a dilation above 1), so dilated cases are checked
 * against this instead; undilated ones against both.
 */
function naiveDepthwiseGradients(
  x: Float32Array, xShape: number[], filter: Float32Array, filterShape: number[], dy: Float32Array, dyShape: number[],
  stride: number, dilation: number, pad: Pad,
): { filterGradient: Float32Array; inputGradient: Float32Array } {
  const [batch, height, width, channels] = xShape as [number, number, number, number];
  const [filterHeight, filterWidth, , multiplier] = filterShape as [number, number, number, number];
  const [, outHeight, outWidth] = dyShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], stride, dilation, pad, undefined, true);
  const { top, left } = info.padInfo;
  const filterGradient = new Float32Array(filter.length);
  const inputGradient = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        for (let i = 0; i < filterHeight; i++) {
          const y = oy * stride + i * dilation - top;
          if (y < 0 || y >= height) continue;
          for (let j = 0; j < filterWidth; j++) {
            const xx = ox * stride + j * dilation - left;
            if (xx < 0 || xx >= width) continue;
            for (let c = 0; c < channels; c++) {
              for (let k = 0; k < multiplier; k++) {
                const g = dy[((b * outHeight + oy) * outWidth + ox) * channels * multiplier + c * multiplier + k]!;
                const xIndex = ((b * height + y) * width + xx) * channels + c;
                const fIndex = ((i * filterWidth + j) * channels + c) * multiplier + k;
                filterGradient[fIndex]! += x[xIndex]! * g;
                inputGradient[xIndex]! += filter[fIndex]! * g;
              }
            }
          }
        }
      }
    }
  }
  return { filterGradient, inputGradient };
}

const pads: Pad[] = ['same', 'valid', [[0, 0], [1, 2], [0, 1], [0, 0]]];

interface ConvCase {
  batch: number;
  size: [number, number];
  filter: [number, number];
  inChannels: number;
  outChannels: number;
  stride: number;
  dilation: number;
  pad: Pad;
}

function convCases(withDilation: boolean): ConvCase[] {
  const cases: ConvCase[] = [];
  const sizes: Array<[number, number]> = [[5, 5], [6, 8], [8, 7], [9, 12]];
  const filters: Array<[number, number]> = [[1, 1], [2, 2], [2, 3], [3, 3], [5, 5]];
  let index = 0;
  for (const size of sizes) {
    for (const filter of filters) {
      for (const stride of [1, 2, 3]) {
        for (const dilation of withDilation ? [1, 2] : [1]) {
          if (stride > 1 && dilation > 1) continue; // tfjs convolutions take one or the other
          for (const pad of pads) {
            const out = tf.backend_util.computeConv2DInfo([1, size[0], size[1], 1], [filter[0], filter[1], 1, 1], stride, dilation, pad).outShape;
            if (out.some((extent) => extent <= 0)) continue;
            index++;
            cases.push({
              batch: 1 + (index % 3),
              size,
              filter,
              inChannels: 1 + (index % 4),
              outChannels: 1 + ((index * 7) % 5),
              stride,
              dilation,
              pad,
            });
          }
        }
      }
    }
  }
  return cases;
}

function outputShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.size[0], c.size[1], c.inChannels],
    [c.filter[0], c.filter[1], c.inChannels, c.outChannels],
    c.stride,
    c.dilation,
    c.pad,
  );
  return info.outShape;
}

function describeCase(c: ConvCase): string {
  return `x ${c.batch}×${c.size.join('×')}×${c.inChannels}, filter ${c.filter.join('×')}→${c.outChannels}, stride ${c.stride}, dilation ${c.dilation}, pad ${JSON.stringify(c.pad)}`;
}

describe('wasm training kernels match cpu', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
    await initBackend({ backend: 'wasm', log: false });
  });

  it('Conv2DBackpropFilter over shapes, strides and paddings', async () => {
    const cases = convCases(false);
    expect(cases.length).toBeGreaterThan(80);
    for (const [index, c] of cases.entries()) {
      const xShape = [c.batch, c.size[0], c.size[1], c.inChannels];
      const dyShape = outputShape(c);
      const inputs = {
        x: { values: random(xShape.reduce((a, b) => a * b), index + 1), shape: xShape },
        dy: { values: random(dyShape.reduce((a, b) => a * b), index + 1000), shape: dyShape },
      };
      const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', filterShape: [c.filter[0], c.filter[1], c.inChannels, c.outChannels] };
      expectClose(await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs), await runOn('cpu', 'Conv2DBackpropFilter', inputs, attrs), describeCase(c));
    }
  });

  it('Conv2DBackpropInput (replaced: ten times faster than wasm\'s own) over shapes, strides and paddings', async () => {
    const cases = convCases(false);
    for (const [index, c] of cases.entries()) {
      const xShape = [c.batch, c.size[0], c.size[1], c.inChannels];
      const filterShape = [c.filter[0], c.filter[1], c.inChannels, c.outChannels];
      const dyShape = outputShape(c);
      const inputs = {
        dy: { values: random(dyShape.reduce((a, b) => a * b), index + 5), shape: dyShape },
        filter: { values: random(filterShape.reduce((a, b) => a * b), index + 500), shape: filterShape },
      };
      const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: xShape };
      expectClose(await runOn('wasm', 'Conv2DBackpropInput', inputs, attrs), await runOn('cpu', 'Conv2DBackpropInput', inputs, attrs), describeCase(c));
    }
  });

  it('DepthwiseConv2dNativeBackpropFilter and ...BackpropInput over shapes, strides, paddings and dilations', async () => {
    const cases = convCases(true);
    expect(cases.length).toBeGreaterThan(100);
    for (const [index, c] of cases.entries()) {
      const multiplier = 1 + (index % 2);
      const depthwise = { ...c, outChannels: c.inChannels * multiplier };
      const xShape = [c.batch, c.size[0], c.size[1], c.inChannels];
      const filterShape = [c.filter[0], c.filter[1], c.inChannels, multiplier];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], c.stride, c.dilation, c.pad, undefined, true).outShape;
      const attrs = { strides: [c.stride, c.stride], dilations: [c.dilation, c.dilation], pad: c.pad };
      const dy = { values: random(dyShape.reduce((a, b) => a * b), index + 7), shape: dyShape };
      const filterInputs = { x: { values: random(xShape.reduce((a, b) => a * b), index + 3), shape: xShape }, dy };
      const filterAttrs = { ...attrs, filterShape };
      const inputInputs = { dy, filter: { values: random(filterShape.reduce((a, b) => a * b), index + 11), shape: filterShape } };
      const inputAttrs = { ...attrs, inputShape: xShape };
      const wasmFilterGradient = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', filterInputs, filterAttrs);
      const wasmInputGradient = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', inputInputs, inputAttrs);
      const naive = naiveDepthwiseGradients(
        filterInputs.x.values, xShape, inputInputs.filter.values, filterShape, dy.values, dyShape, c.stride, c.dilation, c.pad,
      );
      expectClose(wasmFilterGradient, { values: naive.filterGradient, shape: filterShape }, `filter gradient vs definition, ${describeCase(depthwise)}`);
      expectClose(wasmInputGradient, { values: naive.inputGradient, shape: xShape }, `input gradient vs definition, ${describeCase(depthwise)}`);
      if (c.dilation > 1) continue;
      expectClose(
        wasmFilterGradient,
        await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', filterInputs, filterAttrs),
        `filter gradient vs cpu, ${describeCase(depthwise)}`,
      );
      expectClose(
        wasmInputGradient,
        await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', inputInputs, inputAttrs),
        `input gradient vs cpu, ${describeCase(depthwise)}`,
      );
    }
  });

  it('Tile (replaced by a broadcast) matches cpu, including int32 and every axis pattern', async () => {
    const shapes: Array<[number[], number[]]> = [
      [[1, 1, 1, 5], [4, 3, 2, 1]],
      [[2, 3], [3, 2]],
      [[3], [4]],
      [[2, 1, 3, 4], [1, 5, 2, 3]],
      [[2, 2, 2, 2, 2], [2, 1, 2, 1, 2]],
    ];
    for (const [index, [shape, reps]] of shapes.entries()) {
      const inputs = { x: { values: random(shape.reduce((a, b) => a * b), index + 70), shape } };
      expectClose(await runOn('wasm', 'Tile', inputs, { reps }), await runOn('cpu', 'Tile', inputs, { reps }), `tile ${shape} by ${reps}`);
    }
    const ints = { x: { values: Int32Array.from([1, 2, 3]), shape: [3], dtype: 'int32' as const } };
    const tiled = await runOn('wasm', 'Tile', ints, { reps: [2] });
    expect(Array.from(tiled.values)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('Sum and Mean (replaced over leading axes by a pooling) match cpu, and fall back for other axes and int32', async () => {
    const cases: Array<[number[], number | number[], boolean]> = [
      [[2, 64, 64, 16], [0, 1, 2], false], // batch norm's statistics
      [[2, 64, 64, 16], [2, 0, 1], true],
      [[7, 5], 0, false], // a dense layer's bias gradient
      [[7, 5], [0], true],
      [[3, 4, 5], [0, 1], false],
      [[3, 4, 5], [-3, -2], true],
      [[3, 4, 5], [1, 2], false], // not leading: wasm's own
      [[3, 4, 5], [0, 2], true],
      [[6], 0, false], // every axis: wasm's own
      [[2, 3, 1, 4], [0, 1, 2], false],
    ];
    for (const [index, [shape, axis, keepDims]] of cases.entries()) {
      const inputs = { x: { values: random(shape.reduce((a, b) => a * b), index + 90), shape } };
      for (const kernel of ['Sum', 'Mean']) {
        const label = `${kernel} of ${shape} over ${JSON.stringify(axis)}${keepDims ? ', dims kept' : ''}`;
        expectClose(await runOn('wasm', kernel, inputs, { axis, keepDims }), await runOn('cpu', kernel, inputs, { axis, keepDims }), label);
      }
    }
    const ints = { x: { values: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [3, 2], dtype: 'int32' as const } };
    const summed = await runOn('wasm', 'Sum', ints, { axis: [0], keepDims: false });
    expect(Array.from(summed.values)).toEqual([9, 12]);
  });

  it('Concat and SplitV (replaced: row copies on the heap) match cpu on every axis, float32 and int32', async () => {
    const shape = [2, 3, 4, 5];
    for (let axis = -1; axis < 4; axis++) {
      const $axis = (axis + 4) % 4;
      const sizes = [1, shape[$axis]! - 1];
      const pieces = sizes.map((size, index) => {
        const pieceShape = shape.map((extent, position) => (position === $axis ? size : extent));
        return { values: random(pieceShape.reduce((a, b) => a * b), 40 + index + axis), shape: pieceShape };
      });
      const label = `axis ${axis}`;
      expectClose(await concatOn('wasm', pieces, axis), await concatOn('cpu', pieces, axis), `Concat ${label}`);
      const whole = { x: { values: random(shape.reduce((a, b) => a * b), 60 + axis), shape } };
      for (const numOrSizeSplits of [sizes, [1, -1]]) {
        // (tfjs fills in a -1 in place, so each backend gets its own copy)
        const wasmPieces = await runAllOn('wasm', 'SplitV', whole, { numOrSizeSplits: [...numOrSizeSplits], axis });
        const cpuPieces = await runAllOn('cpu', 'SplitV', whole, { numOrSizeSplits: [...numOrSizeSplits], axis });
        expect(wasmPieces).toHaveLength(2);
        wasmPieces.forEach((piece, index) => expectClose(piece, cpuPieces[index]!, `SplitV ${label} into ${numOrSizeSplits}, piece ${index}`));
      }
    }
    const ints = [
      { values: Int32Array.from([1, 2, 3, 4]), shape: [2, 2], dtype: 'int32' as const },
      { values: Int32Array.from([5, 6]), shape: [2, 1], dtype: 'int32' as const },
      { values: new Int32Array(0), shape: [2, 0], dtype: 'int32' as const },
    ];
    expect(Array.from((await concatOn('wasm', ints, 1)).values)).toEqual([1, 2, 5, 3, 4, 6]);
    const split = await runAllOn('wasm', 'SplitV', { x: { values: Int32Array.from([1, 2, 5, 3, 4, 6]), shape: [2, 3], dtype: 'int32' } }, { numOrSizeSplits: [2, 1], axis: 1 });
    expect(split.map((piece) => Array.from(piece.values))).toEqual([[1, 2, 3, 4], [5, 6]]);
  });

  it('MaxPoolGrad (replaced: JS on the heap) matches cpu, ties going to the first largest input', async () => {
    const cases: Array<{ shape: number[]; filterSize: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }> = [
      { shape: [2, 8, 8, 3], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [1, 7, 9, 2], filterSize: [3, 3], strides: [1, 1], pad: 'same' }, // overlapping windows
      { shape: [2, 9, 7, 4], filterSize: [3, 2], strides: [2, 3], pad: 'same' },
      { shape: [1, 5, 5, 1], filterSize: [2, 2], strides: [2, 2], pad: 'valid' }, // a row and column left out
    ];
    for (const [index, c] of cases.entries()) {
      // values after a ReLU: many exact zeros, so many windows tie
      const x = random(c.shape.reduce((a, b) => a * b), 80 + index).map((value) => Math.max(0, value));
      const outShape = tf.backend_util.computePool2DInfo(c.shape as [number, number, number, number], c.filterSize, c.strides, 1, c.pad).outShape;
      const inputs = {
        dy: { values: random(outShape.reduce((a, b) => a * b), 90 + index), shape: outShape },
        input: { values: x, shape: c.shape },
        output: { values: new Float32Array(outShape.reduce((a, b) => a * b)), shape: outShape },
      };
      const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
      expectClose(await runOn('wasm', 'MaxPoolGrad', inputs, attrs), await runOn('cpu', 'MaxPoolGrad', inputs, attrs), `MaxPoolGrad ${JSON.stringify(c)}`);
    }
    // an all-zero window sends its whole gradient to its first position only
    const zeros = { dy: { values: Float32Array.from([5]), shape: [1, 1, 1, 1] }, input: { values: new Float32Array(4), shape: [1, 2, 2, 1] }, output: { values: new Float32Array(1), shape: [1, 1, 1, 1] } };
    expect(Array.from((await runOn('wasm', 'MaxPoolGrad', zeros, { filterSize: [2, 2], strides: [2, 2], pad: 'valid' })).values)).toEqual([5, 0, 0, 0]);
  });

  it('UnsortedSegmentSum sums rows by segment, with repeats and dropped negative ids', async () => {
    const ids = Int32Array.from([3, 0, 3, 1, -1, 3, 0, 5]);
    const inputs = {
      x: { values: random(8 * 2 * 3, 5), shape: [8, 2, 3] },
      segmentIds: { values: ids, shape: [8], dtype: 'int32' as const },
    };
    const attrs = { numSegments: 6 };
    expectClose(await runOn('wasm', 'UnsortedSegmentSum', inputs, attrs), await runOn('cpu', 'UnsortedSegmentSum', inputs, attrs), 'segment sum');
  });

  it('leaves no tensors and no wasm memory behind, however often they run', async () => {
    await tf.setBackend('wasm');
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const x = tf.randomNormal([16, 28, 28, 8]);
    const dy = tf.randomNormal([16, 14, 14, 12]);
    const filter = tf.randomNormal([3, 3, 8, 12]);
    const ids = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 5), 'int32');
    const runAll = () => {
      const outputs = [
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 12] } as unknown as tf.NamedAttrMap),
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', inputShape: [16, 28, 28, 8] } as unknown as tf.NamedAttrMap),
        tf.engine().runKernel('Tile', { x: filter }, { reps: [2, 1, 3, 1] } as unknown as tf.NamedAttrMap),
        tf.engine().runKernel('UnsortedSegmentSum', { x: dy, segmentIds: ids }, { numSegments: 5 } as unknown as tf.NamedAttrMap),
      ] as tf.Tensor[];
      tf.dispose(outputs);
    };
    runAll(); // the first run may grow the heap to fit
    const [tensors, bytes, heap] = [tf.memory().numTensors, tf.memory().numBytes, heapBytes()];
    const inputBefore = Array.from(dy.dataSync());
    for (let i = 0; i < 20; i++) runAll();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numBytes).toBe(bytes);
    expect(heapBytes()).toBe(heap);
    expect(Array.from(dy.dataSync())).toEqual(inputBefore); // inputs are never released by the kernels
    tf.dispose([x, dy, filter, ids]);
  });
});
