// Kernel family: normalization. BatchNormalization (inference and training
// statistics), InstanceNormalization, LayerNormalization, LpNormalization,
// LRN, MeanVarianceNormalization.
//
// Statistics are computed in float (double for float64 tensors) with a
// two-pass mean/variance.
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/reduction.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool is_fp(DType t) { return ir::dtype_is_float(t); }

using FT = FloatCompute;
FT ft_of(DType dt) { return compute_type_of(dt); }
std::string fload(KernelContext &k, DType dt, const std::string &ptr, const std::string &idx) { return load_fc(k, dt, ptr, idx); }
std::string fstore(KernelContext &k, DType dt, const std::string &expr) { return store_fc(k, dt, expr); }
using ONI = OuterNInner;
ONI oni_of(const ir::Shape &s, int64_t axis) { return outer_n_inner(s, axis); }

std::string float_inputs(const ir::Node &n, size_t count) {
  for (size_t i = 0; i < count && i < n.inputs.size(); ++i) {
    const ir::Value *v = n.input(i);
    if (v && !is_fp(v->dtype)) return std::string("dtype ") + ir::dtype_name(v->dtype) + " is not supported";
  }
  return "";
}

/// Opens `for (size_t v = 0; v < n; ++v) {` (n > 0; callers return early on
/// empty tensors).
void open_for(KernelContext &k, const std::string &v, int64_t n) {
  k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v, n);
}

// ------------------------------------------------------- BatchNormalization

bool bn_training(const ir::Node &n) {
  if (n.opset >= 14) return n.attr_int("training_mode", 0) != 0;
  if (n.opset > 0 && n.opset <= 6 && n.attr_int("is_test", 0) != 0) return false;
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i]) return true;
  return false;
}

std::string check_bn(const ir::Node &n) {
  std::string r = float_inputs(n, 5);
  if (!r.empty()) return r;
  const ir::Value &x = *n.input(0);
  if (x.rank() < 2) return "input rank must be >= 2";
  for (size_t i = 1; i < 5; ++i)
    if (!n.input(i)) return "all five inputs are required";
  int64_t C = x.shape[1], S = x.numel() / std::max<int64_t>(1, x.shape[0] * C);
  for (size_t i = 1; i < 5; ++i) {
    int64_t ne = n.input(i)->numel();
    if (ne != C && !(ne == C * S && !bn_training(n))) return "parameter shapes are not supported";
  }
  return "";
}

