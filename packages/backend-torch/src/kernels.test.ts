import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TorchKernelError, torchKernelCalls } from './index';
import { torchSkipReason } from './test-support';

const unavailable = torchSkipReason('libtorch kernel tests', 2);

/** Deterministic values in [-2, 2) from a seed (a small LCG), so both backends get the same inputs. */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 4 - 2;
  }
  return out;
}

function tensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

type Work = () => tf.Tensor | tf.Tensor[];

/** Runs `work` on cpu and on torch, returns both results as flat arrays. */
async function onBoth(work: Work): Promise<{ cpu: Float32Array[]; torch: Float32Array[]; shapes: number[][] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const result = work();
      return (Array.isArray(result) ? result : [result]).map((t) => ({ data: new Float32Array(t.dataSync()), shape: t.shape }));
    });
  };
  const cpu = await run('cpu');
  const torch = await run('torch');
  return { cpu: cpu.map((r) => r.data), torch: torch.map((r) => r.data), shapes: torch.map((r) => r.shape) };
}

/** Asserts torch equals cpu within `tolerance` of the reference's scale, and that `kernel` ran on libtorch. */
async function expectSame(work: Work, kernel: string, tolerance = 1e-4): Promise<void> {
  const before = torchKernelCalls().get(kernel) ?? 0;
  const { cpu, torch } = await onBoth(work);
  expect(torchKernelCalls().get(kernel) ?? 0, `${kernel} ran on libtorch`).toBeGreaterThan(before);
  expect(torch.length).toBe(cpu.length);
  cpu.forEach((reference, i) => {
    const got = torch[i]!;
    expect(got.length).toBe(reference.length);
    let scale = 1;
    for (const v of reference) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < reference.length; j++) {
      const a = reference[j]!, b = got[j]!;
      if (Number.isNaN(a) || !Number.isFinite(a)) expect(b, `output ${i}[${j}]`).toBe(a);
      else if (Math.abs(a - b) > tolerance * scale) expect.fail(`output ${i}[${j}]: cpu ${a}, torch ${b} (scale ${scale})`);
    }
  });
}

