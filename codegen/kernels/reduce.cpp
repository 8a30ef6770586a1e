// Kernel family: reduce. Reduce* ops, ArgMax/ArgMin, Softmax/LogSoftmax/
// Hardmax, CumSum, TopK, NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss.
//
// Reductions with compile-time axes coalesce the input dimensions into kept
// and reduced segments and emit one loop nest per output element. Reduce ops
// whose axes come from a runtime input (ReduceSum since opset 13, all since 18)
// fall back to a generic kernel that decodes the axes at run time and
// accumulates into scratch.
#include <fmt/format.h>
#include <limits>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/reduction.h"

namespace tmc::codegen {
namespace {

using ir::DType;

// ---------------------------------------------------------------- dtype utils

bool is_fp(DType t) { return ir::dtype_is_float(t); }
bool is_unsigned_int(DType t) { return ir::dtype_is_integer(t) && !ir::dtype_is_signed(t); }

/// Floating compute type for a tensor of type `dt`: double for F64 and for
/// integers (used only by ops with transcendental math), float otherwise.
std::string numeric_only(const ir::Node &n, bool allow_int) {
  DType dt = n.input(0)->dtype;
  if (is_fp(dt)) return "";
  if (allow_int && (ir::dtype_is_integer(dt) || dt == DType::Bool)) return "";
  return std::string("dtype ") + ir::dtype_name(dt) + " is not supported";
}

std::string lowest_literal(DType dt) {
  switch (dt) {
  case DType::I8: return "(-128)";
  case DType::I16: return "(-32768)";
  case DType::I32: return c_int_literal(dt, std::numeric_limits<int32_t>::min());
  case DType::I64: return c_int_literal(dt, std::numeric_limits<int64_t>::min());
  default: return "0";
  }
}
std::string highest_literal(DType dt) {
  switch (dt) {
  case DType::I8: return "127";
  case DType::I16: return "32767";
  case DType::I32: return "2147483647";
  case DType::I64: return c_int_literal(dt, std::numeric_limits<int64_t>::max());
  case DType::U8: case DType::Bool: return "255";
  case DType::U16: return "65535";
  case DType::U32: return "4294967295u";
  case DType::U64: return c_int_literal(dt, -1);
  default: return "0";
  }
}

// ------------------------------------------------------- reduction loop plan

using FT = FloatCompute;
using Seg = LoopSegment;
using RedPlan = ReductionPlan;
using ONI = OuterNInner;
FT ft_of(DType dt) { return compute_type_of(dt); }
std::string fload(KernelContext &k, DType dt, const std::string &ptr, const std::string &idx) { return load_fc(k, dt, ptr, idx); }
std::string fstore(KernelContext &k, DType dt, const std::string &expr) { return store_fc(k, dt, expr); }
ONI oni_of(const ir::Shape &s, int64_t axis, bool to_end = false) { return outer_n_inner(s, axis, to_end); }

/// Opens the loops over the kept segments and defines `base` (input offset
/// of the first reduced element). Close with close_n(k, returned count).
int open_kept(KernelContext &k, const RedPlan &p, const std::string &base) {
  if (p.kept.empty()) {
    k.open("{{");
    k.line("const size_t {} = 0;", base);
    return 1;
  }
  std::string e;
  for (auto &s : p.kept) {
    std::string v = k.tmp("i");
    k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v, s.size);
    e += fmt::format("{}{} * {}", e.empty() ? "" : " + ", v, s.stride);
  }
  k.line("const size_t {} = {};", base, e);
  return (int)p.kept.size();
}

void close_n(KernelContext &k, int n) {
  for (int i = 0; i < n; ++i) k.close();
}

/// Loops over the reduced segments; `body` sees the element offset in `idx`.
void red_loop(KernelContext &k, const RedPlan &p, const std::string &base, const std::string &idx,
              const std::function<void()> &body) {
  if (p.red.empty()) {
    k.open("{{");
    k.line("const size_t {} = {};", idx, base);
    body();
    k.close();
    return;
  }
  std::string e = base;
  for (auto &s : p.red) {
    std::string v = k.tmp("r");
    k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v, s.size);
    e += fmt::format(" + {} * {}", v, s.stride);
  }
  k.line("const size_t {} = {};", idx, e);
  body();
  close_n(k, (int)p.red.size());
}

