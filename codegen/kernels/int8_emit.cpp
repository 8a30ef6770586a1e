#include "codegen/kernels/int8_emit.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "codegen/helpers.h"
#include "codegen/kernels/common.h"
#include <fmt/format.h>

namespace tmc::codegen {

std::string check_q8_scalars(const ir::Node &n, std::initializer_list<size_t> scales,
                             std::initializer_list<size_t> zps) {
  for (size_t i : scales) {
    if (!n.input(i)) return fmt::format("input {} is missing", i);
    if (n.input(i)->dtype != ir::DType::F32) return "scales must be float32";
  }
  for (size_t i : zps)
    if (!n.input(i)) return fmt::format("input {} is missing", i);
  return "";
}

bool qlinear_arith(const ir::Node &n) { return n.attr_string("tmc_int8_arith", "") == "qlinear"; }

std::string check_q8_binary(const ir::Node &n) {
  std::string r = check_q8_scalars(n, {1, 4, 6}, {2, 5, 7});
  if (!r.empty()) return r;
  if (!is_q8(n.input(0)->dtype) || !is_q8(n.input(3)->dtype) || !is_q8(n.output(0)->dtype))
    return "only int8/uint8 tensors are supported";
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (n.input(i)->numel() != 1) return "quantization must be per-tensor";
  broadcast_shapes(n, {n.input(0)->shape, n.input(3)->shape});
  if (tflite_semantics(n) || qlinear_arith(n))
    for (size_t i : {1, 2, 4, 5, 6, 7})
      if (!n.input(i)->is_constant()) return "this int8 arithmetic needs constant scales and zero points";
  return "";
}

void emit_q8_saturate(KernelContext &k, const std::string &dst, const std::string &q, ir::DType t) {
  k.line("{} = ({})({} < {}.0f ? {}.0f : ({} > {}.0f ? {}.0f : {}));", dst, ir::dtype_ctype(t), q, qlo(t), qlo(t), q,
         qhi(t), qhi(t), q);
}

std::string upper(std::string s) {
  for (auto &c : s) c = (char)std::toupper((unsigned char)c);
  return s;
}

/// Emits the requantization of int32 expression `acc` with float scale `sc`
/// and stores it to `dst`.
void emit_q8_requant(KernelContext &k, const std::string &acc, const std::string &sc, int64_t zp, ir::DType yt,
                     const std::string &dst) {
  int lo = yt == ir::DType::U8 ? 0 : -128, hi = yt == ir::DType::U8 ? 255 : 127;
  k.open("{{");
  k.line("float v = (float)({}) * {};", acc, sc);
  k.line("uint32_t u;");
  k.line("int32_t r;");
  k.line("v = v < -512.0f ? -512.0f : (v > 512.0f ? 512.0f : v);");
  k.line("v += 12582912.0f;");
  k.line("memcpy(&u, &v, 4);");
  k.line("r = (int32_t)(u & 0x7FFFFFu) - {};", 0x400000 - zp);
  k.line("{} = ({})(r < {} ? {} : (r > {} ? {} : r));", dst, ir::dtype_ctype(yt), lo, lo, hi, hi);
  k.close();
}

std::string q8_saturate_dsp(KernelContext &k, const std::string &x, ir::DType yt) {
  if (yt == ir::DType::U8) return fmt::format("(uint8_t){}_usat({}, 8)", k.prefix, x);
  return fmt::format("(int8_t){}_ssat({}, 8)", k.prefix, x);
}

void emit_q8_requant_dsp(KernelContext &k, const std::string &acc, const std::string &sc, int64_t zp, ir::DType yt,
                         const std::string &dst) {
  // rint_s32 is one VCVTR on FPU cores; qadd keeps the zero-point offset exact
  // when the rounded value is huge (it saturates like the float path).
  std::string r = fmt::format("{}_rint_s32((float)({}) * {})", k.prefix, acc, sc);
  if (zp != 0) r = fmt::format("{}_qadd({}, {})", k.prefix, r, zp);
  k.line("{} = {};", dst, q8_saturate_dsp(k, r, yt));
}

void emit_q8_requant_tflite_dsp(KernelContext &k, const std::string &acc, const std::string &mult,
                                const std::string &shift, int64_t zp, ir::DType yt, const std::string &dst) {
  std::string f = k.helper("tfl_mbqm");
  k.line("{} = {};", dst, q8_saturate_dsp(k, fmt::format("{}({}, {}, {}) + {}", f, acc, mult, shift, zp), yt));
}

bool tflite_semantics(const ir::Node &n) { return n.attr_string("tmc_int8_semantics", "") == "tflite"; }


void emit_tflite_multipliers(KernelContext &k, const std::string &name, double in_s, const std::vector<double> &w_s,
                             double out_s, int64_t channels) {
  std::vector<int64_t> m(channels), s(channels);
  for (int64_t c = 0; c < channels; ++c) {
    int32_t q;
    int sh;
    tflite_quantize_multiplier(in_s * w_s[w_s.size() > 1 ? c : 0] / out_s, q, sh);
    m[c] = q;
    s[c] = sh;
  }
  k.line("static const int32_t {}_m[{}] = {{{}}};", name, channels, int_array(m));
  k.line("static const int8_t {}_s[{}] = {{{}}};", name, channels, int_array(s));
}

void register_tflite_helpers() {
  // SaturatingRoundingDoublingHighMul (gemmlowp).
  register_helper({"tfl_srdhm", R"(static int32_t @P@_h_tfl_srdhm(int32_t a, int32_t b) {
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
  if (a == b && a == INT32_MIN) return INT32_MAX;
  return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}
)",
                   {}});
  // RoundingDivideByPOT: round half away from zero.
  register_helper({"tfl_rdpot", R"(static int32_t @P@_h_tfl_rdpot(int32_t x, int e) {
  const int32_t mask = (int32_t)((INT64_C(1) << e) - 1);
  const int32_t rem = x & mask;
  const int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > thr ? 1 : 0);
}
)",
                   {}});
  // MultiplyByQuantizedMultiplier for m >= 0 (what QuantizeMultiplier gives
  // for positive scales): the doubling high multiply cannot saturate, and
  // (x * m + 2^30) >> 31 (floor) equals gemmlowp's rounding (nudge 2^30 or
  // 1 - 2^30, division truncating toward zero): one SMULL + add + shift.
  register_helper({"tfl_mbqm", R"(static int32_t @P@_h_tfl_mbqm(int32_t x, int32_t m, int s) {
  const int rs = s > 0 ? 0 : -s;
  const int32_t mask = (int32_t)((INT64_C(1) << rs) - 1);
  int32_t h;
  if (s > 0) x = (int32_t)((uint32_t)x << s);
  h = (int32_t)(((int64_t)x * m + (INT64_C(1) << 30)) >> 31);
  return (h >> rs) + ((h & mask) > (mask >> 1) + (h < 0 ? 1 : 0) ? 1 : 0);
}
)",
                   {}});
  // gemmlowp exp_on_negative_values for a Q5.26 input, Q0.31 result.
  register_helper({"tfl_exp_neg", R"(static int32_t @P@_h_tfl_exp_neg(int32_t a) {
  static const int32_t bm[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int32_t q = (int32_t)(1 << 24);
  const int32_t amq = (a & (q - 1)) - q;
  const int32_t rem = amq - a;
  int32_t x, x2, x3, x4, x4q, t, r;
  int i;
  /* exp on [-1/4, 0): Taylor series around -1/8. */
  x = amq * 32 + (int32_t)(1 << 28);
  x2 = @P@_h_tfl_srdhm(x, x);
  x3 = @P@_h_tfl_srdhm(x2, x);
  x4 = @P@_h_tfl_srdhm(x2, x2);
  x4q = @P@_h_tfl_rdpot(x4, 2);
  t = @P@_h_tfl_rdpot(@P@_h_tfl_srdhm(x4q + x3, 715827883) + x2, 1);
  r = 1895147668 + @P@_h_tfl_srdhm(1895147668, x + t);
  for (i = 0; i < 7; ++i)
    if (rem & (int32_t)(1 << (24 + i))) r = @P@_h_tfl_srdhm(r, bm[i]);
  return a == 0 ? INT32_MAX : r;
}
)",
                   {"tfl_srdhm", "tfl_rdpot"}});
  // TFLite GetReciprocal of a Q12.19 sum: Q0.31 scale and the bits over unit.
  register_helper({"tfl_recip", R"(static int32_t @P@_h_tfl_recip(int32_t s, int *bits_over_unit) {
  int hr = 0;
  int32_t a, hd, x;
  int64_t sum;
  int i;
  while (hr < 32 && !((uint32_t)s & (UINT32_C(0x80000000) >> hr))) ++hr;
  *bits_over_unit = 12 - hr;
  a = (int32_t)(((uint32_t)s << hr) - UINT32_C(0x80000000));
  sum = (int64_t)a + INT32_MAX;
  hd = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  x = 1515870810 + @P@_h_tfl_srdhm(hd, -1010580540);
  for (i = 0; i < 3; ++i) {
    const int32_t om = (int32_t)(1 << 29) - @P@_h_tfl_srdhm(hd, x);
    int32_t p = @P@_h_tfl_srdhm(x, om);
    p = p > 0x1FFFFFFF ? INT32_MAX : (p < -0x1FFFFFFF ? INT32_MIN : p * 4);
    x = x + p;
  }
  return x > 0x3FFFFFFF ? INT32_MAX : (x < -0x3FFFFFFF ? INT32_MIN : x * 2);
}
)",
                   {"tfl_srdhm"}});
}

