// Kernel family: convolutions (Conv, ConvTranspose, ConvInteger, QLinearConv).
//
// Every geometry parameter (shapes, strides, pads, dilations, groups) is a
// literal in the emitted C. For each output position the valid range of kernel
// taps is computed once per spatial dimension (so the inner loops carry no
// bounds checks); dimensions whose windows never leave the input use the full
// kernel range as literals.
#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/conv_float_nhwc.h"
#include "codegen/kernels/int8_emit.h"
#include "codegen/kernels/window.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool has_fused_activation(const ir::Node &n) { return !n.attr_string("tmc_activation", "").empty(); }

std::string acc_type(DType t) { return t == DType::F64 ? "double" : "float"; }
std::string ld(KernelContext &k, DType t, const std::string &p, const std::string &i) { return load_compute(k, t, p, i); }
std::string st(KernelContext &k, DType t, const std::string &e) { return store_compute(k, t, e); }

std::string zero_lit(DType t) { return t == DType::F64 ? "0.0" : "0.0f"; }

using Geometry = WindowGeometry;
using Win = WindowRange;

void conv_pads(const ir::Node &n, Geometry &g) { window_pads(n, g); }

/// Geometry of a forward convolution with data input xi and weight input wi.
Geometry conv_geometry(const ir::Node &n, size_t xi, size_t wi) {
  Geometry g = window_shapes(n, xi, wi);
  conv_pads(n, g);
  return g;
}

/// How a forward-convolution kernel reads operands and writes results.
struct ConvSpec {
  size_t xi = 0, wi = 1;
  std::string acc;                                                       ///< C accumulator type
  std::function<std::string(const std::string &, const std::string &)> ldx, ldw; ///< element loads
  std::function<std::string()> init;                                     ///< per output channel "m"
  std::function<void()> per_channel;                                     ///< declarations using m
  std::function<std::string(const std::string &)> store;                 ///< acc -> stored value
};

void emit_conv_core(KernelContext &k, const ConvSpec &cs) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(cs.xi), &w = k.vin(cs.wi), &y = k.vout(0);
  Geometry g = conv_geometry(n, cs.xi, cs.wi);
  int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
  int64_t G = n.attr_int("group", 1);
  int64_t Cg = w.shape[1], Mg = M / G;
  if (y.numel() == 0) return;
  std::vector<int64_t> istr = strides_of(g.in), ostr = strides_of(g.out), kstr = strides_of(g.kernel);
  int64_t XS = ir::shape_numel(g.in), YS = ir::shape_numel(g.out), KS = ir::shape_numel(g.kernel);
  std::string xt = k.ctype_in(cs.xi), wt = k.ctype_in(cs.wi), yt = k.ctype_out(0);

  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.open("for (size_t m = 0; m < {}; ++m) {{", M);
  std::string grp = Mg == 1 ? "m" : fmt::format("(m / {})", Mg);
  if (G == 1) k.line("const {} *xg = x{} + n * {};", xt, cs.xi, C * XS);
  else k.line("const {} *xg = x{} + n * {} + {} * {};", xt, cs.xi, C * XS, grp, Cg * XS);
  k.line("const {} *wm = x{} + m * {};", wt, cs.wi, Cg * KS);
  k.line("{} *ym = y0 + (n * {} + m) * {};", yt, M, YS);
  if (cs.per_channel) cs.per_channel();
  k.line("const {} init = {};", cs.acc, cs.init());
  std::vector<Win> wins;
  for (size_t d = 0; d < g.nd; ++d) {
    std::string ov = fmt::format("o{}", d);
    k.open("for (long {0} = 0; {0} < {1}; ++{0}) {{", ov, g.out[d]);
    wins.push_back(emit_window_range(k, d, ov, g.out[d], g.stride[d], g.pad_begin[d], g.dil[d], g.kernel[d], g.in[d]));
  }
  k.line("{} s = init;", cs.acc);
  k.open("for (size_t c = 0; c < {}; ++c) {{", Cg);
  k.line("const {} *xc = xg + c * {};", xt, XS);
  k.line("const {} *wc = wm + c * {};", wt, KS);
  std::string xp = "xc", wp = "wc";
  for (size_t d = 0; d < g.nd; ++d) {
    std::string kv = fmt::format("k{}", d);
    k.open("for (long {0} = {1}; {0} < {2}; ++{0}) {{", kv, wins[d].lo, wins[d].hi);
    if (d + 1 < g.nd) {
      std::string nx = fmt::format("xr{}", d), nw = fmt::format("wr{}", d);
      k.line("const {} *{} = {} + ({}) * {};", xt, nx, xp, wins[d].coord(kv), istr[d]);
      k.line("const {} *{} = {} + {} * {};", wt, nw, wp, kv, kstr[d]);
      xp = nx;
      wp = nw;
    } else {
      k.line("s += {} * {};", cs.ldx(xp, wins[d].coord(kv)), cs.ldw(wp, kv));
    }
  }
  for (size_t d = 0; d < g.nd; ++d) k.close();
  k.close(); // c
  std::string oidx;
  for (size_t d = 0; d < g.nd; ++d)
    oidx += (d ? " + " : "") + (ostr[d] == 1 ? fmt::format("o{}", d) : fmt::format("o{} * {}", d, ostr[d]));
  k.line("ym[{}] = {};", oidx, cs.store("s"));
  for (size_t d = 0; d < g.nd; ++d) k.close();
  k.close(); // m
  k.close(); // n
}

std::string check_conv_common(const ir::Node &n, size_t xi, size_t wi) {
  const ir::Value *x = n.input(xi), *w = n.input(wi);
  if (!x || !w) return "missing input";
  if (x->rank() < 3) return "input rank must be at least 3";
  if (w->rank() != x->rank()) return "weight rank does not match the input rank";
  int64_t G = n.attr_int("group", 1);
  if (G < 1 || x->shape[1] % G || w->shape[0] % G || w->shape[1] * G != x->shape[1])
    return "channel counts do not match 'group'";
  auto ks = n.attr_ints("kernel_shape");
  if (!ks.empty() && ks != std::vector<int64_t>(w->shape.begin() + 2, w->shape.end()))
    return "kernel_shape does not match the weight shape";
  conv_geometry(n, xi, wi); // throws on bad attributes
  return "";
}