/// outer x n x inner decomposition around `axis` (inner is 1 when `to_end`).
/// Opens loops over outer and inner and defines `base` = offset of element 0
/// along the axis. Returns the number of blocks to close.
int open_oni(KernelContext &k, const ONI &o, const std::string &base) {
  std::string p, q;
  int opened = 0;
  if (o.outer > 1) {
    p = k.tmp("p");
    k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", p, o.outer);
    ++opened;
  }
  if (o.inner > 1) {
    q = k.tmp("q");
    k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", q, o.inner);
    ++opened;
  }
  if (!opened) {
    k.open("{{");
    opened = 1;
  }
  std::string e;
  if (!p.empty()) e = fmt::format("{} * {}", p, o.n * o.inner);
  if (!q.empty()) e += (e.empty() ? "" : " + ") + q;
  if (e.empty()) e = "0";
  k.line("const size_t {} = {};", base, e);
  return opened;
}

// ------------------------------------------------------------ Reduce* family

enum class RK { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

struct AxesInfo {
  bool runtime = false;      ///< axes come from a non-constant input
  std::vector<bool> mask;    ///< per input dim (compile-time axes)
  int64_t runtime_count = 0; ///< number of runtime axes
};

AxesInfo reduce_axes(const ir::Node &n) {
  AxesInfo ai;
  const ir::Value &x = *n.input(0);
  int64_t rank = (int64_t)x.rank();
  std::vector<int64_t> axes;
  bool have = false;
  if (n.has_attr("axes")) {
    axes = n.attr_ints("axes");
    have = !axes.empty();
  } else if (const ir::Value *a = n.input(1)) {
    if (a->is_constant()) {
      axes = a->int_values();
      have = !axes.empty();
    } else if (a->numel() > 0 && rank > 0) {
      ai.runtime = true;
      ai.runtime_count = a->numel();
      return ai;
    }
  }
  bool noop = n.attr_int("noop_with_empty_axes", 0) != 0;
  ai.mask.assign((size_t)rank, !have && !noop);
  if (have)
    for (int64_t a : axes) ai.mask[(size_t)normalize_axis(n, a, rank)] = true;
  return ai;
}

bool reduce_int_native(RK op) {
  return op == RK::Sum || op == RK::Mean || op == RK::Prod || op == RK::SumSquare || op == RK::L1 ||
         op == RK::Max || op == RK::Min;
}

/// Accumulator type and expressions for one reduce op on dtype `dt`.
struct RedMath {
  std::string acc_t;  ///< C type of the accumulator and of each loaded value
  bool fp = true;     ///< floating accumulator
  bool dbl = false;
  std::string init;
};

RedMath red_math(RK op, DType dt) {
  RedMath m;
  if (ir::dtype_is_integer(dt) || dt == DType::Bool) {
    if (reduce_int_native(op)) {
      m.fp = false;
      if (op == RK::Max || op == RK::Min) m.acc_t = ir::dtype_ctype(dt);
      else m.acc_t = is_unsigned_int(dt) || dt == DType::Bool ? "uint64_t" : "int64_t";
    } else {
      m.dbl = true;
      m.acc_t = "double";
    }
  } else {
    m.dbl = dt == DType::F64;
    m.acc_t = m.dbl ? "double" : "float";
  }
  FT ft{m.dbl};
  switch (op) {
  case RK::Prod: m.init = m.fp ? ft.lit(1.0) : "1"; break;
  case RK::Max: m.init = m.fp ? "(-INFINITY)" : lowest_literal(dt); break;
  case RK::Min: m.init = m.fp ? "INFINITY" : highest_literal(dt); break;
  case RK::LogSumExp: m.init = "(-INFINITY)"; break;
  default: m.init = m.fp ? ft.lit(0.0) : "0"; break;
  }
  return m;
}

std::string red_load(KernelContext &k, const RedMath &m, DType dt, const std::string &idx) {
  if (!m.fp) {
    if (m.acc_t == ir::dtype_ctype(dt)) return fmt::format("x0[{}]", idx);
    return fmt::format("({})x0[{}]", m.acc_t, idx);
  }
  return fload(k, dt, "x0", idx);
}

/// Statement(s) accumulating `v` into `a` (LogSumExp: the max pass).
void red_update(KernelContext &k, RK op, const RedMath &m, DType dt, const std::string &a, const std::string &v) {
  FT ft{m.dbl};
  switch (op) {
  case RK::Sum: case RK::Mean: case RK::LogSum: k.line("{} += {};", a, v); break;
  case RK::Prod: k.line("{} *= {};", a, v); break;
  case RK::SumSquare: case RK::L2: k.line("{} += {} * {};", a, v, v); break;
  case RK::L1:
    if (m.fp) k.line("{} += {}({});", a, ft.f("fabs"), v);
    else if (is_unsigned_int(dt) || dt == DType::Bool) k.line("{} += {};", a, v);
    else k.line("{} += {} < 0 ? -{} : {};", a, v, v, v);
    break;
  case RK::Max: case RK::LogSumExp:
    if (m.fp) k.line("if ({1} > {0} || isnan({1})) {0} = {1};", a, v);
    else k.line("if ({1} > {0}) {0} = {1};", a, v);
    break;
  case RK::Min:
    if (m.fp) k.line("if ({1} < {0} || isnan({1})) {0} = {1};", a, v);
    else k.line("if ({1} < {0}) {0} = {1};", a, v);
    break;
  }
}

/// Final value from accumulator `a` (and max `mx` for LogSumExp).
std::string red_final(RK op, const RedMath &m, const std::string &a, const std::string &mx, int64_t count) {
  FT ft{m.dbl};
  switch (op) {
  case RK::Mean:
    if (m.fp) return fmt::format("{} / {}", a, ft.lit((double)count));
    return fmt::format("{} / ({}){}", a, m.acc_t, count);
  case RK::L2: return fmt::format("{}({})", ft.f("sqrt"), a);
  case RK::LogSum: return fmt::format("{}({})", ft.f("log"), a);
  case RK::LogSumExp:
    return fmt::format("(isinf({1}) ? {1} : {1} + {0}({2}))", ft.f("log"), mx, a);
  default: return a;
  }
}

std::string red_store(KernelContext &k, const RedMath &m, DType dt, const std::string &expr) {
  if (!m.fp) return fmt::format("({})({})", ir::dtype_ctype(dt), expr);
  return fstore(k, dt, expr);
}

std::string check_reduce(const ir::Node &n, RK op) {
  std::string r = numeric_only(n, true);
  if (!r.empty()) return r;
  if (n.input(0)->dtype == DType::Bool && op != RK::Max && op != RK::Min)
    return "bool input is only supported for ReduceMax/ReduceMin";
  AxesInfo ai = reduce_axes(n); // validates axis values
  (void)ai;
  return "";
}

/// Runtime-axes kernels accumulate straight into the output when the
/// accumulator has the output's type and needs no post-processing.
bool reduce_in_place(RK op, const RedMath &m, DType ydt) {
  return m.acc_t == ir::dtype_ctype(ydt) && op != RK::LogSumExp && op != RK::Mean && op != RK::L2 &&
         op != RK::LogSum;
}

int64_t reduce_scratch(const ir::Node &n, RK op) {
  AxesInfo ai = reduce_axes(n);
  if (!ai.runtime) return 0;
  const ir::Value &y = *n.output(0);
  RedMath m = red_math(op, n.input(0)->dtype);
  if (reduce_in_place(op, m, y.dtype)) return 0;
  int64_t esz = m.acc_t == "float" ? 4 : m.acc_t == "double" || m.acc_t == "int64_t" || m.acc_t == "uint64_t"
                                             ? 8
                                             : (int64_t)ir::dtype_size(n.input(0)->dtype);
  return y.numel() * esz * (op == RK::LogSumExp ? 2 : 1);
}

void emit_reduce_runtime(KernelContext &k, RK op, const AxesInfo &ai) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  DType dt = x.dtype;
  RedMath m = red_math(op, dt);
  int64_t R = (int64_t)x.rank(), NO = y.numel(), NI = x.numel();
  std::string shp;
  for (auto d : x.shape) shp += (shp.empty() ? "" : ", ") + std::to_string(d);
  k.line("static const size_t sh[{}] = {{{}}};", R, shp);
  k.line("unsigned char rm[{}];", R);
  k.line("size_t os[{}];", R);
  k.line("size_t d, s = 1, o, j = 0;");
  bool in_place = reduce_in_place(op, m, y.dtype);
  if (in_place) k.line("{} *acc = y0;", m.acc_t);
  else k.line("{} *acc = ({} *)scratch;", m.acc_t, m.acc_t);
  if (op == RK::LogSumExp) k.line("{} *mx = acc + {};", m.acc_t, NO);
  k.line("for (d = 0; d < {}; ++d) rm[d] = 0;", R);
  k.open("for (d = 0; d < {}; ++d) {{", ai.runtime_count);
  k.line("int64_t ax = (int64_t)x1[d];");
  k.line("if (ax < 0) ax += {};", R);
  k.line("if (ax >= 0 && ax < {}) rm[ax] = 1;", R);
  k.close();
  k.open("for (d = {}; d-- > 0;) {{", R);
  k.line("if (rm[d]) {{ os[d] = 0; }} else {{ os[d] = s; s *= sh[d]; }}");
  k.close();
  k.open("if (s != {}) {{", NO);
  if (NO > 0) k.line("memset(y0, 0, {});", y.nbytes());
  k.line("return;");
  k.close();
  if (NO == 0) return;
  int64_t count = NO > 0 ? NI / NO : 0;
  auto loops = [&](const std::function<void()> &body) {
    std::string e;
    for (int64_t dd = 0; dd < R; ++dd) {
      k.open("for (size_t i{0} = 0; i{0} < {1}; ++i{0}) {{", dd, x.shape[(size_t)dd]);
      e += fmt::format("{}i{} * os[{}]", e.empty() ? "" : " + ", dd, dd);
    }
    k.line("o = {};", e);
    body();
    k.line("++j;");
    close_n(k, (int)R);
  };
  if (op == RK::LogSumExp) {
    k.line("for (o = 0; o < {}; ++o) {{ mx[o] = -INFINITY; acc[o] = 0; }}", NO);
    if (NI > 0) {
      loops([&] {
        k.line("const {} v = {};", m.acc_t, red_load(k, m, dt, "j"));
        red_update(k, RK::Max, m, dt, "mx[o]", "v");
      });
      k.line("j = 0;");
      FT ft{m.dbl};
      loops([&] {
        k.line("const {} v = {};", m.acc_t, red_load(k, m, dt, "j"));
        k.line("acc[o] += {}(v - mx[o]);", ft.f("exp"));
      });
    }
  } else {
    k.line("for (o = 0; o < {}; ++o) acc[o] = {};", NO, m.init);
    if (NI > 0)
      loops([&] {
        k.line("const {} v = {};", m.acc_t, red_load(k, m, dt, "j"));
        red_update(k, op, m, dt, "acc[o]", "v");
      });
  }
  k.line("(void)j;");
  if (in_place) return;
  k.open("for (o = 0; o < {}; ++o) {{", NO);
  k.line("y0[o] = {};", red_store(k, m, dt, red_final(op, m, "acc[o]", "mx[o]", count)));
  k.close();
}