void emit_bn(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  const ir::Node &n = k.node;
  float eps = n.attr_float("epsilon", 1e-5f);
  float mom = n.attr_float("momentum", 0.9f);
  int64_t N = x.shape[0], C = x.shape[1], S = 1;
  for (size_t d = 2; d < x.rank(); ++d) S *= x.shape[d];
  if (x.numel() == 0) return;
  DType ds = k.vin(1).dtype, db = k.vin(2).dtype, dm = k.vin(3).dtype, dv = k.vin(4).dtype;
  bool per_elem = k.vin(1).numel() != C; // spatial=0 (opset < 7): parameters per (c, s)
  bool training = bn_training(n);
  std::string E = ft.lit(eps);
  if (!training) {
    std::string pi = per_elem ? "c * " + std::to_string(S) + " + s" : "c";
    open_for(k, "nn", N);
    open_for(k, "c", C);
    k.line("const size_t base = (nn * {} + c) * {};", C, S);
    if (!per_elem) {
      k.line("const {} sc = {} / {}({} + {});", T, fload(k, ds, "x1", "c"), ft.f("sqrt"), fload(k, dv, "x4", "c"), E);
      k.line("const {} mu = {};", T, fload(k, dm, "x3", "c"));
      k.line("const {} bi = {};", T, fload(k, db, "x2", "c"));
    }
    open_for(k, "s", S);
    if (per_elem) {
      k.line("const {} sc = {} / {}({} + {});", T, fload(k, ds, "x1", pi), ft.f("sqrt"), fload(k, dv, "x4", pi), E);
      k.line("const {} mu = {};", T, fload(k, dm, "x3", pi));
      k.line("const {} bi = {};", T, fload(k, db, "x2", pi));
    }
    k.line("y0[base + s] = {};", fstore(k, dt, fmt::format("({} - mu) * sc + bi", fload(k, dt, "x0", "base + s"))));
    k.close();
    k.close();
    k.close();
    return;
  }
  // Training mode: batch statistics per channel over (N, spatial).
  int64_t cnt = N * S;
  DType dym = k.has_out(1) ? k.vout(1).dtype : dt, dyv = k.has_out(2) ? k.vout(2).dtype : dt;
  open_for(k, "c", C);
  k.line("{} mean = 0, var = 0;", T);
  k.line("{} sc, bi;", T);
  open_for(k, "nn", N);
  k.line("for (size_t s = 0; s < {}; ++s) mean += {};", S, fload(k, dt, "x0", fmt::format("(nn * {} + c) * {} + s", C, S)));
  k.close();
  k.line("mean = mean / {};", ft.lit((double)cnt));
  open_for(k, "nn", N);
  k.open("for (size_t s = 0; s < {}; ++s) {{", S);
  k.line("const {} dd = {} - mean;", T, fload(k, dt, "x0", fmt::format("(nn * {} + c) * {} + s", C, S)));
  k.line("var += dd * dd;");
  k.close();
  k.close();
  k.line("var = var / {};", ft.lit((double)cnt));
  k.line("sc = {} / {}(var + {});", fload(k, ds, "x1", "c"), ft.f("sqrt"), E);
  k.line("bi = {};", fload(k, db, "x2", "c"));
  open_for(k, "nn", N);
  k.open("for (size_t s = 0; s < {}; ++s) {{", S);
  k.line("const size_t j = (nn * {} + c) * {} + s;", C, S);
  k.line("y0[j] = {};", fstore(k, dt, fmt::format("({} - mean) * sc + bi", fload(k, dt, "x0", "j"))));
  k.close();
  k.close();
  std::string M = ft.lit(mom), M1 = ft.lit(1.0 - (double)mom);
  if (n.opset >= 14) {
    if (k.has_out(1))
      k.line("y1[c] = {};", fstore(k, dym, fmt::format("{} * {} + mean * {}", fload(k, dm, "x3", "c"), M, M1)));
    if (k.has_out(2))
      k.line("y2[c] = {};", fstore(k, dyv, fmt::format("{} * {} + var * {}", fload(k, dv, "x4", "c"), M, M1)));
  } else {
    if (k.has_out(1))
      k.line("y1[c] = {};", fstore(k, dym, fmt::format("{} * {} + mean * {}", fload(k, dm, "x3", "c"), M, M1)));
    if (k.has_out(2))
      k.line("y2[c] = {};", fstore(k, dyv, fmt::format("{} * {} + var * {}", fload(k, dv, "x4", "c"), M, M1)));
    if (k.num_out() > 3 && k.has_out(3)) k.line("y3[c] = {};", fstore(k, k.vout(3).dtype, "mean"));
    if (k.num_out() > 4 && k.has_out(4))
      k.line("y4[c] = {};", fstore(k, k.vout(4).dtype, fmt::format("1 / {}(var + {})", ft.f("sqrt"), E)));
  }
  k.close();
}

// --------------------------------------------------- InstanceNormalization

std::string check_in(const ir::Node &n) {
  std::string r = float_inputs(n, 3);
  if (!r.empty()) return r;
  const ir::Value &x = *n.input(0);
  if (x.rank() < 2) return "input rank must be >= 2";
  if (!n.input(1) || !n.input(2) || n.input(1)->numel() != x.shape[1] || n.input(2)->numel() != x.shape[1])
    return "scale and B must have C elements";
  return "";
}

