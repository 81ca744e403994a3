// The libtorch side of Kindling's `torch` TF.js backend.
//
// Every function takes TF.js's typed arrays with their shapes and a typed array for the result that
// JavaScript allocated; inputs are viewed in place (at::from_blob, no copy) and the result is written
// into the output's memory. TF.js keeps pictures as NHWC and filters as HWIO; libtorch's kernels take
// NCHW and OIHW, so pictures are viewed as channels-last NCHW (the same bytes) and filters permuted.
// A libtorch error becomes a JavaScript exception (node-addon-api C++ exceptions), never an abort.

#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstdlib>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#if __has_include(<torch/csrc/api/include/torch/version.h>)
#include <torch/csrc/api/include/torch/version.h>
#define KINDLING_TORCH_VERSION TORCH_VERSION
#elif __has_include(<torch/version.h>)
#include <torch/version.h>
#define KINDLING_TORCH_VERSION TORCH_VERSION
#else
#define KINDLING_TORCH_VERSION "unknown"
#endif

namespace kindling {
// native/process_group.cc: PyTorch's distributed engine (gloo), when its headers were there at build
void InitDistributed(Napi::Env env, Napi::Object exports);
}  // namespace kindling

namespace {

at::Device device = at::kCPU;

using Shape = std::vector<int64_t>;

Shape ShapeOf(const Napi::Value& value) {
  Napi::Array array = value.As<Napi::Array>();
  Shape shape(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) shape[i] = array.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

int64_t Int(const Napi::CallbackInfo& info, size_t index) { return info[index].As<Napi::Number>().Int64Value(); }
double Double(const Napi::CallbackInfo& info, size_t index) { return info[index].As<Napi::Number>().DoubleValue(); }

int64_t SizeOf(const Shape& shape) {
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  return size;
}

std::string Describe(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i == 0 ? "" : ",") + std::to_string(shape[i]);
  return text + "]";
}

// A view of a TF.js typed array as a CPU tensor of `shape`, no copy. The array's length must match. A uint8
// array (TF.js's bool) is seen as bytes, or as booleans with `asBool`.
at::Tensor View(const Napi::Value& value, const Shape& shape, bool asBool = false) {
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  at::ScalarType type;
  switch (array.TypedArrayType()) {
    case napi_float32_array: type = at::kFloat; break;
    case napi_int32_array: type = at::kInt; break;
    case napi_uint8_array: type = asBool ? at::kBool : at::kByte; break;
    default: throw Napi::TypeError::New(value.Env(), "only float32, int32 and bool (uint8) data can be viewed");
  }
  if (static_cast<int64_t>(array.ElementLength()) != SizeOf(shape)) {
    throw Napi::RangeError::New(value.Env(), "an array of " + std::to_string(array.ElementLength()) +
                                                 " values cannot have the shape " + Describe(shape));
  }
  void* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return at::from_blob(data, shape, at::TensorOptions().dtype(type));
}

// An input: viewed in place, then moved to the compute device (a no-op on the CPU).
at::Tensor In(const Napi::Value& value, const Shape& shape) { return View(value, shape).to(device); }
at::Tensor In(const Napi::CallbackInfo& info, size_t data, size_t shape) { return In(info[data], ShapeOf(info[shape])); }

// NHWC bytes seen as NCHW (channels-last strides).
at::Tensor Nchw(const at::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}); }

// A TF.js filter as libtorch's weight: HWIO → OIHW, or a depthwise HWCM → (C·M)·1·H·W (TF's output channel
// c·M + m is libtorch's group c, member m: the same order).
at::Tensor Weight(const at::Tensor& filter, bool depthwise) {
  if (!depthwise) return filter.permute({3, 2, 0, 1});
  const auto kh = filter.size(0), kw = filter.size(1), c = filter.size(2), m = filter.size(3);
  return filter.reshape({kh, kw, c * m}).permute({2, 0, 1}).unsqueeze(1);
}

struct Conv {
  std::array<int64_t, 2> stride, dilation;
  int64_t top, bottom, left, right;
  bool depthwise;
  bool Symmetric() const { return top == bottom && left == right; }
  std::array<int64_t, 2> Padding() const {
    return Symmetric() ? std::array<int64_t, 2>{top, left} : std::array<int64_t, 2>{0, 0};
  }
  at::Tensor Pad(const at::Tensor& nchw, double value = 0) const {
    return Symmetric() ? nchw : at::constant_pad_nd(nchw, {left, right, top, bottom}, value);
  }
  // The rows and columns of an explicitly padded picture that belong to the unpadded one.
  at::Tensor Unpad(const at::Tensor& nchw) const {
    if (Symmetric()) return nchw;
    return nchw.narrow(2, top, nchw.size(2) - top - bottom).narrow(3, left, nchw.size(3) - left - right);
  }
};

// The trailing rows and columns of `x` (NCHW, as libtorch receives it: padded when the padding is asymmetric)
// that a strided convolution with an `outHeight`×`outWidth` output never reads. libtorch hands them to oneDNN as a
// negative right padding, which libtorch 1.13's oneDNN mishandles in its filter gradient for few channels (heap
// corruption: the 1×1 stride-2 shortcut of a ResNet on 48×48×8). Cropping them changes no result.
at::Tensor ReadPart(const at::Tensor& x, int64_t outHeight, int64_t outWidth, int64_t kernelHeight, int64_t kernelWidth, const Conv& conv) {
  const auto padding = conv.Padding();
  const int64_t rows = (outHeight - 1) * conv.stride[0] + (kernelHeight - 1) * conv.dilation[0] + 1 - padding[0];
  const int64_t columns = (outWidth - 1) * conv.stride[1] + (kernelWidth - 1) * conv.dilation[1] + 1 - padding[1];
  if (rows >= x.size(2) && columns >= x.size(3)) return x;
  return x.narrow(2, 0, std::min(rows, x.size(2))).narrow(3, 0, std::min(columns, x.size(3)));
}

// [strideH, strideW, top, bottom, left, right, dilationH, dilationW, depthwise]
Conv ConvOf(const Napi::Value& value) {
  const Shape p = ShapeOf(value);
  return Conv{{p.at(0), p.at(1)}, {p.at(6), p.at(7)}, p.at(2), p.at(3), p.at(4), p.at(5), p.at(8) != 0};
}

