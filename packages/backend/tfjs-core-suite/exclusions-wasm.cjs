// Tests of TF.js's op suite (@tensorflow/tfjs-core/dist/tests.js) that do not pass on the wasm backend with
// Kindling's kernels, each with why; the format is exclusions-torch.cjs's. Every one of them fails the same way on
// tfjs-backend-wasm 4.22 without Kindling's kernels: these are what that release does not do (its own test setup
// runs an include list for the same reason). Kindling's kernels make 54 more of the suite's tests pass there (`KINDLING_SUITE_PLAIN=1 node tfjs-core-suite/run.mjs wasm`
// runs it without them: 3,891 passed against 3,945).
const NOT_IN_WASM = 'tfjs-backend-wasm 4.22 has no such kernel; Kindling trains and predicts without it';

const EXCLUSIONS = [
  { error: "Kernel 'Complex' not registered", reason: `complex numbers (FFT, STFT, complex64 tensors): ${NOT_IN_WASM}` },
  { error: "Kernel 'Einsum' not registered", reason: `einsum (and RGBToGrayscale, made of it): ${NOT_IN_WASM}` },
  { test: 'einsum wasm', reason: `einsum's argument checks run in its kernel: ${NOT_IN_WASM}` },
  { test: 'raggedGather ', reason: `ragged tensors: ${NOT_IN_WASM}` },
  { test: 'raggedRange ', reason: `ragged tensors: ${NOT_IN_WASM}` },
  { test: 'raggedTensorToTensor ', reason: `ragged tensors: ${NOT_IN_WASM}` },
  { test: 'staticRegexReplace', reason: `string kernels: ${NOT_IN_WASM}` },
  { error: 'Unknown dtype string', reason: 'string tensors: tfjs-backend-wasm 4.22 keeps no strings for fill, squeeze or printing' },
  { test: 'string tensor', error: 'Aborted()', reason: 'Tile of strings: tfjs-backend-wasm 4.22 aborts on string tensors' },
  { test: 'should work for string', error: 'Aborted()', reason: 'sparseToDense of strings: tfjs-backend-wasm 4.22 aborts on string tensors' },
  { test: 'should support string comparison', reason: 'Equal on strings: tfjs-backend-wasm 4.22 compares the strings\' storage, not the strings' },
  { error: 'does not support dataFormat', reason: 'convolutions in NCHW: tfjs-backend-wasm 4.22 takes NHWC only (Kindling\'s models are NHWC)' },
  { error: 'only supports rank-1 bias', reason: 'fused convolutions and products with a bias of another rank: tfjs-backend-wasm 4.22 takes a rank-1 bias only (as tf.layers passes)' },
  { error: 'BatchMatMul for non non-float32 tensors', reason: 'int32 matrix products: tfjs-backend-wasm 4.22 multiplies float32 only' },
  {
    error: "Backend 'wasm' has an internal memory leak",
    reason: "tfjs-backend-wasm 4.22's count of data ids in these gradients (fused conv2d, customGradient, logSoftmax); the memory is returned: 500 fused-conv gradients leave tf.memory() and the backend's data ids unchanged",
  },
  { test: 'gradient registry wasm {} register a kernel with gradient', reason: 'the test counts tensor ids, which depend on how many tensors the backend made before: not a result of the kernel' },
  { test: 'clipByValue wasm {} ', error: 'expected[', reason: 'ClipByValue of NaN: tfjs-backend-wasm 4.22 (XNNPACK) clamps NaN to the lower bound' },
  { test: 'fractional outputs default rounding', reason: 'pooling with dimRoundingMode and a padding wider than the window: tfjs-backend-wasm 4.22 reads uninitialised memory' },
  { test: 'tensor wasm {} Tensor2D', error: 'expected[', reason: 'casting to bool: tfjs-backend-wasm 4.22 keeps the source values instead of 0/1 in these two tests' },
  { test: 'threshold wasm {} method otsu', reason: "image.threshold's otsu method: tfjs-backend-wasm 4.22 cannot broadcast the shapes it makes" },
  { test: 'logSigmoid wasm {} gradient with clones', reason: "tfjs-backend-wasm 4.22's Softplus gradient path fails on a cloned input" },
  { test: 'throws when requesting out of bounds slice', reason: 'tfjs-backend-wasm 4.22 does not check slice bounds' },
];

module.exports = { EXCLUSIONS };