// Conv in NHWC layout (float32): codegen/kernels/conv_float_nhwc.cpp
bool is_nhwc(const ir::Node &n) { return n.attr_string("tmc_layout", "") == "NHWC"; }

// ---------------------------------------------------------------- Conv
std::string check_conv(const ir::Node &n) {
  if (is_nhwc(n)) return check_conv_nhwc(n);
  DType t = n.input(0)->dtype;
  if (has_fused_activation(n) && t != DType::F32) return "a fused activation needs float32";
  if (!is_float_type(t)) return std::string("dtype ") + ir::dtype_name(t) + " is not supported";
  if (n.input(1)->dtype != t) return "weight dtype differs from the input dtype";
  if (n.input(2) && n.input(2)->numel() != n.input(1)->shape[0]) return "bias size does not match";
  return check_conv_common(n, 0, 1);
}

void emit_conv(KernelContext &k) {
  if (is_nhwc(k.node)) return emit_conv_nhwc(k);
  DType t = k.vin(0).dtype;
  ConvSpec cs;
  cs.acc = acc_type(t);
  cs.ldx = [&](const std::string &p, const std::string &i) { return ld(k, t, p, i); };
  cs.ldw = cs.ldx;
  cs.init = [&]() { return k.has_in(2) ? ld(k, t, "x2", "m") : zero_lit(t); };
  cs.store = [&](const std::string &a) {
    // A fused activation (float32 only) is applied in register before the store.
    return has_fused_activation(k.node) && t == DType::F32 ? fused_activation_expr(k.node, a) : st(k, t, a);
  };
  emit_conv_core(k, cs);
}

// ---------------------------------------------------------------- ConvInteger
bool is_8bit(DType t) { return t == DType::U8 || t == DType::I8; }

std::string check_conv_integer(const ir::Node &n) {
  if (!is_8bit(n.input(0)->dtype) || !is_8bit(n.input(1)->dtype)) return "only int8/uint8 inputs are supported";
  if (n.output(0)->dtype != DType::I32) return "output must be int32";
  if (n.input(2) && n.input(2)->numel() != 1) return "x_zero_point must be a scalar";
  if (n.input(3) && n.input(3)->numel() != 1 && n.input(3)->numel() != n.input(1)->shape[0])
    return "w_zero_point must be a scalar or have one entry per output channel";
  return check_conv_common(n, 0, 1);
}

void emit_conv_integer(KernelContext &k) {
  ConvSpec cs;
  cs.acc = "int32_t";
  bool xz = k.has_in(2), wz = k.has_in(3);
  bool wz_pc = wz && k.vin(3).numel() > 1;
  cs.per_channel = [&]() {
    if (xz) k.line("const int32_t xzp = (int32_t)x2[0];");
    if (wz) k.line("const int32_t wzp = (int32_t)x3[{}];", wz_pc ? "m" : "0");
  };
  cs.ldx = [&](const std::string &p, const std::string &i) {
    return xz ? fmt::format("((int32_t){}[{}] - xzp)", p, i) : fmt::format("(int32_t){}[{}]", p, i);
  };
  cs.ldw = [&](const std::string &p, const std::string &i) {
    return wz ? fmt::format("((int32_t){}[{}] - wzp)", p, i) : fmt::format("(int32_t){}[{}]", p, i);
  };
  cs.init = []() { return std::string("0"); };
  cs.store = [](const std::string &a) { return a; };
  emit_conv_core(k, cs);
}

// ---------------------------------------------------------------- QLinearConv
// Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
// y_zero_point, B (int32, optional).
std::string check_qlinear_conv(const ir::Node &n) {
  for (size_t i = 0; i < 8; ++i)
    if (!n.input(i)) return "input " + std::to_string(i) + " is missing";
  if (!is_8bit(n.input(0)->dtype) || !is_8bit(n.input(3)->dtype) || !is_8bit(n.output(0)->dtype))
    return "only int8/uint8 tensors are supported";
  int64_t M = n.input(3)->shape.empty() ? 0 : n.input(3)->shape[0];
  for (size_t i : {1, 2, 6, 7})
    if (n.input(i)->numel() != 1) return "x/y scales and zero points must be scalars";
  for (size_t i : {4, 5})
    if (n.input(i)->numel() != 1 && n.input(i)->numel() != M) return "w_scale/w_zero_point size mismatch";
  if (n.input(1)->dtype != DType::F32 || n.input(4)->dtype != DType::F32 || n.input(6)->dtype != DType::F32)
    return "scales must be float32";
  if (n.input(8) && n.input(8)->dtype != DType::I32) return "bias must be int32";
  if (tflite_semantics(n))
    for (size_t i : {1, 2, 4, 6, 7})
      if (!n.input(i)->is_constant()) return "--int8-semantics tflite needs constant scales and zero points";
  return check_conv_common(n, 0, 3);
}