void emit_reduce(KernelContext &k, RK op) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  DType dt = x.dtype;
  AxesInfo ai = reduce_axes(k.node);
  if (y.numel() == 0) return;
  if (ai.runtime) {
    emit_reduce_runtime(k, op, ai);
    return;
  }
  RedMath m = red_math(op, dt);
  RedPlan p = plan_reduction(x.shape, ai.mask);
  if (p.n_out != y.numel())
    throw ir::CompileError(k.node, fmt::format("output has {} elements, expected {}", y.numel(), p.n_out));
  if (p.n_red == 0) {
    // Reduction over an empty set: every output is the identity.
    std::string e = red_store(k, m, dt, red_final(op, m, m.init, "(-INFINITY)", 0));
    if (op == RK::LogSumExp) e = red_store(k, m, dt, "-INFINITY");
    if (op == RK::Mean) e = red_store(k, m, dt, m.fp ? "NAN" : "0");
    k.line("for (size_t o = 0; o < {}; ++o) y0[o] = {};", p.n_out, e);
    return;
  }
  k.line("size_t o = 0;");
  int nk = open_kept(k, p, "b");
  std::string mx;
  if (op == RK::LogSumExp) {
    mx = "m";
    k.line("{} m = -INFINITY;", m.acc_t);
    red_loop(k, p, "b", "j", [&] {
      k.line("const {} v = {};", m.acc_t, red_load(k, m, dt, "j"));
      red_update(k, RK::Max, m, dt, "m", "v");
    });
    k.line("{} a = 0;", m.acc_t);
    FT ft{m.dbl};
    red_loop(k, p, "b", "j", [&] {
      k.line("a += {}({} - m);", ft.f("exp"), red_load(k, m, dt, "j"));
    });
  } else {
    k.line("{} a = {};", m.acc_t, m.init);
    red_loop(k, p, "b", "j", [&] {
      k.line("const {} v = {};", m.acc_t, red_load(k, m, dt, "j"));
      red_update(k, op, m, dt, "a", "v");
    });
  }
  k.line("y0[o] = {};", red_store(k, m, dt, red_final(op, m, "a", mx, p.n_red)));
  k.line("++o;");
  close_n(k, nk);
}