enum Activation { kLinear = 0, kRelu, kRelu6, kElu, kLeakyRelu, kSigmoid, kPrelu };

// Applies a fused activation in place; `weights` is PReLU's (broadcast as in TF.js).
void Activate(at::Tensor& y, int64_t activation, double alpha, const at::Tensor& weights) {
  switch (activation) {
    case kLinear: return;
    case kRelu: y.clamp_min_(0); return;
    case kRelu6: y.clamp_(0, 6); return;
    case kElu: at::elu_(y); return;
    case kLeakyRelu: at::leaky_relu_(y, alpha); return;
    case kSigmoid: y.sigmoid_(); return;
    case kPrelu: y.copy_(at::where(y < 0, y * weights, y)); return;
    default: throw std::invalid_argument("unknown activation " + std::to_string(activation));
  }
}

// conv2d(x, xShape, filter, filterShape, out, outShape, conv, bias|null, biasShape, activation, alpha, preluWeights|null, preluShape)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  const Conv conv = ConvOf(info[6]);
  at::Tensor filter = In(info, 2, 3);
  const Shape outShape = ShapeOf(info[5]);  // NHWC
  at::Tensor x = ReadPart(conv.Pad(Nchw(In(info, 0, 1))), outShape[1], outShape[2], filter.size(0), filter.size(1), conv);
  at::Tensor weight = Weight(filter, conv.depthwise).contiguous(at::MemoryFormat::ChannelsLast);
  const int64_t groups = conv.depthwise ? filter.size(2) : 1;
  c10::optional<at::Tensor> bias;
  if (!info[7].IsNull()) bias = In(info, 7, 8);
  const bool plainBias = bias.has_value() && bias->dim() == 1 && bias->size(0) == weight.size(0);
  at::Tensor y = at::convolution(x, weight, plainBias ? bias : c10::nullopt, conv.stride, conv.Padding(), conv.dilation, false,
                                 {0, 0}, groups);
  y = y.permute({0, 2, 3, 1});  // NHWC again, for broadcasting TF.js's way
  if (bias.has_value() && !plainBias) y = y + *bias;
  at::Tensor prelu = info[11].IsNull() ? at::Tensor() : In(info, 11, 12);
  Activate(y, Int(info, 9), Double(info, 10), prelu);
  View(info[4], outShape).copy_(y);
  return info.Env().Undefined();
}

// conv2dBackpropInput(dy, dyShape, filter, filterShape, out (dx), dxShape, conv)
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  const Conv conv = ConvOf(info[6]);
  at::Tensor dy = Nchw(In(info, 0, 1));
  at::Tensor filter = In(info, 2, 3);
  at::Tensor weight = Weight(filter, conv.depthwise).contiguous(at::MemoryFormat::ChannelsLast);
  const int64_t groups = conv.depthwise ? filter.size(2) : 1;
  const Shape dxShape = ShapeOf(info[5]);  // NHWC
  // only the input's shape matters to this gradient
  const Shape padded{dxShape[0], dxShape[3], dxShape[1] + (conv.Symmetric() ? 0 : conv.top + conv.bottom),
                     dxShape[2] + (conv.Symmetric() ? 0 : conv.left + conv.right)};
  at::Tensor input = ReadPart(at::empty(padded, dy.options().memory_format(at::MemoryFormat::ChannelsLast)), dy.size(2), dy.size(3),
                              filter.size(0), filter.size(1), conv);
  auto grads = at::convolution_backward(dy, input, weight, c10::nullopt, conv.stride, conv.Padding(), conv.dilation, false,
                                        {0, 0}, groups, {true, false, false});
  // the rows and columns the convolution never read have no gradient
  at::Tensor dx = std::get<0>(grads);
  if (padded[2] != input.size(2) || padded[3] != input.size(3)) dx = at::constant_pad_nd(dx, {0, padded[3] - input.size(3), 0, padded[2] - input.size(2)});
  Nchw(View(info[4], dxShape)).copy_(conv.Unpad(dx));
  return info.Env().Undefined();
}

// conv2dBackpropFilter(x, xShape, dy, dyShape, out (dFilter), filterShape, conv)
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  const Conv conv = ConvOf(info[6]);
  at::Tensor dy = Nchw(In(info, 2, 3));
  const Shape filterShape = ShapeOf(info[5]);
  at::Tensor x = ReadPart(conv.Pad(Nchw(In(info, 0, 1))), dy.size(2), dy.size(3), filterShape[0], filterShape[1], conv);
  at::Tensor out = View(info[4], filterShape);
  at::Tensor outWeight = Weight(out, conv.depthwise);  // a view of the output's memory in libtorch's layout
  at::Tensor weight = at::empty(outWeight.sizes(), dy.options().memory_format(at::MemoryFormat::ChannelsLast));
  const int64_t groups = conv.depthwise ? filterShape[2] : 1;
  auto grads = at::convolution_backward(dy, x, weight, c10::nullopt, conv.stride, conv.Padding(), conv.dilation, false, {0, 0},
                                        groups, {false, true, false});
  outWeight.copy_(std::get<1>(grads));
  return info.Env().Undefined();
}

// matmul(a, aShape, b, bShape, transposeA, transposeB, out, outShape, bias|null, biasShape, activation, alpha, prelu|null, preluShape)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  at::Tensor a = In(info, 0, 1), b = In(info, 2, 3);
  if (info[4].As<Napi::Boolean>()) a = a.transpose(-1, -2);
  if (info[5].As<Napi::Boolean>()) b = b.transpose(-1, -2);
  at::Tensor out = View(info[6], ShapeOf(info[7]));
  const int64_t activation = Int(info, 10);
  if (info[8].IsNull() && activation == kLinear && device.is_cpu() && a.dim() == 2 && b.dim() == 2) {
    at::mm_out(out, a, b);
    return info.Env().Undefined();
  }
  at::Tensor y = at::matmul(a, b);
  if (!info[8].IsNull()) y.add_(In(info, 8, 9));
  at::Tensor prelu = info[12].IsNull() ? at::Tensor() : In(info, 12, 13);
  Activate(y, activation, Double(info, 11), prelu);
  out.copy_(y);
  return info.Env().Undefined();
}

enum Binary { kAdd = 0, kSub, kMul, kDiv, kMaximum, kMinimum, kSquaredDifference, kPow };