// ---------------------------------------------------------------- QLinearConv, fast int8 path
// When x and w are int8, every parameter but x is constant and all weight zero
// points are 0, the kernel is specialised at compile time:
//   sum_t (x_t - xzp) * w_t + bias = sum_t x_t * w_t + (bias - xzp * sum_t w_t)
// over the full window, where padded taps read xzp (the padded input is staged
// in scratch), so the inner loop is a pure int8 x int8 dot product and the
// per-channel constant and float scale (x_scale * w_scale / y_scale, float
// arithmetic in that order) are literals. group == 1 gathers the patches of two
// output pixels (im2col) and runs a 2x2 register-blocked dot product (dual
// 16-bit MACs with SMLAD/SXTB16 on DSP cores); depthwise convolutions pad one
// channel plane at a time and unroll the taps (two output pixels per step with
// SMLAD on DSP cores, see emit_qdw_fast). Requantization is bit-identical
// to rintf((float)acc * scale) + zp saturated: the value is clamped to
// [-512, 512] (which saturates identically), rounded half-to-even by adding
// 1.5 * 2^23 in float, and the integer read from the mantissa bits.
struct QConvFast {
  bool ok = false, depthwise = false;
  int64_t C = 0, H = 0, W = 0, M = 0, OH = 0, OW = 0, KH = 0, KW = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t PH = 0, PW = 0; // padded plane (depthwise)
  int64_t K = 0;          // patch length (group == 1)
  bool trivial_gather = false;
};

QConvFast qconv_fast_plan(const ir::Node &n) {
  QConvFast f;
  const ir::Value *x = n.input(0), *w = n.input(3), *y = n.output(0);
  if (!x || !w || !y || x->dtype != DType::I8 || w->dtype != DType::I8 || !is_8bit(y->dtype)) return f;
  if (x->rank() != 4 || w->rank() != 4 || y->rank() != 4 || x->shape[0] != 1) return f;
  for (size_t i = 1; i < 9; ++i)
    if (i != 8 && (!n.input(i) || !n.input(i)->is_constant())) return f;
  if (n.input(8) && !n.input(8)->is_constant()) return f;
  for (int64_t z : n.input(5)->int_values())
    if (z != 0) return f;
  if (is_nhwc(n)) return f;
  Geometry g;
  try {
    g = conv_geometry(n, 0, 3);
  } catch (...) {
    return f;
  }
  int64_t G = n.attr_int("group", 1);
  f.C = x->shape[1];
  f.H = x->shape[2];
  f.W = x->shape[3];
  f.M = w->shape[0];
  f.OH = y->shape[2];
  f.OW = y->shape[3];
  f.KH = w->shape[2];
  f.KW = w->shape[3];
  f.sh = g.stride[0];
  f.sw = g.stride[1];
  f.dh = g.dil[0];
  f.dw = g.dil[1];
  f.pt = g.pad_begin[0];
  f.pl = g.pad_begin[1];
  if (y->numel() == 0) return f;
  // Padded extent actually read.
  int64_t needh = (f.OH - 1) * f.sh + (f.KH - 1) * f.dh + 1, needw = (f.OW - 1) * f.sw + (f.KW - 1) * f.dw + 1;
  if (f.pt < 0 || f.pl < 0) return f;
  f.PH = std::max(needh, f.pt + f.H);
  f.PW = std::max(needw, f.pl + f.W);
  if (G == 1) {
    f.K = f.C * f.KH * f.KW;
    f.trivial_gather = f.KH == 1 && f.KW == 1 && f.sh == 1 && f.sw == 1 && f.pt == 0 && f.pl == 0 &&
                       f.OH == f.H && f.OW == f.W;
    f.ok = true;
  } else if (G == f.C && f.M == f.C && w->shape[1] == 1 && f.KH * f.KW <= 64) {
    f.depthwise = true;
    f.ok = true;
  }
  return f;
}

int64_t scratch_qlinear_conv(const ir::Node &n) {
  QConvFast f = qconv_fast_plan(n);
  if (!f.ok) return 0;
  if (f.depthwise) return f.PH * f.PW + 4;
  int64_t KS = ((f.K + 3) / 4) * 4;
  return KS * 2 * 2 + KS;
}


