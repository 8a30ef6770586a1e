// Kernel family: int8/uint8 fully connected layer (tmc::QGemm, produced by
// the quantize-folding pass from QDQ Gemm):
//   QGemm(a[M,K], a_scale, a_zp, b[N,K], b_scale (1 or N), b_zp (1 or N),
//         y_scale, y_zp, bias int32[N] (optional)) -> y[M,N]
// Requantization follows ONNX Runtime (float32 scale, rounded half to even)
// or, with tmc_int8_semantics = tflite, TFLite's Q31 fixed point.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/int8_emit.h"

namespace tmc::codegen {
namespace {

using ir::DType;

std::string check_qgemm(const ir::Node &n) {
  std::string r = check_q8_scalars(n, {1, 4, 6}, {2, 5, 7});
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
  std::string wl = n.attr_string("tmc_weight_layout", "");
  if (!wl.empty()) {
    if (wl != "N4K4X") return "unknown tmc_weight_layout '" + wl + "'";
    if (a->dtype != DType::I8 || b->dtype != DType::I8 || !b->is_constant() || K % 4 != 0 || N < 4)
      return "tmc_weight_layout N4K4X needs int8 A, constant int8 B, K a multiple of 4 and N >= 4";
    for (size_t i = 1; i < 9; ++i)
      if (n.input(i) && !n.input(i)->is_constant()) return "tmc_weight_layout N4K4X needs constant parameters";
    for (int64_t z : n.input(5)->int_values())
      if (z != 0) return "tmc_weight_layout N4K4X needs zero B zero points";
  }
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
  if (n.attr_string("tmc_weight_layout", "") == "N4K4X") return n.input(0)->shape[1] * 2;
  if (!qgemm_fast_ok(n)) return 0;
  return ((n.input(0)->shape[1] + 3) / 4) * 4 * 2;
}

/// Emits beff[N] = bias - za * sum_k w[j][k] - adjust(j) (w natural [N, K])
/// and the requantization constants: float scl[] (x_scale * w_scale / y_scale
/// in float32, in that order) or TFLite's tq_m[]/tq_s[], with one entry when
/// every row has the same weight scale. Returns true in that case (index 0).
bool emit_fc_constants(KernelContext &k, const std::vector<int64_t> &w, int64_t N, int64_t K,
                       const std::function<int64_t(int64_t)> &adjust) {
  const ir::Node &n = k.node;
  const int64_t za = n.input(2)->int_values()[0];
  const float as = (float)n.input(1)->float_values()[0], ys = (float)n.input(6)->float_values()[0];
  std::vector<double> bs = n.input(4)->float_values();
  std::vector<int64_t> bias = n.input(8) ? n.input(8)->int_values() : std::vector<int64_t>(N, 0);
  std::vector<int64_t> beff(N);
  for (int64_t j = 0; j < N; ++j) {
    int64_t sb = 0;
    for (int64_t p = 0; p < K; ++p) sb += w[(size_t)(j * K + p)];
    beff[j] = bias[j] - za * sb - adjust(j);
    if (beff[j] < INT32_MIN || beff[j] > INT32_MAX) throw ir::CompileError(n, "bias out of int32 range");
  }
  k.line("static const int32_t beff[{}] = {{{}}};", N, int_array(beff));
  bool uniform = true;
  for (double v : bs) uniform = uniform && v == bs[0];
  const int64_t NS = uniform ? 1 : N;
  if (tflite_semantics(n)) {
    emit_tflite_multipliers(k, "tq", as, uniform ? std::vector<double>{bs[0]} : bs, ys, NS);
  } else {
    std::string scl;
    for (int64_t j = 0; j < NS; ++j) {
      float s = as * (float)bs[bs.size() > 1 ? j : 0];
      s = s / ys;
      scl += (j ? ", " : "") + c_float_literal(s);
    }
    k.line("static const float scl[{}] = {{{}}};", NS, scl);
  }
  return uniform;
}

void emit_qgemm_fast(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &a = k.vin(0), &b = k.vin(3), &y = k.vout(0);
  int64_t M = a.shape[0], K = a.shape[1], N = b.shape[0], K4 = (K / 4) * 4;
  const int64_t yz = n.input(7)->int_values()[0];
  std::vector<int64_t> bv = n.input(3)->int_values();
  const bool uniform = emit_fc_constants(k, bv, N, K, [](int64_t) { return int64_t(0); });
  const bool tfl = tflite_semantics(n);
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
      const std::string jj = uniform ? "0" : fmt::format("j + {}", t);
      emit_q8_requant_any(k, tfl, acc[0][t], fmt::format(tfl ? "tq_m[{}]" : "scl[{}]", jj),
                          fmt::format("tq_s[{}]", jj), yz, y.dtype, fmt::format("y0[i * {} + j + {}]", N, t));
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

// Packed path (weights in the "N4K4X" layout of the pack-int8-fc-weights
// pass). With a' = a + 1 at even and a + 128 at odd positions of each pair,
// the micro-kernel's two SMLADs per weight word give
//   sum_k a'_k w_k + 128 * se,   se = sum of a' over even positions,
// because the word's halfwords read (w0 + 128) + 256 w1 and the second SMLAD
// multiplies (a1' - 256 a0') (in [-32768, 32767]) by w1. So
//   sum_k a_k w_k = result - 128 se - sum_k c_k w_k   (c_k = 1 or 128),
// the last term folded into the per-row constant at compile time, se
// computed once per input row. All arithmetic is exact modulo 2^32 and the
// true value fits in int32, so the result is the same integer as the plain
// dot product: requantization is unchanged.
void emit_qgemm_packed(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &a = k.vin(0), &b = k.vin(3), &y = k.vout(0);
  const int64_t M = a.shape[0], K = a.shape[1], N = b.shape[0], N4 = (N / 4) * 4, Q = K / 4;
  const int64_t yz = n.input(7)->int_values()[0];
  std::vector<int64_t> packed = n.input(3)->int_values();
  // Undo the layout: w[row][col].
  std::vector<int64_t> w((size_t)(N * K));
  auto unflip = [](int64_t v, int64_t col) { return col % 2 == 0 ? (v >= 0 ? v - 128 : v + 128) : v; };
  size_t i = 0;
  for (int64_t nb = 0; nb < N4; nb += 4)
    for (int64_t q = 0; q < K; q += 4)
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t e = 0; e < 4; ++e, ++i) w[(size_t)((nb + r) * K + q + e)] = unflip(packed[i], q + e);
  for (int64_t row = N4; row < N; ++row)
    for (int64_t col = 0; col < K; ++col, ++i) w[(size_t)(row * K + col)] = unflip(packed[i], col);
  // The kernel's sum carries + sum_k c_k w_k (c_k = 1 at even, 128 at odd
  // positions) for the packed rows: removed here.
  const bool uniform = emit_fc_constants(k, w, N, K, [&](int64_t j) {
    int64_t sc = 0;
    if (j < N4)
      for (int64_t p = 0; p < K; ++p) sc += (p % 2 == 0 ? 1 : 128) * w[(size_t)(j * K + p)];
    return sc;
  });
  const bool tfl = tflite_semantics(n);
  k.line("uint32_t *xq = (uint32_t *)(void *)scratch;");
  auto store = [&](const std::string &acc, const std::string &j) {
    std::string jj = uniform ? "0" : j;
    emit_q8_requant_any(k, tfl, acc, tfl ? fmt::format("tq_m[{}]", jj) : fmt::format("scl[{}]", jj),
                        fmt::format("tq_s[{}]", jj), yz, y.dtype, fmt::format("y0[i * {} + {}]", N, j));
  };
  k.open("for (size_t i = 0; i < {}; ++i) {{", M);
  k.line("const int8_t *ai = x0 + i * {};", K);
  k.line("int32_t se = 0, corr;");
  k.open("for (size_t q = 0; q < {}; ++q) {{", Q);
  k.line("const int32_t a0 = (int32_t)ai[4 * q] + 1, a1 = (int32_t)ai[4 * q + 1] + 128;");
  k.line("const int32_t a2 = (int32_t)ai[4 * q + 2] + 1, a3 = (int32_t)ai[4 * q + 3] + 128;");
  k.line("se += a0 + a2;");
  k.line("xq[2 * q] = (uint32_t)(uint16_t)a0 | ((uint32_t)(uint16_t)a2 << 16);");
  k.line("xq[2 * q + 1] = (uint32_t)(uint16_t)(a1 - 256 * a0) | ((uint32_t)(uint16_t)(a3 - 256 * a2) << 16);");
  k.close();
  k.line("corr = 128 * se;");
  k.open("for (size_t j = 0; j < {}; j += 4) {{", N4);
  k.line("int32_t acc[4];");
  k.line("acc[0] = beff[j] - corr;");
  k.line("acc[1] = beff[j + 1] - corr;");
  k.line("acc[2] = beff[j + 2] - corr;");
  k.line("acc[3] = beff[j + 3] - corr;");
  k.line("{}_dot1x4_q8x(xq, x3 + j * {}, acc, {});", k.prefix, K, Q);
  for (int r = 0; r < 4; ++r) store(fmt::format("acc[{}]", r), fmt::format("j + {}", r));
  k.close();
  // The N % 4 last rows: plain dot products (sign flips undone).
  for (int64_t j = N4; j < N; ++j) {
    k.open("{{");
    k.line("const int8_t *wr = x3 + {};", j * K);
    k.line("int32_t s = beff[{}];", j);
    k.line("for (size_t p = 0; p < {}; p += 2) s += (int32_t)ai[p] * (int32_t)(int8_t)((uint8_t)wr[p] ^ 0x80u) + "
           "(int32_t)ai[p + 1] * (int32_t)wr[p + 1];",
           K);
    store("s", std::to_string(j));
    k.close();
  }
  k.close();
}

void emit_qgemm(KernelContext &k) {
  if (k.node.attr_string("tmc_weight_layout", "") == "N4K4X") return emit_qgemm_packed(k);
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
    emit_q8_saturate(k, fmt::format("y0[i * {} + j]", N), "q", y.dtype);
  }
  k.close();
  k.close();
}

} // namespace

void register_int8_fc_kernels(KernelRegistry &r) {
  KernelDef d = {"QGemm", check_qgemm, emit_qgemm, scratch_qgemm, "tmc"};
  r.add(d);
}

} // namespace tmc::codegen
