// Kernel family: data movement. These ops only move (or select) elements, so
// the code is dtype-agnostic: elements are copied with memcpy or typed
// assignments of the value's C storage type (float16/bfloat16 as uint16_t
// bit patterns, bool as uint8_t). Every output shape is static, so shape-like
// parameter inputs (Reshape's shape, Expand's shape, Tile's repeats, Split's
// sizes...) are not needed at run time; index-like inputs (Gather indices,
// Slice starts, Pad pads...) may be run-time tensors and are read at run time
// (negative indices handled there) unless they are constants, in which case
// they are folded into literals.
#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;
using ir::Node;
using ir::Shape;
using ir::Value;

// ---------------------------------------------------------------- utilities

std::string lit(int64_t v) {
  if (v > 2147483647LL || v < -2147483647LL) return fmt::format("INT64_C({})", v);
  return std::to_string(v);
}

int64_t prod(const Shape &s, size_t b, size_t e) {
  int64_t p = 1;
  for (size_t i = b; i < e && i < s.size(); ++i) p *= s[i];
  return p;
}

/// C literal for the raw element `i` of a constant buffer of type `dt`
/// (float16/bfloat16 stay bit patterns, as they are stored).
std::string raw_literal(DType dt, const uint8_t *p) {
  switch (dt) {
  case DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return c_float_literal(f);
  }
  case DType::F64: {
    double d;
    std::memcpy(&d, p, 8);
    return c_double_literal(d);
  }
  case DType::F16:
  case DType::BF16:
  case DType::U16: {
    uint16_t u;
    std::memcpy(&u, p, 2);
    return std::to_string(u) + "u";
  }
  case DType::I8: return std::to_string((int)(int8_t)p[0]);
  case DType::U8:
  case DType::Bool: return std::to_string((unsigned)p[0]) + "u";
  case DType::I16: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return std::to_string(v);
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return c_int_literal(dt, v);
  }
  case DType::U32: {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return c_int_literal(dt, (int64_t)v);
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return c_int_literal(dt, v);
  }
  case DType::U64: {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return c_int_literal(dt, (int64_t)v);
  }
  default: return "0";
  }
}

/// C literal of the value 1 in storage type `dt`.
std::string one_literal(DType dt) {
  switch (dt) {
  case DType::F32: return "1.0f";
  case DType::F64: return "1.0";
  case DType::F16: return "15360u"; // 0x3c00
  case DType::BF16: return "16256u"; // 0x3f80
  default: return "1";
  }
}

