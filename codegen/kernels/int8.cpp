// Kernel family: integer (int8/uint8) ops of domain "tmc", produced by the
// quantize-folding pass from QDQ graphs. Quantization parameters are inputs
// (float32 scales, zero points of the tensor's dtype); requantization follows
// ONNX Runtime: the int32 accumulator is converted to float, multiplied by the
// float32 scale (x_scale * w_scale / y_scale, in that order), rounded half to
// even, offset by the zero point and saturated.
//
//   QGemm(a[M,K], a_scale, a_zp, b[N,K], b_scale (1 or N), b_zp (1 or N),
//         y_scale, y_zp, bias int32[N] (optional)) -> y[M,N]
//   QAdd(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp) -> y (broadcast)
//   QAveragePool(x, x_scale, x_zp, y_scale, y_zp) attrs as AveragePool
//   QSoftmax(x, x_scale, x_zp, y_scale, y_zp) attrs axis, coerce_2d
//   QClamp(x) attrs lo, hi
#include <algorithm>
#include <cctype>
#include <cmath>
#include <climits>
#include <cstdint>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/int8_emit.h"
#include "codegen/kernels/window.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool is_q8(DType t) { return t == DType::U8 || t == DType::I8; }
int qlo(DType t) { return t == DType::U8 ? 0 : -128; }
int qhi(DType t) { return t == DType::U8 ? 255 : 127; }

std::string check_scalars(const ir::Node &n, std::initializer_list<size_t> scales, std::initializer_list<size_t> zps) {
  for (size_t i : scales) {
    if (!n.input(i)) return fmt::format("input {} is missing", i);
    if (n.input(i)->dtype != DType::F32) return "scales must be float32";
  }
  for (size_t i : zps)
    if (!n.input(i)) return fmt::format("input {} is missing", i);
  return "";
}

/// Saturating store of float `q` (already offset by the zero point).
void emit_saturate(KernelContext &k, const std::string &dst, const std::string &q, DType t) {
  k.line("{} = ({})({} < {}.0f ? {}.0f : ({} > {}.0f ? {}.0f : {}));", dst, ir::dtype_ctype(t), q, qlo(t), qlo(t), q,
         qhi(t), qhi(t), q);
}

// ---------------------------------------------------------------- QGemm
std::string check_qgemm(const ir::Node &n) {
  std::string r = check_scalars(n, {1, 4, 6}, {2, 5, 7});
  if (!r.empty()) return r;
  const ir::Value *a = n.input(0), *b = n.input(3), *y = n.output(0);
  if (!is_q8(a->dtype) || !is_q8(b->dtype) || !is_q8(y->dtype)) return "only int8/uint8 tensors are supported";
  if (a->rank() != 2 || b->rank() != 2 || y->rank() != 2) return "A, B and Y must be 2-D";
  int64_t M = a->shape[0], K = a->shape[1], N = b->shape[0];
  if (b->shape[1] != K || y->shape[0] != M || y->shape[1] != N) return "shape mismatch";
  if (n.input(1)->numel() != 1 || n.input(2)->numel() != 1 || n.input(6)->numel() != 1 || n.input(7)->numel() != 1)
    return "A and Y quantization must be per-tensor";
  if ((n.input(4)->numel() != 1 && n.input(4)->numel() != N) || (n.input(5)->numel() != 1 && n.input(5)->numel() != N))
    return "B quantization must be per-tensor or per-column";
  if (n.input(8) && (n.input(8)->dtype != DType::I32 || n.input(8)->numel() != N)) return "bias must be int32[N]";
  if (tflite_semantics(n))
    for (size_t i : {1, 4, 6, 7})
      if (!n.input(i)->is_constant()) return "--int8-semantics tflite needs constant scales and zero points";
  return "";
}