// binary(op, a, aShape, b, bShape, out, outShape): broadcasting as NumPy, TF.js and libtorch all do
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  at::Tensor a = In(info, 1, 2), b = In(info, 3, 4);
  at::Tensor out = View(info[5], ShapeOf(info[6]));
  at::Tensor target = device.is_cpu() ? out : at::empty(out.sizes(), a.options());
  switch (Int(info, 0)) {
    case kAdd: at::add_out(target, a, b); break;
    case kSub: at::sub_out(target, a, b); break;
    case kMul: at::mul_out(target, a, b); break;
    case kDiv: at::div_out(target, a, b); break;
    case kMaximum: at::maximum_out(target, a, b); break;
    case kMinimum: at::minimum_out(target, a, b); break;
    case kSquaredDifference: at::sub_out(target, a, b); target.square_(); break;
    case kPow: at::pow_out(target, a, b); break;
    default: throw std::invalid_argument("unknown binary op");
  }
  if (!device.is_cpu()) out.copy_(target);
  return info.Env().Undefined();
}

enum Comparison { kGreater = 0, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual, kLogicalAnd, kLogicalOr };

// compare(op, a, aShape, b, bShape, out (bool), outShape): broadcasting comparisons of floats, and logical
// and/or of bools, into TF.js's bool (one byte of 0 or 1 per value)
Napi::Value Compare(const Napi::CallbackInfo& info) {
  const Shape aShape = ShapeOf(info[2]), bShape = ShapeOf(info[4]);
  at::Tensor a = View(info[1], aShape, true).to(device), b = View(info[3], bShape, true).to(device);
  at::Tensor out = View(info[5], ShapeOf(info[6]), true);
  at::Tensor target = device.is_cpu() ? out : at::empty(out.sizes(), a.options().dtype(at::kBool));
  switch (Int(info, 0)) {
    case kGreater: at::gt_out(target, a, b); break;
    case kGreaterEqual: at::ge_out(target, a, b); break;
    case kLess: at::lt_out(target, a, b); break;
    case kLessEqual: at::le_out(target, a, b); break;
    case kEqual: at::eq_out(target, a, b); break;
    case kNotEqual: at::ne_out(target, a, b); break;
    case kLogicalAnd: at::logical_and_out(target, a, b); break;
    case kLogicalOr: at::logical_or_out(target, a, b); break;
    default: throw std::invalid_argument("unknown comparison");
  }
  if (!device.is_cpu()) out.copy_(target);
  return info.Env().Undefined();
}

// reverse(x, shape, axes, out): x flipped along each axis, any viewable type
Napi::Value Reverse(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  View(info[3], ShapeOf(info[1])).copy_(at::flip(x, ShapeOf(info[2])));
  return info.Env().Undefined();
}

// y[i] = f(x[i]) over libtorch's intra-op threads: for the element-wise ops whose libtorch kernels
// (clamp with a scalar, where) are several times slower than one pass over memory.
template <typename F>
void Map(const at::Tensor& x, at::Tensor& y, F f) {
  const float* in = x.data_ptr<float>();
  float* out = y.data_ptr<float>();
  at::parallel_for(0, x.numel(), 1 << 15, [in, out, f](int64_t begin, int64_t end) {
    // local, unaliased copies: a value `f` holds (Step's alpha) read through a reference could alias `out`,
    // and would be reloaded after every store instead of the loop being vectorized
    const float* __restrict from = in;
    float* __restrict to = out;
    const F apply = f;
    for (int64_t i = begin; i < end; ++i) to[i] = apply(from[i]);
  });
}

enum Unary {
  kExp = 0, kLog, kSqrt, kRsqrt, kSquare, kNeg, kAbs, kTanh, kSigmoidU, kReluU, kRelu6U, kEluU, kLeakyReluU, kStep,
  kReciprocal, kFloor, kCeil, kRound, kSign, kLog1p, kExpm1, kSin, kCos, kErf, kSelu, kClip, kSoftplus
};

// unary(op, x, out, alpha, beta): element by element, so shapes do not matter
Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  const Shape flat{static_cast<int64_t>(info[1].As<Napi::TypedArray>().ElementLength())};
  at::Tensor x = In(info[1], flat);
  at::Tensor out = View(info[2], flat);
  at::Tensor y = device.is_cpu() ? out : at::empty(flat, x.options());
  const double alpha = Double(info, 3), beta = Double(info, 4);
  switch (Int(info, 0)) {
    case kExp: at::exp_out(y, x); break;
    case kLog: at::log_out(y, x); break;
    case kSqrt: at::sqrt_out(y, x); break;
    case kRsqrt: at::rsqrt_out(y, x); break;
    case kSquare: at::mul_out(y, x, x); break;
    case kNeg: at::neg_out(y, x); break;
    case kAbs: at::abs_out(y, x); break;
    case kTanh: at::tanh_out(y, x); break;
    case kSigmoidU: at::sigmoid_out(y, x); break;
    case kReluU:  // NaN stays NaN, as in TF.js
      if (device.is_cpu()) Map(x, y, [](float v) { return v < 0 ? 0.0f : v; });
      else at::clamp_min_out(y, x, 0);
      break;
    case kRelu6U:
      if (device.is_cpu()) Map(x, y, [](float v) { return v < 0 ? 0.0f : (v > 6 ? 6.0f : v); });
      else at::clamp_out(y, x, 0, 6);
      break;
    case kEluU: at::elu_out(y, x); break;
    case kLeakyReluU: at::leaky_relu_out(y, x, alpha); break;
    case kStep: {  // 1 above zero, alpha elsewhere; NaN stays NaN
      const float below = static_cast<float>(alpha);
      if (device.is_cpu()) Map(x, y, [below](float v) { return v > 0 ? 1.0f : (v != v ? v : below); });
      else y.copy_(at::where(at::isnan(x), x, at::where(x > 0, at::ones_like(x), at::full_like(x, alpha))));
      break;
    }
    case kReciprocal: at::reciprocal_out(y, x); break;
    case kFloor: at::floor_out(y, x); break;
    case kCeil: at::ceil_out(y, x); break;
    case kRound: at::round_out(y, x); break;  // half to even, as TF.js
    case kSign: at::sign_out(y, x); break;
    case kLog1p: at::log1p_out(y, x); break;
    case kExpm1: at::expm1_out(y, x); break;
    case kSin: at::sin_out(y, x); break;
    case kCos: at::cos_out(y, x); break;
    case kErf: at::erf_out(y, x); break;
    case kSelu: y.copy_(at::selu(x)); break;
    case kClip: at::clamp_out(y, x, alpha, beta); break;
    case kSoftplus: at::softplus_out(y, x, 1, 20); break;
    default: throw std::invalid_argument("unknown unary op");
  }
  if (!device.is_cpu()) out.copy_(y);
  return info.Env().Undefined();
}