bool all_zero_bytes(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

std::string index_dtype_check(const Node &n, size_t i) {
  const Value *v = n.input(i);
  if (!v) return "";
  if (!ir::dtype_is_integer(v->dtype))
    return fmt::format("index input {} has dtype {}, an integer type is required", i, ir::dtype_name(v->dtype));
  return "";
}

/// Copies `n` elements of `es` bytes from C pointer expression `src` to `dst`.
void emit_copy_n(KernelContext &k, const std::string &dst, const std::string &src, int64_t n, size_t es) {
  if (n <= 0) return;
  if (n == 1) k.line("*({}) = *({});", dst, src);
  else k.line("memcpy({}, {}, {});", dst, src, lit(n * (int64_t)es));
}

void emit_memcpy_all(KernelContext &k) {
  int64_t nb = k.vout(0).nbytes();
  if (nb > 0) k.line("memcpy(y0, x0, {});", lit(nb));
}

/// One axis of a strided view: extent and source stride (in elements).
struct Axis {
  int64_t n;
  int64_t s;
};

/// Copies the strided view `axes` of `src` (origin at element `src`) into the
/// contiguous destination `dst` (C pointer expressions of element type
/// `ctype`). Collapses unit and contiguous axes; rows with unit stride are
/// memcpy'd.
void emit_view_copy(KernelContext &k, const std::string &dst, const std::string &src,
                    std::vector<Axis> axes, const std::string &ctype, size_t es) {
  for (auto &a : axes)
    if (a.n == 0) return;
  std::vector<Axis> v;
  for (auto &a : axes)
    if (a.n != 1) v.push_back(a);
  // Merge an axis into its predecessor when they form one contiguous run.
  std::vector<Axis> m;
  for (auto &a : v) {
    if (!m.empty() && m.back().s == a.s * a.n) {
      m.back().n *= a.n;
      m.back().s = a.s;
    } else {
      m.push_back(a);
    }
  }
  if (m.empty()) {
    k.line("*({}) = *({});", dst, src);
    return;
  }
  if (m.size() == 1 && m[0].s == 1) {
    emit_copy_n(k, dst, src, m[0].n, es);
    return;
  }
  k.open("{{");
  std::string yp = k.tmp("yp");
  k.line("{} *{} = {};", ctype, yp, dst);
  std::string cur = src;
  size_t outer = m.back().s == 1 ? m.size() - 1 : m.size();
  for (size_t d = 0; d < outer; ++d) {
    std::string i = k.tmp("i"), p = k.tmp("p");
    k.open("for (ptrdiff_t {0} = 0; {0} < {1}; ++{0}) {{", i, lit(m[d].n));
    k.line("const {} *{} = {} + {} * {};", ctype, p, cur, i, lit(m[d].s));
    cur = p;
  }
  if (outer < m.size()) {
    k.line("memcpy({}, {}, {});", yp, cur, lit(m.back().n * (int64_t)es));
    k.line("{} += {};", yp, lit(m.back().n));
  } else {
    k.line("*{}++ = *{};", yp, cur);
  }
  for (size_t d = 0; d < outer; ++d) k.close();
  k.close();
}

/// The view of a tensor of shape `shape` reshaped to `rshape` and transposed by
/// `perm` (the result's axis d is the reshaped axis perm[d]).
std::vector<Axis> permuted_view(const Shape &rshape, const std::vector<int64_t> &perm) {
  std::vector<int64_t> st = strides_of(rshape);
  std::vector<Axis> r;
  for (int64_t p : perm) r.push_back({rshape[(size_t)p], st[(size_t)p]});
  return r;
}

std::string ctype_of(const Value &v) { return ir::dtype_ctype(v.dtype); }
size_t esize(const Value &v) { return ir::dtype_size(v.dtype); }

// ---------------------------------------------------------------- Transpose

std::vector<int64_t> transpose_perm(const Node &n) {
  int64_t r = (int64_t)n.input(0)->rank();
  std::vector<int64_t> perm = n.attr_ints("perm");
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  if ((int64_t)perm.size() != r) throw ir::CompileError(n, "perm has the wrong length");
  std::vector<bool> seen((size_t)r, false);
  for (auto &p : perm) {
    p = normalize_axis(n, p, r);
    if (seen[(size_t)p]) throw ir::CompileError(n, "perm is not a permutation");
    seen[(size_t)p] = true;
  }
  return perm;
}

void emit_transpose(KernelContext &k) {
  const Value &x = k.vin(0);
  auto perm = transpose_perm(k.node);
  emit_view_copy(k, "y0", "x0", permuted_view(x.shape, perm), ctype_of(x), esize(x));
}

// ---------------------------------------------------------------- Concat / Split

/// Concat's axis (optional with default 1 before opset 4, required after).
int64_t concat_axis(const Node &n) {
  if (n.opset < 4) return n.attr_int("axis", 1);
  return n.attr_int("axis");
}

void emit_concat(KernelContext &k) {
  const Value &y = k.vout(0);
  if (y.numel() == 0) return;
  int64_t axis = normalize_axis(k.node, concat_axis(k.node), (int64_t)y.rank());
  int64_t outer = prod(y.shape, 0, (size_t)axis), inner = prod(y.shape, (size_t)axis + 1, y.rank());
  int64_t ychunk = y.shape[(size_t)axis] * inner;
  size_t es = esize(y);
  std::string o;
  if (outer > 1) {
    o = k.tmp("o");
    k.open("for (ptrdiff_t {0} = 0; {0} < {1}; ++{0}) {{", o, lit(outer));
  }
  int64_t off = 0;
  for (size_t i = 0; i < k.num_in(); ++i) {
    if (!k.has_in(i)) continue;
    const Value &x = k.vin(i);
    int64_t chunk = x.rank() ? x.shape[(size_t)axis] * inner : 0;
    if (chunk == 0) continue;
    std::string dst = outer > 1 ? fmt::format("y0 + {} * {} + {}", o, lit(ychunk), lit(off))
                                : fmt::format("y0 + {}", lit(off));
    std::string src = outer > 1 ? fmt::format("x{} + {} * {}", i, o, lit(chunk)) : k.in(i);
    emit_copy_n(k, dst, src, chunk, es);
    off += chunk;
  }
  if (outer > 1) k.close();
}

void emit_split(KernelContext &k) {
  const Value &x = k.vin(0);
  if (x.numel() == 0) return;
  int64_t r = (int64_t)x.rank();
  int64_t axis = normalize_axis(k.node, k.node.attr_int("axis", 0), r);
  int64_t outer = prod(x.shape, 0, (size_t)axis), inner = prod(x.shape, (size_t)axis + 1, x.rank());
  int64_t xchunk = x.shape[(size_t)axis] * inner;
  size_t es = esize(x);
  int64_t off = 0;
  for (size_t j = 0; j < k.num_out(); ++j) {
    if (!k.has_out(j)) continue;
    const Value &y = k.vout(j);
    int64_t chunk = y.shape[(size_t)axis] * inner;
    if (chunk > 0) {
      if (outer > 1) {
        std::string o = k.tmp("o");
        k.open("for (ptrdiff_t {0} = 0; {0} < {1}; ++{0}) {{", o, lit(outer));
        emit_copy_n(k, fmt::format("y{} + {} * {}", j, o, lit(chunk)),
                    fmt::format("x0 + {} * {} + {}", o, lit(xchunk), lit(off)), chunk, es);
        k.close();
      } else {
        emit_copy_n(k, k.out(j), fmt::format("x0 + {}", lit(off)), chunk, es);
      }
    }
    off += chunk;
  }
}

std::string split_check(const Node &n) {
  const Value *x = n.input(0);
  int64_t axis = normalize_axis(n, n.attr_int("axis", 0), (int64_t)x->rank());
  int64_t total = 0;
  for (auto *y : n.outputs) {
    if (!y) return "omitted Split outputs are not supported";
    if (y->rank() != x->rank()) return "output rank differs from the input rank";
    total += y->shape[(size_t)axis];
  }
  if (total != x->shape[(size_t)axis]) return "output sizes do not add up to the split axis";
  return "";
}

// ---------------------------------------------------------------- Slice

struct SliceParams {
  std::vector<int64_t> start, step; // per data axis
};

/// Static slice parameters if starts/ends/axes/steps are all compile-time.
bool static_slice(const Node &n, SliceParams &sp) {
  const Value *x = n.input(0);
  int64_t r = (int64_t)x->rank();
  std::vector<int64_t> starts, axes, steps;
  if (n.opset < 10) {
    starts = n.attr_ints("starts");
    axes = n.attr_ints("axes");
  } else {
    for (size_t i : {1, 3, 4})
      if (n.input(i) && !n.input(i)->is_constant()) return false;
    starts = n.input(1)->int_values();
    if (n.input(3)) axes = n.input(3)->int_values();
    if (n.input(4)) steps = n.input(4)->int_values();
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back((int64_t)i);
  if (steps.empty()) steps.assign(starts.size(), 1);
  sp.start.assign((size_t)r, 0);
  sp.step.assign((size_t)r, 1);
  for (size_t i = 0; i < starts.size() && i < axes.size(); ++i) {
    int64_t a = normalize_axis(n, axes[i], r);
    int64_t dim = x->shape[(size_t)a], st = steps[i], s = starts[i];
    if (st == 0) throw ir::CompileError(n, "slice step is 0");
    if (s < 0) s += dim;
    if (st > 0) s = std::clamp<int64_t>(s, 0, dim);
    else s = std::clamp<int64_t>(s, 0, std::max<int64_t>(dim - 1, 0));
    sp.start[(size_t)a] = s;
    sp.step[(size_t)a] = st;
  }
  return true;
}

void emit_slice(KernelContext &k) {
  const Value &x = k.vin(0), &y = k.vout(0);
  if (y.numel() == 0) return;
  std::vector<int64_t> xs = strides_of(x.shape);
  size_t r = x.rank();
  SliceParams sp;
  if (static_slice(k.node, sp)) {
    int64_t base = 0;
    std::vector<Axis> axes;
    for (size_t d = 0; d < r; ++d) {
      base += sp.start[d] * xs[d];
      axes.push_back({y.shape[d], sp.step[d] * xs[d]});
    }
    emit_view_copy(k, "y0", base ? fmt::format("x0 + {}", lit(base)) : "x0", axes, ctype_of(x), esize(x));
    return;
  }
  // Run-time starts (and possibly axes/steps): compute the origin and the
  // per-axis steps, then walk the static output shape.
  size_t nk = (size_t)k.vin(1).numel();
  std::string ct = ctype_of(x);
  k.line("ptrdiff_t st[{}], sp[{}];", r, r);
  std::string dims;
  for (size_t d = 0; d < r; ++d) dims += (d ? ", " : "") + lit(x.shape[d]);
  k.line("static const ptrdiff_t dims[{}] = {{{}}};", r, dims);
  k.line("ptrdiff_t q;");
  k.line("const {} *p = x0;", ct);
  k.line("{} *yp = y0;", ct);
  k.open("for (q = 0; q < {}; ++q) {{", r);
  k.line("st[q] = 0;");
  k.line("sp[q] = 1;");
  k.close();
  k.open("for (q = 0; q < {}; ++q) {{", nk);
  if (k.has_in(3)) {
    k.line("ptrdiff_t a = (ptrdiff_t)x3[q];");
    k.line("if (a < 0) a += {};", r);
    k.line("if (a < 0 || a >= {}) continue;", r);
  } else {
    k.line("ptrdiff_t a = q;");
  }
  k.line("ptrdiff_t dim = dims[a];");
  k.line("ptrdiff_t step = {};", k.has_in(4) ? "(ptrdiff_t)x4[q]" : "1");
  // Clamp in 64 bits: starts may be INT64_MAX-like sentinels.
  k.line("int64_t s = (int64_t)x1[q];");
  k.line("if (s < 0) s += dim;");
  k.open("if (step > 0) {{");
  k.line("s = s < 0 ? 0 : (s > dim ? dim : s);");
  k.close();
  k.open("else {{");
  k.line("s = s < 0 ? 0 : (s > dim - 1 ? dim - 1 : s);");
  k.close();
  k.line("st[a] = (ptrdiff_t)s;");
  k.line("sp[a] = step == 0 ? 1 : step;");
  k.close();
  for (size_t d = 0; d < r; ++d)
    if (xs[d] != 0) k.line("p += st[{}] * {};", d, lit(xs[d]));
  std::string cur = "p";
  for (size_t d = 0; d < r; ++d) {
    std::string i = k.tmp("i"), pp = k.tmp("p"), s = k.tmp("s");
    k.line("const ptrdiff_t {} = sp[{}] * {};", s, d, lit(xs[d]));
    k.open("for (ptrdiff_t {0} = 0; {0} < {1}; ++{0}) {{", i, lit(y.shape[d]));
    k.line("const {} *{} = {} + {} * {};", ct, pp, cur, i, s);
    cur = pp;
  }
  k.line("*yp++ = *{};", cur);
  for (size_t d = 0; d < r; ++d) k.close();
}

std::string slice_check(const Node &n) {
  if (n.opset >= 10) {
    for (size_t i = 1; i < 5; ++i) {
      auto e = index_dtype_check(n, i);
      if (!e.empty()) return e;
    }
    if (!n.input(1) || !n.input(2)) return "starts and ends are required";
    if (n.input(3) && n.input(3)->numel() != n.input(1)->numel()) return "axes and starts differ in length";
    if (n.input(4) && n.input(4)->numel() != n.input(1)->numel()) return "steps and starts differ in length";
  }
  SliceParams sp;
  static_slice(n, sp); // validates constant parameters
  return "";
}

// ---------------------------------------------------------------- Gather family

/// `(ptrdiff_t)x<i>[e]` wrapped to [0, dim) for negative values and clamped
/// (out-of-range indices are invalid in ONNX; clamping keeps memory safe).
void emit_load_index(KernelContext &k, const std::string &var, const std::string &src, int64_t dim) {
  k.line("ptrdiff_t {} = (ptrdiff_t){};", var, src);
  k.line("if ({0} < 0) {0} += {1};", var, lit(dim));
  k.line("if ({0} < 0) {0} = 0; else if ({0} >= {1}) {0} = {2};", var, lit(dim), lit(dim - 1));
}

void emit_gather(KernelContext &k) {
  const Value &x = k.vin(0), &ind = k.vin(1), &y = k.vout(0);
  if (y.numel() == 0) return;
  int64_t r = (int64_t)x.rank();
  int64_t axis = normalize_axis(k.node, k.node.attr_int("axis", 0), r);
  int64_t outer = prod(x.shape, 0, (size_t)axis), inner = prod(x.shape, (size_t)axis + 1, x.rank());
  int64_t dim = x.shape[(size_t)axis], nq = ind.numel();
  size_t es = esize(x);
  std::string ct = ctype_of(x);
  if (ind.is_constant() && nq == 1) {
    int64_t q = ind.int_at(0);
    if (q < 0) q += dim;
    q = std::clamp<int64_t>(q, 0, dim - 1);
    emit_view_copy(k, "y0", fmt::format("x0 + {}", lit(q * inner)), {{outer, dim * inner}, {inner, 1}}, ct, es);
    return;
  }
  std::string o = "0";
  if (outer > 1) {
    o = "o";
    k.open("for (ptrdiff_t o = 0; o < {}; ++o) {{", lit(outer));
  }
  k.open("for (ptrdiff_t q = 0; q < {}; ++q) {{", lit(nq));
  emit_load_index(k, "ix", "x1[q]", dim);
  std::string dst = outer > 1 ? fmt::format("y0 + (o * {} + q) * {}", lit(nq), lit(inner))
                              : fmt::format("y0 + q * {}", lit(inner));
  std::string src = outer > 1 ? fmt::format("x0 + (o * {} + ix) * {}", lit(dim), lit(inner))
                              : fmt::format("x0 + ix * {}", lit(inner));
  emit_copy_n(k, dst, src, inner, es);
  k.close();
  if (outer > 1) k.close();
}

/// Emits loops over every element of `shape` with counters c0..c{r-1}
/// declared as ptrdiff_t; `body` writes the innermost statements.
void emit_nd_loops(KernelContext &k, const Shape &shape, const std::function<void()> &body) {
  for (size_t d = 0; d < shape.size(); ++d) k.open("for (ptrdiff_t c{0} = 0; c{0} < {1}; ++c{0}) {{", d, lit(shape[d]));
  if (shape.empty()) k.open("{{");
  body();
  for (size_t d = 0; d < shape.size(); ++d) k.close();
  if (shape.empty()) k.close();
}

/// Linear offset expression sum c_d * strides[d] over d != skip.
std::string offset_expr(const std::vector<int64_t> &strides, size_t skip) {
  std::string e;
  for (size_t d = 0; d < strides.size(); ++d) {
    if (d == skip || strides[d] == 0) continue;
    e += fmt::format("{}c{} * {}", e.empty() ? "" : " + ", d, lit(strides[d]));
  }
  return e.empty() ? "0" : e;
}

void emit_gather_elements(KernelContext &k) {
  const Value &x = k.vin(0), &ind = k.vin(1), &y = k.vout(0);
  if (y.numel() == 0) return;
  size_t r = x.rank();
  size_t axis = (size_t)normalize_axis(k.node, k.node.attr_int("axis", 0), (int64_t)r);
  auto xs = strides_of(x.shape), is = strides_of(ind.shape);
  k.line("ptrdiff_t o = 0;");
  emit_nd_loops(k, ind.shape, [&] {
    emit_load_index(k, "ix", fmt::format("x1[{}]", offset_expr(is, (size_t)-1)), x.shape[axis]);
    k.line("y0[o++] = x0[{} + ix * {}];", offset_expr(xs, axis), lit(xs[axis]));
  });
}

void emit_gather_nd(KernelContext &k) {
  const Value &x = k.vin(0), &ind = k.vin(1), &y = k.vout(0);
  if (y.numel() == 0) return;
  int64_t b = k.node.attr_int("batch_dims", 0);
  size_t ir_ = ind.rank();
  int64_t kk = ind.shape[ir_ - 1];
  int64_t nbatch = prod(x.shape, 0, (size_t)b);
  int64_t nidx = prod(ind.shape, (size_t)b, ir_ - 1); // index tuples per batch
  int64_t slice = prod(x.shape, (size_t)(b + kk), x.rank());
  int64_t xbatch = prod(x.shape, (size_t)b, x.rank());
  auto xs = strides_of(x.shape);
  size_t es = esize(x);
  k.open("for (ptrdiff_t bt = 0; bt < {}; ++bt) {{", lit(nbatch));
  k.open("for (ptrdiff_t q = 0; q < {}; ++q) {{", lit(nidx));
  k.line("const {} *ip = x1 + (bt * {} + q) * {};", ctype_of(ind), lit(nidx), lit(kk));
  k.line("ptrdiff_t off = bt * {};", lit(xbatch));
  for (int64_t j = 0; j < kk; ++j) {
    k.open("{{");
    emit_load_index(k, "ix", fmt::format("ip[{}]", j), x.shape[(size_t)(b + j)]);
    k.line("off += ix * {};", lit(xs[(size_t)(b + j)]));
    k.close();
  }
  emit_copy_n(k, fmt::format("y0 + (bt * {} + q) * {}", lit(nidx), lit(slice)), "x0 + off", slice, es);
  k.close();
  k.close();
}

std::string gather_nd_check(const Node &n) {
  auto e = index_dtype_check(n, 1);
  if (!e.empty()) return e;
  const Value *x = n.input(0), *ind = n.input(1);
  int64_t b = n.attr_int("batch_dims", 0);
  if (ind->rank() < 1) return "indices must have rank >= 1";
  int64_t kk = ind->shape.back();
  if (b < 0 || b + kk > (int64_t)x->rank() || b >= (int64_t)ind->rank()) return "invalid batch_dims / index depth";
  return "";
}

// ---------------------------------------------------------------- Scatter family

/// Statement applying `reduction` to destination `dst` with update `src`.
std::string reduce_stmt(KernelContext &k, DType dt, const std::string &red, const std::string &dst,
                        const std::string &src) {
  if (red == "none" || red.empty()) return fmt::format("{} = {};", dst, src);
  bool half = dt == DType::F16 || dt == DType::BF16;
  std::string a = dst, b = src;
  if (half) {
    std::string cv = k.helper(dt == DType::F16 ? "f16_to_f32" : "bf16_to_f32");
    a = fmt::format("{}({})", cv, dst);
    b = fmt::format("{}({})", cv, src);
  }
  std::string e;
  if (red == "add") e = fmt::format("{} + {}", a, b);
  else if (red == "mul") e = fmt::format("{} * {}", a, b);
  else if (red == "max") e = fmt::format("({0} > {1} ? {0} : {1})", a, b);
  else if (red == "min") e = fmt::format("({0} < {1} ? {0} : {1})", a, b);
  else throw ir::CompileError(k.node, "unsupported reduction '" + red + "'");
  if (half) return fmt::format("{} = {};", dst, store_from_float(k, dt, e));
  if (dt == DType::Bool) {
    if (red == "add") e = fmt::format("{} | {}", a, b);
    else if (red == "mul") e = fmt::format("{} & {}", a, b);
  }
  return fmt::format("{} = ({})({});", dst, ir::dtype_ctype(dt), e);
}

std::string reduction_check(const Node &n) {
  std::string red = n.attr_string("reduction", "none");
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min")
    return "reduction '" + red + "' is not supported";
  return "";
}

void emit_scatter_elements(KernelContext &k) {
  const Value &x = k.vin(0), &ind = k.vin(1);
  emit_memcpy_all(k);
  if (ind.numel() == 0 || x.numel() == 0) return;
  size_t r = x.rank();
  size_t axis = (size_t)normalize_axis(k.node, k.node.attr_int("axis", 0), (int64_t)r);
  auto xs = strides_of(x.shape), is = strides_of(ind.shape), us = strides_of(k.vin(2).shape);
  std::string red = k.node.op == "Scatter" ? "none" : k.node.attr_string("reduction", "none");
  int64_t dim = x.shape[axis];
  emit_nd_loops(k, ind.shape, [&] {
    k.line("ptrdiff_t ix = (ptrdiff_t)x1[{}];", offset_expr(is, (size_t)-1));
    k.line("if (ix < 0) ix += {};", lit(dim));
    k.line("if (ix < 0 || ix >= {}) continue;", lit(dim));
    k.line("{}", reduce_stmt(k, x.dtype, red, fmt::format("y0[{} + ix * {}]", offset_expr(xs, axis), lit(xs[axis])),
                              fmt::format("x2[{}]", offset_expr(us, (size_t)-1))));
  });
}

void emit_scatter_nd(KernelContext &k) {
  const Value &x = k.vin(0), &ind = k.vin(1);
  emit_memcpy_all(k);
  if (ind.numel() == 0 || x.numel() == 0) return;
  size_t ir_ = ind.rank();
  int64_t kk = ind.shape[ir_ - 1];
  int64_t nidx = prod(ind.shape, 0, ir_ - 1);
  int64_t slice = prod(x.shape, (size_t)kk, x.rank());
  auto xs = strides_of(x.shape);
  std::string red = k.node.attr_string("reduction", "none");
  k.open("for (ptrdiff_t q = 0; q < {}; ++q) {{", lit(nidx));
  k.line("const {} *ip = x1 + q * {};", ctype_of(ind), lit(kk));
  k.line("ptrdiff_t off = 0;");
  k.line("int ok = 1;");
  for (int64_t j = 0; j < kk; ++j) {
    int64_t dim = x.shape[(size_t)j];
    k.open("{{");
    k.line("ptrdiff_t ix = (ptrdiff_t)ip[{}];", j);
    k.line("if (ix < 0) ix += {};", lit(dim));
    k.line("if (ix < 0 || ix >= {}) ok = 0;", lit(dim));
    k.line("off += ix * {};", lit(xs[(size_t)j]));
    k.close();
  }
  k.line("if (!ok) continue;");
  if (red == "none" && slice > 1) {
    k.line("memcpy(y0 + off, x2 + q * {}, {});", lit(slice), lit(slice * (int64_t)esize(x)));
  } else {
    k.open("for (ptrdiff_t e = 0; e < {}; ++e) {{", lit(slice));
    k.line("{}", reduce_stmt(k, x.dtype, red, "y0[off + e]", fmt::format("x2[q * {} + e]", lit(slice))));
    k.close();
  }
  k.close();
}

// ---------------------------------------------------------------- Pad

struct PadSpec {
  std::vector<std::string> begin; // per axis: C expression (literal if static)
  bool is_static = true;
  std::vector<int64_t> sbegin;    // static begin pads (valid if is_static)
};

PadSpec pad_spec(const Node &n) {
  const Value *x = n.input(0);
  size_t r = x->rank();
  PadSpec ps;
  ps.begin.assign(r, "0");
  ps.sbegin.assign(r, 0);
  std::vector<int64_t> axes;
  if (n.opset < 11) {
    auto pads = n.has_attr("pads") ? n.attr_ints("pads") : n.attr_ints("paddings");
    if (pads.size() != 2 * r) throw ir::CompileError(n, "pads must have 2 * rank entries");
    for (size_t d = 0; d < r; ++d) {
      ps.sbegin[d] = pads[d];
      ps.begin[d] = lit(pads[d]);
    }
    return ps;
  }
  if (n.input(3)) {
    if (!n.input(3)->is_constant()) throw ir::CompileError(n, "Pad axes must be a compile-time constant");
    for (int64_t a : n.input(3)->int_values()) axes.push_back(normalize_axis(n, a, (int64_t)r));
  } else {
    for (size_t d = 0; d < r; ++d) axes.push_back((int64_t)d);
  }
  const Value *p = n.input(1);
  if (!p) throw ir::CompileError(n, "pads input is required");
  if (p->numel() != 2 * (int64_t)axes.size()) throw ir::CompileError(n, "pads has the wrong length");
  ps.is_static = p->is_constant();
  for (size_t j = 0; j < axes.size(); ++j) {
    size_t d = (size_t)axes[j];
    if (ps.is_static) {
      ps.sbegin[d] = p->int_at((int64_t)j);
      ps.begin[d] = lit(ps.sbegin[d]);
    } else {
      ps.begin[d] = fmt::format("(ptrdiff_t)x1[{}]", j);
    }
  }
  return ps;
}

std::string pad_check(const Node &n) {
  std::string mode = n.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return "mode '" + mode + "' is not supported";
  if (n.opset >= 11) {
    auto e = index_dtype_check(n, 1);
    if (!e.empty()) return e;
    e = require_constant_input(n, 3, "axes");
    if (!e.empty()) return e;
  }
  const Value *x = n.input(0);
  if (mode != "constant")
    for (int64_t d : x->shape)
      if (d == 0) return "mode '" + mode + "' needs non-empty input axes";
  pad_spec(n);
  return "";
}

void emit_pad(KernelContext &k) {
  const Value &x = k.vin(0), &y = k.vout(0);
  if (y.numel() == 0) return;
  const Node &n = k.node;
  std::string mode = n.attr_string("mode", "constant");
  PadSpec ps = pad_spec(n);
  size_t r = x.rank();
  std::string ct = ctype_of(x);
  auto xs = strides_of(x.shape), ys = strides_of(y.shape);
  if (mode == "constant") {
    std::string v;
    if (n.opset < 11) v = c_literal(DType::F32, n.attr_float("value", 0.0f));
    else if (k.has_in(2) && k.vin(2).numel() > 0) v = "x2[0]";
    if (v.empty()) {
      k.line("const {} v = 0;", ct);
    } else if (n.opset < 11) {
      k.line("const {} v = {};", ct, store_from_float(k, x.dtype, v));
    } else {
      k.line("const {} v = {};", ct, v);
    }
    k.line("(void)v;");
  }
  if (r == 0) {
    k.line("y0[0] = x0[0];");
    return;
  }
  // Fast path: static constant padding = fill + interior view copy.
  if (mode == "constant" && ps.is_static) {
    bool has_interior = true;
    int64_t ybase = 0, xbase = 0;
    std::vector<int64_t> ext(r);
    for (size_t d = 0; d < r; ++d) {
      int64_t b = ps.sbegin[d];
      int64_t lo = std::max<int64_t>(b, 0), hi = std::min<int64_t>(y.shape[d], b + x.shape[d]);
      ext[d] = hi - lo;
      if (ext[d] <= 0) has_interior = false;
      ybase += lo * ys[d];
      xbase += (lo - b) * xs[d];
    }
    bool full = has_interior;
    for (size_t d = 0; d < r && full; ++d) full = ext[d] == y.shape[d];
    if (!full) {
      k.open("for (ptrdiff_t i = 0; i < {}; ++i) {{", lit(y.numel()));
      k.line("y0[i] = v;");
      k.close();
    }
    if (!has_interior) return;
    // Copy the interior rows: loops over ext, destination strides ys.
    size_t last = r - 1;
    for (size_t d = 0; d < last; ++d) k.open("for (ptrdiff_t c{0} = 0; c{0} < {1}; ++c{0}) {{", d, lit(ext[d]));
    std::string yo = lit(ybase), xo = lit(xbase);
    for (size_t d = 0; d < last; ++d) {
      yo += fmt::format(" + c{} * {}", d, lit(ys[d]));
      xo += fmt::format(" + c{} * {}", d, lit(xs[d]));
    }
    emit_copy_n(k, fmt::format("y0 + {}", yo), fmt::format("x0 + {}", xo), ext[last], esize(x));
    for (size_t d = 0; d < last; ++d) k.close();
    return;
  }
  // General path: walk the output; per axis, map the output coordinate to an
  // input coordinate (or to the pad value for constant mode).
  k.line("{} *yp = y0;", ct);
  std::string cur = "x0";
  for (size_t d = 0; d < r; ++d) {
    int64_t nd = x.shape[d];
    std::string c = fmt::format("c{}", d), p = fmt::format("p{}", d);
    k.open("for (ptrdiff_t i{0} = 0; i{0} < {1}; ++i{0}) {{", d, lit(y.shape[d]));
    if (nd == 1 && mode != "constant") {
      // Edge, reflect and wrap all read the only element.
      k.line("const {} *{} = {};", ct, p, cur);
      cur = p;
      continue;
    }
    k.line("ptrdiff_t {} = i{} - {};", c, d, ps.begin[d]);
    if (mode == "constant") {
      int64_t blk = prod(y.shape, d + 1, r);
      k.open("if ({0} < 0 || {0} >= {1}) {{", c, lit(nd));
      if (blk == 1) k.line("*yp++ = v;");
      else k.line("for (ptrdiff_t j = 0; j < {}; ++j) *yp++ = v;", lit(blk));
      k.line("continue;");
      k.close();
    } else if (mode == "edge") {
      k.line("if ({0} < 0) {0} = 0; else if ({0} >= {1}) {0} = {2};", c, lit(nd), lit(nd - 1));
    } else if (mode == "reflect") {
      k.open("while ({0} < 0 || {0} >= {1}) {{", c, lit(nd));
      k.line("if ({0} < 0) {0} = -{0};", c);
      k.line("if ({0} >= {1}) {0} = {2} - {0};", c, lit(nd), lit(2 * (nd - 1)));
      k.close();
    } else { // wrap
      k.line("{0} %= {1};", c, lit(nd));
      k.line("if ({0} < 0) {0} += {1};", c, lit(nd));
    }
    k.line("const {} *{} = {} + {} * {};", ct, p, cur, c, lit(xs[d]));
    cur = p;
  }
  k.line("*yp++ = *{};", cur);
  for (size_t d = 0; d < r; ++d) k.close();
}

// ---------------------------------------------------------------- Expand / Tile

void emit_expand(KernelContext &k) {
  const Value &x = k.vin(0), &y = k.vout(0);
  auto bs = broadcast_strides(x.shape, y.shape);
  std::vector<Axis> axes;
  for (size_t d = 0; d < y.rank(); ++d) axes.push_back({y.shape[d], bs[d]});
  if (y.numel() == 0) return;
  emit_view_copy(k, "y0", "x0", axes, ctype_of(x), esize(x));
}

std::string expand_check(const Node &n) {
  const Value *x = n.input(0), *y = n.output(0);
  if (x->rank() > y->rank()) return "output rank is smaller than the input rank";
  size_t off = y->rank() - x->rank();
  for (size_t d = 0; d < x->rank(); ++d)
    if (x->shape[d] != 1 && x->shape[d] != y->shape[off + d]) return "input does not broadcast to the output shape";
  return "";
}

void emit_tile(KernelContext &k) {
  const Value &x = k.vin(0), &y = k.vout(0);
  if (y.numel() == 0) return;
  auto xs = strides_of(x.shape);
  std::vector<Axis> axes;
  for (size_t d = 0; d < x.rank(); ++d) {
    axes.push_back({y.shape[d] / x.shape[d], 0});
    axes.push_back({x.shape[d], xs[d]});
  }
  emit_view_copy(k, "y0", "x0", axes, ctype_of(x), esize(x));
}

std::string tile_check(const Node &n) {
  const Value *x = n.input(0), *y = n.output(0);
  if (x->rank() != y->rank()) return "output rank differs from the input rank";
  for (size_t d = 0; d < x->rank(); ++d) {
    if (x->shape[d] == 0) {
      if (y->shape[d] != 0) return "output shape is not a multiple of the input shape";
    } else if (y->shape[d] % x->shape[d] != 0) {
      return "output shape is not a multiple of the input shape";
    }
  }
  return "";
}

// ---------------------------------------------------------------- DepthToSpace / SpaceToDepth

std::string d2s_check(const Node &n) {
  const Value *x = n.input(0);
  if (x->rank() != 4) return "only 4-D inputs are supported";
  int64_t bs = n.attr_int("blocksize", 0);
  if (bs <= 0) return "blocksize must be positive";
  if (n.op == "DepthToSpace") {
    if (x->shape[1] % (bs * bs)) return "channels are not a multiple of blocksize^2";
    std::string m = n.attr_string("mode", "DCR");
    if (m != "DCR" && m != "CRD") return "mode '" + m + "' is not supported";
  } else if (x->shape[2] % bs || x->shape[3] % bs) {
    return "spatial size is not a multiple of blocksize";
  }
  return "";
}

void emit_depth_to_space(KernelContext &k) {
  const Value &x = k.vin(0);
  if (x.numel() == 0) return;
  int64_t bs = k.node.attr_int("blocksize");
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], c = C / (bs * bs);
  std::vector<Axis> v;
  if (k.node.attr_string("mode", "DCR") == "DCR")
    v = permuted_view({N, bs, bs, c, H, W}, {0, 3, 4, 1, 5, 2});
  else
    v = permuted_view({N, c, bs, bs, H, W}, {0, 1, 4, 2, 5, 3});
  emit_view_copy(k, "y0", "x0", v, ctype_of(x), esize(x));
}

void emit_space_to_depth(KernelContext &k) {
  const Value &x = k.vin(0);
  if (x.numel() == 0) return;
  int64_t bs = k.node.attr_int("blocksize");
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  auto v = permuted_view({N, C, H / bs, bs, W / bs, bs}, {0, 3, 5, 1, 2, 4});
  emit_view_copy(k, "y0", "x0", v, ctype_of(x), esize(x));
}

// ---------------------------------------------------------------- Trilu

void emit_trilu(KernelContext &k) {
  const Value &x = k.vin(0);
  if (x.numel() == 0) return;
  size_t r = x.rank();
  int64_t R = x.shape[r - 2], C = x.shape[r - 1];
  int64_t batch = prod(x.shape, 0, r - 2);
  bool upper = k.node.attr_int("upper", 1) != 0;
  if (k.has_in(1) && k.vin(1).is_constant()) k.line("const ptrdiff_t kk = {};", lit(k.vin(1).int_at(0)));
  else if (k.has_in(1)) k.line("const ptrdiff_t kk = (ptrdiff_t)x1[0];");
  else k.line("const ptrdiff_t kk = 0;");
  k.open("for (ptrdiff_t b = 0; b < {}; ++b) {{", lit(batch));
  k.open("for (ptrdiff_t i = 0; i < {}; ++i) {{", lit(R));
  k.open("for (ptrdiff_t j = 0; j < {}; ++j) {{", lit(C));
  k.line("const ptrdiff_t e = (b * {} + i) * {} + j;", lit(R), lit(C));
  k.line("y0[e] = (j - i {} kk) ? x0[e] : 0;", upper ? ">=" : "<=");
  k.close();
  k.close();
  k.close();
}

// ---------------------------------------------------------------- Range / ConstantOfShape / EyeLike

void emit_range(KernelContext &k) {
  const Value &y = k.vout(0);
  if (y.numel() == 0) return;
  DType dt = y.dtype;
  k.open("for (ptrdiff_t i = 0; i < {}; ++i) {{", lit(y.numel()));
  if (dt == DType::F16 || dt == DType::BF16) {
    std::string s = load_as_float(k, dt, "x0", "0"), d = load_as_float(k, dt, "x2", "0");
    k.line("y0[i] = {};", store_from_float(k, dt, fmt::format("{} + (float)i * {}", s, d)));
  } else if (dt == DType::F32) {
    k.line("y0[i] = x0[0] + (float)i * x2[0];");
  } else if (dt == DType::F64) {
    k.line("y0[i] = x0[0] + (double)i * x2[0];");
  } else {
    k.line("y0[i] = ({0})(x0[0] + ({0})i * x2[0]);", ir::dtype_ctype(dt));
  }
  k.close();
}

void emit_constant_of_shape(KernelContext &k) {
  const Value &y = k.vout(0);
  if (y.numel() == 0) return;
  const ir::TensorAttr *t = k.node.attr_tensor("value");
  size_t es = esize(y);
  if (!t || !t->data || t->data->size() < es || all_zero_bytes(t->data->data(), es)) {
    k.line("memset(y0, 0, {});", lit(y.nbytes()));
    return;
  }
  k.open("for (ptrdiff_t i = 0; i < {}; ++i) {{", lit(y.numel()));
  k.line("y0[i] = {};", raw_literal(y.dtype, t->data->data()));
  k.close();
}

std::string constant_of_shape_check(const Node &n) {
  const ir::TensorAttr *t = n.attr_tensor("value");
  if (t && t->dtype != n.output(0)->dtype) return "value dtype differs from the output dtype";
  if (t && (!t->data || t->data->size() < ir::dtype_size(t->dtype))) return "value tensor is empty";
  return "";
}

void emit_eye_like(KernelContext &k) {
  const Value &y = k.vout(0);
  if (y.numel() == 0) return;
  int64_t R = y.shape[0], C = y.shape[1], kk = k.node.attr_int("k", 0);
  k.line("memset(y0, 0, {});", lit(y.nbytes()));
  int64_t i0 = std::max<int64_t>(0, -kk), i1 = std::min<int64_t>(R, C - kk);
  if (i1 <= i0) return;
  k.open("for (ptrdiff_t i = {}; i < {}; ++i) {{", lit(i0), lit(i1));
  k.line("y0[i * {} + i + {}] = {};", lit(C), lit(kk), one_literal(y.dtype));
  k.close();
}

// ---------------------------------------------------------------- OneHot

void emit_one_hot(KernelContext &k) {
  const Value &ind = k.vin(0), &y = k.vout(0);
  if (y.numel() == 0) return;
  int64_t r = (int64_t)y.rank();
  int64_t axis = normalize_axis(k.node, k.node.attr_int("axis", -1), r);
  int64_t depth = y.shape[(size_t)axis];
  int64_t outer = prod(y.shape, 0, (size_t)axis), inner = prod(y.shape, (size_t)axis + 1, y.rank());
  k.line("const {} off = x2[0], on = x2[1];", ctype_of(y));
  k.open("for (ptrdiff_t i = 0; i < {}; ++i) {{", lit(y.numel()));
  k.line("y0[i] = off;");
  k.close();
  if (ind.numel() == 0) return;
  k.open("for (ptrdiff_t o = 0; o < {}; ++o) {{", lit(outer));
  k.open("for (ptrdiff_t j = 0; j < {}; ++j) {{", lit(inner));
  std::string src = fmt::format("x0[o * {} + j]", lit(inner));
  if (ind.dtype == DType::F16 || ind.dtype == DType::BF16) src = load_as_float(k, ind.dtype, "x0", fmt::format("o * {} + j", lit(inner)));
  k.line("ptrdiff_t ix = (ptrdiff_t){};", src);
  k.line("if (ix < 0) ix += {};", lit(depth));
  k.line("if (ix >= 0 && ix < {}) y0[(o * {} + ix) * {} + j] = on;", lit(depth), lit(depth), lit(inner));
  k.close();
  k.close();
}

std::string one_hot_check(const Node &n) {
  const Value *ind = n.input(0), *vals = n.input(2);
  if (!ind || !n.input(1) || !vals) return "indices, depth and values are required";
  if (ind->dtype == DType::Bool) return "bool indices are not supported";
  if (vals->numel() != 2) return "values must have two elements";
  if (n.output(0)->rank() != ind->rank() + 1) return "output rank must be indices rank + 1";
  return "";
}

// ---------------------------------------------------------------- ReverseSequence

void emit_reverse_sequence(KernelContext &k) {
  const Value &x = k.vin(0);
  if (x.numel() == 0) return;
  int64_t ta = k.node.attr_int("time_axis", 0), ba = k.node.attr_int("batch_axis", 1);
  int64_t T = x.shape[(size_t)ta], B = x.shape[(size_t)ba];
  int64_t inner = prod(x.shape, 2, x.rank());
  auto xs = strides_of(x.shape);
  int64_t tstr = xs[(size_t)ta], bstr = xs[(size_t)ba];
  k.open("for (ptrdiff_t b = 0; b < {}; ++b) {{", lit(B));
  k.line("ptrdiff_t len = (ptrdiff_t)x1[b];");
  k.line("if (len < 0) len = 0; else if (len > {0}) len = {0};", lit(T));
  k.open("for (ptrdiff_t t = 0; t < {}; ++t) {{", lit(T));
  k.line("const ptrdiff_t s = t < len ? len - 1 - t : t;");
  emit_copy_n(k, fmt::format("y0 + b * {} + t * {}", lit(bstr), lit(tstr)),
              fmt::format("x0 + b * {} + s * {}", lit(bstr), lit(tstr)), inner, esize(x));
  k.close();
  k.close();
}

std::string reverse_sequence_check(const Node &n) {
  const Value *x = n.input(0);
  if (x->rank() < 2) return "input rank must be >= 2";
  int64_t ta = n.attr_int("time_axis", 0), ba = n.attr_int("batch_axis", 1);
  if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0))) return "time_axis/batch_axis must be 0/1 or 1/0";
  return index_dtype_check(n, 1);
}