// Depthwise int8 fast path. The channel plane is staged zero-point padded in
// scratch (plus 4 bytes of slack, set to the zero point, for the word
// over-read below; the over-read bytes only meet zero weight lanes). On DSP cores
// output pixels are computed two at a time along a row: for each kernel row
// the union of the bytes read by both pixels is covered by 32-bit words at
// offsets 0, 4, 8...; SXTB16 gives the byte pairs (q, q+2) and (q+1, q+3) of
// a word as int16 lanes, and each pixel accumulates SMLAD with a compile-time
// packed pair of its taps' weights (0 where a lane is not one of its taps).
// Every product and sum is exact integer arithmetic (int32 result), so this is
// bit-identical to the scalar taps of the portable path.
void emit_qdw_fast(KernelContext &k, const QConvFast &f, bool tfl, int64_t yz, DType yt) {
  int64_t KK = f.KH * f.KW, P = f.OH * f.OW, HW = f.H * f.W;
  std::string yc = k.ctype_out(0), Pp = k.prefix;
  // Structure of a block of np pixels along a row (same for every channel).
  struct Lane { int64_t a, word; bool odd; };
  struct Term { int64_t lane, pair; }; // smlad(lane value, pair word)
  std::vector<std::array<int64_t, 3>> pairs; // (a, tap lo, tap hi), -1 = none
  auto pair_id = [&](int64_t a, int64_t lo, int64_t hi) {
    std::array<int64_t, 3> key{a, lo, hi};
    for (size_t i = 0; i < pairs.size(); ++i)
      if (pairs[i] == key) return (int64_t)i;
    pairs.push_back(key);
    return (int64_t)pairs.size() - 1;
  };
  auto plan = [&](int np, std::vector<Lane> &lanes, std::vector<std::vector<Term>> &terms) {
    terms.assign(np, {});
    for (int64_t a = 0; a < f.KH; ++a) {
      int64_t maxo = (np - 1) * f.sw + (f.KW - 1) * f.dw;
      for (int64_t q = 0; q <= maxo; q += 4)
        for (int odd = 0; odd < 2; ++odd) {
          int64_t o0 = q + odd, o1 = q + odd + 2;
          int64_t lane = -1;
          for (int i = 0; i < np; ++i) {
            auto tap = [&](int64_t o) -> int64_t {
              int64_t d = o - i * f.sw;
              if (d < 0 || d % f.dw) return -1;
              d /= f.dw;
              return d < f.KW ? d : -1;
            };
            int64_t lo = tap(o0), hi = tap(o1);
            if (lo < 0 && hi < 0) continue;
            if (lane < 0) {
              lanes.push_back({a, q, odd != 0});
              lane = (int64_t)lanes.size() - 1;
            }
            terms[i].push_back({lane, pair_id(a, lo, hi)});
          }
        }
    }
  };
  int64_t OW2 = (f.OW / 2) * 2;
  std::vector<Lane> lanes2, lanes1;
  std::vector<std::vector<Term>> terms2, terms1;
  if (OW2 > 0) plan(2, lanes2, terms2);
  if (f.OW % 2) plan(1, lanes1, terms1);
  int64_t NP = (int64_t)pairs.size();
  k.line("int8_t *pad = (int8_t *)(void *)scratch;");
  k.line("memset(pad, {}, {});", k.node.input(2)->int_values()[0], f.PH * f.PW + 4);
  auto requant = [&](const std::string &acc, const std::string &dst) {
    if (tfl) emit_q8_requant_tflite(k, acc, "tq_m[c]", "tq_s[c]", yz, yt, dst);
    else emit_q8_requant(k, acc, "sc", yz, yt, dst);
  };
  auto chan_head = [&]() {
    k.line("const int8_t *xc = x0 + c * {};", HW);
    k.line("{} *yc = y0 + c * {};", yc, P);
    k.line("const int32_t b = beff[c];");
    if (!tfl) k.line("const float sc = scl[c];");
    k.line("for (size_t h = 0; h < {}; ++h) memcpy(pad + (h + {}) * {} + {}, xc + h * {}, {});", f.H, f.pt, f.PW,
           f.pl, f.W, f.W);
  };
  // ---- DSP: packed weight pairs.
  k.line("#if {}_HAS_DSP", upper(Pp));
  {
    k.open("for (size_t c = 0; c < {}; ++c) {{", f.C);
    chan_head();
    // Weight pairs packed once per channel (int16 lanes; 0 for no tap).
    k.line("const int8_t *wc = x3 + c * {};", KK);
    for (int64_t i = 0; i < NP; ++i) {
      auto lane = [&](int64_t t) {
        return t < 0 ? std::string("0u")
                     : fmt::format("(uint32_t)(uint16_t)(int16_t)wc[{}]", pairs[i][0] * f.KW + t);
      };
      if (pairs[i][2] < 0) k.line("const uint32_t q{} = {};", i, lane(pairs[i][1]));
      else k.line("const uint32_t q{} = {} | ({} << 16);", i, lane(pairs[i][1]), lane(pairs[i][2]));
    }
    auto block = [&](int np, const std::vector<Lane> &lanes, const std::vector<std::vector<Term>> &terms,
                     const std::string &col) {
      k.open("{{");
      k.line("const int8_t *r = pad + oh * {} + ({}) * {};", f.sh * f.PW, col, f.sw);
      for (int i = 0; i < np; ++i) k.line("int32_t s{} = b;", i);
      // Load each word once, extract only the lanes used.
      std::vector<std::pair<int64_t, int64_t>> words;
      for (auto &l : lanes) {
        std::pair<int64_t, int64_t> key{l.a, l.word};
        if (std::find(words.begin(), words.end(), key) == words.end()) words.push_back(key);
      }
      for (size_t wi = 0; wi < words.size(); ++wi) {
        k.line("uint32_t u{};", wi);
        k.line("memcpy(&u{}, r + {}, 4);", wi, words[wi].first * f.dh * f.PW + words[wi].second);
      }
      for (size_t li = 0; li < lanes.size(); ++li) {
        size_t wi = std::find(words.begin(), words.end(), std::make_pair(lanes[li].a, lanes[li].word)) - words.begin();
        k.line("const uint32_t v{} = {}_sxtb16{}(u{});", li, Pp, lanes[li].odd ? "_ror8" : "", wi);
      }
      for (int i = 0; i < np; ++i)
        for (auto &t : terms[i]) k.line("s{0} = {1}_smlad(v{2}, q{3}, s{0});", i, Pp, t.lane, t.pair);
      for (int i = 0; i < np; ++i) {
        std::string dst = fmt::format("yc[oh * {} + {} + {}]", f.OW, col, i), acc = fmt::format("s{}", i);
        if (tfl) emit_q8_requant_tflite_dsp(k, acc, "tq_m[c]", "tq_s[c]", yz, yt, dst);
        else emit_q8_requant_dsp(k, acc, "sc", yz, yt, dst);
      }
      k.close();
    };
    k.open("for (size_t oh = 0; oh < {}; ++oh) {{", f.OH);
    if (OW2 > 0) {
      k.open("for (size_t ow = 0; ow < {}; ow += 2) {{", OW2);
      block(2, lanes2, terms2, "ow");
      k.close();
    }
    if (f.OW % 2) block(1, lanes1, terms1, std::to_string(f.OW - 1));
    k.close();
    k.close();
  }
  k.line("#else");
  {
    k.open("for (size_t c = 0; c < {}; ++c) {{", f.C);
    chan_head();
    k.line("const int8_t *wc = x3 + c * {};", KK);
    for (int64_t t = 0; t < KK; ++t) k.line("const int32_t w{0} = (int32_t)wc[{0}];", t);
    k.open("for (size_t oh = 0; oh < {}; ++oh) {{", f.OH);
    k.open("for (size_t ow = 0; ow < {}; ++ow) {{", f.OW);
    k.line("const int8_t *r = pad + oh * {} + ow * {};", f.sh * f.PW, f.sw);
    std::string sum = "b";
    for (int64_t a = 0; a < f.KH; ++a)
      for (int64_t b = 0; b < f.KW; ++b)
        sum += fmt::format(" + (int32_t)r[{}] * w{}", a * f.dh * f.PW + b * f.dw, a * f.KW + b);
    k.line("const int32_t s = {};", sum);
    requant("s", fmt::format("yc[oh * {} + ow]", f.OW));
    k.close();
    k.close();
    k.close();
  }
  k.line("#endif");
}

