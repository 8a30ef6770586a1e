// Kernel family: integer (int8/uint8) ops of domain "tmc", produced by the
// quantize-folding pass from QDQ graphs. Quantization parameters are inputs
// (float32 scales, zero points of the tensor's dtype); requantization follows
// ONNX Runtime: the int32 accumulator is converted to float, multiplied by the
// float32 scale (x_scale * w_scale / y_scale, in that order), rounded half to
// even, offset by the zero point and saturated.
//
//   (QGemm, the fully connected layer, is in int8_fc.cpp; QMul in int8_mul.cpp,
//   QLut in int8_lut.cpp, QConvTranspose in int8_convtranspose.cpp.)
//   QAdd(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp) -> y (broadcast)
//   QAveragePool(x, x_scale, x_zp, y_scale, y_zp) attrs as AveragePool
//   QSoftmax(x, x_scale, x_zp, y_scale, y_zp) attrs axis, coerce_2d
//   QClamp(x) attrs lo, hi
// QAdd and QAveragePool with tmc_int8_arith = "qlinear" (set by
// lower-qoperator for QLinearAdd, QLinearAveragePool and
// QLinearGlobalAveragePool) reproduce ONNX Runtime's QLinear* CPU kernels
// instead of its unfused DQ -> float op -> Q; see docs/quantization.md.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <climits>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/int8_emit.h"
#include "codegen/kernels/int8_round.h"
#include "codegen/kernels/window.h"

namespace tmc::codegen {
namespace {

using ir::DType;


/// Forces float32 rounding of a host-side intermediate (no fused multiply-add).
float rnd32(float v) {
  volatile float t = v;
  return t;
}

// ---------------------------------------------------------------- QAdd

// ONNX Runtime's QLinearAdd (MLAS, x86-64 AVX2 kernel): with r_a = a_scale /
// y_scale and r_b = b_scale / y_scale (float32) and the constant
// c = y_zp - fma(r_a, a_zp, r_b * b_zp) (its compiler fuses the first
// product), y = rne(fma(a, r_a, fma(b, r_b, c))) saturated. When A is one
// value per innermost run of the broadcast (ONNX Runtime's "scalar A" span)
// ONNX Runtime calls the kernel with A and B swapped:
// c = y_zp - fma(r_b, b_zp, r_a * a_zp), y = rne(fma(b, r_b, fma(a, r_a, c))).
void emit_qadd_qlinear(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &y = k.vout(0);
  float sa = (float)n.input(1)->float_values()[0], sb = (float)n.input(4)->float_values()[0],
        sy = (float)n.input(6)->float_values()[0];
  float za = (float)n.input(2)->int_values()[0], zb = (float)n.input(5)->int_values()[0],
        zy = (float)n.input(7)->int_values()[0];
  float ra = rnd32(sa / sy), rb = rnd32(sb / sy);
  // Innermost output dimension > 1: is A broadcast along it?
  ir::Shape as = k.vin(0).shape, ys = y.shape;
  bool a_scalar = k.vin(0).numel() == 1;
  for (size_t i = 0; i < ys.size() && !a_scalar; ++i) {
    size_t d = ys.size() - 1 - i;
    if (ys[d] == 1) continue;
    a_scalar = i >= as.size() || as[as.size() - 1 - i] == 1;
    break;
  }
  float c = a_scalar ? rnd32(zy - std::fmaf(rb, zb, rnd32(ra * za))) : rnd32(zy - std::fmaf(ra, za, rnd32(rb * zb)));
  k.line("const float ra = {}, rb = {}, c = {};", c_float_literal(ra), c_float_literal(rb), c_float_literal(c));
  emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                      [&](const std::vector<std::string> &ix, const std::string &oi) {
                        std::string a = fmt::format("(float)x0[{}]", ix[0]), b = fmt::format("(float)x3[{}]", ix[1]);
                        std::string v = a_scalar ? fmt::format("fmaf({}, rb, fmaf({}, ra, c))", b, a)
                                                 : fmt::format("fmaf({}, ra, fmaf({}, rb, c))", a, b);
                        emit_round_store(k, v, "", 0, y.dtype, fmt::format("y0[{}]", oi));
                      });
}

// TFLite ADD: both inputs offset and shifted left by 20, each rescaled by
// in_scale / (2 * max_in_scale), summed and requantized with
// 2 * max_in_scale / (2^20 * out_scale), all multipliers Q31 fixed point.
void emit_qadd_tflite(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &y = k.vout(0);
  emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                      [&](const std::vector<std::string> &ix, const std::string &oi) {
                        emit_q8_add_element(k, true, n.input(1)->float_values()[0], n.input(2)->int_values()[0],
                                            n.input(4)->float_values()[0], n.input(5)->int_values()[0],
                                            n.input(6)->float_values()[0], n.input(7)->int_values()[0], y.dtype,
                                            fmt::format("x0[{}]", ix[0]), fmt::format("x3[{}]", ix[1]),
                                            fmt::format("y0[{}]", oi));
                      });
}