// Fast path (int8 A and B, constant B/scales/zero points/bias, B zero points
// all 0): sum_p (a_p - za) * b_p + bias = sum_p a_p * b_p + (bias - za * sum_p b_p)
// with the constant folded per column; A rows are widened to int16 in scratch
// in the SXTB16 pairing order, the dot products use dual 16-bit MACs on DSP
// cores (see emit_q8_dot), two columns at a time. Requantization as in
// emit_q8_requant (bit-identical to rintf + zero point + saturation).
bool qgemm_fast_ok(const ir::Node &n) {
  if (n.input(0)->dtype != DType::I8 || n.input(3)->dtype != DType::I8) return false;
  for (size_t i = 1; i < 9; ++i)
    if (n.input(i) && !n.input(i)->is_constant()) return false;
  for (int64_t z : n.input(5)->int_values())
    if (z != 0) return false;
  return n.output(0)->numel() > 0;
}

int64_t scratch_qgemm(const ir::Node &n) {
  if (!qgemm_fast_ok(n)) return 0;
  return ((n.input(0)->shape[1] + 3) / 4) * 4 * 2;
}

void emit_qgemm_fast(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &a = k.vin(0), &b = k.vin(3), &y = k.vout(0);
  int64_t M = a.shape[0], K = a.shape[1], N = b.shape[0], K4 = (K / 4) * 4;
  int64_t za = n.input(2)->int_values()[0], yz = n.input(7)->int_values()[0];
  float as = (float)n.input(1)->float_values()[0], ys = (float)n.input(6)->float_values()[0];
  std::vector<double> bs = n.input(4)->float_values();
  std::vector<int64_t> bv = n.input(3)->int_values();
  std::vector<int64_t> bias = n.input(8) ? n.input(8)->int_values() : std::vector<int64_t>(N, 0);
  std::vector<int64_t> beff(N);
  std::string scl;
  for (int64_t j = 0; j < N; ++j) {
    int64_t sb = 0;
    for (int64_t p = 0; p < K; ++p) sb += bv[j * K + p];
    beff[j] = bias[j] - za * sb;
    if (beff[j] < INT32_MIN || beff[j] > INT32_MAX) throw ir::CompileError(n, "bias out of int32 range");
    float s = as * (float)bs[bs.size() > 1 ? j : 0];
    s = s / ys;
    scl += (j ? ", " : "") + c_float_literal(s);
  }
  k.line("static const int32_t beff[{}] = {{{}}};", N, int_array(beff));
  const bool tfl = tflite_semantics(n);
  if (tfl) emit_tflite_multipliers(k, "tq", as, bs, ys, N);
  else k.line("static const float scl[{}] = {{{}}};", N, scl);
  k.line("int16_t *col = (int16_t *)(void *)scratch;");
  k.open("for (size_t i = 0; i < {}; ++i) {{", M);
  k.line("const int8_t *ai = x0 + i * {};", K);
  if (K4 > 0) {
    k.open("for (size_t p = 0; p < {}; p += 4) {{", K4);
    k.line("col[p] = ai[p];");
    k.line("col[p + 1] = ai[p + 2];");
    k.line("col[p + 2] = ai[p + 1];");
    k.line("col[p + 3] = ai[p + 3];");
    k.close();
  }
  if (K4 < K) k.line("for (size_t p = {}; p < {}; ++p) col[p] = ai[p];", K4, K);
  auto block = [&](int nb) {
    std::vector<std::string> ws;
    std::vector<std::vector<std::string>> acc(1);
    for (int t = 0; t < nb; ++t) {
      ws.push_back(fmt::format("(x3 + (j + {}) * {})", t, K));
      acc[0].push_back(fmt::format("s{}", t));
      k.line("int32_t s{} = beff[j + {}];", t, t);
    }
    emit_q8_dot(k, K, {"col"}, ws, acc);
    for (int t = 0; t < nb; ++t) {
      emit_q8_requant_any(k, tfl, acc[0][t], fmt::format(tfl ? "tq_m[j + {}]" : "scl[j + {}]", t),
                          fmt::format("tq_s[j + {}]", t), yz, y.dtype, fmt::format("y0[i * {} + j + {}]", N, t));
    }
  };
  if (N >= 2) {
    k.open("for (size_t j = 0; j < {}; j += 2) {{", (N / 2) * 2);
    block(2);
    k.close();
  }
  if (N % 2) {
    k.open("{{");
    k.line("const size_t j = {};", N - 1);
    block(1);
    k.close();
  }
  k.close();
}