void emit_qlinear_conv_fast(KernelContext &k, const QConvFast &f) {
  const ir::Node &n = k.node;
  DType yt = n.output(0)->dtype;
  int64_t xz = n.input(2)->int_values()[0];
  int64_t yz = n.input(7)->int_values()[0];
  float xs = (float)n.input(1)->float_values()[0], ys = (float)n.input(6)->float_values()[0];
  std::vector<double> wsv = n.input(4)->float_values();
  std::vector<int64_t> wv = n.input(3)->int_values();
  std::vector<int64_t> bv = n.input(8) ? n.input(8)->int_values() : std::vector<int64_t>(f.M, 0);
  int64_t KM = (int64_t)wv.size() / f.M;
  std::vector<int64_t> beff(f.M);
  std::string scl;
  for (int64_t m = 0; m < f.M; ++m) {
    int64_t sw = 0;
    for (int64_t t = 0; t < KM; ++t) sw += wv[m * KM + t];
    beff[m] = bv[m] - xz * sw;
    if (beff[m] < INT32_MIN || beff[m] > INT32_MAX) throw ir::CompileError(n, "bias out of int32 range");
    float s = xs * (float)wsv[wsv.size() > 1 ? m : 0];
    s = s / ys;
    scl += (m ? ", " : "") + c_float_literal(s);
  }
  k.line("static const int32_t beff[{}] = {{{}}};", f.M, int_array(beff));
  // --int8-semantics tflite: Q31 multipliers and shifts instead of float scales.
  const bool tfl = tflite_semantics(n);
  if (tfl) emit_tflite_multipliers(k, "tq", xs, wsv, ys, f.M);
  else k.line("static const float scl[{}] = {{{}}};", f.M, scl);
  int64_t P = f.OH * f.OW, HW = f.H * f.W;
  std::string yc = k.ctype_out(0);
  if (f.depthwise) {
    emit_qdw_fast(k, f, tfl, yz, yt);
    return;
  }
  // group == 1: two output pixels per step.
  const bool fused_add = n.op == "QLinearConvAdd";
  int64_t K = f.K, KS = ((K + 3) / 4) * 4;
  // Columns: int16, each full quad stored in the order 0, 2, 1, 3 (see emit_q8_dot).
  k.line("int16_t *col = (int16_t *)(void *)scratch;");
  if (!f.trivial_gather) k.line("int8_t *stg = (int8_t *)(void *)(scratch + {});", KS * 4);
  // With the micro-kernel (K a multiple of 4) the two columns are interleaved
  // per quad: 8 halfwords = column 0's quad, then column 1's.
  // K not a multiple of 4 (e.g. a 3-channel 3x3 first layer): the weight
  // rows are zero-padded to KS in a compile-time copy (M * (KS - K) extra
  // bytes) and the padded column taps are zeroed once, so every tap is in a
  // full quad.
  const bool pad_rows = K % 4 != 0 && f.M * KS <= 16384;
  const bool il = K % 4 == 0 || pad_rows;
  const int64_t KD = il ? KS : K; // row stride and dot length of the micro-kernel
  if (pad_rows) {
    std::vector<int64_t> wpad((size_t)(f.M * KS), 0);
    for (int64_t m = 0; m < f.M; ++m)
      for (int64_t t = 0; t < K; ++t) wpad[(size_t)(m * KS + t)] = wv[(size_t)(m * K + t)];
    k.line("static const int8_t wpad[{}] = {{{}}};", f.M * KS, int_array(wpad));
    k.line("memset(col, 0, {});", KS * 2 * 2);
    if (!f.trivial_gather) k.line("memset(stg, 0, {});", KS);
  }
  const std::string wrows = pad_rows ? "wpad" : "x3";
  const int64_t qs = il ? 8 : 4; // halfwords from one quad of a column to the next
  auto gather = [&](const std::string &p, const std::string &dst) {
    int64_t K4 = il ? KS : (K / 4) * 4;
    if (f.trivial_gather) {
      k.open("{{");
      k.line("const int8_t *xp = x0 + {};", p);
      k.line("int16_t *d = {};", dst);
      const int64_t K4t = (K / 4) * 4; // taps of full quads actually present
      if (K4t > 0) {
        k.open("for (size_t c = 0; c < {}; c += 4) {{", K4t);
        std::string dc = il ? "d[2 * c" : "d[c";
        k.line("{}] = xp[c * {}];", dc, HW);
        k.line("{} + 1] = xp[(c + 2) * {}];", dc, HW);
        k.line("{} + 2] = xp[(c + 1) * {}];", dc, HW);
        k.line("{} + 3] = xp[(c + 3) * {}];", dc, HW);
        k.close();
      }
      if (il)
        for (int64_t c = K4t; c < K; ++c)
          k.line("d[{}] = xp[{}];", (c / 4) * 8 + (((c & 1) << 1) | ((c & 2) >> 1)), c * HW);
      else if (K4t < K)
        k.line("for (size_t c = {}; c < {}; ++c) d[c] = xp[c * {}];", K4t, K, HW);
      k.close();
      return;
    }
    k.open("{{");
    k.line("const long oh = (long)({}) / {}, ow = (long)({}) % {};", p, f.OW, p, f.OW);
    k.line("int8_t *d = stg;");
    k.line("int16_t *e = {};", dst);
    k.line("const long iw0 = ow * {} - {};", f.sw, f.pl);
    k.line("const int full = iw0 >= 0 && iw0 + {} <= {};", (f.KW - 1) * f.dw + 1, f.W);
    // Windows entirely inside the input: straight-line copies at compile-time
    // offsets, written directly in the SXTB16 pairing order.
    const int64_t KK = f.KH * f.KW, C4 = (f.C / 4) * 4;
    const bool unroll_all = K <= 64, unroll_groups = !unroll_all && 4 * KK <= 64;
    if (unroll_all || unroll_groups) {
      auto pos = [&](int64_t t) {
        return t < K4 ? (t / 4) * qs + (((t & 1) << 1) | ((t & 2) >> 1)) : t;
      };
      k.line("const long ih0 = oh * {} - {};", f.sh, f.pt);
      k.open("if (full && ih0 >= 0 && ih0 + {} <= {}) {{", (f.KH - 1) * f.dh + 1, f.H);
      k.line("const int8_t *xb = x0 + ih0 * {} + iw0;", f.W);
      if (unroll_all) {
        for (int64_t t = 0; t < K; ++t) {
          int64_t c = t / KK, a = (t % KK) / f.KW, b = t % f.KW;
          k.line("e[{}] = xb[{}];", pos(t), c * HW + a * f.dh * f.W + b * f.dw);
        }
      } else {
        k.open("for (size_t c = 0; c < {}; c += 4) {{", C4);
        for (int64_t t = 0; t < 4 * KK; ++t) {
          int64_t c = t / KK, a = (t % KK) / f.KW, b = t % f.KW;
          k.line("e[{}] = xb[{}];", pos(t), c * HW + a * f.dh * f.W + b * f.dw);
        }
        k.line("xb += {};", 4 * HW);
        k.line("e += {};", qs * KK);
        k.close();
        for (int64_t t = C4 * KK; t < K; ++t) {
          int64_t c = t / KK - C4, a = (t % KK) / f.KW, b = t % f.KW;
          k.line("e[{}] = xb[{}];", pos(t) - (C4 * KK / 4) * qs, c * HW + a * f.dh * f.W + b * f.dw);
        }
      }
      k.close();
      k.open("else {{");
    }
    k.open("for (size_t c = 0; c < {}; ++c) {{", f.C);
    k.open("for (long a = 0; a < {}; ++a) {{", f.KH);
    k.line("const long ih = oh * {} - {} + a * {};", f.sh, f.pt, f.dh);
    k.open("if (ih < 0 || ih >= {}) {{", f.H);
    k.line("memset(d, {}, {});", xz, f.KW);
    k.close();
    k.open("else {{");
    k.line("const int8_t *xr = x0 + c * {} + ih * {};", HW, f.W);
    k.open("if (full) {{");
    k.line("for (long b = 0; b < {}; ++b) d[b] = xr[iw0 + b * {}];", f.KW, f.dw);
    k.close();
    k.open("else for (long b = 0; b < {}; ++b) {{", f.KW);
    k.line("const long iw = ow * {} - {} + b * {};", f.sw, f.pl, f.dw);
    k.line("d[b] = (iw < 0 || iw >= {}) ? (int8_t){} : xr[iw];", f.W, xz);
    k.close();
    k.close();
    k.line("d += {};", f.KW);
    k.close();
    k.close();
    if (K4 > 0) {
      k.open("for (size_t i = 0; i < {}; i += 4) {{", K4);
      std::string ei = il ? "e[2 * i" : "e[i";
      k.line("{}] = stg[i];", ei);
      k.line("{} + 1] = stg[i + 2];", ei);
      k.line("{} + 2] = stg[i + 1];", ei);
      k.line("{} + 3] = stg[i + 3];", ei);
      k.close();
    }
    if (K4 < K) k.line("for (size_t i = {}; i < {}; ++i) e[i] = stg[i];", K4, K);
    if (unroll_all || unroll_groups) k.close();
    k.close();
  };
  // Micro-kernel path: two pixels x two output channels per call of the
  // target header's dot2x2_q8 (SMLAD assembly on DSP cores). An odd last pixel
  // is gathered into both columns; an odd last channel uses its row twice.
  auto pixels_il = [&](int np) {
    gather("p", "col");
    gather(np == 2 ? "p + 1" : "p", "(col + 4)");
    auto store = [&](const std::string &acc, const std::string &m, const std::string &px) {
      const std::string idx = fmt::format("({}) * {} + {}", m, P, px);
      if (!fused_add) {
        emit_q8_requant_any(k, tfl, acc, tfl ? fmt::format("tq_m[{}]", m) : fmt::format("scl[{}]", m),
                            fmt::format("tq_s[{}]", m), yz, yt, fmt::format("y0[{}]", idx));
        return;
      }
      // tmc::QLinearConvAdd: the conv value as QLinearConv stores it, then
      // the QAdd with skip[idx] (read before y[idx] is written).
      k.open("{{");
      k.line("int32_t qv;");
      emit_q8_requant_any(k, tfl, acc, tfl ? fmt::format("tq_m[{}]", m) : fmt::format("scl[{}]", m),
                          fmt::format("tq_s[{}]", m), yz, yt, "qv");
      emit_q8_residual_add(k, n, "qv", fmt::format("x9[{}]", idx), fmt::format("y0[{}]", idx));
      k.close();
    };
    auto block = [&](bool two) {
      k.line("int32_t acc[4];");
      k.line("acc[0] = acc[2] = beff[m];");
      k.line("acc[1] = acc[3] = beff[{}];", two ? "m + 1" : "m");
      k.line("{0}_dot2x2_q8(col, {1} + m * {2}, {1} + {3} * {2}, acc, {4});", k.prefix, wrows, KD,
             two ? "(m + 1)" : "m", KD / 4);
      store("acc[0]", "m", "p");
      if (two) store("acc[1]", "m + 1", "p");
      if (np == 2) {
        store("acc[2]", "m", "p + 1");
        if (two) store("acc[3]", "m + 1", "p + 1");
      }
    };
    if (f.M >= 2) {
      k.open("for (size_t m = 0; m < {}; m += 2) {{", (f.M / 2) * 2);
      block(true);
      k.close();
    }
    if (f.M % 2) {
      k.open("{{");
      k.line("const size_t m = {};", f.M - 1);
      block(false);
      k.close();
    }
  };
  auto pixels = [&](int np) {
    if (il) {
      pixels_il(np);
      return;
    }
    if (np == 2) {
      gather("p", "col");
      gather("p + 1", fmt::format("(col + {})", KS));
    } else {
      gather("p", "col");
    }
    std::vector<std::string> xsn = {"col"};
    if (np == 2) xsn.push_back(fmt::format("(col + {})", KS));
    auto block = [&](int nm) {
      std::vector<std::string> wsn;
      std::vector<std::vector<std::string>> acc(np);
      for (int j = 0; j < nm; ++j) wsn.push_back(fmt::format("(x3 + (m + {}) * {})", j, K));
      for (int i = 0; i < np; ++i)
        for (int j = 0; j < nm; ++j) {
          acc[i].push_back(fmt::format("s{}{}", i, j));
          k.line("int32_t s{}{} = beff[m + {}];", i, j, j);
        }
      emit_q8_dot(k, K, xsn, wsn, acc);
      for (int i = 0; i < np; ++i)
        for (int j = 0; j < nm; ++j)
          emit_q8_requant_any(k, tfl, acc[i][j],
                              tfl ? fmt::format("tq_m[m + {}]", j) : fmt::format("scl[m + {}]", j),
                              fmt::format("tq_s[m + {}]", j), yz, yt,
                              fmt::format("y0[(m + {}) * {} + p + {}]", j, P, i));
    };
    if (f.M >= 2) {
      k.open("for (size_t m = 0; m < {}; m += 2) {{", (f.M / 2) * 2);
      block(2);
      k.close();
    }
    if (f.M % 2) {
      k.open("{{");
      k.line("const size_t m = {};", f.M - 1);
      block(1);
      k.close();
    }
  };
  if (P >= 2) {
    k.open("for (size_t p = 0; p < {}; p += 2) {{", (P / 2) * 2);
    pixels(2);
    k.close();
  }
  if (P % 2) {
    k.open("{{");
    k.line("const size_t p = {};", P - 1);
    pixels(1);
    k.close();
  }
}

