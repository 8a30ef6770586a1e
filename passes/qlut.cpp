#include "passes/qlut.h"

#include "ir/quant_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tmc::passes::qlut {

using ir::tflite_mbqm;
using ir::tflite_quantize_multiplier;
namespace {

using ir::DType;

int64_t qmin(DType t) { return t == DType::I8 ? -128 : 0; }
int64_t qmax(DType t) { return t == DType::I8 ? 127 : 255; }

/// The input code of table entry b.
int64_t code_of(DType t, int b) { return t == DType::I8 ? (int64_t)(int8_t)(uint8_t)b : (int64_t)b; }

/// Forces a float32 rounding step: the compiler may not fuse the operation
/// that produced `v` with the one that consumes it (fp-contract), so the
/// tables do not depend on the host's FMA support.
float rnd(float v) {
  volatile float t = v;
  return t;
}

// MLAS (ONNX Runtime's math library) logistic and tanh: rational
// approximations, evaluated as its x86-64 FMA3 kernels do (one rounding per
// fused multiply-add).
float mlas_logistic(float x) {
  const float a9 = 4.37031012579801e-11f, a7 = 1.15627324459942e-07f, a5 = 6.08574864600143e-05f,
              a3 = 8.51377133304701e-03f, a1 = 2.48287947061529e-01f;
  const float b10 = 6.10247389755681e-13f, b8 = 5.76102136993427e-09f, b6 = 6.29106785017040e-06f,
              b4 = 1.70198817374094e-03f, b2 = 1.16817656904453e-01f, b0 = 9.93151921023180e-01f;
  float v = x < -18.0f ? -18.0f : (x > 18.0f ? 18.0f : x);
  float v2 = rnd(v * v);
  float p = std::fmaf(v2, a9, a7);
  p = std::fmaf(p, v2, a5);
  p = std::fmaf(p, v2, a3);
  p = std::fmaf(p, v2, a1);
  p = rnd(p * v);
  float q = std::fmaf(v2, b10, b8);
  q = std::fmaf(q, v2, b6);
  q = std::fmaf(q, v2, b4);
  q = std::fmaf(q, v2, b2);
  q = std::fmaf(q, v2, b0);
  float r = rnd(rnd(p / q) + 0.5f);
  return r < 0.0f ? 0.0f : r;
}

float mlas_tanh(float x) {
  const float a13 = -2.76076847742355e-16f, a11 = 2.00018790482477e-13f, a9 = -8.60467152213735e-11f,
              a7 = 5.12229709037114e-08f, a5 = 1.48572235717979e-05f, a3 = 6.37261928875436e-04f,
              a1 = 4.89352455891786e-03f;
  const float b6 = 1.19825839466702e-06f, b4 = 1.18534705686654e-04f, b2 = 2.26843463243900e-03f,
              b0 = 4.89352518554385e-03f;
  float v = x < -9.0f ? -9.0f : (x > 9.0f ? 9.0f : x);
  float v2 = rnd(v * v);
  float p = std::fmaf(v2, a13, a11);
  p = std::fmaf(p, v2, a9);
  p = std::fmaf(p, v2, a7);
  p = std::fmaf(p, v2, a5);
  p = std::fmaf(p, v2, a3);
  p = std::fmaf(p, v2, a1);
  p = rnd(p * v);
  float q = std::fmaf(v2, b6, b4);
  q = std::fmaf(q, v2, b2);
  q = std::fmaf(q, v2, b0);
  return rnd(p / q);
}

/// TFLite's float transforms (LUTPopulate callers).
float tflite_activation(const Activation &a, float x) {
  switch (a.kind) {
  case Act::Sigmoid: return rnd(1.0f / rnd(1.0f + std::exp(-x)));
  case Act::Tanh: return std::tanh(x);
  case Act::HardSwish: return rnd(rnd(x * std::min(6.0f, std::max(0.0f, rnd(x + 3.0f)))) / 6.0f);
  default: return ort_activation(a, x);
  }
}

/// TFLite's CalculateActivationRangeQuantized bound: zp + round(f / scale).
int64_t tflite_bound(float f, const QParams &q, bool lower) {
  if (std::isinf(f)) return f < 0 ? qmin(q.dtype) : qmax(q.dtype);
  int64_t v = q.zero_point + (int64_t)std::round(rnd(f / q.scale));
  return lower ? std::max(v, qmin(q.dtype)) : std::min(v, qmax(q.dtype));
}

} // namespace

bool activation_of(const ir::Node &n, Activation &a) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  if (!n.input(0) || n.input(0)->dtype != DType::F32) return false;
  const std::string &op = n.op;
  a = Activation{};
  if (op == "Relu") a.kind = Act::Relu;
  else if (op == "Sigmoid") a.kind = Act::Sigmoid;
  else if (op == "Tanh") a.kind = Act::Tanh;
  else if (op == "HardSwish") a.kind = Act::HardSwish;
  else if (op == "LeakyRelu") {
    a.kind = Act::LeakyRelu;
    a.alpha = n.attr_float("alpha", 0.01f);
  } else if (op == "HardSigmoid") {
    a.kind = Act::HardSigmoid;
    a.alpha = n.attr_float("alpha", 0.2f);
    a.beta = n.attr_float("beta", 0.5f);
  } else if (op == "Clip") {
    a.kind = Act::Clip;
    a.alpha = -std::numeric_limits<float>::infinity();
    a.beta = std::numeric_limits<float>::infinity();
    if (n.opset < 11) {
      a.alpha = n.attr_float("min", std::numeric_limits<float>::lowest());
      a.beta = n.attr_float("max", std::numeric_limits<float>::max());
    } else {
      for (size_t i : {1, 2}) {
        ir::Value *v = n.input(i);
        if (!v) continue;
        if (!v->is_constant() || v->dtype != DType::F32 || v->numel() != 1) return false;
        (i == 1 ? a.alpha : a.beta) = v->as<float>()[0];
      }
    }
  } else {
    return false;
  }
  return true;
}