// x with its NaN replaced by `value` (x itself when it has none).
at::Tensor WithoutNaN(const at::Tensor& x, double value) {
  at::Tensor nan = at::isnan(x);
  return nan.any().item<bool>() ? at::where(nan, at::full({}, value, x.options()), x) : x;
}

enum Reduction { kSum = 0, kMean, kMax, kMin, kProd, kArgMax, kArgMin };

// reduce(op, x, xShape, axes, out): out holds the reduced values in order (its shape is TF.js's business)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 1, 2);
  const Shape axes = ShapeOf(info[3]);
  at::Tensor y;
  switch (Int(info, 0)) {
    case kSum: y = at::sum(x, axes); break;
    case kMean: y = at::mean(x, axes); break;
    case kMax: y = at::amax(x, axes); break;
    case kMin: y = at::amin(x, axes); break;
    case kProd: {
      Shape sorted = axes;  // the last axis first, so the others keep their place
      for (int64_t& axis : sorted) axis = axis < 0 ? axis + x.dim() : axis;
      std::sort(sorted.rbegin(), sorted.rend());
      y = x;
      for (int64_t axis : sorted) y = at::prod(y, axis);
      break;
    }
    // TF.js's arg reductions skip NaN; libtorch's take it as the extreme
    case kArgMax: y = at::argmax(WithoutNaN(x, -std::numeric_limits<float>::infinity()), axes.at(0)); break;
    case kArgMin: y = at::argmin(WithoutNaN(x, std::numeric_limits<float>::infinity()), axes.at(0)); break;
    default: throw std::invalid_argument("unknown reduction");
  }
  at::Tensor out = View(info[4], {static_cast<int64_t>(info[4].As<Napi::TypedArray>().ElementLength())});
  out.copy_(y.reshape({-1}));
  return info.Env().Undefined();
}

// softmax(x, shape, out): along the last axis
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[1]);
  at::Tensor x = In(info[0], shape);
  at::Tensor out = View(info[2], shape);
  if (device.is_cpu()) at::_softmax_out(out, x, -1, false);
  else out.copy_(at::softmax(x, -1));
  return info.Env().Undefined();
}

// transpose(x, shape, perm, out): any of the viewable types
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  const Shape perm = ShapeOf(info[2]);
  at::Tensor y = x.permute(perm);
  View(info[3], y.sizes().vec()).copy_(y);
  return info.Env().Undefined();
}

struct Pool {
  std::array<int64_t, 2> kernel, stride;
  int64_t top, bottom, left, right;
  bool Padded() const { return top != 0 || bottom != 0 || left != 0 || right != 0; }
  at::Tensor Pad(const at::Tensor& nchw, double value) const {
    return Padded() ? at::constant_pad_nd(nchw, {left, right, top, bottom}, value) : nchw;
  }
  at::Tensor Unpad(const at::Tensor& nchw) const {
    if (!Padded()) return nchw;
    return nchw.narrow(2, top, nchw.size(2) - top - bottom).narrow(3, left, nchw.size(3) - left - right);
  }
  // How many real (unpadded) values each window covers: TF.js averages over those only.
  at::Tensor Counts(const at::Tensor& nchw) const {
    at::Tensor ones = at::ones({1, 1, nchw.size(2), nchw.size(3)}, nchw.options());
    return at::avg_pool2d(Pad(ones, 0), kernel, stride, {0, 0}, false, true, 1);
  }
};

// [kernelH, kernelW, strideH, strideW, top, bottom, left, right]
Pool PoolOf(const Napi::Value& value) {
  const Shape p = ShapeOf(value);
  return Pool{{p.at(0), p.at(1)}, {p.at(2), p.at(3)}, p.at(4), p.at(5), p.at(6), p.at(7)};
}

const double kMinusInfinity = -std::numeric_limits<double>::infinity();

// maxPool(x, xShape, pool, out, outShape)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  const Pool pool = PoolOf(info[2]);
  // TF.js's max pool skips NaN; libtorch's takes it as the largest
  at::Tensor x = pool.Pad(WithoutNaN(Nchw(In(info, 0, 1)), kMinusInfinity), kMinusInfinity);
  at::Tensor y = at::max_pool2d(x, pool.kernel, pool.stride, {0, 0}, {1, 1}, false);
  Nchw(View(info[3], ShapeOf(info[4]))).copy_(y);
  return info.Env().Undefined();
}

// The max-pool gradient straight on NHWC memory, for windows that do not overlap: each window's first
// largest value (TF.js's choice) gets the window's gradient. `dx` arrives zeroed (the kernel asks for a zeroed output).
void MaxPoolGradNhwc(const float* dy, const Shape& dyShape, const float* x, const Shape& xShape, const Pool& pool, float* dx) {
  const int64_t height = xShape[1], width = xShape[2], channels = xShape[3];
  const int64_t outHeight = dyShape[1], outWidth = dyShape[2];
  const int64_t kernelHeight = pool.kernel[0], kernelWidth = pool.kernel[1];
  at::parallel_for(0, dyShape[0] * outHeight, 1, [&](int64_t begin, int64_t end) {
    // per channel: the largest value so far and which window position holds it; channels innermost, the same
    // width for both (float, int32) and no aliasing, so the compare-and-select loop vectorizes
    std::vector<float> best(channels);
    std::vector<int32_t> where(channels);
    std::vector<int64_t> offsets(kernelHeight * kernelWidth);
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / outHeight, oh = row % outHeight;
      const int64_t h0 = oh * pool.stride[0] - pool.top;
      const int64_t hBegin = std::max<int64_t>(h0, 0), hEnd = std::min(h0 + kernelHeight, height);
      for (int64_t ow = 0; ow < outWidth; ++ow) {
        const int64_t w0 = ow * pool.stride[1] - pool.left;
        const int64_t wBegin = std::max<int64_t>(w0, 0), wEnd = std::min(w0 + kernelWidth, width);
        int32_t positions = 0;
        for (int64_t h = hBegin; h < hEnd; ++h)
          for (int64_t w = wBegin; w < wEnd; ++w) offsets[positions++] = ((n * height + h) * width + w) * channels;
        if (positions == 0) continue;
        float* __restrict bestValue = best.data();
        int32_t* __restrict bestAt = where.data();
        const float* __restrict first = x + offsets[0];
        for (int64_t c = 0; c < channels; ++c) {
          bestValue[c] = first[c];
          bestAt[c] = 0;
        }
        for (int32_t k = 1; k < positions; ++k) {
          const float* __restrict values = x + offsets[k];
#pragma GCC ivdep
          for (int64_t c = 0; c < channels; ++c) {
            const float value = values[c], current = bestValue[c];
            const int32_t larger = -static_cast<int32_t>(value > current);  // all ones when larger: no branch
            bestValue[c] = value > current ? value : current;
            bestAt[c] = (bestAt[c] & ~larger) | (k & larger);
          }
        }
        const float* g = dy + (row * outWidth + ow) * channels;
        for (int64_t c = 0; c < channels; ++c) dx[offsets[bestAt[c]] + c] = g[c];
      }
    }
  });
}