void emit_q8_requant_tflite(KernelContext &k, const std::string &acc, const std::string &mult,
                            const std::string &shift, int64_t zp, ir::DType yt, const std::string &dst) {
  int lo = yt == ir::DType::U8 ? 0 : -128, hi = yt == ir::DType::U8 ? 255 : 127;
  std::string f = k.helper("tfl_mbqm");
  k.open("{{");
  k.line("const int32_t r = {}({}, {}, {}) + {};", f, acc, mult, shift, zp);
  k.line("{} = ({})(r < {} ? {} : (r > {} ? {} : r));", dst, ir::dtype_ctype(yt), lo, lo, hi, hi);
  k.close();
}

std::string int_array(const std::vector<int64_t> &v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s;
}

/// Emits accumulation of dot products of length K: int16 columns xs[i] (laid
/// out by emit_q8_col_store: in each full quad of 4 the order is 0, 2, 1, 3,
/// so that one 32-bit word pairs with SXTB16 of 4 weight bytes) with int8
/// weight rows ws[j] (natural order) into int32 accumulators acc[i][j].
void emit_q8_dot(KernelContext &k, int64_t K, const std::vector<std::string> &xs, const std::vector<std::string> &ws,
                 const std::vector<std::vector<std::string>> &acc) {
  int64_t K4 = K / 4;
  std::string P = k.prefix;
  auto tail = [&](int64_t from) {
    if (from >= K) return;
    k.open("for (size_t i = {}; i < {}; ++i) {{", from, K);
    for (size_t i = 0; i < xs.size(); ++i) k.line("const int32_t xv{} = (int32_t){}[i];", i, xs[i]);
    for (size_t i = 0; i < xs.size(); ++i)
      for (size_t j = 0; j < ws.size(); ++j) k.line("{} += xv{} * (int32_t){}[i];", acc[i][j], i, ws[j]);
    k.close();
  };
  if (K4 > 0) {
    k.line("#if {}_HAS_DSP", upper(P));
    // One quad of 4 products per (column, row) pair at index expression `ix`.
    auto quad = [&](const std::string &ix, const std::string &sfx) {
      for (size_t i = 0; i < xs.size(); ++i) {
        k.line("uint32_t xa{0}{1}, xb{0}{1};", i, sfx);
        k.line("memcpy(&xa{}{}, {} + {}, 4);", i, sfx, xs[i], ix);
        k.line("memcpy(&xb{}{}, {} + {} + 2, 4);", i, sfx, xs[i], ix);
      }
      for (size_t j = 0; j < ws.size(); ++j) {
        k.open("{{");
        k.line("uint32_t w, wa, wb;");
        k.line("memcpy(&w, {} + {}, 4);", ws[j], ix);
        k.line("wa = {}_sxtb16(w);", P);
        k.line("wb = {}_sxtb16_ror8(w);", P);
        for (size_t i = 0; i < xs.size(); ++i) {
          k.line("{0} = {1}_smlad(xa{2}{3}, wa, {0});", acc[i][j], P, i, sfx);
          k.line("{0} = {1}_smlad(xb{2}{3}, wb, {0});", acc[i][j], P, i, sfx);
        }
        k.close();
      }
    };
    k.open("for (size_t i = 0; i < {}; i += 4) {{", K4 * 4);
    quad("i", "");
    k.close();
    k.line("#else");
    k.open("for (size_t i = 0; i < {}; i += 4) {{", K4 * 4);
    for (size_t i = 0; i < xs.size(); ++i)
      k.line("const int32_t xa{0} = {1}[i], xb{0} = {1}[i + 1], xc{0} = {1}[i + 2], xd{0} = {1}[i + 3];", i, xs[i]);
    for (size_t j = 0; j < ws.size(); ++j) {
      k.open("{{");
      k.line("const int32_t wa = {0}[i], wb = {0}[i + 1], wc = {0}[i + 2], wd = {0}[i + 3];", ws[j]);
      for (size_t i = 0; i < xs.size(); ++i)
        k.line("{0} += xa{1} * wa + xb{1} * wc + xc{1} * wb + xd{1} * wd;", acc[i][j], i);
      k.close();
    }
    k.close();
    k.line("#endif");
  }
  tail(K4 * 4);
}