describe.skipIf(unavailable !== undefined)('libtorch kernels equal the cpu backend', () => {
  beforeAll(async () => {
    tf.enableProdMode();
    await tf.setBackend('torch');
  });

  const pads: Array<'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]> = [
    'same',
    'valid',
    1,
    [[0, 0], [1, 0], [0, 2], [0, 0]],
  ];

  describe('convolutions, forward and both gradients', () => {
    const cases: Array<{ x: number[]; filter: number[]; stride: number; dilation: number }> = [];
    for (const [h, w] of [[5, 5], [8, 7]]) {
      for (const inChannels of [1, 3]) {
        for (const [kernelSize, outChannels] of [[1, 2], [3, 4], [2, 3]]) {
          for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2]]) {
            cases.push({ x: [2, h!, w!, inChannels], filter: [kernelSize!, kernelSize!, inChannels, outChannels!], stride: stride!, dilation: dilation! });
          }
        }
      }
    }
    for (const pad of pads) {
      it(`conv2d, pad ${JSON.stringify(pad)}: ${cases.length} shapes`, async () => {
        for (const [index, { x, filter, stride, dilation }] of cases.entries()) {
          if (typeof pad !== 'string' && dilation > 1) continue; // tfjs: explicit padding with dilation is unsupported
          const work: Work = () => {
            const input = tensor(x, index) as tf.Tensor4D;
            const weights = tensor(filter, index + 100) as tf.Tensor4D;
            const forward = tf.conv2d(input, weights, stride, pad, 'NHWC', dilation);
            if (dilation > 1) return forward; // tfjs has no gradient for dilated convolutions
            const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad, 'NHWC', dilation).square().sum();
            const [dx, dw] = tf.grads(f)([input, weights]);
            return [forward, dx!, dw!];
          };
          await expectSame(work, 'Conv2D');
        }
        expect(torchKernelCalls().get('Conv2DBackpropInput')).toBeGreaterThan(0);
        expect(torchKernelCalls().get('Conv2DBackpropFilter')).toBeGreaterThan(0);
      });
    }

    it("strided convolutions that never read the input's last rows and columns (a ResNet's stride-2 shortcut on 48×48×8: libtorch 1.13's oneDNN corrupted the heap there)", async () => {
      for (const [index, [kernelSize, pad]] of ([[1, 'valid'], [3, 'valid'], [1, [[0, 0], [0, 1], [0, 1], [0, 0]]]] as const).entries()) {
        const work: Work = () => {
          const input = tensor([4, 48, 48, 8], index) as tf.Tensor4D;
          const weights = tensor([kernelSize, kernelSize, 8, 16], index + 100) as tf.Tensor4D;
          const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, pad as 'valid').square().sum();
          const [dx, dw] = tf.grads(f)([input, weights]);
          return [tf.conv2d(input, weights, 2, pad as 'valid'), dx!, dw!];
        };
        await expectSame(work, 'Conv2D');
      }
    });

    it('depthwise conv2d with channel multipliers, strides, dilations and paddings, and its gradients', async () => {
      let index = 0;
      for (const pad of ['same', 'valid', [[0, 0], [1, 2], [2, 1], [0, 0]]] as const) {
        for (const [multiplier, stride, dilation, kernelSize] of [[1, 1, 1, 3], [2, 2, 1, 3], [3, 1, 2, 2], [1, 2, 1, 1]]) {
          if (typeof pad !== 'string' && dilation! > 1) continue;
          index++;
          await expectSame(() => {
            const input = tensor([2, 7, 6, 3], index) as tf.Tensor4D;
            const weights = tensor([kernelSize!, kernelSize!, 3, multiplier!], index + 50) as tf.Tensor4D;
            const forward = tf.depthwiseConv2d(input, weights, stride!, pad as 'same', 'NHWC', dilation!);
            if (dilation! > 1) return forward; // tfjs has no gradient for dilated convolutions
            const f = (a: tf.Tensor, b: tf.Tensor) =>
              tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride!, pad as 'same', 'NHWC', dilation!).square().sum();
            const [dx, dw] = tf.grads(f)([input, weights]);
            return [forward, dx!, dw!];
          }, 'DepthwiseConv2dNative');
        }
      }
      expect(torchKernelCalls().get('DepthwiseConv2dNativeBackpropInput')).toBeGreaterThan(0);
      expect(torchKernelCalls().get('DepthwiseConv2dNativeBackpropFilter')).toBeGreaterThan(0);
    });

    it('transposed convolutions (conv2dTranspose is the input gradient)', async () => {
      for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
        await expectSame(() => {
          const input = tensor([2, 4, 5, 3], stride) as tf.Tensor4D;
          const weights = tensor([3, 3, 2, 3], 7) as tf.Tensor4D;
          const outShape: [number, number, number, number] = pad === 'same' ? [2, 4 * stride, 5 * stride, 2] : [2, 3 + 3 * stride, 2 + 5 * stride, 2];
          return tf.conv2dTranspose(input, weights, outShape, stride, pad);
        }, 'Conv2DBackpropInput');
      }
    });

    it('fused conv2d with bias and each activation, and its gradients', async () => {
      for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const) {
        await expectSame(() => {
          const input = tensor([2, 6, 6, 3], 1) as tf.Tensor4D;
          const filter = tensor([3, 3, 3, 4], 2) as tf.Tensor4D;
          const bias = tensor([4], 3);
          const preluActivationWeights = activation === 'prelu' ? tensor([4], 4) : undefined;
          const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
            tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation, preluActivationWeights, leakyreluAlpha: 0.3 }).sum();
          const grads = activation === 'prelu' ? [] : (tf.grads(f)([input, filter, bias]) as tf.Tensor[]);
          return [tf.fused.conv2d({ x: input, filter, strides: 1, pad: 'same', bias, activation, preluActivationWeights, leakyreluAlpha: 0.3 }), ...grads];
        }, 'FusedConv2D');
      }
      await expectSame(() => {
        const input = tensor([1, 5, 5, 2], 5) as tf.Tensor4D;
        return tf.fused.depthwiseConv2d({ x: input, filter: tensor([3, 3, 2, 2], 6) as tf.Tensor4D, strides: 1, pad: 'same', bias: tensor([4], 7), activation: 'relu' });
      }, 'FusedDepthwiseConv2D');
    });
  });

  describe('matrix products', () => {
    it('batched, transposed and broadcast over the batch', async () => {
      const cases: Array<[number[], number[], boolean, boolean]> = [
        [[3, 4], [4, 5], false, false],
        [[4, 3], [4, 5], true, false],
        [[3, 4], [5, 4], false, true],
        [[4, 3], [5, 4], true, true],
        [[2, 3, 4], [2, 4, 5], false, false],
        [[2, 3, 4], [1, 4, 5], false, false],
        [[1, 3, 4], [6, 4, 2], false, false],
        [[2, 1, 3, 4], [1, 1, 5, 4], false, true],
        [[1, 1], [1, 1], false, false],
      ];
      for (const [index, [a, b, transposeA, transposeB]] of cases.entries()) {
        await expectSame(() => {
          const x = tensor(a, index), y = tensor(b, index + 20);
          const product = tf.matMul(x, y, transposeA, transposeB);
          // tfjs's gradient does not reduce over a broadcast batch
          if (a.length !== b.length || a.slice(0, -2).some((size, axis) => size !== b[axis])) return product;
          const [dx, dy] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, transposeA, transposeB).square().sum())([x, y]);
          return [product, dx!, dy!];
        }, 'BatchMatMul');
      }
    });

    it('fused with a bias and activations', async () => {
      for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const) {
        await expectSame(() => {
          const a = tensor([5, 6], 1), b = tensor([6, 3], 2), bias = tensor([3], 3);
          const preluActivationWeights = activation === 'prelu' ? tensor([3], 4) : undefined;
          const product = tf.fused.matMul({ a, b, bias, activation, preluActivationWeights, leakyreluAlpha: 0.1 });
          const grads = activation === 'prelu' ? [] : (tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.fused.matMul({ a: p, b: q, bias: r, activation }).sum())([a, b, bias]) as tf.Tensor[]);
          return [product, ...grads];
        }, '_FusedMatMul');
      }
      await expectSame(() => tf.fused.matMul({ a: tensor([2, 3, 4], 1), b: tensor([2, 5, 4], 2), transposeB: true, bias: tensor([3, 5], 3) }), '_FusedMatMul');
    });
  });

  describe('element by element', () => {
    const shapes: Array<[number[], number[]]> = [
      [[2, 3, 4], [2, 3, 4]],
      [[2, 3, 4], [4]],
      [[2, 1, 4], [3, 1]],
      [[1], [5, 2]],
      [[3, 1, 2, 1], [1, 4, 1, 5]],
      [[], [3, 2]],
    ];
    for (const kernel of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference', 'Pow'] as const) {
      it(`${kernel} broadcasts as TF.js does`, async () => {
        const op = { Add: tf.add, Sub: tf.sub, Multiply: tf.mul, RealDiv: tf.div, Maximum: tf.maximum, Minimum: tf.minimum, SquaredDifference: tf.squaredDifference, Pow: tf.pow }[kernel];
        for (const [index, [a, b]] of shapes.entries()) {
          await expectSame(() => {
            const x = kernel === 'Pow' ? tf.abs(tensor(a, index)) : tensor(a, index);
            return [op(x, tensor(b, index + 9)), op(tensor(b, index + 3), x)];
          }, kernel, 2e-4);
        }
      });
    }

    it('NaN and infinities go through as on cpu', async () => {
      const special = () => tf.tensor([NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.5]);
      for (const [kernel, op] of [
        ['Add', (x: tf.Tensor) => tf.add(x, tf.tensor([1]))],
        ['Maximum', (x: tf.Tensor) => tf.maximum(x, tf.scalar(0))],
        ['Relu', tf.relu],
        ['Relu6', tf.relu6],
        ['Step', (x: tf.Tensor) => tf.step(x, 0.5)],
        ['Sigmoid', tf.sigmoid],
        ['Exp', tf.exp],
      ] as const) {
        await expectSame(() => op(special()), kernel);
      }
    });

    const unary: Array<[string, (x: tf.Tensor) => tf.Tensor, number?]> = [
      ['Exp', tf.exp], ['Log', (x) => tf.log(tf.abs(x))], ['Sqrt', (x) => tf.sqrt(tf.abs(x))], ['Rsqrt', (x) => tf.rsqrt(tf.abs(x))],
      ['Square', tf.square], ['Neg', tf.neg], ['Abs', tf.abs], ['Tanh', tf.tanh], ['Sigmoid', tf.sigmoid], ['Relu', tf.relu],
      ['Relu6', (x) => tf.relu6(tf.mul(x, 4))], ['Elu', tf.elu], ['LeakyRelu', (x) => tf.leakyRelu(x, 0.3)], ['Step', (x) => tf.step(x, 0.2)],
      ['Reciprocal', tf.reciprocal], ['Floor', tf.floor], ['Ceil', tf.ceil], ['Round', (x) => tf.round(tf.mul(x, 2))], ['Sign', tf.sign],
      ['Log1p', (x) => tf.log1p(tf.abs(x))], ['Expm1', tf.expm1], ['Sin', tf.sin], ['Cos', tf.cos], ['Erf', tf.erf, 1e-3], ['Selu', tf.selu],
      ['ClipByValue', (x) => tf.clipByValue(x, -0.5, 0.7)], ['Softplus', tf.softplus],
    ];
    it(`${unary.length} unary kernels, and their gradients`, async () => {
      for (const [index, [kernel, op, tolerance]] of unary.entries()) {
        await expectSame(() => {
          const x = tensor([3, 17], index);
          return [op(x), tf.grad((v: tf.Tensor) => op(v).sum())(x)];
        }, kernel, tolerance);
      }
    });

    it('AddN sums many tensors', async () => {
      await expectSame(() => tf.addN([tensor([3, 4], 1), tensor([3, 4], 2), tensor([3, 4], 3)]), 'AddN');
    });
  });

  describe('reductions and softmax', () => {
    const axesCases: Array<[number[], number | number[]]> = [
      [[7], 0],
      [[3, 4], 0],
      [[3, 4], 1],
      [[3, 4], -1],
      [[2, 3, 4], [0, 2]],
      [[2, 3, 4, 5], [0, 1, 2]],
      [[2, 3, 4], [0, 1, 2]],
    ];
    for (const [kernel, op] of [
      ['Sum', tf.sum],
      ['Mean', tf.mean],
      ['Max', tf.max],
      ['Min', tf.min],
      ['Prod', (x: tf.Tensor, axis: number | number[], keep: boolean) => tf.prod(tf.div(x, 2), axis, keep)],
    ] as const) {
      it(`${kernel} over axes, keeping dimensions or not`, async () => {
        for (const [index, [shape, axis]] of axesCases.entries()) {
          await expectSame(() => [op(tensor(shape, index), axis, false), op(tensor(shape, index), axis, true)], kernel);
        }
      });
    }

    it('ArgMax and ArgMin pick the first of equal values', async () => {
      for (const [index, [shape, axis]] of axesCases.filter(([, axis]) => typeof axis === 'number').entries()) {
        await expectSame(() => [tf.argMax(tensor(shape, index), axis as number), tf.argMin(tensor(shape, index), axis as number)], 'ArgMax');
      }
      await expectSame(() => tf.argMax(tf.tensor2d([[1, 3, 3], [2, 2, 0]]), 1), 'ArgMax');
    });

    it('Softmax on the last axis, and its gradient', async () => {
      for (const shape of [[5], [3, 7], [2, 3, 10]]) {
        await expectSame(() => {
          const x = tf.mul(tensor(shape, shape.length), 5);
          return [tf.softmax(x), tf.grad((v: tf.Tensor) => tf.softmax(v).mul(tensor(shape, 9)).sum())(x)];
        }, 'Softmax');
      }
    });
  });

  describe('pooling and normalization', () => {
    const poolCases: Array<[number[], number, number, 'same' | 'valid' | number]> = [
      [[2, 6, 6, 3], 2, 2, 'valid'],
      [[2, 7, 5, 3], 2, 2, 'same'],
      [[2, 7, 7, 2], 3, 2, 'same'],
      [[1, 8, 8, 4], 3, 1, 'same'],
      [[1, 9, 6, 2], 3, 3, 'valid'],
      [[2, 5, 5, 1], 2, 1, 'valid'],
      [[1, 6, 6, 2], 3, 2, 1],
    ];
    for (const [kernel, op] of [
      ['MaxPool', tf.maxPool],
      ['AvgPool', tf.avgPool],
    ] as const) {
      it(`${kernel} and its gradient: windows that overlap or not, padded or not`, async () => {
        for (const [index, [shape, size, stride, pad]] of poolCases.entries()) {
          await expectSame(() => {
            const x = tensor(shape, index) as tf.Tensor4D;
            const g = tf.grad((v: tf.Tensor) => op(v as tf.Tensor4D, size, stride, pad).mul(tensor(op(x, size, stride, pad).shape, 3)).sum())(x);
            return [op(x, size, stride, pad), g];
          }, kernel);
        }
        expect(torchKernelCalls().get(`${kernel}Grad`)).toBeGreaterThan(0);
      });
    }

    it('MaxPoolGrad sends a tied window gradient to its first largest value, as cpu', async () => {
      await expectSame(() => {
        const x = tf.tensor4d([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0], [1, 4, 4, 1]);
        return tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid').sum())(x);
      }, 'MaxPoolGrad');
    });

    it('batch normalization with per-channel, scalar and full-size parameters', async () => {
      for (const [index, parameterShape] of [[4], [1], [2, 3, 4], [1, 1, 4]].entries()) {
        await expectSame(() => {
          const x = tensor([2, 3, 4], index);
          const variance = tf.abs(tensor(parameterShape, 2));
          return tf.batchNorm(x, tensor(parameterShape, 1), variance, tensor(parameterShape, 3), tensor(parameterShape, 4), 0.01);
        }, 'FusedBatchNorm');
      }
      // no offset or scale, and parameters of mixed shapes
      await expectSame(() => {
        const x = tensor([2, 5, 3], 7);
        return [
          tf.batchNorm(x, tensor([3], 8), tf.abs(tensor([3], 9))),
          tf.batchNorm(x, tensor([3], 8), tf.abs(tensor([1], 9)), undefined, tensor([1], 10), 0.1),
          tf.batchNorm(x, tensor([1], 8), tf.abs(tensor([3], 9)), tensor([3], 11), undefined, 0.1),
        ];
      }, 'FusedBatchNorm');
    });
  });

  describe('moving data', () => {
    it('Transpose of floats and ints', async () => {
      for (const [shape, perm] of [[[3, 4], [1, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4, 5], [0, 3, 1, 2]]] as const) {
        await expectSame(() => [tf.transpose(tensor([...shape], 1), [...perm]), tf.cast(tf.transpose(tf.cast(tf.mul(tensor([...shape], 2), 10), 'int32'), [...perm]), 'float32')], 'Transpose');
      }
    });

    it('PadV2 with a constant', async () => {
      await expectSame(() => [tf.pad(tensor([2, 3], 1), [[1, 2], [0, 3]], 1.5), tf.pad(tensor([2, 3, 4, 2], 2), [[0, 0], [1, 1], [2, 0], [0, 0]])], 'PadV2');
    });

    it('comparisons with broadcasting and NaN, logical and/or of bools', async () => {
      await expectSame(() => {
        const a = tf.concat([tensor([2, 3, 4], 1), tf.fill([1, 3, 4], Number.NaN)]);
        const b = tensor([3, 1], 2);
        const ties = tf.round(tensor([3, 4], 3));
        return [
          ...[tf.greater, tf.greaterEqual, tf.less, tf.lessEqual, tf.equal, tf.notEqual].map((op) => tf.cast(op(a, b), 'float32')),
          tf.cast(tf.equal(ties, tf.round(tensor([3, 4], 4))), 'float32'),
        ];
      }, 'GreaterEqual');
      await expectSame(() => {
        const p = tf.greater(tensor([2, 3, 4], 5), 0);
        const q = tf.less(tensor([3, 1], 6), 0.5);
        return [tf.cast(tf.logicalAnd(p, q), 'float32'), tf.cast(tf.logicalOr(p, q), 'float32')];
      }, 'LogicalAnd');
    });

    it('Reverse of floats and ints along one or several axes, and its gradient', async () => {
      await expectSame(() => {
        const x = tensor([2, 3, 4, 2], 1);
        return [
          tf.reverse(x, 2),
          tf.reverse(x, [1, 2]),
          tf.reverse(x, [-1, 0]),
          tf.cast(tf.reverse(tf.cast(tf.mul(tensor([5, 3], 2), 10), 'int32'), 0), 'float32'),
          tf.grad((v: tf.Tensor) => tf.reverse(v, [1, 2]).mul(tensor([2, 3, 4, 2], 3)).sum())(x),
        ];
      }, 'Reverse');
    });

    it('Slice of floats and ints, any rank, and its gradient', async () => {
      await expectSame(() => {
        const x = tensor([3, 5, 4, 2], 1);
        const ints = tf.cast(tf.mul(tensor([4, 6], 2), 10), 'int32');
        return [
          tf.slice(x, [1, 1, 0, 1], [2, 3, 4, 1]),
          tf.slice(x, [0, 2], [-1, 2]),
          tf.slice(tensor([7], 3), 2, 4),
          tf.cast(tf.slice(ints, [1, 2], [3, -1]), 'float32'),
          tf.grad((v: tf.Tensor) => tf.slice(v, [1, 1, 0, 1], [2, 3, 4, 1]).mul(tensor([2, 3, 4, 1], 4)).sum())(x),
        ];
      }, 'Slice');
    });

    it('Cast of int32 and bool to float32 gives float arrays the float kernels take', async () => {
      await expectSame(() => {
        const ints = tf.cast(tf.mul(tensor([3, 4], 1), 10), 'int32');
        const flags = tf.greater(tensor([3, 4], 2), 0);
        return [tf.cast(ints, 'float32').mul(0.5), tf.cast(flags, 'float32').add(tensor([3, 4], 3))];
      }, 'Cast');
      await tf.setBackend('torch');
      const before = torchKernelCalls().get('Multiply') ?? 0;
      tf.tidy(() => tf.cast(tf.tensor1d([1, 2, 3], 'int32'), 'float32').mul(2).dataSync());
      expect(torchKernelCalls().get('Multiply') ?? 0, 'a product of a cast runs on libtorch').toBeGreaterThan(before);
    });

    it('MirrorPad, reflect and symmetric, on any rank, with its gradient', async () => {
      await expectSame(() => {
        const x = tensor([2, 4, 5, 3], 1);
        const grid = tensor([3, 4], 2);
        return [
          tf.mirrorPad(x, [[0, 0], [3, 3], [4, 4], [0, 0]], 'symmetric'),
          tf.mirrorPad(x, [[1, 0], [0, 3], [2, 4], [1, 2]], 'reflect'),
          tf.mirrorPad(grid, [[2, 1], [3, 0]], 'reflect'),
          tf.mirrorPad(tensor([5], 3), [[5, 4]], 'symmetric'),
          tf.grad((v: tf.Tensor) => tf.mirrorPad(v as tf.Tensor2D, [[2, 1], [3, 4]], 'symmetric').mul(tensor([6, 11], 4)).sum())(grid),
        ];
      }, 'MirrorPad');
    });

    it('Transform (tf.image.transform): every fill mode, bilinear and nearest, one matrix or one per picture', async () => {
      const pictures = tensor([3, 6, 7, 2], 1) as tf.Tensor4D;
      // rotation + zoom + shift, a projective row, a flip, and a pure shift landing on pixel halves
      const matrices = [
        [0.9, -0.3, 1.2, 0.35, 0.85, -0.7, 0, 0],
        [1, 0.1, -0.5, 0.05, 1.1, 0.3, 0.02, -0.03],
        [-1, 0, 6, 0, 1, 0.5, 0, 0],
      ];
      for (const fillMode of ['constant', 'reflect', 'wrap', 'nearest'] as const) {
        for (const interpolation of ['bilinear', 'nearest'] as const) {
          for (const outputShape of [undefined, [5, 9] as [number, number]]) {
            await expectSame(() => {
              const run = (x: tf.Tensor4D, rows: number[][]) => tf.image.transform(x, tf.tensor2d(rows), interpolation, fillMode, 0.25, outputShape);
              // tfjs 4.22's cpu kernel transforms only the first picture of a batch: the reference goes one picture at a time
              const batched = (rows: number[][]) =>
                tf.getBackend() === 'cpu'
                  ? tf.concat(tf.split(pictures, 3).map((picture, index) => run(picture as tf.Tensor4D, [rows[rows.length === 1 ? 0 : index]!])))
                  : run(pictures, rows);
              return [batched(matrices), batched(matrices.slice(0, 1))];
            }, 'Transform');
          }
        }
      }
    });

    it('Concat along each axis, with empty parts', async () => {
      for (const axis of [0, 1, 2, -1]) {
        const emptyShape = [2, 3, 4].map((size, a) => (a === (axis + 3) % 3 ? 0 : size));
        await expectSame(() => tf.concat([tensor([2, 3, 4], 1), tensor([2, 3, 4], 2), tf.zeros(emptyShape), tensor([2, 3, 4], 5)], axis), 'Concat');
      }
    });

    it('GatherV2 along an axis, and its gradient (UnsortedSegmentSum)', async () => {
      await expectSame(() => {
        const x = tensor([5, 3], 1);
        const indices = tf.tensor1d([4, 0, 0, 2, 4, 1], 'int32');
        return [tf.gather(x, indices), tf.gather(tensor([2, 5, 3], 2), tf.tensor2d([[1, 3], [4, 0]], [2, 2], 'int32'), 1), tf.grad((v: tf.Tensor) => tf.gather(v, indices).mul(tensor([6, 3], 3)).sum())(x)];
      }, 'GatherV2');
      expect(torchKernelCalls().get('UnsortedSegmentSum')).toBeGreaterThan(0);
    });

    it('UnsortedSegmentSum drops ids outside the segments, as cpu', async () => {
      await expectSame(() => tf.unsortedSegmentSum(tensor([5, 2], 1), tf.tensor1d([0, 3, -1, 1, 3], 'int32'), 3), 'UnsortedSegmentSum');
    });
  });

  describe('errors and fallbacks', () => {
    it("a libtorch error is a JavaScript error naming the kernel and the shapes, not an abort", async () => {
      await tf.setBackend('torch');
      // runKernel skips the op's own checks, so the bad axis reaches libtorch
      const transpose = () => tf.engine().runKernel('Transpose', { x: tf.ones([2, 3]) }, { perm: [0, 2] });
      expect(transpose).toThrow(TorchKernelError);
      expect(transpose).toThrow(/^torch Transpose failed for x \[2,3\]: .*[Dd]imension out of range/);
    });

    it('an index out of range is named as TF.js names it', async () => {
      await tf.setBackend('torch');
      expect(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 7], 'int32'))).toThrow(/GatherV2: the index value 7 is not in \[0, 2\]/);
    });

    it('int32 arithmetic and NCHW convolutions fall back to the cpu kernels', async () => {
      await tf.setBackend('torch');
      const before = torchKernelCalls().get('Add') ?? 0;
      const sum = tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32'));
      expect(sum.dtype).toBe('int32');
      expect(Array.from(sum.dataSync())).toEqual([4, 6]);
      expect(torchKernelCalls().get('Add') ?? 0).toBe(before);
      tf.dispose(sum);
    });
  });
});