// maxPoolGrad(dy, dyShape, x, xShape, pool, out (dx))
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  const Pool pool = PoolOf(info[4]);
  const bool overlapping = pool.stride[0] < pool.kernel[0] || pool.stride[1] < pool.kernel[1];
  if (device.is_cpu() && !overlapping) {
    const Shape dyShape = ShapeOf(info[1]), xShape = ShapeOf(info[3]);
    MaxPoolGradNhwc(View(info[0], dyShape).data_ptr<float>(), dyShape, View(info[2], xShape).data_ptr<float>(), xShape, pool,
                    View(info[5], xShape).data_ptr<float>());
    return info.Env().Undefined();
  }
  at::Tensor dy = Nchw(In(info, 0, 1));
  const Shape xShape = ShapeOf(info[3]);
  at::Tensor x = pool.Pad(WithoutNaN(Nchw(In(info[2], xShape)), kMinusInfinity), kMinusInfinity);
  auto indices = std::get<1>(at::max_pool2d_with_indices(x, pool.kernel, pool.stride, {0, 0}, {1, 1}, false));
  at::Tensor dx = at::max_pool2d_with_indices_backward(dy, x, pool.kernel, pool.stride, {0, 0}, {1, 1}, false, indices);
  Nchw(View(info[5], xShape)).copy_(pool.Unpad(dx));
  return info.Env().Undefined();
}

// avgPool(x, xShape, pool, out, outShape)
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  const Pool pool = PoolOf(info[2]);
  at::Tensor x = Nchw(In(info, 0, 1));
  at::Tensor y = pool.Padded()
                     ? at::avg_pool2d(pool.Pad(x, 0), pool.kernel, pool.stride, {0, 0}, false, true, 1) / pool.Counts(x)
                     : at::avg_pool2d(x, pool.kernel, pool.stride, {0, 0}, false, true);
  Nchw(View(info[3], ShapeOf(info[4]))).copy_(y);
  return info.Env().Undefined();
}

// avgPoolGrad(dy, dyShape, xShape, pool, out (dx)). TF.js's gradient divides by the whole window's size, also
// where the forward pass averaged fewer (padded) values; every TF.js backend does, and so does this one.
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  const Pool pool = PoolOf(info[3]);
  at::Tensor dy = Nchw(In(info, 0, 1));
  const Shape xShape = ShapeOf(info[2]);
  at::Tensor padded = pool.Pad(at::empty({xShape[0], xShape[3], xShape[1], xShape[2]}, dy.options()), 0);
  at::Tensor dx = at::avg_pool2d_backward(dy, padded, pool.kernel, pool.stride, {0, 0}, false, true, c10::nullopt);
  Nchw(View(info[4], xShape)).copy_(pool.Unpad(dx));
  return info.Env().Undefined();
}

// batchNorm(x, xShape, mean, meanShape, variance, varianceShape, offset|null, offsetShape, scale|null, scaleShape, epsilon, out)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[1]);
  at::Tensor x = In(info[0], shape);
  // the usual case, statistics per channel (the last axis): scale and shift per channel, then one pass,
  // y = x·a + b with a = scale/√(variance + ε) and b = offset − mean·a
  const int64_t channels = shape.empty() ? 1 : shape.back();
  auto perChannel = [&](size_t data, size_t shapeAt) {
    if (info[data].IsNull()) return true;
    const Shape s = ShapeOf(info[shapeAt]);
    const int64_t size = SizeOf(s);
    return size == 1 || (size == channels && !s.empty() && s.back() == channels);
  };
  if (!shape.empty() && channels > 0 && perChannel(2, 3) && perChannel(4, 5) && perChannel(6, 7) && perChannel(8, 9)) {
    auto flat = [&](size_t data, size_t shapeAt) { return In(info[data], ShapeOf(info[shapeAt])).reshape({-1}); };
    at::Tensor a = at::rsqrt(flat(4, 5) + Double(info, 10));
    if (!info[8].IsNull()) a = a * flat(8, 9);
    a = a.expand({channels}).contiguous();
    at::Tensor b = -flat(2, 3) * a;
    if (!info[6].IsNull()) b = b + flat(6, 7);
    b = b.expand({channels}).contiguous();
    const Shape rows{SizeOf(shape) / channels, channels};
    at::Tensor out = View(info[11], rows);
    if (device.is_cpu()) at::addcmul_out(out, b, x.reshape(rows), a);
    else out.copy_(at::addcmul(b, x.reshape(rows), a));
    return info.Env().Undefined();
  }
  at::Tensor y = (x - In(info, 2, 3)) * at::rsqrt(In(info, 4, 5) + Double(info, 10));
  if (!info[8].IsNull()) y = y * In(info, 8, 9);
  if (!info[6].IsNull()) y = y + In(info, 6, 7);
  View(info[11], shape).copy_(y);
  return info.Env().Undefined();
}

