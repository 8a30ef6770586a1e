// Float32 Conv in NHWC layout (see conv_float_nhwc.h), tuned for FPU cores
// (Cortex-M4F: one VFMA per cycle, VLDR offsets up to 1020 bytes).
// The weight layout is chosen by the layout-channels-last pass and recorded
// in the node attribute tmc_weight_layout:
//   "O4HWI4" group 1: register-blocked over 6 output pixels x 4 output channels
//            (24 accumulators); pointwise 1x1 convs run as one GEMM over all
//            pixels; otherwise interior columns (all KW taps inside) in blocks
//            and border columns one at a time with clamped tap ranges. The KW
//            taps x C channels of one kernel row are one contiguous loop.
//   "HWO"    depthwise: per channel, blocks of output columns share the
//            loaded inputs; rows/columns whose taps are all inside are
//            unrolled with literal tap lists, border blocks get their clamped
//            tap lists at compile time.
//   "OHWI"   other grouped convs: the plain per-output dot product.
// Bias initialises the accumulators; a fused activation is applied in register.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <set>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/conv_float_nhwc.h"
#include "codegen/kernels/window.h"

namespace tmc::codegen {
namespace {

using ir::DType;
using Geometry = WindowGeometry;
using Win = WindowRange;

bool has_fused_activation(const ir::Node &n) { return !n.attr_string("tmc_activation", "").empty(); }

// tmc_layout = "NHWC" (set by the layout-channels-last pass): x [N,H,W,C],
// y [N,OH,OW,M], weights [M,KH,KW,C/group] packed as tmc_weight_layout says,
// bias [M].

Geometry conv_nhwc_geometry(const ir::Node &n) {
  const ir::Value *x = n.input(0), *w = n.input(1), *y = n.output(0);
  Geometry g;
  g.nd = 2;
  g.in = {x->shape[1], x->shape[2]};
  g.out = {y->shape[1], y->shape[2]};
  g.kernel = {w->shape[1], w->shape[2]};
  window_strides_dilations(n, g);
  window_pads(n, g);
  return g;
}

} // namespace

std::string check_conv_nhwc(const ir::Node &n) {
  const ir::Value *x = n.input(0), *w = n.input(1), *y = n.output(0);
  if (x->dtype != DType::F32 || w->dtype != DType::F32 || y->dtype != DType::F32)
    return "NHWC layout: only float32 is supported";
  if (x->rank() != 4 || w->rank() != 4 || y->rank() != 4) return "NHWC layout: only 2-D convolutions";
  int64_t G = n.attr_int("group", 1), C = x->shape[3], M = w->shape[0];
  if (G < 1 || C % G || M % G || w->shape[3] * G != C || y->shape[3] != M) return "channel counts do not match 'group'";
  if (n.input(2) && n.input(2)->numel() != M) return "bias size does not match";
  auto ks = n.attr_ints("kernel_shape");
  if (!ks.empty() && ks != std::vector<int64_t>{w->shape[1], w->shape[2]})
    return "kernel_shape does not match the weight shape";
  std::string wl = n.attr_string("tmc_weight_layout", "OHWI");
  if (wl == "O4HWI4" && G != 1) return "weight layout O4HWI4 needs group 1";
  if (wl == "HWO" && (w->shape[3] != 1 || G != M)) return "weight layout HWO needs a depthwise convolution";
  if (wl != "OHWI" && wl != "O4HWI4" && wl != "HWO") return "unknown tmc_weight_layout '" + wl + "'";
  conv_nhwc_geometry(n);
  return "";
}

namespace {

// Generic path: weights [M][KH][KW][C/group] ("OHWI"), one output value at a
// time (grouped convolutions other than depthwise).
void emit_conv_nhwc_generic(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &w = k.vin(1), &y = k.vout(0);
  Geometry g = conv_nhwc_geometry(n);
  int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  int64_t OH = y.shape[1], OW = y.shape[2], M = y.shape[3];
  int64_t KH = w.shape[1], KW = w.shape[2], Cg = w.shape[3];
  int64_t G = n.attr_int("group", 1), Mg = M / G;
  if (y.numel() == 0) return;
  bool bias = k.has_in(2);
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.line("const float *xn = x0 + n * {};", H * W * C);
  k.open("for (long o0 = 0; o0 < {}; ++o0) {{", OH);
  Win w0 = emit_window_range(k, 0, "o0", OH, g.stride[0], g.pad_begin[0], g.dil[0], KH, H);
  k.open("for (long o1 = 0; o1 < {}; ++o1) {{", OW);
  Win w1 = emit_window_range(k, 1, "o1", OW, g.stride[1], g.pad_begin[1], g.dil[1], KW, W);
  k.line("float *yp = y0 + ((n * {} + (size_t)o0) * {} + (size_t)o1) * {};", OH, OW, M);
  k.open("for (size_t m = 0; m < {}; ++m) {{", M);
  if (G == 1) k.line("const float *xg = xn;");
  else if (Mg == 1) k.line("const float *xg = xn + m * {};", Cg);
  else k.line("const float *xg = xn + (m / {}) * {};", Mg, Cg);
  k.line("const float *wm = x1 + m * {};", KH * KW * Cg);
  k.line("float s = {};", bias ? "x2[m]" : "0.0f");
  k.open("for (long k0 = {}; k0 < {}; ++k0) {{", w0.lo, w0.hi);
  k.line("const float *xr = xg + ({}) * {};", w0.coord("k0"), W * C);
  k.line("const float *wr = wm + k0 * {};", KW * Cg);
  k.open("for (long k1 = {}; k1 < {}; ++k1) {{", w1.lo, w1.hi);
  if (Cg == 1) {
    k.line("s += xr[({}) * {}] * wr[k1];", w1.coord("k1"), C);
  } else {
    k.line("const float *xp = xr + ({}) * {};", w1.coord("k1"), C);
    k.line("const float *wp = wr + k1 * {};", Cg);
    k.line("for (size_t c = 0; c < {}; ++c) s += xp[c] * wp[c];", Cg);
  }
  k.close(); // k1
  k.close(); // k0
  if (has_fused_activation(k.node)) k.line("yp[m] = {};", fused_activation_expr(k.node, "s"));
  else k.line("yp[m] = s;");
  k.close(); // m
  k.close(); // o1
  k.close(); // o0
  k.close(); // n
}



/// floor(a / b) for b > 0.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/// Output columns [A, B) whose windows never leave the input along W.
void interior_cols(const Geometry &g, int64_t OW, int64_t KW, int64_t W, int64_t &A, int64_t &B) {
  int64_t s = g.stride[1], p = g.pad_begin[1], d = g.dil[1];
  A = std::min<int64_t>(OW, floor_div(p + s - 1, s));
  B = floor_div(W - 1 + p - (KW - 1) * d, s) + 1;
  B = std::max(A, std::min(B, OW));
}

std::string act(const ir::Node &n, const std::string &v) {
  return has_fused_activation(n) ? fused_activation_expr(n, v) : v;
}

// ------------------------------------------------------------ dense (group 1)
// Weights packed by the layout pass (tmc_weight_layout = "O4HWI4"): output
// channels in blocks of 4 (a last block of M % 4), each block laid out
// [KH][KW][C][mb] at offset m0 * KH * KW * C. A block of P output pixels x mb
// output channels is accumulated in registers; the inner loop reads P input
// values and mb contiguous weights per input channel.
struct Dense {
  int64_t N, H, W, C, OH, OW, M, KH, KW;
  Geometry g;
  bool bias;
};

constexpr int64_t kMB = 4;

/// Accumulates P pixels x mb channels of one weight block. Variables in scope:
/// `xb` (const float *: input pixel (row base) of the first output pixel at
/// tap (0,0) column, may be a row pointer for the border path), `wb`.
/// interior: all KW taps valid; else the runtime range lo1/hi1 and b1 are used.
void emit_dense_taps(KernelContext &k, const Dense &d, int64_t P, int64_t mb, bool interior, bool flat,
                     const std::string &row_lo, const std::string &row_hi, const WindowRange *w0,
                     const WindowRange *w1) {
  int64_t C = d.C, KW = d.KW, s1 = d.g.stride[1], d1 = d.g.dil[1];
  auto fmas = [&](const std::string &xp, const std::string &wp, const std::string &t, int64_t xstride) {
    for (int64_t p = 0; p < P; ++p)
      k.line("const float x{0} = {1}[{2}{3}];", p, xp, t, (p * xstride != 0) ? fmt::format(" + {}", p * xstride) : std::string());
    for (int64_t j = 0; j < mb; ++j)
      k.line("const float w{0} = {1}[{2} * {3}{4}];", j, wp, t, mb, j ? fmt::format(" + {}", j) : std::string());
    for (int64_t p = 0; p < P; ++p)
      for (int64_t j = 0; j < mb; ++j) k.line("a{0}_{1} += x{0} * w{1};", p, j);
  };
  if (flat) {
    k.open("for (size_t t = 0; t < {}; ++t) {{", C);
    fmas("xb", "wb", "t", C);
    k.close();
    return;
  }
  k.open("for (long k0 = {}; k0 < {}; ++k0) {{", row_lo, row_hi);
  k.line("const float *xr = xb + ({}) * {};", w0->coord("k0"), d.W * C);
  k.line("const float *wr = wb + k0 * {};", KW * C * mb);
  if (interior && d1 == 1) {
    k.open("for (size_t t = 0; t < {}; ++t) {{", KW * C);
    fmas("xr", "wr", "t", s1 * C);
    k.close();
  } else if (interior) {
    k.open("for (long k1 = 0; k1 < {}; ++k1) {{", KW);
    k.line("const float *xt = xr + k1 * {};", d1 * C);
    k.line("const float *wt = wr + k1 * {};", C * mb);
    k.open("for (size_t t = 0; t < {}; ++t) {{", C);
    fmas("xt", "wt", "t", s1 * C);
    k.close();
    k.close();
  } else if (d1 == 1 && P == 1) {
    // Border pixel: the valid taps of one row are contiguous in x and w.
    k.line("const float *xt = xr + {} * {};", w1->base, C);
    k.open("for (long t = {} * {}; t < {} * {}; ++t) {{", w1->lo, C, w1->hi, C);
    fmas("xt", "wr", "t", 0);
    k.close();
  } else {
    k.open("for (long k1 = {}; k1 < {}; ++k1) {{", w1->lo, w1->hi);
    k.line("const float *xt = xr + ({}) * {};", w1->coord("k1"), C);
    k.line("const float *wt = wr + k1 * {};", C * mb);
    k.open("for (size_t t = 0; t < {}; ++t) {{", C);
    fmas("xt", "wt", "t", s1 * C);
    k.close();
    k.close();
  }
  k.close();
}

/// P output pixels (at yp, consecutive in memory) for all output channels.
void emit_dense_pixels(KernelContext &k, const Dense &d, int64_t P, bool interior, bool flat,
                       const std::string &row_lo, const std::string &row_hi, const WindowRange *w0,
                     const WindowRange *w1) {
  int64_t KS = d.KH * d.KW * d.C, M = d.M;
  auto block = [&](const std::string &m0, int64_t mb) {
    k.line("const float *wb = x1 + {} * {};", m0, KS);
    for (int64_t p = 0; p < P; ++p)
      for (int64_t j = 0; j < mb; ++j)
        k.line("float a{}_{} = {};", p, j, d.bias ? fmt::format("x2[{} + {}]", m0, j) : "0.0f");
    emit_dense_taps(k, d, P, mb, interior, flat, row_lo, row_hi, w0, w1);
    for (int64_t p = 0; p < P; ++p)
      for (int64_t j = 0; j < mb; ++j)
        k.line("yp[{} + {} + {}] = {};", p * M, m0, j, act(k.node, fmt::format("a{}_{}", p, j)));
  };
  if (M / kMB > 0) {
    k.open("for (size_t m0 = 0; m0 < {}; m0 += {}) {{", M / kMB * kMB, kMB);
    block("m0", kMB);
    k.close();
  }
  if (M % kMB) {
    k.open("{{");
    block(std::to_string(M / kMB * kMB), M % kMB);
    k.close();
  }
}

constexpr int64_t kDenseP = 6;

void emit_dense(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &w = k.vin(1), &y = k.vout(0);
  Dense d;
  d.g = conv_nhwc_geometry(n);
  d.N = x.shape[0], d.H = x.shape[1], d.W = x.shape[2], d.C = x.shape[3];
  d.OH = y.shape[1], d.OW = y.shape[2], d.M = y.shape[3];
  d.KH = w.shape[1], d.KW = w.shape[2];
  d.bias = k.has_in(2);
  const Geometry &g = d.g;
  bool pointwise = d.KH == 1 && d.KW == 1 && g.stride[0] == 1 && g.stride[1] == 1 && g.pad_begin[0] == 0 &&
                   g.pad_begin[1] == 0 && d.OH == d.H && d.OW == d.W;
  if (pointwise) {
    // A GEMM over pixels: every pixel of the batch is contiguous.
    int64_t NP = d.N * d.H * d.W, full = NP / kDenseP * kDenseP;
    if (full) {
      k.open("for (size_t q = 0; q < {}; q += {}) {{", full, kDenseP);
      k.line("const float *xb = x0 + q * {};", d.C);
      k.line("float *yp = y0 + q * {};", d.M);
      emit_dense_pixels(k, d, kDenseP, true, true, "", "", nullptr, nullptr);
      k.close();
    }
    if (NP % kDenseP) {
      k.open("{{");
      k.line("const float *xb = x0 + {};", full * d.C);
      k.line("float *yp = y0 + {};", full * d.M);
      emit_dense_pixels(k, d, NP % kDenseP, true, true, "", "", nullptr, nullptr);
      k.close();
    }
    return;
  }
  int64_t A, B;
  interior_cols(g, d.OW, d.KW, d.W, A, B);
  k.open("for (size_t n = 0; n < {}; ++n) {{", d.N);
  k.line("const float *xn = x0 + n * {};", d.H * d.W * d.C);
  k.open("for (long o0 = 0; o0 < {}; ++o0) {{", d.OH);
  Win w0 = emit_window_range(k, 0, "o0", d.OH, g.stride[0], g.pad_begin[0], g.dil[0], d.KH, d.H);
  k.line("float *yrow = y0 + (n * {} + (size_t)o0) * {};", d.OH, d.OW * d.M);
  auto border = [&](int64_t from, int64_t to) {
    if (from >= to) return;
    k.open("for (long o1 = {}; o1 < {}; ++o1) {{", from, to);
    Win w1 = emit_window_range(k, 1, "o1", d.OW, g.stride[1], g.pad_begin[1], g.dil[1], d.KW, d.W);
    k.line("const float *xb = xn;");
    k.line("float *yp = yrow + (size_t)o1 * {};", d.M);
    emit_dense_pixels(k, d, 1, false, false, w0.lo, w0.hi, &w0, &w1);
    k.close();
  };
  border(0, A);
  int64_t I = B - A, full = I / kDenseP * kDenseP;
  auto interior = [&](const std::string &o1, int64_t P) {
    k.line("const float *xb = xn + ((long){} * {} - {}) * {};", o1, g.stride[1], g.pad_begin[1], d.C);
    k.line("float *yp = yrow + (size_t){} * {};", o1, d.M);
    emit_dense_pixels(k, d, P, true, false, w0.lo, w0.hi, &w0, nullptr);
  };
  if (full) {
    k.open("for (long o1 = {}; o1 < {}; o1 += {}) {{", A, A + full, kDenseP);
    interior("o1", kDenseP);
    k.close();
  }
  if (I % kDenseP) {
    k.open("{{");
    interior(std::to_string(A + full), I % kDenseP);
    k.close();
  }
  border(B, d.OW);
  k.close(); // o0
  k.close(); // n
}

// ---------------------------------------------------------------- depthwise
// Weights [KH][KW][C] (tmc_weight_layout = "HWO"): channels contiguous in x,
// w and y. Output columns are computed P at a time per channel so each loaded
// input value serves several taps: interior columns in a loop of blocks of
// kDwP, border columns (and the remainder) in blocks whose position is a
// literal, so their clamped tap lists are resolved at compile time.
constexpr int64_t kDwP = 4;
constexpr int64_t kDwWholeRow = 8; ///< rows at most this wide are one static block

void emit_depthwise(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &w = k.vin(1), &y = k.vout(0);
  Geometry g = conv_nhwc_geometry(n);
  int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  int64_t OH = y.shape[1], OW = y.shape[2], M = y.shape[3];
  int64_t KH = w.shape[1], KW = w.shape[2];
  int64_t s1 = g.stride[1], d1 = g.dil[1], p1 = g.pad_begin[1];
  bool bias = k.has_in(2);
  int64_t A, B;
  interior_cols(g, OW, KW, W, A, B);
  Win w0;
  bool full_rows = false; // rows whose KH taps are all inside: k0 unrolled
  // P columns from `o1` (a literal when start >= 0, else the loop variable o1,
  // interior). Input column of output column o1+p, tap kk: o1*s1 - p1 + p*s1 + kk*d1.
  auto block = [&](int64_t start, int64_t P) {
    if (P <= 0) return;
    k.open("{{");
    // Relative input columns (to the block's first tap column) and validity.
    int64_t rel0 = start >= 0 ? start * s1 - p1 : 0; // absolute column of relative 0 (static blocks)
    std::vector<std::vector<std::pair<int64_t, int64_t>>> taps(P); // (relative column, kk)
    std::set<int64_t> cols;
    int64_t minc = LLONG_MAX;
    for (int64_t p = 0; p < P; ++p)
      for (int64_t kk = 0; kk < KW; ++kk) {
        int64_t rc = p * s1 + kk * d1;
        if (start >= 0 && (rel0 + rc < 0 || rel0 + rc >= W)) continue;
        taps[p].push_back({rc, kk});
        cols.insert(rc);
        minc = std::min(minc, rc);
      }
    if (cols.empty()) minc = 0;
    if (start >= 0) k.line("const float *xb = xn + {};", (rel0 + minc) * C);
    else k.line("const float *xb = xn + ((long)o1 * {} - {}) * {};", s1, p1 - minc, C);
    if (start >= 0) k.line("float *yp = yrow + {};", start * M);
    else k.line("float *yp = yrow + (size_t)o1 * {};", M);
    std::set<int64_t> used_k;
    for (auto &tp : taps)
      for (auto &t : tp) used_k.insert(t.second);
    k.open("for (size_t c = 0; c < {}; ++c) {{", C);
    for (int64_t p = 0; p < P; ++p) k.line("float a{} = {};", p, bias ? "x2[c]" : "0.0f");
    auto taps_of_row = [&](const std::string &k0) {
      k.line("const float *xr = xb + ({}) * {} + c;", w0.coord(k0), W * C);
      k.line("const float *wr = x1 + {} * {} + c;", k0, KW * C);
      for (int64_t kk : used_k) k.line("const float w{} = wr[{}];", kk, kk * C);
      for (int64_t q : cols) k.line("const float x{} = xr[{}];", q, (q - minc) * C);
      for (int64_t p = 0; p < P; ++p)
        for (auto &t : taps[p]) k.line("a{} += x{} * w{};", p, t.first, t.second);
    };
    if (!cols.empty() && full_rows) {
      for (int64_t r = 0; r < KH; ++r) {
        k.open("{{");
        taps_of_row(std::to_string(r));
        k.close();
      }
    } else if (!cols.empty()) {
      k.open("for (long k0 = {}; k0 < {}; ++k0) {{", w0.lo, w0.hi);
      taps_of_row("k0");
      k.close();
    }
    for (int64_t p = 0; p < P; ++p) k.line("yp[{} + c] = {};", p * M, act(n, fmt::format("a{}", p)));
    k.close();
    k.close();
  };
  auto row = [&]() {
    k.line("float *yrow = y0 + (n * {} + (size_t)o0) * {};", OH, OW * M);
    if (OW <= kDwWholeRow) {
      block(0, OW);
    } else {
      block(0, A);
      int64_t I = B - A, full = I / kDwP * kDwP;
      if (full) {
        k.open("for (long o1 = {}; o1 < {}; o1 += {}) {{", A, A + full, kDwP);
        block(-1, kDwP);
        k.close();
      }
      block(A + full, OW - (A + full));
    }
  };
  // Rows [RA, RB) have all KH taps inside the input.
  int64_t s0 = g.stride[0], p0 = g.pad_begin[0], d0 = g.dil[0];
  int64_t RA = std::min<int64_t>(OH, floor_div(p0 + s0 - 1, s0));
  int64_t RB = std::max(RA, std::min(OH, floor_div(H - 1 + p0 - (KH - 1) * d0, s0) + 1));
  auto border_rows = [&](int64_t from, int64_t to) {
    if (from >= to) return;
    k.open("for (long o0 = {}; o0 < {}; ++o0) {{", from, to);
    full_rows = false;
    w0 = emit_window_range(k, 0, "o0", OH, s0, p0, d0, KH, H);
    row();
    k.close();
  };
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.line("const float *xn = x0 + n * {};", H * W * C);
  border_rows(0, RA);
  if (RB > RA) {
    k.open("for (long o0 = {}; o0 < {}; ++o0) {{", RA, RB);
    full_rows = true;
    w0 = WindowRange{"b0", "0", std::to_string(KH), d0};
    std::string e = s0 == 1 ? "o0" : fmt::format("o0 * {}", s0);
    if (p0) e += fmt::format(" - {}", p0);
    k.line("const long b0 = {};", e);
    row();
    k.close();
  }
  border_rows(RB, OH);
  k.close(); // n
}

} // namespace

void emit_conv_nhwc(KernelContext &k) {
  if (k.vout(0).numel() == 0) return;
  std::string wl = k.node.attr_string("tmc_weight_layout", "OHWI");
  if (wl == "O4HWI4") return emit_dense(k);
  if (wl == "HWO") return emit_depthwise(k);
  emit_conv_nhwc_generic(k);
}

} // namespace tmc::codegen