describe.skipIf(unavailable !== undefined)('output memory reuse', () => {
  beforeAll(async () => {
    await tf.setBackend('torch');
  });

  it('an array a reader kept is never reused for a later output', async () => {
    const x = tf.ones([1000]);
    const y = tf.mul(x, 3);
    const kept = y.dataSync();
    y.dispose();
    for (let i = 0; i < 5; i++) tf.mul(x, 7).dispose(); // same size: would take y's memory if it were pooled
    expect(kept.every((v) => v === 3)).toBe(true);
    const asynchronously = tf.mul(x, 4);
    const read = await asynchronously.data();
    asynchronously.dispose();
    tf.mul(x, 9).dispose();
    expect(read.every((v) => v === 4)).toBe(true);
    x.dispose();
  });

  it('memory another tensor shares (a zero-copy slice) is never reused under it', async () => {
    const x = tf.ones([4, 250]);
    const y = tf.mul(x, 5);
    const slice = tf.slice(y, [1, 0], [2, 250]); // the cpu kernel's slice is a view of y's memory
    y.dispose();
    for (let i = 0; i < 5; i++) tf.mul(x, 8).dispose();
    expect(slice.dataSync().every((v) => v === 5)).toBe(true);
    tf.dispose([x, slice]);
  });

  it('a reused output holds only the new values', async () => {
    const x = tf.ones([64]);
    tf.mul(x, 2).dispose();
    const again = tf.mul(x, 6);
    expect(Array.from(again.dataSync()).every((v) => v === 6)).toBe(true);
    tf.dispose([x, again]);
  });
});