void emit_qadd(KernelContext &k) {
  if (tflite_semantics(k.node)) return emit_qadd_tflite(k);
  if (qlinear_arith(k.node)) return emit_qadd_qlinear(k);
  const ir::Value &y = k.vout(0);
  k.line("const float sa = x1[0], sb = x4[0], sy = x6[0];");
  k.line("const int32_t za = (int32_t)x2[0], zb = (int32_t)x5[0];");
  k.line("const float yzp = (float)x7[0];");
  emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                      [&](const std::vector<std::string> &ix, const std::string &oi) {
                        k.line("const float va = sa * (float)((int32_t)x0[{}] - za);", ix[0]);
                        k.line("const float vb = sb * (float)((int32_t)x3[{}] - zb);", ix[1]);
                        k.line("const float q = rintf((va + vb) / sy) + yzp;");
                        emit_q8_saturate(k, fmt::format("y0[{}]", oi), "q", y.dtype);
                      });
}

// ---------------------------------------------------------------- QAveragePool
WindowGeometry pool_geometry(const ir::Node &n) {
  const ir::Value *x = n.input(0), *y = n.output(0);
  WindowGeometry g;
  g.nd = x->rank() - 2;
  g.in.assign(x->shape.begin() + 2, x->shape.end());
  g.out.assign(y->shape.begin() + 2, y->shape.end());
  g.kernel = n.attr_ints("kernel_shape");
  if (g.kernel.size() != g.nd) throw ir::CompileError(n, "kernel_shape has the wrong length");
  window_strides_dilations(n, g);
  window_pads(n, g);
  return g;
}

std::string check_qavgpool(const ir::Node &n) {
  std::string r = check_q8_scalars(n, {1, 3}, {2, 4});
  if (!r.empty()) return r;
  const ir::Value *x = n.input(0), *y = n.output(0);
  if (!is_q8(x->dtype) || !is_q8(y->dtype)) return "only int8/uint8 tensors are supported";
  if (x->rank() < 3 || y->rank() != x->rank()) return "bad rank";
  for (size_t i : {1, 2, 3, 4})
    if (n.input(i)->numel() != 1) return "quantization must be per-tensor";
  WindowGeometry g = pool_geometry(n);
  for (auto d : g.dil)
    if (d != 1) return "dilations are not supported";
  if (qlinear_arith(n))
    for (size_t i : {1, 2, 3, 4})
      if (!n.input(i)->is_constant()) return "this int8 arithmetic needs constant scales and zero points";
  return "";
}