void emit_qgemm(KernelContext &k) {
  if (qgemm_fast_ok(k.node)) return emit_qgemm_fast(k);
  const ir::Value &a = k.vin(0), &b = k.vin(3), &y = k.vout(0);
  int64_t M = a.shape[0], K = a.shape[1], N = b.shape[0];
  if (y.numel() == 0) return;
  bool bs_pc = k.vin(4).numel() > 1, bz_pc = k.vin(5).numel() > 1;
  const bool tfl = tflite_semantics(k.node);
  if (tfl)
    emit_tflite_multipliers(k, "tq", k.node.input(1)->float_values()[0], k.node.input(4)->float_values(),
                            k.node.input(6)->float_values()[0], N);
  k.line("const int32_t za = (int32_t)x2[0];");
  if (!tfl) k.line("const float yzp = (float)x7[0];");
  k.open("for (size_t j = 0; j < {}; ++j) {{", N);
  k.line("const {} *bj = x3 + j * {};", k.ctype_in(3), K);
  k.line("const int32_t zb = (int32_t)x5[{}];", bz_pc ? "j" : "0");
  if (!tfl) k.line("const float scale = x1[0] * x4[{}] / x6[0];", bs_pc ? "j" : "0");
  k.open("for (size_t i = 0; i < {}; ++i) {{", M);
  k.line("const {} *ai = x0 + i * {};", k.ctype_in(0), K);
  k.line("int32_t s = {};", k.has_in(8) ? "x8[j]" : "0");
  if (!tfl) k.line("float q;");
  k.line("for (size_t p = 0; p < {}; ++p) s += ((int32_t)ai[p] - za) * ((int32_t)bj[p] - zb);", K);
  if (tfl) {
    emit_q8_requant_tflite(k, "s", "tq_m[j]", "tq_s[j]", k.node.input(7)->int_values()[0], y.dtype,
                           fmt::format("y0[i * {} + j]", N));
  } else {
    k.line("q = rintf((float)s * scale) + yzp;");
    emit_saturate(k, fmt::format("y0[i * {} + j]", N), "q", y.dtype);
  }
  k.close();
  k.close();
}

// ---------------------------------------------------------------- QAdd
std::string check_qadd(const ir::Node &n) {
  std::string r = check_scalars(n, {1, 4, 6}, {2, 5, 7});
  if (!r.empty()) return r;
  if (!is_q8(n.input(0)->dtype) || !is_q8(n.input(3)->dtype) || !is_q8(n.output(0)->dtype))
    return "only int8/uint8 tensors are supported";
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (n.input(i)->numel() != 1) return "quantization must be per-tensor";
  broadcast_shapes(n, {n.input(0)->shape, n.input(3)->shape});
  if (tflite_semantics(n))
    for (size_t i : {1, 2, 4, 5, 6, 7})
      if (!n.input(i)->is_constant()) return "--int8-semantics tflite needs constant scales and zero points";
  return "";
}

// TFLite ADD: both inputs offset and shifted left by 20, each rescaled by
// in_scale / (2 * max_in_scale), summed and requantized with
// 2 * max_in_scale / (2^20 * out_scale), all multipliers Q31 fixed point.
void emit_qadd_tflite(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &y = k.vout(0);
  double sa = n.input(1)->float_values()[0], sb = n.input(4)->float_values()[0], sy = n.input(6)->float_values()[0];
  int64_t za = n.input(2)->int_values()[0], zb = n.input(5)->int_values()[0], zy = n.input(7)->int_values()[0];
  double twice_max = 2.0 * std::max(sa, sb);
  int32_t ma, mb, my;
  int sha, shb, shy;
  tflite_quantize_multiplier(sa / twice_max, ma, sha);
  tflite_quantize_multiplier(sb / twice_max, mb, shb);
  tflite_quantize_multiplier(twice_max / ((double)(1 << 20) * sy), my, shy);
  std::string f = k.helper("tfl_mbqm");
  emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                      [&](const std::vector<std::string> &ix, const std::string &oi) {
                        k.line("const int32_t va = {}(((int32_t)x0[{}] - {}) * {}, {}, {});", f, ix[0], za, 1 << 20, ma,
                               sha);
                        k.line("const int32_t vb = {}(((int32_t)x3[{}] - {}) * {}, {}, {});", f, ix[1], zb, 1 << 20, mb,
                               shb);
                        emit_q8_requant_tflite(k, "va + vb", std::to_string(my), std::to_string(shy), zy, y.dtype,
                                               fmt::format("y0[{}]", oi));
                      });
}