// Batch normalization in training, as PyTorch's BatchNorm trains: statistics of the batch per channel (the last
// axis: NHWC, or [rows, features]), in one pass each way instead of TF.js's dozen element-wise ops.
// batchNormTraining(x, xShape, scale, offset, epsilon, out y, out mean, out variance (biased, as tf.moments))
Napi::Value BatchNormTraining(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[1]);
  const int64_t channels = shape.back();
  const Shape rows{SizeOf(shape) / channels, channels};
  at::Tensor x = In(info[0], rows);
  at::Tensor scale = In(info[2], {channels}), offset = In(info[3], {channels});
  const double epsilon = Double(info, 4);
  // (libtorch 1.13 has no CPU kernel for native_batch_norm's out= form: the result is copied)
  auto result = at::native_batch_norm(x, scale, offset, {}, {}, true, 0.0, epsilon);
  View(info[5], rows).copy_(std::get<0>(result));
  View(info[6], {channels}).copy_(std::get<1>(result));
  const at::Tensor& invstd = std::get<2>(result);
  // the variance back from 1/√(variance + ε), in double: ε is often far larger than the variance
  View(info[7], {channels}).copy_((invstd.to(at::kDouble).square().reciprocal() - epsilon).clamp_min(0));
  return info.Env().Undefined();
}

// batchNormTrainingGrad(dy, x, xShape, scale, mean, variance, epsilon, which (0: dx, 1: dScale, 2: dOffset), out)
Napi::Value BatchNormTrainingGrad(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[2]);
  const int64_t channels = shape.back();
  const Shape rows{SizeOf(shape) / channels, channels};
  at::Tensor dy = In(info[0], rows), x = In(info[1], rows);
  at::Tensor scale = In(info[3], {channels}), mean = In(info[4], {channels});
  const double epsilon = Double(info, 6);
  const int64_t which = Int(info, 7);
  if (which < 0 || which > 2) throw std::invalid_argument("which gradient: 0, 1 or 2, not " + std::to_string(which));
  at::Tensor invstd = at::rsqrt(In(info[5], {channels}).to(at::kDouble) + epsilon).to(at::kFloat);
  auto grads = at::native_batch_norm_backward(dy, x, scale, {}, {}, mean, invstd, true, epsilon, {which == 0, which == 1, which == 2});
  if (which == 0) View(info[8], rows).copy_(std::get<0>(grads));
  else View(info[8], {channels}).copy_(which == 1 ? std::get<1>(grads) : std::get<2>(grads));
  return info.Env().Undefined();
}

// pad(x, shape, pads [before0, after0, before1, after1, ...], value, out, outShape)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  const Shape pads = ShapeOf(info[2]);
  std::vector<int64_t> torchPads;  // last axis first
  for (size_t axis = pads.size() / 2; axis-- > 0;) {
    torchPads.push_back(pads[2 * axis]);
    torchPads.push_back(pads[2 * axis + 1]);
  }
  View(info[4], ShapeOf(info[5])).copy_(at::constant_pad_nd(x, torchPads, Double(info, 3)));
  return info.Env().Undefined();
}

// mirrorPad(x, shape, pads [before0, after0, ...], offset, out, outShape): TF's MirrorPad, `offset` 0 for
// 'reflect' (the edge is not repeated: dcb|abcd|cba) and 1 for 'symmetric' (it is: cba|abcd|dcb). Each padded
// axis is one index_select with the mirrored positions, so any rank and any (unpadded) layout works.
Napi::Value MirrorPad(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  const Shape pads = ShapeOf(info[2]);
  const int64_t offset = Int(info, 3);
  for (int64_t axis = 0; axis < x.dim(); ++axis) {
    const int64_t before = pads[2 * axis], after = pads[2 * axis + 1], size = x.size(axis);
    if (before == 0 && after == 0) continue;
    std::vector<int64_t> positions(before + size + after);
    for (int64_t i = -before; i < size + after; ++i) {
      positions[i + before] = i < 0 ? -i - offset : i >= size ? 2 * size - 2 + offset - i : i;
    }
    x = at::index_select(x, axis, at::tensor(positions, at::kLong).to(device));
  }
  View(info[4], ShapeOf(info[5])).copy_(x);
  return info.Env().Undefined();
}

// Where an output pixel's source coordinate lands for a fill mode (TF's image_ops.h, as tfjs-backend-cpu maps it).
double MapCoordinate(double in, int64_t length, int64_t mode) {
  const double last = static_cast<double>(length - 1);
  if (mode == 1) {  // reflect: dcba|abcd|dcba
    if (in < 0) {
      if (length <= 1) in = 0;
      else {
        const double twice = 2.0 * length;
        if (in < twice) in = twice * std::trunc(-in / twice) + in;
        in = in < -length ? in + twice : -in - 1;
      }
    } else if (in > last) {
      if (length <= 1) in = 0;
      else {
        const double twice = 2.0 * length;
        in -= twice * std::trunc(in / twice);
        if (in >= length) in = twice - in - 1;
      }
    }
    return std::min(std::max(in, 0.0), last);
  }
  if (mode == 2) {  // wrap: abcd|abcd|abcd
    if (in < 0) {
      if (length <= 1) in = 0;
      else in += length * (std::trunc(-in / (length - 1)) + 1);
    } else if (in > last) {
      if (length <= 1) in = 0;
      else in -= length * std::trunc(in / (length - 1));
    }
    return std::min(std::max(in, 0.0), last);
  }
  if (mode == 3) return std::min(std::max(in, 0.0), last);  // nearest
  return in;  // constant
}