// ONNX Runtime's QLinearAveragePool / QLinearGlobalAveragePool. A window
// covering the whole unpadded image (global pooling) is MLAS's integer path:
// s = sum - count * x_zp, y = rne((float)s * scale) + y_zp saturated, with
// scale = x_scale / (y_scale * (float)count). Otherwise ONNX Runtime
// dequantizes every element (x_scale * (x - x_zp), float32), sums them in
// float32 in window order, divides by the count (all window taps with
// count_include_pad), and quantizes: rne(mean / y_scale + y_zp) saturated.
void emit_qavgpool_qlinear(KernelContext &k, const WindowGeometry &g) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  float xs = (float)n.input(1)->float_values()[0], ys = (float)n.input(3)->float_values()[0];
  int64_t xz = n.input(2)->int_values()[0], yz = n.input(4)->int_values()[0];
  int64_t NC = x.shape[0] * x.shape[1];
  int64_t XS = ir::shape_numel(g.in), YS = ir::shape_numel(g.out);
  bool global = g.in == g.kernel;
  for (size_t d = 0; d < g.nd; ++d) global = global && g.pad_begin[d] == 0 && g.pad_end[d] == 0;
  if (global) {
    float scale = rnd32(xs / rnd32(ys * (float)XS));
    k.open("for (size_t c = 0; c < {}; ++c) {{", NC);
    k.line("const {} *xc = x0 + c * {};", k.ctype_in(0), XS);
    k.line("int32_t s = {};", -xz * XS);
    k.line("for (size_t i = 0; i < {}; ++i) s += (int32_t)xc[i];", XS);
    emit_round_store(k, fmt::format("(float)s * {}", c_float_literal(scale)), "", yz, y.dtype, "y0[c]");
    k.close();
    return;
  }
  bool cip = n.attr_int("count_include_pad", 0) != 0;
  std::string dq;
  for (int b = 0; b < 256; ++b) {
    int64_t code = x.dtype == DType::I8 ? (int64_t)(int8_t)(uint8_t)b : b;
    dq += (b ? ", " : "") + c_float_literal(rnd32(xs * (float)(code - xz)));
  }
  k.line("static const float dq[256] = {{{}}};", dq);
  std::vector<int64_t> istr = strides_of(g.in), ostr = strides_of(g.out);
  k.open("for (size_t c = 0; c < {}; ++c) {{", NC);
  k.line("const {} *xc = x0 + c * {};", k.ctype_in(0), XS);
  k.line("{} *yc = y0 + c * {};", k.ctype_out(0), YS);
  std::string cnt, oidx, xidx;
  for (size_t d = 0; d < g.nd; ++d) {
    k.open("for (long o{0} = 0; o{0} < {1}; ++o{0}) {{", d, g.out[d]);
    k.line("const long b{0} = o{0} * {1} - {2};", d, g.stride[d], g.pad_begin[d]);
    k.line("const long lo{0} = b{0} < 0 ? 0 : b{0};", d);
    k.line("const long hi{0} = b{0} + {1} > {2} ? {2} : b{0} + {1};", d, g.kernel[d], g.in[d]);
    cnt += (d ? " * " : "") + (cip ? std::to_string(g.kernel[d]) : fmt::format("(hi{0} - lo{0})", d));
    oidx += (d ? " + " : "") + fmt::format("o{} * {}", d, ostr[d]);
    xidx += (d ? " + " : "") + fmt::format("i{} * {}", d, istr[d]);
  }
  k.line("float s = 0.0f;");
  for (size_t d = 0; d < g.nd; ++d) k.open("for (long i{0} = lo{0}; i{0} < hi{0}; ++i{0}) {{", d);
  k.line("s += dq[(uint8_t)xc[{}]];", xidx);
  for (size_t d = 0; d < g.nd; ++d) k.close();
  emit_round_store(k, fmt::format("s / (float)({}) / {}", cnt, c_float_literal(ys)),
                   c_float_literal((float)yz), 0, y.dtype, fmt::format("yc[{}]", oidx));
  for (size_t d = 0; d < g.nd; ++d) k.close();
  k.close();
}