void emit_in(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  float eps = k.node.attr_float("epsilon", 1e-5f);
  int64_t N = x.shape[0], C = x.shape[1], S = 1;
  for (size_t d = 2; d < x.rank(); ++d) S *= x.shape[d];
  if (x.numel() == 0) return;
  open_for(k, "nn", N);
  open_for(k, "c", C);
  k.line("const size_t base = (nn * {} + c) * {};", C, S);
  k.line("{} mean = 0, var = 0, sc;", T);
  k.line("for (size_t s = 0; s < {}; ++s) mean += {};", S, fload(k, dt, "x0", "base + s"));
  k.line("mean = mean / {};", ft.lit((double)S));
  k.open("for (size_t s = 0; s < {}; ++s) {{", S);
  k.line("const {} dd = {} - mean;", T, fload(k, dt, "x0", "base + s"));
  k.line("var += dd * dd;");
  k.close();
  k.line("var = var / {};", ft.lit((double)S));
  k.line("sc = {} / {}(var + {});", fload(k, k.vin(1).dtype, "x1", "c"), ft.f("sqrt"), ft.lit(eps));
  k.open("for (size_t s = 0; s < {}; ++s) {{", S);
  k.line("y0[base + s] = {};", fstore(k, dt, fmt::format("({} - mean) * sc + {}", fload(k, dt, "x0", "base + s"),
                                                         fload(k, k.vin(2).dtype, "x2", "c"))));
  k.close();
  k.close();
  k.close();
}

// ------------------------------------------------------- LayerNormalization

/// C expression indexing a parameter broadcast over the normalized region
/// [axis, rank) at position `r` (0..inner-1); "" if unsupported.
std::string ln_param_index(const ir::Shape &pshape, const ir::Shape &xshape, int64_t axis) {
  size_t rank = xshape.size();
  if (pshape.size() > rank) return "";
  auto bs = broadcast_strides(pshape, xshape);
  for (size_t d = 0; d < (size_t)axis; ++d)
    if (bs[d] != 0) return "";
  ir::Shape inner(xshape.begin() + axis, xshape.end());
  int64_t in_n = ir::shape_numel(inner);
  int64_t pn = ir::shape_numel(pshape);
  if (pn == in_n) return "r";
  if (pn == 1) return "0";
  auto is = strides_of(inner);
  std::string e;
  for (size_t d = 0; d < inner.size(); ++d) {
    int64_t st = bs[(size_t)axis + d];
    if (st == 0 || inner[d] == 1) continue;
    std::string t = is[d] == 1 ? "r" : fmt::format("(r / {})", is[d]);
    if (d > 0) t = fmt::format("({} % {})", t, inner[d]);
    e += fmt::format("{}{} * {}", e.empty() ? "" : " + ", t, st);
  }
  return e.empty() ? "0" : e;
}

int64_t ln_axis(const ir::Node &n) {
  return normalize_axis(n, n.attr_int("axis", -1), (int64_t)n.input(0)->rank());
}

std::string check_ln(const ir::Node &n) {
  std::string r = float_inputs(n, 3);
  if (!r.empty()) return r;
  const ir::Value &x = *n.input(0);
  if (x.rank() == 0) return "scalar input is not supported";
  int64_t axis = ln_axis(n);
  if (!n.input(1)) return "Scale is required";
  for (size_t i = 1; i < 3; ++i)
    if (n.input(i) && ln_param_index(n.input(i)->shape, x.shape, axis).empty())
      return "Scale/B shape is not supported";
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] && !is_fp(n.outputs[i]->dtype)) return "Mean/InvStdDev outputs must be floating point";
  return "";
}