void emit_qlinear_conv(KernelContext &k) {
  {
    QConvFast f = qconv_fast_plan(k.node);
    if (f.ok) return emit_qlinear_conv_fast(k, f);
  }
  ConvSpec cs;
  cs.xi = 0;
  cs.wi = 3;
  cs.acc = "int32_t";
  bool ws_pc = k.vin(4).numel() > 1, wz_pc = k.vin(5).numel() > 1;
  bool has_b = k.has_in(8);
  DType yt = k.vout(0).dtype;
  int lo = yt == DType::U8 ? 0 : -128, hi = yt == DType::U8 ? 255 : 127;
  const bool tfl = tflite_semantics(k.node);
  if (tfl)
    emit_tflite_multipliers(k, "tq", k.node.input(1)->float_values()[0], k.node.input(4)->float_values(),
                            k.node.input(6)->float_values()[0], k.vin(3).shape[0]);
  cs.per_channel = [&]() {
    k.line("const int32_t xzp = (int32_t)x2[0];");
    k.line("const int32_t wzp = (int32_t)x5[{}];", wz_pc ? "m" : "0");
    if (!tfl) {
      k.line("const float scale = x1[0] * x4[{}] / x6[0];", ws_pc ? "m" : "0");
      k.line("const float yzp = (float)x7[0];");
    }
  };
  cs.ldx = [](const std::string &p, const std::string &i) { return fmt::format("((int32_t){}[{}] - xzp)", p, i); };
  cs.ldw = [](const std::string &p, const std::string &i) { return fmt::format("((int32_t){}[{}] - wzp)", p, i); };
  cs.init = [&]() { return std::string(has_b ? "x8[m]" : "0"); };
  std::string ytc = k.ctype_out(0);
  cs.store = [&, lo, hi, ytc, tfl](const std::string &a) {
    if (tfl) {
      k.line("int32_t q = {}({}, tq_m[m], tq_s[m]) + (int32_t)x7[0];", k.helper("tfl_mbqm"), a);
      k.line("q = q < {0} ? {0} : (q > {1} ? {1} : q);", lo, hi);
      return fmt::format("({})q", ytc);
    }
    k.line("float q = rintf((float){} * scale) + yzp;", a);
    k.line("q = q < {0}.0f ? {0}.0f : (q > {1}.0f ? {1}.0f : q);", lo, hi);
    return fmt::format("({})q", ytc);
  };
  emit_conv_core(k, cs);
}