float ort_activation(const Activation &a, float x) {
  switch (a.kind) {
  case Act::Identity: return x;
  case Act::Relu: return x < 0.0f ? 0.0f : x;
  case Act::Clip: return x < a.alpha ? a.alpha : (x > a.beta ? a.beta : x);
  case Act::LeakyRelu: return x >= 0.0f ? x : rnd(x * a.alpha);
  case Act::HardSigmoid: {
    float v = rnd(rnd(a.alpha * x) + a.beta);
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
  }
  case Act::HardSwish: {
    float v = rnd(rnd(x * (1.0f / 6.0f)) + 0.5f);
    v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    return rnd(x * v);
  }
  case Act::Sigmoid: return mlas_logistic(x);
  case Act::Tanh: return mlas_tanh(x);
  }
  return x;
}

std::vector<int64_t> build_table(const Activation &a, const QParams &in, const QParams &out, bool tflite) {
  std::vector<int64_t> t(256);
  const int64_t lo = qmin(out.dtype), hi = qmax(out.dtype);
  // TFLite's integer kernels: LeakyRelu (two Q31 multipliers), Relu/Clip
  // (identity multiplier + activation range).
  if (tflite && (a.kind == Act::LeakyRelu || a.kind == Act::Relu || a.kind == Act::Clip)) {
    int32_t mi, ma = 0;
    int si, sa = 0;
    tflite_quantize_multiplier((double)in.scale / (double)out.scale, mi, si);
    if (a.kind == Act::LeakyRelu)
      tflite_quantize_multiplier((double)in.scale * (double)a.alpha / (double)out.scale, ma, sa);
    int64_t amin = lo, amax = hi;
    if (a.kind == Act::Relu) amin = tflite_bound(0.0f, out, true);
    if (a.kind == Act::Clip) {
      amin = tflite_bound(a.alpha, out, true);
      amax = tflite_bound(a.beta, out, false);
    }
    for (int b = 0; b < 256; ++b) {
      int32_t d = (int32_t)(code_of(in.dtype, b) - in.zero_point);
      int64_t v = out.zero_point + (a.kind == Act::LeakyRelu && d < 0 ? tflite_mbqm(d, ma, sa)
                                                                      : tflite_mbqm(d, mi, si));
      t[(size_t)b] = std::min(std::max(v, amin), amax);
    }
    return t;
  }
  const float inv = 1.0f / out.scale;
  for (int b = 0; b < 256; ++b) {
    float x = rnd(in.scale * (float)(code_of(in.dtype, b) - in.zero_point));
    int64_t q;
    if (tflite) {
      // TFLite LUTPopulate: round(f(x) * (1 / y_scale)) half away from zero.
      float r = std::round(rnd(tflite_activation(a, x) * inv));
      q = (int64_t)r + out.zero_point;
    } else {
      // ONNX Runtime's QuantizeLinear: f(x) / y_scale, saturated, rounded half to even.
      float y = rnd(ort_activation(a, x) / out.scale);
      float lim_lo = (float)(lo - out.zero_point), lim_hi = (float)(hi - out.zero_point);
      y = y < lim_lo ? lim_lo : (y > lim_hi ? lim_hi : y);
      q = (int64_t)std::nearbyint(y) + out.zero_point;
    }
    t[(size_t)b] = std::min(std::max(q, lo), hi);
  }
  return t;
}

bool table_is_clamp(const std::vector<int64_t> &table, ir::DType in, ir::DType out, int64_t &lo, int64_t &hi) {
  if (in != out || table.size() != 256) return false;
  lo = qmax(out);
  hi = qmin(out);
  for (int b = 0; b < 256; ++b) {
    lo = std::min(lo, table[(size_t)b]);
    hi = std::max(hi, table[(size_t)b]);
  }
  for (int b = 0; b < 256; ++b)
    if (table[(size_t)b] != std::min(std::max(code_of(in, b), lo), hi)) return false;
  return true;
}

ir::Node *insert_table_op(ir::Graph &g, ir::Node *before, ir::Value *x, ir::Value *y,
                          const std::vector<int64_t> &table, const std::string &name) {
  int64_t lo, hi;
  ir::Node *n;
  if (table_is_clamp(table, x->dtype, y->dtype, lo, hi)) {
    n = g.insert_node(before, "QClamp", {x}, {y}, name);
    n->attrs["lo"] = lo;
    n->attrs["hi"] = hi;
  } else {
    std::vector<uint8_t> bytes(256);
    for (size_t b = 0; b < 256; ++b) bytes[b] = (uint8_t)(int8_t)table[b];
    if (y->dtype == DType::U8)
      for (size_t b = 0; b < 256; ++b) bytes[b] = (uint8_t)table[b];
    ir::Value *lut = g.add_constant_of<uint8_t>(g.unique_name(name + "_table"), y->dtype, {256}, bytes);
    n = g.insert_node(before, "QLut", {x, lut}, {y}, name);
  }
  n->domain = "tmc";
  n->opset = 1;
  return n;
}

} // namespace tmc::passes::qlut