void emit_qadd(KernelContext &k) {
  if (tflite_semantics(k.node)) return emit_qadd_tflite(k);
  const ir::Value &y = k.vout(0);
  k.line("const float sa = x1[0], sb = x4[0], sy = x6[0];");
  k.line("const int32_t za = (int32_t)x2[0], zb = (int32_t)x5[0];");
  k.line("const float yzp = (float)x7[0];");
  emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                      [&](const std::vector<std::string> &ix, const std::string &oi) {
                        k.line("const float va = sa * (float)((int32_t)x0[{}] - za);", ix[0]);
                        k.line("const float vb = sb * (float)((int32_t)x3[{}] - zb);", ix[1]);
                        k.line("const float q = rintf((va + vb) / sy) + yzp;");
                        emit_saturate(k, fmt::format("y0[{}]", oi), "q", y.dtype);
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
  std::string r = check_scalars(n, {1, 3}, {2, 4});
  if (!r.empty()) return r;
  const ir::Value *x = n.input(0), *y = n.output(0);
  if (!is_q8(x->dtype) || !is_q8(y->dtype)) return "only int8/uint8 tensors are supported";
  if (x->rank() < 3 || y->rank() != x->rank()) return "bad rank";
  for (size_t i : {1, 2, 3, 4})
    if (n.input(i)->numel() != 1) return "quantization must be per-tensor";
  WindowGeometry g = pool_geometry(n);
  for (auto d : g.dil)
    if (d != 1) return "dilations are not supported";
  return "";
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
  std::string r = check_scalars(n, {1, 3}, {2, 4});
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
  k.line("const float sx = x1[0], sy = x3[0];");
  k.line("const int32_t xzp = (int32_t)x2[0];");
  k.line("const float yzp = (float)x4[0];");
  k.open("for (size_t o = 0; o < {}; ++o) {{", outer);
  k.open("for (size_t r = 0; r < {}; ++r) {{", inner);
  k.line("const {} *xr = x0 + o * {} + r;", k.ctype_in(0), D * inner);
  k.line("{} *yr = y0 + o * {} + r;", k.ctype_out(0), D * inner);
  k.line("int32_t mx = (int32_t)xr[0];");
  k.line("float sum = 0.0f, inv;");
  k.line("for (size_t d = 1; d < {}; ++d) if ((int32_t)xr[d * {}] > mx) mx = (int32_t)xr[d * {}];", D, inner, inner);
  k.line("for (size_t d = 0; d < {}; ++d) sum += expf(sx * (float)((int32_t)xr[d * {}] - mx));", D, inner);
  k.line("inv = 1.0f / sum;");
  k.open("for (size_t d = 0; d < {}; ++d) {{", D);
  k.line("const float q = rintf(expf(sx * (float)((int32_t)xr[d * {}] - mx)) * inv / sy) + yzp;", inner);
  emit_saturate(k, fmt::format("yr[d * {}]", inner), "q", y.dtype);
  k.close();
  k.line("(void)xzp;");
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
  d = {"QGemm", check_qgemm, emit_qgemm, scratch_qgemm, "tmc"};
  r.add(d);
  d = {"QAdd", check_qadd, emit_qadd, nullptr, "tmc"};
  r.add(d);
  d = {"QAveragePool", check_qavgpool, emit_qavgpool, nullptr, "tmc"};
  r.add(d);
  d = {"QSoftmax", check_qsoftmax, emit_qsoftmax, nullptr, "tmc"};
  r.add(d);
  d = {"QClamp", check_qclamp, emit_qclamp, nullptr, "tmc"};
  r.add(d);
}

} // namespace tmc::codegen