void emit_qavgpool(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  WindowGeometry g = pool_geometry(n);
  bool cip = n.attr_int("count_include_pad", 0) != 0;
  int64_t NC = x.shape[0] * x.shape[1];
  int64_t XS = ir::shape_numel(g.in), YS = ir::shape_numel(g.out);
  std::vector<int64_t> istr = strides_of(g.in), ostr = strides_of(g.out);
  if (y.numel() == 0) return;
  if (qlinear_arith(n) && !tflite_semantics(n)) return emit_qavgpool_qlinear(k, g);
  // TFLite AVERAGE_POOL (same input and output quantization): the integer sum
  // divided by the count, rounded half away from zero.
  bool tfl = tflite_semantics(n);
  if (tfl) {
    for (size_t i : {1, 2, 3, 4})
      if (!n.input(i)->is_constant()) tfl = false;
    if (tfl && (n.input(1)->float_values()[0] != n.input(3)->float_values()[0] ||
                n.input(2)->int_values()[0] != n.input(4)->int_values()[0] || x.dtype != y.dtype))
      tfl = false;
  }
  if (!tfl) {
    // mean / y_scale = (sum - count * x_zp) * (x_scale / y_scale) / count, in
    // double so that the result is the exactly rounded real value.
    k.line("const double ratio = (double)x1[0] / (double)x3[0];");
    k.line("const int32_t xzp = (int32_t)x2[0];");
    k.line("const double yzp = (double)x4[0];");
  }
  k.open("for (size_t c = 0; c < {}; ++c) {{", NC);
  k.line("const {} *xc = x0 + c * {};", k.ctype_in(0), XS);
  k.line("{} *yc = y0 + c * {};", k.ctype_out(0), YS);
  for (size_t d = 0; d < g.nd; ++d) {
    k.open("for (long o{0} = 0; o{0} < {1}; ++o{0}) {{", d, g.out[d]);
    k.line("const long b{0} = o{0} * {1} - {2};", d, g.stride[d], g.pad_begin[d]);
    k.line("const long lo{0} = b{0} < 0 ? 0 : b{0};", d);
    k.line("const long hi{0} = b{0} + {1} > {2} ? {2} : b{0} + {1};", d, g.kernel[d], g.in[d]);
    if (cip)
      k.line("const long n{0} = (b{0} + {1} > {2} ? {2} : b{0} + {1}) - b{0};", d, g.kernel[d],
             g.in[d] + g.pad_end[d]);
    else
      k.line("const long n{0} = hi{0} - lo{0};", d);
  }
  std::string cnt, oidx;
  for (size_t d = 0; d < g.nd; ++d) {
    cnt += (d ? " * " : "") + fmt::format("n{}", d);
    oidx += (d ? " + " : "") + fmt::format("o{} * {}", d, ostr[d]);
  }
  k.line("const long cnt = {};", cnt);
  k.line("long s = 0;");
  if (!tfl) k.line("double v;");
  std::string xidx;
  for (size_t d = 0; d < g.nd; ++d) {
    k.open("for (long i{0} = lo{0}; i{0} < hi{0}; ++i{0}) {{", d);
    xidx += (d ? " + " : "") + fmt::format("i{} * {}", d, istr[d]);
  }
  k.line("s += (long)xc[{}];", xidx);
  for (size_t d = 0; d < g.nd; ++d) k.close();
  if (tfl) {
    k.line("const long v = cnt <= 0 ? {} : (s > 0 ? (s + cnt / 2) / cnt : (s - cnt / 2) / cnt);",
           n.input(4)->int_values()[0]);
    k.line("yc[{}] = ({})(v < {} ? {} : (v > {} ? {} : v));", oidx, k.ctype_out(0), qlo(y.dtype), qlo(y.dtype),
           qhi(y.dtype), qhi(y.dtype));
  } else {
    k.line("v = cnt > 0 ? rint((double)(s - cnt * (long)xzp) * ratio / (double)cnt) + yzp : yzp;");
    k.line("yc[{}] = ({})(v < {}.0 ? {}.0 : (v > {}.0 ? {}.0 : v));", oidx, k.ctype_out(0), qlo(y.dtype),
           qlo(y.dtype), qhi(y.dtype), qhi(y.dtype));
  }
  for (size_t d = 0; d < g.nd; ++d) k.close();
  k.close();
}

// ---------------------------------------------------------------- QSoftmax
std::string check_qsoftmax(const ir::Node &n) {
  std::string r = check_q8_scalars(n, {1, 3}, {2, 4});
  if (!r.empty()) return r;
  if (!is_q8(n.input(0)->dtype) || !is_q8(n.output(0)->dtype)) return "only int8/uint8 tensors are supported";
  for (size_t i : {1, 2, 3, 4})
    if (n.input(i)->numel() != 1) return "quantization must be per-tensor";
  int64_t ax = n.attr_int("axis", -1);
  if (ax < 0 || ax >= (int64_t)n.input(0)->rank()) return "bad axis";
  return "";
}