void emit_ln(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  int64_t axis = ln_axis(k.node);
  float eps = k.node.attr_float("epsilon", 1e-5f);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < (int64_t)x.rank(); ++d) (d < axis ? outer : inner) *= x.shape[(size_t)d];
  if (x.numel() == 0) return;
  std::string si = ln_param_index(k.vin(1).shape, x.shape, axis);
  std::string bi = k.has_in(2) ? ln_param_index(k.vin(2).shape, x.shape, axis) : "";
  open_for(k, "o", outer);
  k.line("const size_t base = o * {};", inner);
  k.line("{} mean = 0, var = 0, inv;", T);
  k.line("for (size_t r = 0; r < {}; ++r) mean += {};", inner, fload(k, dt, "x0", "base + r"));
  k.line("mean = mean / {};", ft.lit((double)inner));
  k.open("for (size_t r = 0; r < {}; ++r) {{", inner);
  k.line("const {} dd = {} - mean;", T, fload(k, dt, "x0", "base + r"));
  k.line("var += dd * dd;");
  k.close();
  k.line("var = var / {};", ft.lit((double)inner));
  k.line("inv = 1 / {}(var + {});", ft.f("sqrt"), ft.lit(eps));
  k.open("for (size_t r = 0; r < {}; ++r) {{", inner);
  std::string e = fmt::format("({} - mean) * inv * {}", fload(k, dt, "x0", "base + r"), fload(k, k.vin(1).dtype, "x1", si));
  if (k.has_in(2)) e += " + " + fload(k, k.vin(2).dtype, "x2", bi);
  k.line("y0[base + r] = {};", fstore(k, dt, e));
  k.close();
  if (k.num_out() > 1 && k.has_out(1)) k.line("y1[o] = {};", fstore(k, k.vout(1).dtype, "mean"));
  if (k.num_out() > 2 && k.has_out(2)) k.line("y2[o] = {};", fstore(k, k.vout(2).dtype, "inv"));
  k.close();
}

// ------------------------------------------------------- LpNormalization

std::string check_lp(const ir::Node &n) {
  std::string r = float_inputs(n, 1);
  if (!r.empty()) return r;
  if (n.input(0)->rank() == 0) return "scalar input is not supported";
  normalize_axis(n, n.attr_int("axis", -1), (int64_t)n.input(0)->rank());
  int64_t p = n.attr_int("p", 2);
  if (p != 1 && p != 2) return "p must be 1 or 2";
  return "";
}

void emit_lp(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  int64_t axis = normalize_axis(k.node, k.node.attr_int("axis", -1), (int64_t)x.rank());
  int64_t p = k.node.attr_int("p", 2);
  if (x.numel() == 0) return;
  ONI o = oni_of(x.shape, axis);
  open_for(k, "pp", o.outer);
  open_for(k, "q", o.inner);
  k.line("const size_t base = pp * {} + q;", o.n * o.inner);
  k.line("{} nrm = 0;", T);
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  k.line("const {} v = {};", T, fload(k, dt, "x0", fmt::format("base + r * {}", o.inner)));
  k.line(p == 1 ? "nrm += {}(v);" : "nrm += v * v;", ft.f("fabs"));
  k.close();
  if (p == 2) k.line("nrm = {}(nrm);", ft.f("sqrt"));
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  k.line("const size_t j = base + r * {};", o.inner);
  k.line("y0[j] = {};", fstore(k, dt, fmt::format("{} / nrm", fload(k, dt, "x0", "j"))));
  k.close();
  k.close();
  k.close();
}

// ------------------------------------------------------------------- LRN

std::string check_lrn(const ir::Node &n) {
  std::string r = float_inputs(n, 1);
  if (!r.empty()) return r;
  if (n.input(0)->rank() < 2) return "input rank must be >= 2";
  if (!n.has_attr("size") || n.attr_int("size") < 1) return "attribute 'size' must be >= 1";
  return "";
}

void emit_lrn(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  int64_t size = k.node.attr_int("size");
  float alpha = k.node.attr_float("alpha", 1e-4f), beta = k.node.attr_float("beta", 0.75f);
  float bias = k.node.attr_float("bias", 1.0f);
  int64_t N = x.shape[0], C = x.shape[1], S = 1;
  for (size_t d = 2; d < x.rank(); ++d) S *= x.shape[d];
  if (x.numel() == 0) return;
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo; // floor and ceil of (size-1)/2
  open_for(k, "nn", N);
  open_for(k, "c", C);
  if (lo > 0) k.line("const size_t c0 = c >= {0} ? c - {0} : 0;", lo);
  else k.line("const size_t c0 = c;");
  k.line("const size_t c1 = c + {0} < {1} ? c + {0} : {2};", hi, C, C - 1);
  open_for(k, "s", S);
  k.line("const size_t j = (nn * {} + c) * {} + s;", C, S);
  k.line("{} sq = 0;", T);
  k.open("for (size_t cc = c0; cc <= c1; ++cc) {{");
  k.line("const {} v = {};", T, fload(k, dt, "x0", fmt::format("(nn * {} + cc) * {} + s", C, S)));
  k.line("sq += v * v;");
  k.close();
  k.line("y0[j] = {};", fstore(k, dt, fmt::format("{} / {}({} + {} * sq, {})", fload(k, dt, "x0", "j"), ft.f("pow"),
                                                  ft.lit(bias), ft.lit((double)alpha / (double)size), ft.lit(beta))));
  k.close();
  k.close();
  k.close();
}