// transform(image (float32 NHWC), shape, transforms ([1|b, 8]), count, bilinear, fillMode, fillValue, out, outShape):
// TF.js's Transform (tf.image.transform) with the same arithmetic as its cpu kernel — coordinates in double,
// JavaScript's rounding — over libtorch's threads, rows in parallel. fillMode: 0 constant, 1 reflect, 2 wrap, 3 nearest.
Napi::Value Transform(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[1]);
  const Shape outShape = ShapeOf(info[8]);
  const float* image = View(info[0], shape).data_ptr<float>();
  const float* matrices = View(info[2], {Int(info, 3), 8}).data_ptr<float>();
  const bool perImage = Int(info, 3) > 1, bilinear = Int(info, 4) == 1;
  const int64_t mode = Int(info, 5);
  const float fill = static_cast<float>(Double(info, 6));
  float* out = View(info[7], outShape).data_ptr<float>();
  const int64_t batch = shape[0], height = shape[1], width = shape[2], channels = shape[3];
  const int64_t outHeight = outShape[1], outWidth = outShape[2];
  auto read = [&](int64_t b, int64_t y, int64_t x, int64_t c) -> double {
    return 0 <= y && y < height && 0 <= x && x < width ? image[((b * height + y) * width + x) * channels + c] : fill;
  };
  at::parallel_for(0, batch * outHeight, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / outHeight, outY = row % outHeight;
      const float* m = matrices + (perImage ? b * 8 : 0);
      float* target = out + row * outWidth * channels;
      for (int64_t outX = 0; outX < outWidth; ++outX) {
        const double projection = static_cast<double>(m[6]) * outX + static_cast<double>(m[7]) * outY + 1;
        float* pixel = target + outX * channels;
        if (projection == 0) {
          for (int64_t c = 0; c < channels; ++c) pixel[c] = fill;
          continue;
        }
        const double inX = MapCoordinate((static_cast<double>(m[0]) * outX + static_cast<double>(m[1]) * outY + m[2]) / projection, width, mode);
        const double inY = MapCoordinate((static_cast<double>(m[3]) * outX + static_cast<double>(m[4]) * outY + m[5]) / projection, height, mode);
        if (!bilinear) {
          // JavaScript's Math.round: halves go up
          const int64_t x = static_cast<int64_t>(std::floor(inX + 0.5)), y = static_cast<int64_t>(std::floor(inY + 0.5));
          for (int64_t c = 0; c < channels; ++c) pixel[c] = static_cast<float>(read(b, y, x, c));
          continue;
        }
        const double yFloor = std::floor(inY), xFloor = std::floor(inX);
        const int64_t y0 = static_cast<int64_t>(yFloor), x0 = static_cast<int64_t>(xFloor);
        const double wx1 = inX - xFloor, wx0 = xFloor + 1 - inX, wy1 = inY - yFloor, wy0 = yFloor + 1 - inY;
        for (int64_t c = 0; c < channels; ++c) {
          const double top = wx0 * read(b, y0, x0, c) + wx1 * read(b, y0, x0 + 1, c);
          const double bottom = wx0 * read(b, y0 + 1, x0, c) + wx1 * read(b, y0 + 1, x0 + 1, c);
          pixel[c] = static_cast<float>(wy0 * top + wy1 * bottom);
        }
      }
    }
  });
  return info.Env().Undefined();
}

// slice(x, shape, begin, size, out): the box [begin, begin + size) of x, any viewable type
Napi::Value Slice(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  const Shape begin = ShapeOf(info[2]), size = ShapeOf(info[3]);
  for (int64_t axis = 0; axis < x.dim(); ++axis) {
    if (begin[axis] != 0 || size[axis] != x.size(axis)) x = x.narrow(axis, begin[axis], size[axis]);
  }
  View(info[4], size).copy_(x);
  return info.Env().Undefined();
}

// cast(x, out): element by element into out's type (int32 or bool to float32: TF.js's cpu Cast keeps the
// integers' array under a float32 tensor, which no float kernel could then take)
Napi::Value Cast(const Napi::CallbackInfo& info) {
  const Shape flat{static_cast<int64_t>(info[0].As<Napi::TypedArray>().ElementLength())};
  View(info[1], flat).copy_(In(info[0], flat));
  return info.Env().Undefined();
}

// concat([x...], [shape...], axis, out, outShape)
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Array data = info[0].As<Napi::Array>(), shapes = info[1].As<Napi::Array>();
  std::vector<at::Tensor> parts;
  for (uint32_t i = 0; i < data.Length(); ++i) parts.push_back(In(data.Get(i), ShapeOf(shapes.Get(i))));
  at::Tensor out = View(info[3], ShapeOf(info[4]));
  if (device.is_cpu()) at::cat_out(out, parts, Int(info, 2));
  else out.copy_(at::cat(parts, Int(info, 2)));
  return info.Env().Undefined();
}

// gather(x, xShape, indices (int32), count, axis, out, outShape): batchDims 0
Napi::Value Gather(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  at::Tensor indices = In(info[2], {Int(info, 3)}).to(at::kLong);
  const int64_t axis = Int(info, 4);
  const Shape outShape = ShapeOf(info[6]);
  View(info[5], outShape).copy_(at::index_select(x, axis, indices).reshape(outShape));
  return info.Env().Undefined();
}

// segmentSum(x, xShape, ids (int32), segments, out): rows of x (axis 0) added into their segment
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[1]);
  at::Tensor x = In(info[0], shape).reshape({shape.empty() ? 1 : shape[0], -1});
  at::Tensor ids = In(info[2], {x.size(0)}).to(at::kLong);
  const int64_t segments = Int(info, 3);
  // TF.js drops rows whose id is out of range; so does this
  at::Tensor keep = (ids >= 0).logical_and(ids < segments);
  at::Tensor sums = at::zeros({segments, x.size(1)}, x.options());
  at::Tensor rows = keep.nonzero().squeeze(1);
  sums.index_add_(0, ids.index_select(0, rows), x.index_select(0, rows));
  View(info[4], {segments, x.size(1)}).copy_(sums);
  return info.Env().Undefined();
}

// tile(x, shape, reps, out, outShape): any of the viewable types
Napi::Value Tile(const Napi::CallbackInfo& info) {
  const Shape shape = ShapeOf(info[1]), reps = ShapeOf(info[2]);
  // out seen as [rep0, size0, rep1, size1, ...] is x seen as [1, size0, 1, size1, ...] expanded: one pass
  // straight into out, no intermediate (x.repeat makes one, then it is copied)
  Shape unit, interleaved;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    unit.insert(unit.end(), {1, shape[axis]});
    interleaved.insert(interleaved.end(), {reps[axis], shape[axis]});
  }
  at::Tensor x = In(info[0], shape).reshape(unit);
  View(info[3], ShapeOf(info[4])).view(interleaved).copy_(x.expand(interleaved));
  return info.Env().Undefined();
}

// split(x, shape, axis, sizes, [out...], [outShape...]): consecutive pieces along an axis (SplitV, and Unpack
// with pieces of 1 whose output shapes drop the axis: the same values in the same order)
Napi::Value Split(const Napi::CallbackInfo& info) {
  at::Tensor x = In(info, 0, 1);
  const int64_t axis = Int(info, 2);
  const Shape sizes = ShapeOf(info[3]);
  Napi::Array outs = info[4].As<Napi::Array>(), shapes = info[5].As<Napi::Array>();
  int64_t offset = 0;
  for (uint32_t i = 0; i < sizes.size(); ++i) {
    const Shape shape = ShapeOf(shapes.Get(i));
    View(outs.Get(i), shape).copy_(x.narrow(axis, offset, sizes[i]).reshape(shape));
    offset += sizes[i];
  }
  return info.Env().Undefined();
}