describe.skipIf(unavailable !== undefined)('tiling and splitting', () => {
  it('Tile of floats and ints, and its gradient', async () => {
    for (const [shape, reps] of [[[3], [4]], [[2, 3], [2, 1]], [[2, 1, 3], [1, 4, 2]]] as const) {
      await expectSame(() => [tf.tile(tensor([...shape], 1), [...reps]), tf.cast(tf.tile(tf.cast(tf.mul(tensor([...shape], 2), 9), 'int32'), [...reps]), 'float32')], 'Tile');
    }
  });

  it('SplitV in equal and given sizes along each axis, Unpack, and concat gradients', async () => {
    await expectSame(() => tf.split(tensor([4, 6, 2], 1), 2, 0), 'SplitV');
    await expectSame(() => tf.split(tensor([4, 6, 2], 2), [1, 3, 2], 1), 'SplitV');
    await expectSame(() => tf.split(tensor([4, 6, 2], 3), [1, -1], -1), 'SplitV');
    await expectSame(() => tf.unstack(tensor([3, 4, 2], 4), 1), 'Unpack');
    await expectSame(() => tf.unstack(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32')).map((t) => tf.cast(t, 'float32')), 'Unpack');
    await expectSame(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.concat([a, b], 1).mul(tensor([2, 7], 5)).sum())([tensor([2, 3], 6), tensor([2, 4], 7)]) as tf.Tensor[], 'SplitV');
  });
});