// ------------------------------------------------------------ ArgMax/ArgMin

void emit_arg(KernelContext &k, bool is_max) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  DType dt = x.dtype;
  int64_t rank = (int64_t)x.rank();
  int64_t axis = normalize_axis(k.node, k.node.attr_int("axis", 0), rank);
  bool last = k.node.attr_int("select_last_index", 0) != 0;
  if (y.numel() == 0) return;
  ONI o = oni_of(x.shape, axis);
  if (o.n == 1) {
    k.line("for (size_t o = 0; o < {}; ++o) y0[o] = 0;", y.numel());
    return;
  }
  std::string vt = is_fp(dt) ? FT{dt == DType::F64}.t() : ir::dtype_ctype(dt);
  auto ld = [&](const std::string &i) {
    return is_fp(dt) ? fload(k, dt, "x0", i) : fmt::format("x0[{}]", i);
  };
  std::string cmp = is_max ? (last ? ">=" : ">") : (last ? "<=" : "<");
  k.line("size_t o = 0;");
  int nb = open_oni(k, o, "b");
  k.line("{} best = {};", vt, ld("b"));
  k.line("int64_t bi = 0;");
  k.open("for (size_t r = 1; r < {}; ++r) {{", o.n);
  k.line("const {} v = {};", vt, ld(o.inner == 1 ? "b + r" : fmt::format("b + r * {}", o.inner)));
  k.line("if (v {} best) {{ best = v; bi = (int64_t)r; }}", cmp);
  k.close();
  k.line("y0[o] = bi;");
  k.line("++o;");
  close_n(k, nb);
}