// TFLite int8 SOFTMAX (output scale 1/256, zero point -128): gemmlowp
// fixed-point exp of the scaled differences (Q5.26), Q12.19 sum, fixed-point
// reciprocal, as in TFLite's / TFLM's reference kernel. Returns false (ORT
// arithmetic is used) when the parameters are not those TFLite supports.
bool emit_qsoftmax_tflite(KernelContext &k, int64_t outer, int64_t D, int64_t inner) {
  const ir::Node &n = k.node;
  for (size_t i : {1, 2, 3, 4})
    if (!n.input(i)->is_constant()) return false;
  if (k.vout(0).dtype != DType::I8 || n.input(3)->float_values()[0] != 1.0 / 256.0 ||
      n.input(4)->int_values()[0] != -128 || D >= 512)
    return false;
  double sx = n.input(1)->float_values()[0];
  double real = std::min(sx * (double)(INT64_C(1) << 26), (double)(INT64_C(1) << 31) - 1.0);
  int32_t mult;
  int ls;
  tflite_quantize_multiplier(real, mult, ls);
  if (ls < 0) return false;
  int64_t diff_min = -(int64_t)std::floor(31.0 * (double)(INT64_C(1) << 26) / (double)(INT64_C(1) << ls));
  std::string srdhm = k.helper("tfl_srdhm"), rdpot = k.helper("tfl_rdpot"), expn = k.helper("tfl_exp_neg"),
              recip = k.helper("tfl_recip");
  std::string xi = inner == 1 ? "d" : fmt::format("d * {}", inner);
  k.open("for (size_t o = 0; o < {}; ++o) {{", outer);
  k.open("for (size_t r = 0; r < {}; ++r) {{", inner);
  k.line("const {} *xr = x0 + o * {} + r;", k.ctype_in(0), D * inner);
  k.line("int8_t *yr = y0 + o * {} + r;", D * inner);
  k.line("int32_t mx = (int32_t)xr[0], sum = 0, sc;");
  k.line("int nb;");
  k.line("for (size_t d = 1; d < {}; ++d) if ((int32_t)xr[{}] > mx) mx = (int32_t)xr[{}];", D, xi, xi);
  k.open("for (size_t d = 0; d < {}; ++d) {{", D);
  k.line("const int32_t df = (int32_t)xr[{}] - mx;", xi);
  k.line("if (df >= {}) sum += {}({}({}((int32_t)((uint32_t)df << {}), {})), 12);", diff_min, rdpot, expn, srdhm, ls,
         mult);
  k.close();
  k.line("sc = {}(sum, &nb);", recip);
  k.open("for (size_t d = 0; d < {}; ++d) {{", D);
  k.line("const int32_t df = (int32_t)xr[{}] - mx;", xi);
  k.open("if (df >= {}) {{", diff_min);
  k.line("const int32_t e = {}({}((int32_t)((uint32_t)df << {}), {}));", expn, srdhm, ls, mult);
  k.line("const int32_t v = {}({}(sc, e), nb + 23) - 128;", rdpot, srdhm);
  k.line("yr[{}] = (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));", xi);
  k.close();
  k.line("else yr[{}] = -128;", xi);
  k.close();
  k.close();
  k.close();
  return true;
}

