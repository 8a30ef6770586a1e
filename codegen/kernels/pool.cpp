// Kernel family: pooling (MaxPool, AveragePool, LpPool, their Global forms,
// MaxUnpool). As for convolutions, the valid window of each output position is
// computed once per spatial dimension, so the tap loops carry no bounds checks,
// and dimensions whose windows never leave the input use literal bounds.
#include <cmath>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/window.h"

namespace tmc::codegen {
namespace {

using ir::DType;

std::string acc_type(DType t) {
  if (t == DType::F64) return "double";
  if (is_float_type(t)) return "float";
  return ir::dtype_ctype(t);
}

std::string ld(KernelContext &k, DType t, const std::string &p, const std::string &i) { return load_compute(k, t, p, i); }
std::string st(KernelContext &k, DType t, const std::string &e) { return store_compute(k, t, e); }

std::string dtype_error(DType t) { return std::string("dtype ") + ir::dtype_name(t) + " is not supported"; }

using Geometry = WindowGeometry;
using Win = WindowRange;

Geometry pool_geometry(const ir::Node &n) {
  const ir::Value *x = n.input(0), *y = n.output(0);
  if (x->rank() < 3) throw ir::CompileError(n, "input rank must be at least 3");
  if (y->rank() != x->rank()) throw ir::CompileError(n, "output rank does not match the input rank");
  Geometry g;
  g.nd = x->rank() - 2;
  g.in.assign(x->shape.begin() + 2, x->shape.end());
  g.out.assign(y->shape.begin() + 2, y->shape.end());
  g.kernel = n.attr_ints("kernel_shape");
  if (g.kernel.size() != g.nd) throw ir::CompileError(n, "kernel_shape is missing or has the wrong length");
  window_strides_dilations(n, g);
  for (size_t d = 0; d < g.nd; ++d)
    if (g.kernel[d] < 1) throw ir::CompileError(n, "kernel_shape must be positive");
  window_pads(n, g);
  return g;
}

// NHWC variants (defined below).
bool is_nhwc(const ir::Node &n);
std::string check_pool_nhwc(const ir::Node &n);
void emit_pool_nhwc(KernelContext &k);

/// What a windowed pooling kernel does per output element.
struct PoolSpec {
  std::function<void(const Geometry &, const std::vector<Win> &)> init; ///< before the taps
  /// One tap: `p` is the row-major spatial offset (long), `q` the column-major one.
  std::function<void(const std::string &p, const std::string &q)> tap;
  std::function<void(const std::string &oidx)> finish; ///< after the taps
  bool need_colmajor = false;
};

void emit_pool(KernelContext &k, const PoolSpec &ps) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  Geometry g = pool_geometry(k.node);
  if (y.numel() == 0) return;
  int64_t NC = x.shape[0] * x.shape[1];
  int64_t XS = ir::shape_numel(g.in), YS = ir::shape_numel(g.out);
  std::vector<int64_t> istr = strides_of(g.in), ostr = strides_of(g.out);
  std::vector<int64_t> cstr(g.nd, 1);
  for (size_t d = 1; d < g.nd; ++d) cstr[d] = cstr[d - 1] * g.in[d - 1];
  k.open("for (size_t nc = 0; nc < {}; ++nc) {{", NC);
  k.line("const {} *xc = x0 + nc * {};", k.ctype_in(0), XS);
  k.line("const size_t yo = nc * {};", YS);
  std::vector<Win> wins;
  for (size_t d = 0; d < g.nd; ++d) {
    std::string ov = fmt::format("o{}", d);
    k.open("for (long {0} = 0; {0} < {1}; ++{0}) {{", ov, g.out[d]);
    wins.push_back(emit_window_range(k, d, ov, g.out[d], g.stride[d], g.pad_begin[d], g.dil[d], g.kernel[d], g.in[d]));
  }
  std::string oidx = "yo";
  for (size_t d = 0; d < g.nd; ++d)
    oidx += ostr[d] == 1 ? fmt::format(" + (size_t)o{}", d) : fmt::format(" + (size_t)o{} * {}", d, ostr[d]);
  ps.init(g, wins);
  std::string p, q;
  for (size_t d = 0; d < g.nd; ++d) {
    std::string kv = fmt::format("k{}", d);
    k.open("for (long {0} = {1}; {0} < {2}; ++{0}) {{", kv, wins[d].lo, wins[d].hi);
    std::string c = "(" + wins[d].coord(kv) + ")";
    std::string pe = istr[d] == 1 ? c : fmt::format("{} * {}", c, istr[d]);
    std::string qe = cstr[d] == 1 ? c : fmt::format("{} * {}", c, cstr[d]);
    std::string pn = fmt::format("p{}", d);
    k.line("const long {} = {};", pn, p.empty() ? pe : p + " + " + pe);
    p = pn;
    if (ps.need_colmajor) {
      std::string qn = fmt::format("q{}", d);
      k.line("const long {} = {};", qn, q.empty() ? qe : q + " + " + qe);
      q = qn;
    }
  }
  ps.tap(p, q);
  for (size_t d = 0; d < g.nd; ++d) k.close();
  ps.finish(oidx);
  for (size_t d = 0; d < g.nd; ++d) k.close();
  k.close();
}

// ---------------------------------------------------------------- MaxPool
std::string lowest_literal(DType t) {
  switch (t) {
  case DType::F64: return c_double_literal(-INFINITY);
  case DType::F32:
  case DType::F16:
  case DType::BF16: return "(-INFINITY)";
  case DType::I8: return "-128";
  case DType::U8: return "0";
  default: return "0";
  }
}

std::string check_maxpool(const ir::Node &n) {
  if (is_nhwc(n)) return check_pool_nhwc(n);
  DType t = n.input(0)->dtype;
  if (!is_float_type(t) && t != DType::I8 && t != DType::U8) return dtype_error(t);
  if (n.output(1) && n.output(1)->dtype != DType::I64) return "indices must be int64";
  pool_geometry(n);
  return "";
}

void emit_maxpool(KernelContext &k) {
  if (is_nhwc(k.node)) return emit_pool_nhwc(k);
  DType t = k.vin(0).dtype;
  bool idx = k.has_out(1);
  bool colmajor = idx && k.node.attr_int("storage_order", 0) == 1;
  int64_t XS = 1;
  for (size_t d = 2; d < k.vin(0).rank(); ++d) XS *= k.vin(0).shape[d];
  PoolSpec ps;
  ps.need_colmajor = colmajor;
  ps.init = [&](const Geometry &, const std::vector<Win> &) {
    k.line("{} m = {};", acc_type(t), lowest_literal(t));
    if (idx) k.line("long mi = -1;");
  };
  ps.tap = [&](const std::string &p, const std::string &q) {
    k.line("const {} v = {};", acc_type(t), ld(k, t, "xc", p));
    if (idx) k.line("if (v > m) {{ m = v; mi = {}; }}", colmajor ? q : p);
    else k.line("if (v > m) m = v;");
  };
  ps.finish = [&](const std::string &o) {
    k.line("y0[{}] = {};", o, st(k, t, "m"));
    if (idx) k.line("y1[{}] = (int64_t)nc * {} + (int64_t)mi;", o, c_int_literal(DType::I64, XS));
  };
  emit_pool(k, ps);
}

// ---------------------------------------------------------------- AveragePool
std::string check_float_pool(const ir::Node &n) {
  if (is_nhwc(n)) return n.op == "AveragePool" ? check_pool_nhwc(n) : "NHWC layout is not supported";
  DType t = n.input(0)->dtype;
  if (!is_float_type(t)) return dtype_error(t);
  pool_geometry(n);
  return "";
}

/// Emits `cnt`, the AveragePool divisor of one output position: the taps
/// inside the input (or inside the padded input with count_include_pad).
void emit_avg_count(KernelContext &k, const Geometry &g, const std::vector<Win> &wins, bool include_pad,
                    const std::string &acc) {
  std::vector<std::string> cnt;
  int64_t lit = 1;
  for (size_t d = 0; d < g.nd; ++d) {
    const Win &w = wins[d];
    if (include_pad) {
      int64_t lim = g.in[d] + g.pad_end[d];
      bool full = (g.out[d] - 1) * g.stride[d] - g.pad_begin[d] + (g.kernel[d] - 1) * g.dil[d] <= lim - 1;
      if (full) {
        lit *= g.kernel[d];
      } else {
        std::string c = fmt::format("c{}", d);
        int64_t L = g.dil[d], K = g.kernel[d];
        if (L == 1) k.line("const long {0} = {1} - {2} < {3} ? {1} - {2} : {3};", c, lim, w.base, K);
        else
          k.line("const long {0} = ({1} - {2} + {3}) / {4} < {5} ? ({1} - {2} + {3}) / {4} : {5};", c, lim,
                 w.base, L - 1, L, K);
        cnt.push_back(c);
      }
    } else if (w.lo == "0" && w.hi == std::to_string(g.kernel[d])) {
      lit *= g.kernel[d];
    } else {
      cnt.push_back(w.lo == "0" ? w.hi : fmt::format("({} - {})", w.hi, w.lo));
    }
  }
  std::string e = std::to_string(lit);
  for (auto &c : cnt) e += " * " + c;
  k.line("const {} cnt = ({}){};", acc, acc, e);
}

void emit_averagepool(KernelContext &k) {
  if (is_nhwc(k.node)) return emit_pool_nhwc(k);
  DType t = k.vin(0).dtype;
  bool include_pad = k.node.attr_int("count_include_pad", 0) != 0;
  std::string acc = acc_type(t);
  PoolSpec ps;
  ps.init = [&](const Geometry &g, const std::vector<Win> &wins) {
    emit_avg_count(k, g, wins, include_pad, acc);
    k.line("{} s = {};", acc, t == DType::F64 ? "0.0" : "0.0f");
  };
  ps.tap = [&](const std::string &p, const std::string &) { k.line("s += {};", ld(k, t, "xc", p)); };
  ps.finish = [&](const std::string &o) { k.line("y0[{}] = {};", o, st(k, t, "s / cnt")); };
  emit_pool(k, ps);
}

// ---------------------------------------------------------------- LpPool
/// Emits `expr` for |v|^p accumulation and the final root, for float p.
struct LpForms {
  std::string term, root;
};

LpForms lp_forms(KernelContext &k, DType t, float p, const std::string &v, const std::string &s) {
  bool dbl = t == DType::F64;
  std::string fabs_ = dbl ? "fabs" : "fabsf", pow_ = dbl ? "pow" : "powf", sqrt_ = dbl ? "sqrt" : "sqrtf";
  std::string pl = dbl ? c_double_literal((double)p) : c_float_literal(p);
  std::string inv = dbl ? c_double_literal(1.0 / (double)p) : c_float_literal(1.0f / p);
  (void)k;
  if (p == 1.0f) return {fmt::format("{}({})", fabs_, v), s};
  if (p == 2.0f) return {fmt::format("{0} * {0}", v), fmt::format("{}({})", sqrt_, s)};
  return {fmt::format("{}({}({}), {})", pow_, fabs_, v, pl), fmt::format("{}({}, {})", pow_, s, inv)};
}

void emit_lppool(KernelContext &k) {
  DType t = k.vin(0).dtype;
  float p = k.node.attr_float("p", 2.0f);
  std::string acc = acc_type(t);
  PoolSpec ps;
  ps.init = [&](const Geometry &, const std::vector<Win> &) {
    k.line("{} s = {};", acc, t == DType::F64 ? "0.0" : "0.0f");
  };
  ps.tap = [&](const std::string &pp, const std::string &) {
    k.line("const {} v = {};", acc, ld(k, t, "xc", pp));
    k.line("s += {};", lp_forms(k, t, p, "v", "s").term);
  };
  ps.finish = [&](const std::string &o) { k.line("y0[{}] = {};", o, st(k, t, lp_forms(k, t, p, "v", "s").root)); };
  emit_pool(k, ps);
}

// ---------------------------------------------------------------- Global pools
std::string check_global(const ir::Node &n) {
  if (is_nhwc(n)) return n.op == "GlobalLpPool" ? "NHWC layout is not supported" : check_pool_nhwc(n);
  DType t = n.input(0)->dtype;
  bool ints_ok = n.op == "GlobalMaxPool";
  if (!is_float_type(t) && !(ints_ok && (t == DType::I8 || t == DType::U8))) return dtype_error(t);
  if (n.input(0)->rank() < 2) return "input rank must be at least 2";
  return "";
}

void emit_global(KernelContext &k, const std::string &kind) {
  if (is_nhwc(k.node)) return emit_pool_nhwc(k);
  const ir::Value &x = k.vin(0);
  DType t = x.dtype;
  int64_t NC = x.shape[0] * x.shape[1];
  int64_t S = 1;
  for (size_t d = 2; d < x.rank(); ++d) S *= x.shape[d];
  if (NC == 0) return;
  std::string acc = acc_type(t);
  std::string zero = t == DType::F64 ? "0.0" : "0.0f";
  float p = k.node.attr_float("p", 2.0f);
  k.open("for (size_t nc = 0; nc < {}; ++nc) {{", NC);
  k.line("const {} *xc = x0 + nc * {};", k.ctype_in(0), S);
  if (kind == "max") {
    k.line("{} m = {};", acc, lowest_literal(t));
    k.open("for (size_t i = 0; i < {}; ++i) {{", S);
    k.line("const {} v = {};", acc, ld(k, t, "xc", "i"));
    k.line("if (v > m) m = v;");
    k.close();
    k.line("y0[nc] = {};", st(k, t, "m"));
  } else if (kind == "avg") {
    k.line("{} s = {};", acc, zero);
    k.line("for (size_t i = 0; i < {}; ++i) s += {};", S, ld(k, t, "xc", "i"));
    k.line("y0[nc] = {};", st(k, t, fmt::format("s / ({}){}", acc, S)));
  } else {
    LpForms f = lp_forms(k, t, p, "v", "s");
    k.line("{} s = {};", acc, zero);
    k.open("for (size_t i = 0; i < {}; ++i) {{", S);
    k.line("const {} v = {};", acc, ld(k, t, "xc", "i"));
    k.line("s += {};", f.term);
    k.close();
    k.line("y0[nc] = {};", st(k, t, f.root));
  }
  k.close();
}

// ---------------------------------------------------------------- MaxUnpool
// X, I (int64 flat indices into Y), output_shape (optional; the output shape
// is static already). Y is zero except at the given indices.
std::string check_maxunpool(const ir::Node &n) {
  DType t = n.input(0)->dtype;
  if (!is_float_type(t) && !ir::dtype_is_integer(t)) return dtype_error(t);
  if (n.input(1)->dtype != DType::I64) return "indices must be int64";
  if (n.input(1)->numel() != n.input(0)->numel()) return "indices must have the shape of X";
  return "";
}

void emit_maxunpool(KernelContext &k) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  const ir::Node &n = k.node;
  if (y.nbytes() > 0) k.line("memset(y0, 0, {});", y.nbytes());
  if (x.numel() == 0 || y.numel() == 0) return;
  // The indices address a tensor of the default unpooled shape; an explicit
  // output_shape places the same coordinates into a (larger) output.
  size_t nd = x.rank() - 2;
  auto ks = n.attr_ints("kernel_shape");
  auto strides = n.attr_ints("strides", std::vector<int64_t>(nd, 1));
  auto pads = n.attr_ints("pads", std::vector<int64_t>(2 * nd, 0));
  if (ks.size() != nd || strides.size() != nd || pads.size() != 2 * nd)
    throw ir::CompileError(n, "kernel_shape/strides/pads have the wrong length");
  ir::Shape dflt(x.shape.begin(), x.shape.begin() + 2);
  for (size_t d = 0; d < nd; ++d) dflt.push_back((x.shape[d + 2] - 1) * strides[d] - pads[d] - pads[d + nd] + ks[d]);
  k.open("for (size_t i = 0; i < {}; ++i) {{", x.numel());
  if (dflt == y.shape) {
    k.line("const int64_t j = x1[i];");
    k.line("if (j >= 0 && j < {}) y0[j] = x0[i];", c_int_literal(DType::I64, y.numel()));
  } else {
    ir::Shape ds(dflt.begin() + 2, dflt.end()), os(y.shape.begin() + 2, y.shape.end());
    int64_t DS = ir::shape_numel(ds), OS = ir::shape_numel(os);
    std::vector<int64_t> dstr = strides_of(ds), ostr = strides_of(os);
    k.line("int64_t j = x1[i];");
    k.line("int64_t o;");
    k.line("if (j < 0 || j >= {}) continue;", c_int_literal(DType::I64, ir::shape_numel(dflt)));
    k.line("o = (j / {}) * {};", c_int_literal(DType::I64, DS), c_int_literal(DType::I64, OS));
    k.line("j %= {};", c_int_literal(DType::I64, DS));
    for (size_t d = 0; d < nd; ++d) {
      k.line("o += (j / {}) * {};", c_int_literal(DType::I64, dstr[d]), c_int_literal(DType::I64, ostr[d]));
      if (d + 1 < nd) k.line("j %= {};", c_int_literal(DType::I64, dstr[d]));
    }
    k.line("y0[o] = x0[i];");
  }
  k.close();
}