// ------------------------------------------------ Softmax/LogSoftmax/Hardmax

enum class SM { Softmax, LogSoftmax, Hardmax };

ONI softmax_oni(const ir::Node &n) {
  const ir::Value &x = *n.input(0);
  int64_t rank = (int64_t)x.rank();
  bool old = n.opset > 0 && n.opset < 13;
  int64_t axis = n.attr_int("axis", old ? 1 : -1);
  if (rank == 0) return ONI{};
  int64_t a = normalize_axis(n, axis, rank);
  return oni_of(x.shape, a, old);
}

void emit_softmax(KernelContext &k, SM kind) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  if (x.numel() == 0) return;
  FT ft = ft_of(dt);
  ONI o = softmax_oni(k.node);
  std::string T = ft.t();
  auto at = [&](const std::string &r) {
    return o.inner == 1 ? fmt::format("b + {}", r) : fmt::format("b + {} * {}", r, o.inner);
  };
  int nb = open_oni(k, o, "b");
  if (kind == SM::Hardmax) {
    k.line("{} mx = {};", T, fload(k, dt, "x0", "b"));
    k.line("size_t bj = b;");
    k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
    k.line("const size_t j = {};", at("r"));
    k.line("const {} v = {};", T, fload(k, dt, "x0", "j"));
    k.line("if (v > mx) {{ mx = v; bj = j; }}");
    k.line("y0[j] = {};", fstore(k, dt, ft.lit(0.0)));
    k.close();
    k.line("y0[bj] = {};", fstore(k, dt, ft.lit(1.0)));
    close_n(k, nb);
    return;
  }
  k.line("{} mx = -INFINITY;", T);
  k.line("{} s = 0;", T);
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  k.line("const {} v = {};", T, fload(k, dt, "x0", at("r")));
  k.line("if (v > mx) mx = v;");
  k.close();
  bool direct = kind == SM::Softmax && (dt == DType::F32 || dt == DType::F64);
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  if (direct) {
    k.line("const size_t j = {};", at("r"));
    k.line("const {} e = {}(x0[j] - mx);", T, ft.f("exp"));
    k.line("y0[j] = e;");
    k.line("s += e;");
  } else {
    k.line("s += {}({} - mx);", ft.f("exp"), fload(k, dt, "x0", at("r")));
  }
  k.close();
  if (kind == SM::LogSoftmax) k.line("s = {}(s);", ft.f("log"));
  if (direct) k.line("const {} inv = {} / s;", T, ft.lit(1.0));
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  k.line("const size_t j = {};", at("r"));
  if (direct) k.line("y0[j] = y0[j] * inv;");
  else if (kind == SM::Softmax) k.line("y0[j] = {};", fstore(k, dt, fmt::format("{}({} - mx) / s", ft.f("exp"), fload(k, dt, "x0", "j"))));
  else k.line("y0[j] = {};", fstore(k, dt, fmt::format("({} - mx) - s", fload(k, dt, "x0", "j"))));
  k.close();
  close_n(k, nb);
}