// ---------------------------------------------------------------- ConvTranspose
// W: [C, M/group, k...]; Y: [N, M, out...]. Scatter form: every input element
// adds its contribution to the output window it touches.
Geometry convtranspose_geometry(const ir::Node &n) { return convtranspose_window(n, 0, 1); }

std::string check_convtranspose(const ir::Node &n) {
  DType t = n.input(0)->dtype;
  if (!is_float_type(t)) return std::string("dtype ") + ir::dtype_name(t) + " is not supported";
  const ir::Value *x = n.input(0), *w = n.input(1);
  if (w->dtype != t) return "weight dtype differs from the input dtype";
  if (x->rank() < 3 || w->rank() != x->rank()) return "input/weight ranks are not supported";
  int64_t G = n.attr_int("group", 1);
  if (G < 1 || x->shape[1] % G || w->shape[0] != x->shape[1]) return "channel counts do not match 'group'";
  if (n.output(0)->shape[1] != w->shape[1] * G) return "output channels do not match the weight shape";
  if (n.input(2) && n.input(2)->numel() != n.output(0)->shape[1]) return "bias size does not match";
  convtranspose_geometry(n);
  return "";
}

bool convtranspose_uses_scratch(const ir::Node &n) {
  DType t = n.output(0)->dtype;
  return t == DType::F16 || t == DType::BF16;
}

int64_t scratch_convtranspose(const ir::Node &n) {
  return convtranspose_uses_scratch(n) ? n.output(0)->numel() * 4 : 0;
}