// ---------------------------------------------------------------- Compress

void emit_compress(KernelContext &k) {
  const Value &x = k.vin(0), &c = k.vin(1), &y = k.vout(0);
  if (y.numel() == 0) return;
  int64_t outer = 1, inner = 1, dim, ydim;
  if (k.node.has_attr("axis")) {
    int64_t axis = normalize_axis(k.node, k.node.attr_int("axis"), (int64_t)x.rank());
    outer = prod(x.shape, 0, (size_t)axis);
    inner = prod(x.shape, (size_t)axis + 1, x.rank());
    dim = x.shape[(size_t)axis];
    ydim = y.shape[(size_t)axis];
  } else {
    dim = x.numel();
    ydim = y.numel();
  }
  int64_t n = std::min<int64_t>(dim, c.numel());
  k.line("ptrdiff_t j = 0;");
  k.open("for (ptrdiff_t i = 0; i < {} && j < {}; ++i) {{", lit(n), lit(ydim));
  k.line("if (!x1[i]) continue;");
  if (outer > 1) {
    k.open("for (ptrdiff_t o = 0; o < {}; ++o) {{", lit(outer));
    emit_copy_n(k, fmt::format("y0 + (o * {} + j) * {}", lit(ydim), lit(inner)),
                fmt::format("x0 + (o * {} + i) * {}", lit(dim), lit(inner)), inner, esize(x));
    k.close();
  } else {
    emit_copy_n(k, fmt::format("y0 + j * {}", lit(inner)), fmt::format("x0 + i * {}", lit(inner)), inner, esize(x));
  }
  k.line("++j;");
  k.close();
}