// ---------------------------------------------------------------- CumSum

void emit_cumsum_axis(KernelContext &k, int64_t axis) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  bool excl = k.node.attr_int("exclusive", 0) != 0, rev = k.node.attr_int("reverse", 0) != 0;
  ONI o = oni_of(x.shape, axis);
  std::string at = is_fp(dt) ? FT{dt == DType::F64}.t()
                             : (is_unsigned_int(dt) ? "uint64_t" : "int64_t");
  int nb = open_oni(k, o, "b");
  k.line("{} a = 0;", at);
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  std::string pos = rev ? fmt::format("({} - r)", o.n - 1) : "r";
  k.line("const size_t j = b + {}{};", pos, o.inner == 1 ? "" : fmt::format(" * {}", o.inner));
  std::string v = is_fp(dt) ? fload(k, dt, "x0", "j") : fmt::format("({})x0[j]", at);
  auto st = [&](const std::string &e) { return is_fp(dt) ? fstore(k, dt, e) : fmt::format("({}){}", ir::dtype_ctype(dt), e); };
  if (excl) {
    k.line("const {} v = {};", at, v);
    k.line("y0[j] = {};", st("a"));
    k.line("a += v;");
  } else {
    k.line("a += {};", v);
    k.line("y0[j] = {};", st("a"));
  }
  k.close();
  close_n(k, nb);
}

void emit_cumsum(KernelContext &k) {
  const ir::Value &x = k.vin(0);
  int64_t rank = (int64_t)x.rank();
  if (x.numel() == 0) return;
  const ir::Value &ax = k.vin(1);
  if (ax.is_constant()) {
    emit_cumsum_axis(k, normalize_axis(k.node, ax.int_at(0), rank));
    return;
  }
  k.line("int64_t ax = (int64_t)x1[0];");
  k.line("if (ax < 0) ax += {};", rank);
  k.open("switch (ax) {{");
  for (int64_t a = 0; a < rank; ++a) {
    k.open("case {}: {{", a);
    emit_cumsum_axis(k, a);
    k.line("break;");
    k.close();
  }
  k.line("default: memset(y0, 0, {}); break;", x.nbytes());
  k.close();
}

std::string check_cumsum(const ir::Node &n) {
  std::string r = numeric_only(n, true);
  if (!r.empty()) return r;
  if (n.input(0)->dtype == DType::Bool) return "bool is not supported";
  if (n.input(0)->rank() == 0) return "scalar input is not supported";
  if (n.input(1)->is_constant()) normalize_axis(n, n.input(1)->int_at(0), (int64_t)n.input(0)->rank());
  return "";
}

// ---------------------------------------------------------------- TopK