void emit_convtranspose(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &w = k.vin(1), &y = k.vout(0);
  DType t = x.dtype;
  Geometry g = convtranspose_geometry(n);
  int64_t N = x.shape[0], C = x.shape[1], G = n.attr_int("group", 1);
  int64_t Cg = C / G, Mg = w.shape[1], M = Mg * G;
  if (y.numel() == 0) return;
  std::vector<int64_t> istr = strides_of(g.in), ostr = strides_of(g.out), kstr = strides_of(g.kernel);
  int64_t XS = ir::shape_numel(g.in), YS = ir::shape_numel(g.out), KS = ir::shape_numel(g.kernel);
  std::string xt = k.ctype_in(0), acc = acc_type(t);
  bool scr = convtranspose_uses_scratch(n);
  std::string out = "y0";
  if (scr) {
    k.line("float *acc = (float *)(void *)scratch;");
    out = "acc";
  }
  // Initialise with the bias (or zero).
  k.open("for (size_t nm = 0; nm < {}; ++nm) {{", N * M);
  k.line("const {} bv = {};", acc, k.has_in(2) ? ld(k, t, "x2", fmt::format("nm % {}", M)) : zero_lit(t));
  k.line("{} *yp = {} + nm * {};", scr ? "float" : k.ctype_out(0), out, YS);
  k.line("for (size_t i = 0; i < {}; ++i) yp[i] = bv;", YS);
  k.close();
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.open("for (size_t ci = 0; ci < {}; ++ci) {{", C);
  k.line("const {} *xc = x0 + (n * {} + ci) * {};", xt, C, XS);
  k.open("for (size_t mo = 0; mo < {}; ++mo) {{", Mg);
  k.line("const {} *wc = x1 + (ci * {} + mo) * {};", xt, Mg, KS);
  std::string mexpr = G == 1 ? "mo" : fmt::format("(ci / {}) * {} + mo", Cg, Mg);
  k.line("{} *yc = {} + (n * {} + {}) * {};", scr ? "float" : k.ctype_out(0), out, M, mexpr, YS);
  std::vector<Win> wins;
  std::string xidx;
  for (size_t d = 0; d < g.nd; ++d) {
    std::string iv = fmt::format("i{}", d);
    k.open("for (long {0} = 0; {0} < {1}; ++{0}) {{", iv, g.in[d]);
    wins.push_back(emit_window_range(k, d, iv, g.in[d], g.stride[d], g.pad_begin[d], g.dil[d], g.kernel[d], g.out[d]));
    xidx += (d ? " + " : "") + (istr[d] == 1 ? iv : fmt::format("{} * {}", iv, istr[d]));
  }
  k.line("const {} xv = {};", acc, ld(k, t, "xc", xidx));
  std::string yp = "yc", wp = "wc";
  for (size_t d = 0; d < g.nd; ++d) {
    std::string kv = fmt::format("k{}", d);
    k.open("for (long {0} = {1}; {0} < {2}; ++{0}) {{", kv, wins[d].lo, wins[d].hi);
    if (d + 1 < g.nd) {
      std::string ny = fmt::format("yr{}", d), nw = fmt::format("wr{}", d);
      k.line("{} *{} = {} + ({}) * {};", scr ? "float" : k.ctype_out(0), ny, yp, wins[d].coord(kv), ostr[d]);
      k.line("const {} *{} = {} + {} * {};", xt, nw, wp, kv, kstr[d]);
      yp = ny;
      wp = nw;
    } else {
      k.line("{}[{}] += xv * {};", yp, wins[d].coord(kv), ld(k, t, wp, kv));
    }
  }
  for (size_t d = 0; d < g.nd; ++d) k.close();
  for (size_t d = 0; d < g.nd; ++d) k.close();
  k.close(); // mo
  k.close(); // ci
  k.close(); // n
  if (scr) k.line("for (size_t i = 0; i < {}; ++i) y0[i] = {};", y.numel(), st(k, t, "acc[i]"));
}

} // namespace

// tmc::QLinearConvAdd (fuse-int8-residual-add): QLinearConv inputs 0..8,
// then skip, skip_scale, skip_zp, y_scale, y_zp. Only the group == 1 fast
// path carries the fused epilogue.
std::string check_qlinear_conv_add(const ir::Node &n) {
  std::string r = check_qlinear_conv(n);
  if (!r.empty()) return r;
  QConvFast f = qconv_fast_plan(n);
  if (!f.ok || f.depthwise) return "the fused residual add needs an int8 group-1 convolution with constant parameters";
  if (f.K % 4 != 0 && f.M * (((f.K + 3) / 4) * 4) > 16384) return "the fused residual add needs the micro-kernel path";
  if (n.inputs.size() != 14 || !n.input(9) || n.input(9)->shape != n.output(0)->shape ||
      n.input(9)->dtype != DType::I8 || n.output(0)->dtype != DType::I8)
    return "skip input must be int8 with the output's shape";
  for (size_t i : {10, 11, 12, 13})
    if (!n.input(i) || !n.input(i)->is_constant() || n.input(i)->numel() != 1) return "add parameters must be constant scalars";
  if (n.input(10)->dtype != DType::F32 || n.input(12)->dtype != DType::F32) return "scales must be float32";
  return "";
}

void register_conv_kernels(KernelRegistry &r) {
  r.add({"QLinearConvAdd", check_qlinear_conv_add, emit_qlinear_conv, scratch_qlinear_conv, "tmc"});
  KernelDef conv{"Conv", check_conv, emit_conv, nullptr};
  conv.handles_activation = true;
  r.add(conv);
  r.add({"ConvInteger", check_conv_integer, emit_conv_integer, nullptr});
  r.add({"QLinearConv", check_qlinear_conv, emit_qlinear_conv, scratch_qlinear_conv});
  r.add({"ConvTranspose", check_convtranspose, emit_convtranspose, scratch_convtranspose});
}

} // namespace tmc::codegen
