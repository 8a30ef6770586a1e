// Kernel family: convolutions (Conv, ConvTranspose, ConvInteger, QLinearConv).
//
// Every geometry parameter (shapes, strides, pads, dilations, groups) is a
// literal in the emitted C. For each output position the valid range of kernel
// taps is computed once per spatial dimension (so the inner loops carry no
// bounds checks); dimensions whose windows never leave the input use the full
// kernel range as literals.
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
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
void strides_dils(const ir::Node &n, Geometry &g) { window_strides_dilations(n, g); }

/// Geometry of a forward convolution with data input xi and weight input wi.
Geometry conv_geometry(const ir::Node &n, size_t xi, size_t wi) {
  const ir::Value *x = n.input(xi), *w = n.input(wi), *y = n.output(0);
  if (x->rank() < 3) throw ir::CompileError(n, "input rank must be at least 3");
  Geometry g;
  g.nd = x->rank() - 2;
  if (w->rank() != x->rank() || y->rank() != x->rank())
    throw ir::CompileError(n, "weight/output rank does not match the input rank");
  g.in.assign(x->shape.begin() + 2, x->shape.end());
  g.out.assign(y->shape.begin() + 2, y->shape.end());
  g.kernel.assign(w->shape.begin() + 2, w->shape.end());
  strides_dils(n, g);
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

// ---------------------------------------------------------------- Conv, NHWC
// tmc_layout = "NHWC" (set by the layout-channels-last pass): x [N,H,W,C],
// y [N,OH,OW,M], weights [M][KH][KW][C/group], bias [M]. Per output pixel and
// output channel, the taps are visited row by row and the input channels of
// one tap are contiguous in both x and w (a plain dot product).
bool is_nhwc(const ir::Node &n) { return n.attr_string("tmc_layout", "") == "NHWC"; }

Geometry conv_nhwc_geometry(const ir::Node &n) {
  const ir::Value *x = n.input(0), *w = n.input(1), *y = n.output(0);
  Geometry g;
  g.nd = 2;
  g.in = {x->shape[1], x->shape[2]};
  g.out = {y->shape[1], y->shape[2]};
  g.kernel = {w->shape[1], w->shape[2]};
  strides_dils(n, g);
  conv_pads(n, g);
  return g;
}

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
  conv_nhwc_geometry(n);
  return "";
}

void emit_conv_nhwc(KernelContext &k) {
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
  return check_conv_common(n, 0, 3);
}

void emit_qlinear_conv(KernelContext &k) {
  ConvSpec cs;
  cs.xi = 0;
  cs.wi = 3;
  cs.acc = "int32_t";
  bool ws_pc = k.vin(4).numel() > 1, wz_pc = k.vin(5).numel() > 1;
  bool has_b = k.has_in(8);
  DType yt = k.vout(0).dtype;
  int lo = yt == DType::U8 ? 0 : -128, hi = yt == DType::U8 ? 255 : 127;
  cs.per_channel = [&]() {
    k.line("const int32_t xzp = (int32_t)x2[0];");
    k.line("const int32_t wzp = (int32_t)x5[{}];", wz_pc ? "m" : "0");
    k.line("const float scale = x1[0] * x4[{}] / x6[0];", ws_pc ? "m" : "0");
    k.line("const float yzp = (float)x7[0];");
  };
  cs.ldx = [](const std::string &p, const std::string &i) { return fmt::format("((int32_t){}[{}] - xzp)", p, i); };
  cs.ldw = [](const std::string &p, const std::string &i) { return fmt::format("((int32_t){}[{}] - wzp)", p, i); };
  cs.init = [&]() { return std::string(has_b ? "x8[m]" : "0"); };
  std::string ytc = k.ctype_out(0);
  cs.store = [&, lo, hi, ytc](const std::string &a) {
    k.line("float q = rintf((float){} * scale) + yzp;", a);
    k.line("q = q < {0}.0f ? {0}.0f : (q > {1}.0f ? {1}.0f : q);", lo, hi);
    return fmt::format("({})q", ytc);
  };
  emit_conv_core(k, cs);
}

// ---------------------------------------------------------------- ConvTranspose
// W: [C, M/group, k...]; Y: [N, M, out...]. Scatter form: every input element
// adds its contribution to the output window it touches.
Geometry convtranspose_geometry(const ir::Node &n) {
  const ir::Value *x = n.input(0), *w = n.input(1), *y = n.output(0);
  if (x->rank() < 3) throw ir::CompileError(n, "input rank must be at least 3");
  Geometry g;
  g.nd = x->rank() - 2;
  if (w->rank() != x->rank() || y->rank() != x->rank())
    throw ir::CompileError(n, "weight/output rank does not match the input rank");
  g.in.assign(x->shape.begin() + 2, x->shape.end());
  g.out.assign(y->shape.begin() + 2, y->shape.end());
  g.kernel.assign(w->shape.begin() + 2, w->shape.end());
  strides_dils(n, g);
  auto opad = n.attr_ints("output_padding", std::vector<int64_t>(g.nd, 0));
  if (opad.size() != g.nd) throw ir::CompileError(n, "output_padding has the wrong length");
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  g.pad_begin.assign(g.nd, 0);
  g.pad_end.assign(g.nd, 0);
  auto pads = n.attr_ints("pads");
  bool derive = n.has_attr("output_shape") || ap == "SAME_UPPER" || ap == "SAME_LOWER";
  if (!derive && ap != "VALID" && !pads.empty()) {
    if (pads.size() != 2 * g.nd) throw ir::CompileError(n, "attribute 'pads' has the wrong length");
    for (size_t d = 0; d < g.nd; ++d) {
      g.pad_begin[d] = pads[d];
      g.pad_end[d] = pads[d + g.nd];
    }
  } else if (derive) {
    for (size_t d = 0; d < g.nd; ++d) {
      int64_t total = g.stride[d] * (g.in[d] - 1) + opad[d] + (g.kernel[d] - 1) * g.dil[d] + 1 - g.out[d];
      if (total < 0) total = 0;
      int64_t small = total / 2, big = total - small;
      g.pad_begin[d] = ap == "SAME_UPPER" ? small : big;
      g.pad_end[d] = ap == "SAME_UPPER" ? big : small;
    }
  }
  return g;
}

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

void register_conv_kernels(KernelRegistry &r) {
  KernelDef conv{"Conv", check_conv, emit_conv, nullptr};
  conv.handles_activation = true;
  r.add(conv);
  r.add({"ConvInteger", check_conv_integer, emit_conv_integer, nullptr});
  r.add({"QLinearConv", check_qlinear_conv, emit_qlinear_conv, nullptr});
  r.add({"ConvTranspose", check_convtranspose, emit_convtranspose, scratch_convtranspose});
}

} // namespace tmc::codegen