void emit_topk(KernelContext &k) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  DType dt = x.dtype;
  int64_t rank = (int64_t)x.rank();
  int64_t axis = normalize_axis(k.node, k.node.attr_int("axis", -1), rank);
  bool largest = k.node.attr_int("largest", 1) != 0;
  int64_t K = y.shape[(size_t)axis];
  if (K == 0 || y.numel() == 0) return;
  ONI o = oni_of(x.shape, axis);
  std::string vt = is_fp(dt) ? FT{dt == DType::F64}.t() : ir::dtype_ctype(dt);
  auto ld = [&](const std::string &i) { return is_fp(dt) ? fload(k, dt, "x0", i) : fmt::format("x0[{}]", i); };
  std::string in_st = o.inner == 1 ? "" : fmt::format(" * {}", o.inner);
  // Output loops (outer x inner), input base b, output base ob.
  std::string p, q;
  int nb = 0;
  if (o.outer > 1) { p = k.tmp("p"); k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", p, o.outer); ++nb; }
  if (o.inner > 1) { q = k.tmp("q"); k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", q, o.inner); ++nb; }
  if (!nb) { k.open("{{"); nb = 1; }
  auto base = [&](int64_t n) {
    std::string e;
    if (!p.empty()) e = fmt::format("{} * {}", p, n * o.inner);
    if (!q.empty()) e += (e.empty() ? "" : " + ") + q;
    return e.empty() ? std::string("0") : e;
  };
  k.line("const size_t b = {};", base(o.n));
  k.line("const size_t ob = {};", base(K));
  k.line("size_t cnt = 0;");
  k.open("for (size_t r = 0; r < {}; ++r) {{", o.n);
  k.line("const {} v = {};", vt, ld("b + r" + in_st));
  k.line("size_t pos = cnt;");
  k.open("while (pos > 0) {{");
  k.line("const {} w = {};", vt, ld(fmt::format("b + (size_t)y1[ob + (pos - 1){}]{}", in_st, in_st)));
  k.line("if (!(v {} w)) break;", largest ? ">" : "<");
  k.line("--pos;");
  k.close();
  k.open("if (pos < {}) {{", K);
  k.line("size_t t = cnt < {0} ? cnt : {1};", K, K - 1);
  k.line("for (; t > pos; --t) y1[ob + t{0}] = y1[ob + (t - 1){0}];", in_st);
  k.line("y1[ob + pos{}] = (int64_t)r;", in_st);
  k.line("if (cnt < {}) ++cnt;", K);
  k.close();
  k.close();
  k.line("for (size_t t = 0; t < {0}; ++t) y0[ob + t{1}] = x0[b + (size_t)y1[ob + t{1}]{1}];", K, in_st);
  close_n(k, nb);
}

std::string check_topk(const ir::Node &n) {
  std::string r = numeric_only(n, true);
  if (!r.empty()) return r;
  const ir::Value &x = *n.input(0);
  if (x.rank() == 0) return "scalar input is not supported";
  int64_t axis = normalize_axis(n, n.attr_int("axis", -1), (int64_t)x.rank());
  if (!n.output(0) || !n.output(1)) return "both outputs must be present";
  if (n.output(0)->rank() != x.rank() || n.output(0)->shape[(size_t)axis] > x.shape[(size_t)axis])
    return "output shape does not match the input";
  if (n.input(1) && n.input(1)->is_constant() && n.input(1)->numel() == 1 &&
      n.input(1)->int_at(0) != n.output(0)->shape[(size_t)axis])
    return "K does not match the output shape";
  return "";
}

// ------------------------------------- NegativeLogLikelihoodLoss and SCE

void emit_loss(KernelContext &k, bool sce) {
  const ir::Value &x = k.vin(0);
  DType dt = x.dtype;
  FT ft = ft_of(dt);
  std::string T = ft.t();
  std::string red = k.node.attr_string("reduction", "mean");
  bool has_w = k.has_in(2);
  bool has_ii = k.node.has_attr("ignore_index");
  int64_t ii = k.node.attr_int("ignore_index", 0);
  int64_t N = x.shape[0], C = x.shape[1];
  int64_t D = 1;
  for (size_t d = 2; d < x.rank(); ++d) D *= x.shape[d];
  bool logp = sce && k.num_out() > 1 && k.has_out(1);
  if (red != "none") {
    k.line("{} s = 0, ws = 0;", T);
  }
  if (x.numel() == 0 && red == "none") return;
  if (N * D > 0) {
    k.open("for (size_t n = 0; n < {}; ++n) {{", N);
    k.open("for (size_t d = 0; d < {}; ++d) {{", D);
    k.line("const size_t xb = n * {} + d;", C * D);
    k.line("const int64_t tg = (int64_t)x1[n * {} + d];", D);
    if (sce) {
      k.line("{} mx = -INFINITY, se = 0;", T);
      k.open("for (size_t c = 0; c < {}; ++c) {{", C);
      k.line("const {} v = {};", T, fload(k, dt, "x0", fmt::format("xb + c * {}", D)));
      k.line("if (v > mx) mx = v;");
      k.close();
      k.line("for (size_t c = 0; c < {}; ++c) se += {}({} - mx);", C, ft.f("exp"),
             fload(k, dt, "x0", fmt::format("xb + c * {}", D)));
      k.line("se = {}(se);", ft.f("log"));
      if (logp)
        k.line("for (size_t c = 0; c < {0}; ++c) y1[xb + c * {1}] = {2};", C, D,
               fstore(k, dt, fmt::format("({} - mx) - se", fload(k, dt, "x0", fmt::format("xb + c * {}", D)))));
    }
    std::string cond = fmt::format("tg < 0 || tg >= {}", C);
    if (has_ii) cond = fmt::format("tg == {} || ", c_int_literal(DType::I64, ii)) + cond;
    if (red == "none") {
      k.open("if ({}) {{", cond);
      k.line("y0[n * {} + d] = {};", D, fstore(k, dt, ft.lit(0.0)));
      k.close();
      k.open("else {{");
    } else {
      k.open("if (!({})) {{", cond);
    }
    std::string w = has_w ? fload(k, k.vin(2).dtype, "x2", "tg") : ft.lit(1.0);
    std::string v = fload(k, dt, "x0", fmt::format("xb + (size_t)tg * {}", D));
    if (sce) v = fmt::format("(({} - mx) - se)", v);
    k.line("const {} w = {};", T, w);
    if (red == "none") {
      k.line("y0[n * {} + d] = {};", D, fstore(k, dt, fmt::format("-{} * w", v)));
    } else {
      k.line("s -= {} * w;", v);
      k.line("ws += w;");
    }
    k.close();
    k.close();
    k.close();
  }
  if (red == "sum") k.line("y0[0] = {};", fstore(k, dt, "s"));
  else if (red == "mean") k.line("y0[0] = {};", fstore(k, dt, "s / ws"));
  if (red != "none") k.line("(void)ws;");
}

std::string check_loss(const ir::Node &n) {
  DType dt = n.input(0)->dtype;
  if (!is_fp(dt)) return std::string("dtype ") + ir::dtype_name(dt) + " is not supported";
  if (n.input(0)->rank() < 2) return "input must have rank >= 2";
  std::string red = n.attr_string("reduction", "mean");
  if (red != "none" && red != "sum" && red != "mean") return "reduction '" + red + "' is not supported";
  if (n.input(2) && !is_fp(n.input(2)->dtype)) return "weights must be floating point";
  return "";
}

} // namespace