// addN([x...], size, out)
Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Array data = info[0].As<Napi::Array>();
  const Shape flat{Int(info, 1)};
  at::Tensor out = View(info[2], flat);
  at::Tensor sum = In(data.Get(0u), flat).clone();
  for (uint32_t i = 1; i < data.Length(); ++i) sum.add_(In(data.Get(i), flat));
  out.copy_(sum);
  return info.Env().Undefined();
}

// OpenBLAS's own thread pool (Debian's libtorch multiplies matrices with OpenBLAS) spins beside libtorch's
// OpenMP threads and slows small matrix products 30-fold on a busy core; libtorch's threads do the parallel
// work, so OpenBLAS runs on the calling thread. Returns whether an OpenBLAS was found to set.
bool OneBlasThread() {
  using SetThreadCount = void (*)(int);
  for (const char* library : {"libopenblas.so.0", "libblas.so.3", "libopenblas.dylib"}) {
    void* handle = dlopen(library, RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr) continue;
    auto set = reinterpret_cast<SetThreadCount>(dlsym(handle, "openblas_set_num_threads"));
    dlclose(handle);
    if (set != nullptr) {
      set(1);
      return true;
    }
  }
  return false;
}

bool openBlasPinned = false;

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openBlasPinned = OneBlasThread();
  const int64_t threads = Int(info, 0);
  at::set_num_threads(static_cast<int>(threads));
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  at::Device chosen(info[0].As<Napi::String>().Utf8Value());
  if (chosen.is_cuda() && !at::hasCUDA()) throw std::invalid_argument("this libtorch was built without CUDA");
  device = chosen;
  return Napi::String::New(info.Env(), device.str());
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("version", KINDLING_TORCH_VERSION);
  result.Set("threads", at::get_num_threads());
  result.Set("device", device.str());
  result.Set("mkldnn", at::hasMKLDNN());
  result.Set("cuda", at::hasCUDA());
  result.Set("openBlasOneThread", openBlasPinned);
  return result;
}

// Wraps a function so that whatever libtorch or this file throws reaches JavaScript as an Error with the
// libtorch message's first line (without its C++ backtrace).
template <Napi::Value (*Function)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return Function(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& error) {
    std::string message = error.what_without_backtrace();
    throw Napi::Error::New(info.Env(), message.substr(0, message.find('\n')));
  } catch (const std::exception& error) {
    throw Napi::Error::New(info.Env(), error.what());
  }
}

// libtorch's kernels allocate their results and temporaries (megabytes each: a convolution's gradient, a batch norm's
// output) with malloc and free them a moment later, thousands of times an epoch. glibc serves blocks above its mmap
// threshold with fresh pages from the kernel and gives the top of its heap back above its trim threshold, so in a
// Node process each such block cost page faults on every step (a convolution's input gradient ran at half speed
// against PyTorch's on the same machine). Set here, as the addon loads, unless the user tuned glibc's allocator.
void TuneAllocator() {
#if defined(__GLIBC__)
  if (getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || getenv("MALLOC_TRIM_THRESHOLD_") != nullptr || getenv("GLIBC_TUNABLES") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  TuneAllocator();
  exports.Set("conv2d", Napi::Function::New<Guarded<Conv2d>>(env));
  exports.Set("conv2dBackpropInput", Napi::Function::New<Guarded<Conv2dBackpropInput>>(env));
  exports.Set("conv2dBackpropFilter", Napi::Function::New<Guarded<Conv2dBackpropFilter>>(env));
  exports.Set("matmul", Napi::Function::New<Guarded<Matmul>>(env));
  exports.Set("binary", Napi::Function::New<Guarded<BinaryOp>>(env));
  exports.Set("unary", Napi::Function::New<Guarded<UnaryOp>>(env));
  exports.Set("reduce", Napi::Function::New<Guarded<Reduce>>(env));
  exports.Set("softmax", Napi::Function::New<Guarded<Softmax>>(env));
  exports.Set("transpose", Napi::Function::New<Guarded<Transpose>>(env));
  exports.Set("maxPool", Napi::Function::New<Guarded<MaxPool>>(env));
  exports.Set("maxPoolGrad", Napi::Function::New<Guarded<MaxPoolGrad>>(env));
  exports.Set("avgPool", Napi::Function::New<Guarded<AvgPool>>(env));
  exports.Set("avgPoolGrad", Napi::Function::New<Guarded<AvgPoolGrad>>(env));
  exports.Set("batchNorm", Napi::Function::New<Guarded<BatchNorm>>(env));
  exports.Set("batchNormTraining", Napi::Function::New<Guarded<BatchNormTraining>>(env));
  exports.Set("batchNormTrainingGrad", Napi::Function::New<Guarded<BatchNormTrainingGrad>>(env));
  exports.Set("pad", Napi::Function::New<Guarded<Pad>>(env));
  exports.Set("mirrorPad", Napi::Function::New<Guarded<MirrorPad>>(env));
  exports.Set("transform", Napi::Function::New<Guarded<Transform>>(env));
  exports.Set("slice", Napi::Function::New<Guarded<Slice>>(env));
  exports.Set("cast", Napi::Function::New<Guarded<Cast>>(env));
  exports.Set("compare", Napi::Function::New<Guarded<Compare>>(env));
  exports.Set("reverse", Napi::Function::New<Guarded<Reverse>>(env));
  exports.Set("concat", Napi::Function::New<Guarded<Concat>>(env));
  exports.Set("gather", Napi::Function::New<Guarded<Gather>>(env));
  exports.Set("segmentSum", Napi::Function::New<Guarded<SegmentSum>>(env));
  exports.Set("addN", Napi::Function::New<Guarded<AddN>>(env));
  exports.Set("tile", Napi::Function::New<Guarded<Tile>>(env));
  exports.Set("split", Napi::Function::New<Guarded<Split>>(env));
  exports.Set("setThreads", Napi::Function::New<Guarded<SetThreads>>(env));
  exports.Set("setDevice", Napi::Function::New<Guarded<SetDevice>>(env));
  exports.Set("info", Napi::Function::New<Guarded<Info>>(env));
  kindling::InitDistributed(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(kindling_torch, Init)