// ---------------------------------------------------------------- NHWC pools
// tmc_layout = "NHWC" (set by the layout-channels-last pass): float32
// x [N,H,W,C], y [N,OH,OW,C] (global pools: [N,1,1,C]); MaxPool without the
// indices output. Per output pixel and channel the taps are visited in the
// same order as the NCHW kernels (same results).
bool is_nhwc(const ir::Node &n) { return n.attr_string("tmc_layout", "") == "NHWC"; }

Geometry pool_nhwc_geometry(const ir::Node &n) {
  const ir::Value *x = n.input(0), *y = n.output(0);
  Geometry g;
  g.nd = 2;
  g.in = {x->shape[1], x->shape[2]};
  g.out = {y->shape[1], y->shape[2]};
  g.kernel = n.attr_ints("kernel_shape");
  if (g.kernel.size() != 2) throw ir::CompileError(n, "kernel_shape is missing or has the wrong length");
  window_strides_dilations(n, g);
  for (size_t d = 0; d < g.nd; ++d)
    if (g.kernel[d] < 1) throw ir::CompileError(n, "kernel_shape must be positive");
  window_pads(n, g);
  return g;
}

std::string check_pool_nhwc(const ir::Node &n) {
  const ir::Value *x = n.input(0), *y = n.output(0);
  if (x->dtype != DType::F32 || y->dtype != DType::F32) return "NHWC layout: only float32 is supported";
  if (x->rank() != 4 || y->rank() != 4 || x->shape[0] != y->shape[0] || x->shape[3] != y->shape[3])
    return "NHWC layout: only 2-D pooling";
  if (n.output(1)) return "NHWC layout: MaxPool indices are not supported";
  if (n.op == "MaxPool" || n.op == "AveragePool") pool_nhwc_geometry(n);
  else if (y->shape[1] != 1 || y->shape[2] != 1) return "global pool output must be 1x1";
  return "";
}