void register_reduce_kernels(KernelRegistry &r) {
  struct R {
    const char *op;
    RK kind;
  };
  static const R reds[] = {{"ReduceSum", RK::Sum},         {"ReduceMean", RK::Mean},
                           {"ReduceMax", RK::Max},         {"ReduceMin", RK::Min},
                           {"ReduceProd", RK::Prod},       {"ReduceL1", RK::L1},
                           {"ReduceL2", RK::L2},           {"ReduceLogSum", RK::LogSum},
                           {"ReduceLogSumExp", RK::LogSumExp}, {"ReduceSumSquare", RK::SumSquare}};
  for (const R &d : reds) {
    RK op = d.kind;
    r.add({d.op, [op](const ir::Node &n) { return check_reduce(n, op); },
           [op](KernelContext &k) { emit_reduce(k, op); },
           [op](const ir::Node &n) { return reduce_scratch(n, op); }});
  }
  auto arg_check = [](const ir::Node &n) {
    std::string s = numeric_only(n, true);
    if (!s.empty()) return s;
    const ir::Value &x = *n.input(0);
    if (x.rank() == 0) return std::string("scalar input is not supported");
    int64_t a = normalize_axis(n, n.attr_int("axis", 0), (int64_t)x.rank());
    if (x.shape[(size_t)a] == 0) return std::string("reduction over an empty axis");
    return std::string();
  };
  r.add({"ArgMax", arg_check, [](KernelContext &k) { emit_arg(k, true); }, nullptr});
  r.add({"ArgMin", arg_check, [](KernelContext &k) { emit_arg(k, false); }, nullptr});
  auto sm_check = [](const ir::Node &n) {
    std::string s = numeric_only(n, false);
    if (!s.empty()) return s;
    softmax_oni(n);
    return std::string();
  };
  r.add({"Softmax", sm_check, [](KernelContext &k) { emit_softmax(k, SM::Softmax); }, nullptr});
  r.add({"LogSoftmax", sm_check, [](KernelContext &k) { emit_softmax(k, SM::LogSoftmax); }, nullptr});
  r.add({"Hardmax", sm_check, [](KernelContext &k) { emit_softmax(k, SM::Hardmax); }, nullptr});
  r.add({"CumSum", check_cumsum, emit_cumsum, nullptr});
  r.add({"TopK", check_topk, emit_topk, nullptr});
  r.add({"NegativeLogLikelihoodLoss", check_loss,
         [](KernelContext &k) { emit_loss(k, false); }, nullptr});
  r.add({"SoftmaxCrossEntropyLoss", check_loss,
         [](KernelContext &k) { emit_loss(k, true); }, nullptr});
}

} // namespace tmc::codegen