// ---------------------------------------------------------------- Shape / Size

void emit_shape(KernelContext &k) {
  const Value &x = k.vin(0), &y = k.vout(0);
  int64_t r = (int64_t)x.rank();
  int64_t s = k.node.attr_int("start", 0), e = k.node.attr_int("end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, 0, r);
  for (int64_t i = s, j = 0; i < e && j < y.numel(); ++i, ++j)
    k.line("y0[{}] = {};", j, c_int_literal(y.dtype, x.shape[(size_t)i]));
}

void emit_size(KernelContext &k) {
  k.line("y0[0] = {};", c_int_literal(k.vout(0).dtype, k.vin(0).numel()));
}

// ---------------------------------------------------------------- checks

std::string gather_elements_check(const Node &n) {
  auto e = index_dtype_check(n, 1);
  if (!e.empty()) return e;
  if (n.input(0)->rank() != n.input(1)->rank()) return "data and indices ranks differ";
  if (n.input(0)->rank() == 0) return "rank-0 data is not supported";
  return "";
}

std::string gather_check(const Node &n) {
  auto e = index_dtype_check(n, 1);
  if (!e.empty()) return e;
  if (n.input(0)->rank() == 0) return "rank-0 data is not supported";
  int64_t axis = normalize_axis(n, n.attr_int("axis", 0), (int64_t)n.input(0)->rank());
  if (n.input(0)->shape[(size_t)axis] == 0 && n.output(0)->numel() > 0) return "gather from an empty axis";
  return "";
}

std::string scatter_elements_check(const Node &n) {
  auto e = index_dtype_check(n, 1);
  if (e.empty()) e = reduction_check(n);
  if (!e.empty()) return e;
  if (n.input(0)->rank() != n.input(1)->rank() || n.input(1)->shape != n.input(2)->shape)
    return "data/indices/updates shapes are inconsistent";
  return "";
}

std::string scatter_nd_check(const Node &n) {
  auto e = index_dtype_check(n, 1);
  if (e.empty()) e = reduction_check(n);
  if (!e.empty()) return e;
  const Value *ind = n.input(1);
  if (ind->rank() < 1 || ind->shape.back() > (int64_t)n.input(0)->rank()) return "invalid indices shape";
  return "";
}

std::string trilu_check(const Node &n) {
  if (n.input(0)->rank() < 2) return "input rank must be >= 2";
  return index_dtype_check(n, 1);
}

std::string compress_check(const Node &n) {
  if (n.has_attr("axis")) normalize_axis(n, n.attr_int("axis"), (int64_t)n.input(0)->rank());
  return "";
}

std::string eye_like_check(const Node &n) {
  if (n.output(0)->rank() != 2) return "only 2-D outputs are supported";
  return "";
}

std::string concat_check(const Node &n) {
  const Value *y = n.output(0);
  int64_t axis = normalize_axis(n, concat_axis(n), (int64_t)y->rank());
  int64_t total = 0;
  for (auto *x : n.inputs) {
    if (!x) continue;
    if (x->rank() != y->rank()) return "input rank differs from the output rank";
    total += x->shape[(size_t)axis];
  }
  if (total != y->shape[(size_t)axis]) return "input sizes do not add up to the output";
  return "";
}

std::string same_numel_check(const Node &n) {
  if (n.input(0)->numel() != n.output(0)->numel()) return "input and output element counts differ";
  return "";
}

} // namespace