// ---------------------------------------------- MeanVarianceNormalization

using Seg = LoopSegment;

/// Kept and reduced segments of `shape` (size-1 dims dropped, adjacent dims
/// of the same kind merged).
void split_segments(const ir::Shape &shape, const std::vector<bool> &mask, std::vector<Seg> &kept,
                    std::vector<Seg> &red) {
  ReductionPlan p = plan_reduction(shape, mask);
  kept = p.kept;
  red = p.red;
}

std::vector<int64_t> mvn_axes(const ir::Node &n) { return n.attr_ints("axes", {0, 2, 3}); }

std::string check_mvn(const ir::Node &n) {
  std::string r = float_inputs(n, 1);
  if (!r.empty()) return r;
  int64_t rank = (int64_t)n.input(0)->rank();
  for (int64_t a : mvn_axes(n)) normalize_axis(n, a, rank);
  return "";
}

void emit_mvn(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  int64_t rank = (int64_t)x.rank();
  if (x.numel() == 0) return;
  std::vector<bool> mask((size_t)rank, false);
  for (int64_t a : mvn_axes(k.node)) mask[(size_t)normalize_axis(k.node, a, rank)] = true;
  int64_t cnt = 1;
  for (size_t d = 0; d < (size_t)rank; ++d)
    if (mask[d]) cnt *= x.shape[d];
  std::vector<Seg> kept, red;
  split_segments(x.shape, mask, kept, red);
  // Outer loops.
  std::string be;
  int nb = 0;
  for (auto &s : kept) {
    std::string v = k.tmp("i");
    k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v, s.size);
    be += fmt::format("{}{} * {}", be.empty() ? "" : " + ", v, s.stride);
    ++nb;
  }
  if (!nb) {
    k.open("{{");
    nb = 1;
  }
  k.line("const size_t b = {};", be.empty() ? "0" : be);
  auto inner = [&](const std::function<void()> &body) {
    std::string e = "b";
    for (auto &s : red) {
      std::string v = k.tmp("r");
      k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v, s.size);
      e += fmt::format(" + {} * {}", v, s.stride);
    }
    if (red.empty()) k.open("{{");
    k.line("const size_t j = {};", e);
    body();
    for (size_t i = 0; i < std::max<size_t>(red.size(), 1); ++i) k.close();
  };
  k.line("{} mean = 0, var = 0, den;", T);
  inner([&] { k.line("mean += {};", fload(k, dt, "x0", "j")); });
  k.line("mean = mean / {};", ft.lit((double)cnt));
  inner([&] {
    k.line("const {} dd = {} - mean;", T, fload(k, dt, "x0", "j"));
    k.line("var += dd * dd;");
  });
  k.line("var = var / {};", ft.lit((double)cnt));
  k.line("den = {}(var) + {};", ft.f("sqrt"), ft.lit(1e-9));
  inner([&] { k.line("y0[j] = {};", fstore(k, dt, fmt::format("({} - mean) / den", fload(k, dt, "x0", "j")))); });
  for (int i = 0; i < nb; ++i) k.close();
}

} // namespace

void register_normalization_kernels(KernelRegistry &r) {
  r.add({"BatchNormalization", check_bn, emit_bn, nullptr});
  r.add({"InstanceNormalization", check_in, emit_in, nullptr});
  r.add({"LayerNormalization", check_ln, emit_ln, nullptr});
  r.add({"LpNormalization", check_lp, emit_lp, nullptr});
  r.add({"LRN", check_lrn, emit_lrn, nullptr});
  r.add({"MeanVarianceNormalization", check_mvn, emit_mvn, nullptr});
}

} // namespace tmc::codegen