void emit_pool_nhwc(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  if (y.numel() == 0) return;
  bool is_max = n.op == "MaxPool" || n.op == "GlobalMaxPool";
  std::string init = is_max ? "(-INFINITY)" : "0.0f";
  if (n.op == "GlobalAveragePool" || n.op == "GlobalMaxPool") {
    int64_t S = H * W;
    k.open("for (size_t n = 0; n < {}; ++n) {{", N);
    k.open("for (size_t c = 0; c < {}; ++c) {{", C);
    k.line("const float *xc = x0 + n * {} + c;", S * C);
    k.line("float s = {};", init);
    if (is_max) k.line("for (size_t i = 0; i < {}; ++i) if (xc[i * {}] > s) s = xc[i * {}];", S, C, C);
    else k.line("for (size_t i = 0; i < {}; ++i) s += xc[i * {}];", S, C);
    k.line("y0[n * {} + c] = {};", C, is_max ? "s" : fmt::format("s / (float){}", S));
    k.close();
    k.close();
    return;
  }
  Geometry g = pool_nhwc_geometry(n);
  int64_t OH = y.shape[1], OW = y.shape[2];
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.line("const float *xn = x0 + n * {};", H * W * C);
  k.open("for (long o0 = 0; o0 < {}; ++o0) {{", OH);
  std::vector<Win> wins;
  wins.push_back(emit_window_range(k, 0, "o0", OH, g.stride[0], g.pad_begin[0], g.dil[0], g.kernel[0], H));
  k.open("for (long o1 = 0; o1 < {}; ++o1) {{", OW);
  wins.push_back(emit_window_range(k, 1, "o1", OW, g.stride[1], g.pad_begin[1], g.dil[1], g.kernel[1], W));
  k.line("float *yp = y0 + ((n * {} + (size_t)o0) * {} + (size_t)o1) * {};", OH, OW, C);
  if (!is_max) emit_avg_count(k, g, wins, n.attr_int("count_include_pad", 0) != 0, "float");
  k.open("for (size_t c = 0; c < {}; ++c) {{", C);
  k.line("float s = {};", init);
  k.open("for (long k0 = {}; k0 < {}; ++k0) {{", wins[0].lo, wins[0].hi);
  k.line("const float *xr = xn + ({}) * {} + c;", wins[0].coord("k0"), W * C);
  k.open("for (long k1 = {}; k1 < {}; ++k1) {{", wins[1].lo, wins[1].hi);
  k.line("const float v = xr[({}) * {}];", wins[1].coord("k1"), C);
  k.line(is_max ? "if (v > s) s = v;" : "s += v;");
  k.close();
  k.close();
  k.line("yp[c] = {};", is_max ? "s" : "s / cnt");
  k.close();
  k.close();
  k.close();
  k.close();
}

} // namespace

void register_pool_kernels(KernelRegistry &r) {
  r.add({"MaxPool", check_maxpool, emit_maxpool, nullptr});
  r.add({"AveragePool", check_float_pool, emit_averagepool, nullptr});
  r.add({"LpPool", check_float_pool, emit_lppool, nullptr});
  r.add({"GlobalAveragePool", check_global, [](KernelContext &k) { emit_global(k, "avg"); }, nullptr});
  r.add({"GlobalMaxPool", check_global, [](KernelContext &k) { emit_global(k, "max"); }, nullptr});
  r.add({"GlobalLpPool", check_global, [](KernelContext &k) { emit_global(k, "lp"); }, nullptr});
  r.add({"MaxUnpool", check_maxunpool, emit_maxunpool, nullptr});
}

} // namespace tmc::codegen