void register_data_movement_kernels(KernelRegistry &r) {
  for (const char *op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    r.add({op, same_numel_check, emit_memcpy_all, nullptr});
  r.add({"Transpose", [](const Node &n) { transpose_perm(n); return std::string(); }, emit_transpose, nullptr});
  r.add({"Concat", concat_check, emit_concat, nullptr});
  r.add({"Split", split_check, emit_split, nullptr});
  r.add({"Slice", slice_check, emit_slice, nullptr});
  r.add({"Gather", gather_check, emit_gather, nullptr});
  r.add({"GatherElements", gather_elements_check, emit_gather_elements, nullptr});
  r.add({"GatherND", gather_nd_check, emit_gather_nd, nullptr});
  r.add({"ScatterElements", scatter_elements_check, emit_scatter_elements, nullptr});
  r.add({"Scatter", scatter_elements_check, emit_scatter_elements, nullptr});
  r.add({"ScatterND", scatter_nd_check, emit_scatter_nd, nullptr});
  r.add({"Pad", pad_check, emit_pad, nullptr});
  r.add({"Expand", expand_check, emit_expand, nullptr});
  r.add({"Tile", tile_check, emit_tile, nullptr});
  r.add({"DepthToSpace", d2s_check, emit_depth_to_space, nullptr});
  r.add({"SpaceToDepth", d2s_check, emit_space_to_depth, nullptr});
  r.add({"Trilu", trilu_check, emit_trilu, nullptr});
  r.add({"Range", nullptr, emit_range, nullptr});
  r.add({"ConstantOfShape", constant_of_shape_check, emit_constant_of_shape, nullptr});
  r.add({"EyeLike", eye_like_check, emit_eye_like, nullptr});
  r.add({"OneHot", one_hot_check, emit_one_hot, nullptr});
  r.add({"ReverseSequence", reverse_sequence_check, emit_reverse_sequence, nullptr});
  r.add({"Compress", compress_check, emit_compress, nullptr});
  r.add({"Shape", nullptr, emit_shape, nullptr});
  r.add({"Size", nullptr, emit_size, nullptr});
}

} // namespace tmc::codegen