void emit_qsoftmax(KernelContext &k) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  int64_t ax = k.node.attr_int("axis", -1);
  bool c2d = k.node.attr_int("coerce_2d", 0) != 0;
  int64_t outer = 1, D = 1, inner = 1;
  for (int64_t i = 0; i < (int64_t)x.rank(); ++i) {
    if (i < ax) outer *= x.shape[(size_t)i];
    else if (i == ax || c2d) D *= x.shape[(size_t)i];
    else inner *= x.shape[(size_t)i];
  }
  if (x.numel() == 0) return;
  if (tflite_semantics(k.node) && emit_qsoftmax_tflite(k, outer, D, inner)) return;
  const ir::Node &n = k.node;
  // With constant parameters, exp(x_scale * (x - max)) comes from a table of
  // the 256 possible differences max - x, computed at compile time with expf
  // (the same float32 values as calling expf at run time, without a call per
  // element); otherwise expf runs on the run-time scale.
  const bool table = n.input(1)->is_constant() && n.input(3)->is_constant() && n.input(4)->is_constant();
  const std::string xi = inner == 1 ? "d" : fmt::format("d * {}", inner);
  std::function<std::string(const std::string &)> ex_of;
  if (table) {
    float sx = (float)n.input(1)->float_values()[0];
    std::string ex;
    for (int d = 0; d < 256; ++d) ex += (d ? ", " : "") + c_float_literal(std::exp(sx * (float)(-d)));
    k.line("static const float ex[256] = {{{}}};", ex);
    ex_of = [](const std::string &v) { return fmt::format("ex[mx - (int32_t){}]", v); };
  } else {
    k.line("const float sx = x1[0], sy = x3[0];");
    k.line("const float yzp = (float)x4[0];");
    ex_of = [](const std::string &v) { return fmt::format("expf(sx * (float)((int32_t){} - mx))", v); };
  }
  k.open("for (size_t o = 0; o < {}; ++o) {{", outer);
  k.open("for (size_t r = 0; r < {}; ++r) {{", inner);
  k.line("const {} *xr = x0 + o * {} + r;", k.ctype_in(0), D * inner);
  k.line("{} *yr = y0 + o * {} + r;", k.ctype_out(0), D * inner);
  k.line("int32_t mx = (int32_t)xr[0];");
  k.line("float sum = 0.0f, inv;");
  k.line("for (size_t d = 1; d < {}; ++d) if ((int32_t)xr[{}] > mx) mx = (int32_t)xr[{}];", D, xi, xi);
  k.line("for (size_t d = 0; d < {}; ++d) sum += {};", D, ex_of(fmt::format("xr[{}]", xi)));
  k.line("inv = 1.0f / sum;");
  k.open("for (size_t d = 0; d < {}; ++d) {{", D);
  const std::string e = ex_of(fmt::format("xr[{}]", xi)), dst = fmt::format("yr[{}]", xi);
  if (table) {
    emit_round_store(k, fmt::format("{} * inv / {}", e, c_float_literal((float)n.input(3)->float_values()[0])), "",
                     n.input(4)->int_values()[0], y.dtype, dst);
  } else {
    k.line("const float q = rintf({} * inv / sy) + yzp;", e);
    emit_q8_saturate(k, dst, "q", y.dtype);
  }
  k.close();
  k.close();
  k.close();
}

// ---------------------------------------------------------------- QClamp
std::string check_qclamp(const ir::Node &n) {
  if (!n.input(0) || !is_q8(n.input(0)->dtype) || n.output(0)->dtype != n.input(0)->dtype)
    return "only int8/uint8 tensors are supported";
  if (!n.has_attr("lo") || !n.has_attr("hi")) return "lo and hi are required";
  return "";
}

void emit_qclamp(KernelContext &k) {
  int64_t lo = k.node.attr_int("lo"), hi = k.node.attr_int("hi");
  k.open("for (size_t i = 0; i < {}; ++i) {{", k.vout(0).numel());
  k.line("const int v = (int)x0[i];");
  k.line("y0[i] = ({})(v < {} ? {} : (v > {} ? {} : v));", k.ctype_out(0), lo, lo, hi, hi);
  k.close();
}

} // namespace

void register_int8_kernels(KernelRegistry &r) {
  register_tflite_helpers();
  KernelDef d;
  d = {"QAdd", check_q8_binary, emit_qadd, nullptr, "tmc"};
  r.add(d);
  d = {"QAveragePool", check_qavgpool, emit_qavgpool, nullptr, "tmc"};
  r.add(d);
  d = {"QSoftmax", check_qsoftmax, emit_qsoftmax, nullptr, "tmc"};
  r.add(d);
  d = {"QClamp", check_qclamp, emit_qclamp, nullptr, "tmc"};
  r.add(d);
}

} // namespace tmc::codegen