void emit_q8_add_element(KernelContext &k, bool tflite, double sa, int64_t za, double sb, int64_t zb, double sy,
                         int64_t zy, ir::DType yt, const std::string &a, const std::string &b,
                         const std::string &dst) {
  if (tflite) {
    // TFLite ADD: both sides offset, shifted left by 20 and rescaled by
    // s / (2 max(sa, sb)); the sum requantized by 2 max / (2^20 sy).
    double twice_max = 2.0 * std::max(sa, sb);
    int32_t ma, mb, my;
    int sha, shb, shy;
    tflite_quantize_multiplier(sa / twice_max, ma, sha);
    tflite_quantize_multiplier(sb / twice_max, mb, shb);
    tflite_quantize_multiplier(twice_max / ((double)(1 << 20) * sy), my, shy);
    std::string f = k.helper("tfl_mbqm");
    k.line("const int32_t va = {}(((int32_t)({}) - {}) * {}, {}, {});", f, a, za, 1 << 20, ma, sha);
    k.line("const int32_t vb = {}(((int32_t)({}) - {}) * {}, {}, {});", f, b, zb, 1 << 20, mb, shb);
    emit_q8_requant_tflite(k, "va + vb", std::to_string(my), std::to_string(shy), zy, yt, dst);
    return;
  }
  // ONNX Runtime's QDQ path: dequantize both, add in float, divide by the
  // output scale, round half to even.
  k.line("const float va = {} * (float)((int32_t)({}) - {});", c_float_literal((float)sa), a, za);
  k.line("const float vb = {} * (float)((int32_t)({}) - {});", c_float_literal((float)sb), b, zb);
  k.line("const float vs = (va + vb) / {};", c_float_literal((float)sy));
  k.line("#if {}_HAS_DSP", upper(k.prefix));
  std::string r = fmt::format("{}_rint_s32(vs)", k.prefix);
  if (zy != 0) r = fmt::format("{}_qadd({}, {})", k.prefix, r, zy);
  k.line("{} = {};", dst, q8_saturate_dsp(k, r, yt));
  k.line("#else");
  k.open("{{");
  k.line("const float q = rintf(vs) + {}.0f;", zy);
  emit_q8_saturate(k, dst, "q", yt);
  k.close();
  k.line("#endif");
}

void emit_q8_residual_add(KernelContext &k, const ir::Node &n, const std::string &qv, const std::string &skip,
                          const std::string &dst) {
  emit_q8_add_element(k, tflite_semantics(n), n.input(6)->float_values()[0], n.input(7)->int_values()[0],
                      n.input(10)->float_values()[0], n.input(11)->int_values()[0], n.input(12)->float_values()[0],
                      n.input(13)->int_values()[0], n.output(0)->dtype, qv, skip, dst);
}

void emit_q8_requant_any(KernelContext &k, bool tfl, const std::string &acc, const std::string &sc_or_mult,
                         const std::string &shift, int64_t zp, ir::DType yt, const std::string &dst) {
  k.line("#if {}_HAS_DSP", upper(k.prefix));
  if (tfl) emit_q8_requant_tflite_dsp(k, acc, sc_or_mult, shift, zp, yt, dst);
  else emit_q8_requant_dsp(k, acc, sc_or_mult, zp, yt, dst);
  k.line("#else");
  if (tfl) emit_q8_requant_tflite(k, acc, sc_or_mult, shift, zp, yt, dst);
  else emit_q8_requant(k, acc, sc_or_mult, zp, yt, dst);
  k.line("#endif");
}

} // namespace tmc::codegen
