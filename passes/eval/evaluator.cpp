// Host reference evaluator for constant folding.
//
// Every op works on raw little-endian bytes. Data-movement ops (Gather, Slice,
// Transpose, Pad, ...) copy elements byte-wise and so support every dtype.
// Arithmetic reads each element into one of three compute types according to
// the dtype's kind: double for floating point (float16/bfloat16 included),
// int64_t for signed integers, uint64_t for unsigned integers and bool, and
// converts the result to the output dtype. For a single +, -, *, /, sqrt the
// double result rounded to float equals the float32 result exactly; integer
// arithmetic wraps like C/numpy on the narrow type.
#include "passes/eval/evaluator.h"
#include "passes/eval/nn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

namespace tmc::passes::eval {
namespace {

using ir::DType;
using ir::Node;
using ir::Shape;
using ir::Value;

[[noreturn]] void fail(const Node &n, const std::string &msg) { throw ir::CompileError(n, msg); }

// ------------------------------------------------------------ numbers
using ir::bf16_to_f32;
using ir::f16_to_f32;
using ir::f32_to_bf16;
using ir::f32_to_f16;

/// double -> int64 truncating toward zero, saturating, NaN -> 0 (no UB).
int64_t sat_i64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (v <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return (int64_t)v;
}
uint64_t sat_u64(double v) {
  if (std::isnan(v)) return 0;
  if (v < 0) return (uint64_t)sat_i64(v); // wraps like numpy on x86
  if (v >= 18446744073709551616.0) return std::numeric_limits<uint64_t>::max();
  return (uint64_t)v;
}

template <typename T> T rd(const uint8_t *p, int64_t i) {
  T x;
  std::memcpy(&x, p + i * (int64_t)sizeof(T), sizeof(T));
  return x;
}
template <typename T> void wr(uint8_t *p, int64_t i, T x) {
  std::memcpy(p + i * (int64_t)sizeof(T), &x, sizeof(T));
}

enum class Kind { F, S, U, None };
Kind kind_of(DType t) {
  switch (t) {
  case DType::F32: case DType::F64: case DType::F16: case DType::BF16: return Kind::F;
  case DType::I8: case DType::I16: case DType::I32: case DType::I64: return Kind::S;
  case DType::U8: case DType::U16: case DType::U32: case DType::U64: case DType::Bool: return Kind::U;
  default: return Kind::None;
  }
}
bool numeric(DType t) { return kind_of(t) != Kind::None; }

double ldf(DType t, const uint8_t *p, int64_t i) {
  switch (t) {
  case DType::F32: return rd<float>(p, i);
  case DType::F64: return rd<double>(p, i);
  case DType::F16: return f16_to_f32(rd<uint16_t>(p, i));
  case DType::BF16: return bf16_to_f32(rd<uint16_t>(p, i));
  case DType::I8: return rd<int8_t>(p, i);
  case DType::I16: return rd<int16_t>(p, i);
  case DType::I32: return rd<int32_t>(p, i);
  case DType::I64: return (double)rd<int64_t>(p, i);
  case DType::U8: return rd<uint8_t>(p, i);
  case DType::U16: return rd<uint16_t>(p, i);
  case DType::U32: return rd<uint32_t>(p, i);
  case DType::U64: return (double)rd<uint64_t>(p, i);
  case DType::Bool: return rd<uint8_t>(p, i) ? 1.0 : 0.0;
  default: return 0;
  }
}
int64_t lds(DType t, const uint8_t *p, int64_t i) {
  switch (t) {
  case DType::I8: return rd<int8_t>(p, i);
  case DType::I16: return rd<int16_t>(p, i);
  case DType::I32: return rd<int32_t>(p, i);
  case DType::I64: return rd<int64_t>(p, i);
  case DType::U8: return rd<uint8_t>(p, i);
  case DType::U16: return rd<uint16_t>(p, i);
  case DType::U32: return rd<uint32_t>(p, i);
  case DType::U64: return (int64_t)rd<uint64_t>(p, i);
  case DType::Bool: return rd<uint8_t>(p, i) ? 1 : 0;
  default: return sat_i64(ldf(t, p, i));
  }
}
uint64_t ldu(DType t, const uint8_t *p, int64_t i) {
  switch (t) {
  case DType::U64: return rd<uint64_t>(p, i);
  case DType::F32: case DType::F64: case DType::F16: case DType::BF16: return sat_u64(ldf(t, p, i));
  default: return (uint64_t)lds(t, p, i);
  }
}
template <typename C> C ld(DType t, const uint8_t *p, int64_t i) {
  if constexpr (std::is_same_v<C, double>) return ldf(t, p, i);
  else if constexpr (std::is_same_v<C, int64_t>) return lds(t, p, i);
  else return ldu(t, p, i);
}

/// Stores an integer (given as its 64-bit two's complement bits) into an integer dtype, wrapping.
void st_bits(DType t, uint8_t *p, int64_t i, uint64_t v) {
  switch (t) {
  case DType::I8: wr<int8_t>(p, i, (int8_t)v); break;
  case DType::I16: wr<int16_t>(p, i, (int16_t)v); break;
  case DType::I32: wr<int32_t>(p, i, (int32_t)v); break;
  case DType::I64: wr<int64_t>(p, i, (int64_t)v); break;
  case DType::U8: wr<uint8_t>(p, i, (uint8_t)v); break;
  case DType::U16: wr<uint16_t>(p, i, (uint16_t)v); break;
  case DType::U32: wr<uint32_t>(p, i, (uint32_t)v); break;
  case DType::U64: wr<uint64_t>(p, i, v); break;
  case DType::Bool: wr<uint8_t>(p, i, v ? 1 : 0); break;
  default: break;
  }
}
void st(DType t, uint8_t *p, int64_t i, double v) {
  switch (t) {
  case DType::F32: wr<float>(p, i, (float)v); break;
  case DType::F64: wr<double>(p, i, v); break;
  case DType::F16: wr<uint16_t>(p, i, f32_to_f16((float)v)); break;
  case DType::BF16: wr<uint16_t>(p, i, f32_to_bf16((float)v)); break;
  case DType::Bool: wr<uint8_t>(p, i, v != 0 ? 1 : 0); break; // NaN -> true
  case DType::U64: wr<uint64_t>(p, i, sat_u64(v)); break;
  default: st_bits(t, p, i, (uint64_t)sat_i64(v)); break;
  }
}
void st(DType t, uint8_t *p, int64_t i, int64_t v) {
  switch (t) {
  case DType::F32: wr<float>(p, i, (float)v); break;
  case DType::F64: wr<double>(p, i, (double)v); break;
  case DType::F16: wr<uint16_t>(p, i, f32_to_f16((float)v)); break;
  case DType::BF16: wr<uint16_t>(p, i, f32_to_bf16((float)v)); break;
  default: st_bits(t, p, i, (uint64_t)v); break;
  }
}
void st(DType t, uint8_t *p, int64_t i, uint64_t v) {
  switch (t) {
  case DType::F32: wr<float>(p, i, (float)v); break;
  case DType::F64: wr<double>(p, i, (double)v); break;
  case DType::F16: wr<uint16_t>(p, i, f32_to_f16((float)v)); break;
  case DType::BF16: wr<uint16_t>(p, i, f32_to_bf16((float)v)); break;
  default: st_bits(t, p, i, v); break;
  }
}
void st(DType t, uint8_t *p, int64_t i, bool v) { st(t, p, i, (uint64_t)(v ? 1 : 0)); }

/// Rounds a double to the precision of float dtype `t` (for sequential float ops).
double round_to(DType t, double v) {
  switch (t) {
  case DType::F32: return (double)(float)v;
  case DType::F16: return f16_to_f32(f32_to_f16((float)v));
  case DType::BF16: return bf16_to_f32(f32_to_bf16((float)v));
  default: return v;
  }
}

template <typename F> decltype(auto) with_kind(Kind k, F &&f) {
  switch (k) {
  case Kind::F: return f(double{});
  case Kind::S: return f(int64_t{});
  default: return f(uint64_t{});
  }
}

// ------------------------------------------------------------ tensors
/// Read-only view of a constant input.
struct In {
  DType dt = DType::Undefined;
  Shape shape;
  const uint8_t *p = nullptr;
  int64_t n = 0;
  int64_t es = 0;
  int64_t rank() const { return (int64_t)shape.size(); }
};

HostTensor make(DType dt, const Shape &shape) {
  HostTensor t;
  t.dtype = dt;
  t.shape = shape;
  t.data.assign((size_t)(ir::shape_numel(shape) * (int64_t)ir::dtype_size(dt)), 0);
  return t;
}

std::vector<int64_t> strides_of(const Shape &s) {
  std::vector<int64_t> r(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) r[i - 1] = r[i] * s[i];
  return r;
}

int64_t prod(const Shape &s, size_t b, size_t e) {
  int64_t r = 1;
  for (size_t i = b; i < e; ++i) r *= s[i];
  return r;
}

/// Strides of `in` broadcast to `out` (right-aligned; 0 on broadcast dims).
std::vector<int64_t> bstrides(const Shape &in, const Shape &out) {
  std::vector<int64_t> r(out.size(), 0);
  auto s = strides_of(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != 1) r[off + i] = s[i];
  return r;
}

bool try_broadcast(const std::vector<Shape> &shapes, Shape &out) {
  size_t r = 0;
  for (auto &s : shapes) r = std::max(r, s.size());
  out.assign(r, 1);
  for (auto &s : shapes) {
    size_t off = r - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t d = s[i], &o = out[off + i];
      if (d == o || d == 1) continue;
      if (o == 1) o = d;
      else return false;
    }
  }
  return true;
}

Shape broadcast(const Node &n, const std::vector<Shape> &shapes) {
  Shape out;
  if (!try_broadcast(shapes, out)) {
    std::string s;
    for (auto &x : shapes) s += (s.empty() ? "" : ", ") + ir::shape_str(x);
    fail(n, "input shapes cannot be broadcast together: " + s);
  }
  return out;
}

/// Calls f(i, offs) for every multi-index of `shape` in row-major order (i is
/// the flat index) with offs[j] = base[j] + sum_k idx[k] * strides[j][k].
template <typename F>
void walk(const Shape &shape, const std::vector<std::vector<int64_t>> &strides, std::vector<int64_t> offs, F &&f) {
  int64_t n = ir::shape_numel(shape);
  if (n <= 0) return;
  size_t r = shape.size(), m = strides.size();
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, (const int64_t *)offs.data());
    for (size_t k = r; k-- > 0;) {
      for (size_t j = 0; j < m; ++j) offs[j] += strides[j][k];
      if (++idx[k] < shape[k]) break;
      for (size_t j = 0; j < m; ++j) offs[j] -= strides[j][k] * shape[k];
      idx[k] = 0;
    }
  }
}

void copy_el(uint8_t *dst, int64_t di, const uint8_t *src, int64_t si, int64_t es) {
  std::memcpy(dst + di * es, src + si * es, (size_t)es);
}

int64_t norm_axis(const Node &n, int64_t a, int64_t r, const char *what = "axis") {
  if (a < -r || a >= r) fail(n, fmt::format("{} {} is out of range for rank {}", what, a, r));
  return a < 0 ? a + r : a;
}

/// The inputs of one evaluation.
struct Args {
  const Node &n;
  const std::vector<const Value *> &v;
  bool has(size_t i) const { return i < v.size() && v[i] != nullptr; }
  In in(size_t i) const {
    if (!has(i)) fail(n, fmt::format("required input {} is missing", i));
    const Value *x = v[i];
    if (!x->data) fail(n, fmt::format("internal: input '{}' is not constant", x->name));
    In r;
    r.dt = x->dtype;
    r.shape = x->shape;
    r.p = x->data->data();
    r.n = ir::shape_numel(x->shape);
    r.es = (int64_t)ir::dtype_size(x->dtype);
    if ((int64_t)x->data->size() != r.n * r.es) fail(n, fmt::format("internal: constant '{}' has a wrong size", x->name));
    return r;
  }
  std::vector<int64_t> ints(size_t i) const {
    In x = in(i);
    if (kind_of(x.dt) == Kind::F || kind_of(x.dt) == Kind::None)
      fail(n, fmt::format("input {} must be an integer tensor, not {}", i, ir::dtype_name(x.dt)));
    std::vector<int64_t> r((size_t)x.n);
    for (int64_t k = 0; k < x.n; ++k) r[(size_t)k] = lds(x.dt, x.p, k);
    return r;
  }
  int64_t scalar_int(size_t i) const {
    auto r = ints(i);
    if (r.size() != 1) fail(n, fmt::format("input {} must have one element", i));
    return r[0];
  }
  /// Integer list from attribute `attr` if present, else from input `idx` if present.
  std::optional<std::vector<int64_t>> attr_or_input(const std::string &attr, size_t idx) const {
    if (n.has_attr(attr)) return n.attr_ints(attr);
    if (has(idx)) return ints(idx);
    return std::nullopt;
  }
};

using Outs = std::vector<HostTensor>;

HostTensor copy_of(const In &x, const Shape &shape) {
  HostTensor t;
  t.dtype = x.dt;
  t.shape = shape;
  t.data.assign(x.p, x.p + x.n * x.es);
  return t;
}

// ------------------------------------------------------------ elementwise
/// Broadcast n-ary elementwise op: reads each input as compute type C of kind
/// `k` and stores op(vals) (double / int64_t / uint64_t / bool) into `out_dt`.
template <typename Op>
HostTensor elementwise(const Node &n, const std::vector<In> &xs, DType out_dt, Kind k, Op op) {
  std::vector<Shape> shapes;
  for (auto &x : xs) shapes.push_back(x.shape);
  Shape out = broadcast(n, shapes);
  HostTensor t = make(out_dt, out);
  std::vector<std::vector<int64_t>> strides;
  for (auto &x : xs) strides.push_back(bstrides(x.shape, out));
  uint8_t *dst = t.data.data();
  with_kind(k, [&](auto tag) {
    using C = decltype(tag);
    std::vector<C> vals(xs.size());
    walk(out, strides, std::vector<int64_t>(xs.size(), 0), [&](int64_t i, const int64_t *o) {
      for (size_t j = 0; j < xs.size(); ++j) vals[j] = ld<C>(xs[j].dt, xs[j].p, o[j]);
      st(out_dt, dst, i, op(vals.data()));
    });
  });
  return t;
}

template <typename C> constexpr bool is_f = std::is_same_v<C, double>;
template <typename C> constexpr bool is_s = std::is_same_v<C, int64_t>;

/// Wrapping integer ops on 64-bit two's complement (no UB).
template <typename C> C wadd(C a, C b) { return (C)((uint64_t)a + (uint64_t)b); }
template <typename C> C wsub(C a, C b) { return (C)((uint64_t)a - (uint64_t)b); }
template <typename C> C wmul(C a, C b) { return (C)((uint64_t)a * (uint64_t)b); }

template <typename C> C div_op(C a, C b) {
  if constexpr (is_f<C>) {
    return a / b;
  } else {
    if (b == 0) return 0; // undefined in ONNX; deterministic here
    if constexpr (is_s<C>)
      if (b == -1) return wsub<C>(0, a);
    return a / b; // truncates toward zero
  }
}

template <typename C> C mod_op(C a, C b, bool fmod_mode) {
  if constexpr (is_f<C>) {
    double r = std::fmod(a, b);
    if (!fmod_mode && r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else {
    if (b == 0) return 0;
    if constexpr (is_s<C>) {
      if (b == -1) return 0;
      C r = a % b;
      if (!fmod_mode && r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    } else {
      return a % b;
    }
  }
}

template <typename C> C min_op(C a, C b) {
  if constexpr (is_f<C>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return b < a ? b : a;
}
template <typename C> C max_op(C a, C b) {
  if constexpr (is_f<C>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a < b ? b : a;
}

uint64_t ipow(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  while (e) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return r;
}

// Binary arithmetic ops, computed in the kind of input 0.
Outs eval_binary(const Node &n, const Args &a) {
  In x = a.in(0), y = a.in(1);
  const std::string &op = n.op;
  Kind k = kind_of(x.dt);
  if (op == "Pow") {
    // Output has the base's type; exponent may be of another type (opset 12+).
    HostTensor t = make(x.dt, broadcast(n, {x.shape, y.shape}));
    Shape out = t.shape;
    Kind ke = kind_of(y.dt);
    walk(out, {bstrides(x.shape, out), bstrides(y.shape, out)}, {0, 0}, [&](int64_t i, const int64_t *o) {
      // Integer base and non-negative integer exponent: exact, wrapping.
      if (k != Kind::F && (ke == Kind::U || (ke == Kind::S && lds(y.dt, y.p, o[1]) >= 0))) {
        st(x.dt, t.data.data(), i, ipow(ldu(x.dt, x.p, o[0]), ldu(y.dt, y.p, o[1])));
      } else {
        st(x.dt, t.data.data(), i, std::pow(ldf(x.dt, x.p, o[0]), ldf(y.dt, y.p, o[1])));
      }
    });
    return {t};
  }
  bool fmod_mode = n.attr_int("fmod", 0) != 0;
  bool left = n.attr_string("direction", "") == "LEFT";
  enum { kAdd, kSub, kMul, kDiv, kMod, kShift, kAnd, kOr, kXor } opc;
  if (op == "Add") opc = kAdd;
  else if (op == "Sub") opc = kSub;
  else if (op == "Mul") opc = kMul;
  else if (op == "Div") opc = kDiv;
  else if (op == "Mod") opc = kMod;
  else if (op == "BitShift") opc = kShift;
  else if (op == "BitwiseAnd") opc = kAnd;
  else if (op == "BitwiseOr") opc = kOr;
  else if (op == "BitwiseXor") opc = kXor;
  else fail(n, "internal: unknown binary op");
  return {elementwise(n, {x, y}, x.dt, k, [&](const auto *v) {
    using C = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
    C p = v[0], q = v[1];
    switch (opc) {
    case kAdd: return is_f<C> ? (C)(p + q) : wadd<C>(p, q);
    case kSub: return is_f<C> ? (C)(p - q) : wsub<C>(p, q);
    case kMul: return is_f<C> ? (C)(p * q) : wmul<C>(p, q);
    case kDiv: return div_op<C>(p, q);
    case kMod: return mod_op<C>(p, q, fmod_mode);
    default: break;
    }
    if constexpr (!is_f<C>) { // bitwise ops: integers only (checked by can_evaluate)
      uint64_t P = (uint64_t)p, Q = (uint64_t)q;
      switch (opc) {
      case kShift: return Q >= 64 ? (C)0 : (C)(left ? P << Q : P >> Q);
      case kAnd: return (C)(P & Q);
      case kOr: return (C)(P | Q);
      default: return (C)(P ^ Q);
      }
    }
    return (C)0;
  })};
}

bool check_bitwise(const Node &n) {
  for (Value *v : n.inputs)
    if (v && kind_of(v->dtype) == Kind::F) return false;
  if (n.op == "BitShift") {
    std::string d = n.attr_string("direction", "");
    if (d != "LEFT" && d != "RIGHT") return false;
    for (Value *v : n.inputs)
      if (v && kind_of(v->dtype) != Kind::U) return false;
  }
  return true;
}

Outs eval_compare(const Node &n, const Args &a) {
  In x = a.in(0), y = a.in(1);
  Kind k = kind_of(x.dt);
  if (kind_of(y.dt) == Kind::F) k = Kind::F;
  else if (k == Kind::U && kind_of(y.dt) == Kind::S) k = Kind::S; // same dtype in valid models
  const std::string &op = n.op;
  return {elementwise(n, {x, y}, DType::Bool, k, [&](const auto *v) -> bool {
    auto p = v[0], q = v[1];
    if (op == "Equal") return p == q;
    if (op == "Less") return p < q;
    if (op == "Greater") return p > q;
    if (op == "LessOrEqual") return p <= q;
    if (op == "GreaterOrEqual") return p >= q;
    fail(n, "internal: unknown comparison");
  })};
}

Outs eval_logical(const Node &n, const Args &a) {
  const std::string &op = n.op;
  if (op == "Not") {
    In x = a.in(0);
    HostTensor t = make(DType::Bool, x.shape);
    for (int64_t i = 0; i < x.n; ++i) t.data[(size_t)i] = ldu(x.dt, x.p, i) ? 0 : 1;
    return {t};
  }
  return {elementwise(n, {a.in(0), a.in(1)}, DType::Bool, Kind::U, [&](const auto *v) -> bool {
    bool p = v[0] != 0, q = v[1] != 0;
    if (op == "And") return p && q;
    if (op == "Or") return p || q;
    return p != q; // Xor
  })};
}

Outs eval_where(const Node &n, const Args &a) {
  In c = a.in(0), x = a.in(1), y = a.in(2);
  if (x.dt != y.dt) fail(n, "X and Y must have the same dtype");
  Shape out = broadcast(n, {c.shape, x.shape, y.shape});
  HostTensor t = make(x.dt, out);
  walk(out, {bstrides(c.shape, out), bstrides(x.shape, out), bstrides(y.shape, out)}, {0, 0, 0},
       [&](int64_t i, const int64_t *o) {
         if (ldu(c.dt, c.p, o[0])) copy_el(t.data.data(), i, x.p, o[1], x.es);
         else copy_el(t.data.data(), i, y.p, o[2], y.es);
       });
  return {t};
}

/// Variadic Sum / Mean / Min / Max: sequential, rounding to the dtype after each step.
Outs eval_variadic(const Node &n, const Args &a) {
  std::vector<In> xs;
  for (size_t i = 0; i < a.v.size(); ++i)
    if (a.has(i)) xs.push_back(a.in(i));
  if (xs.empty()) fail(n, "needs at least one input");
  DType dt = xs[0].dt;
  const std::string &op = n.op;
  double cnt = (double)xs.size();
  return {elementwise(n, xs, dt, kind_of(dt), [&](const auto *v) {
    using C = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
    C r = v[0];
    for (size_t j = 1; j < xs.size(); ++j) {
      if (op == "Sum" || op == "Mean") r = is_f<C> ? (C)round_to(dt, (double)r + (double)v[j]) : wadd<C>(r, v[j]);
      else if (op == "Min") r = min_op<C>(r, v[j]);
      else r = max_op<C>(r, v[j]);
    }
    if (op == "Mean") {
      if constexpr (is_f<C>) r = r / cnt;
      else r = div_op<C>(r, (C)xs.size());
    }
    return r;
  })};
}

using UnaryF = double (*)(double);
const std::map<std::string, UnaryF> &float_unaries() {
  static const std::map<std::string, UnaryF> m = {
      {"Sqrt", [](double x) { return std::sqrt(x); }},
      {"Reciprocal", [](double x) { return 1.0 / x; }},
      {"Floor", [](double x) { return std::floor(x); }},
      {"Ceil", [](double x) { return std::ceil(x); }},
      {"Round", [](double x) { return std::nearbyint(x); }},
      {"Exp", [](double x) { return std::exp(x); }},
      {"Log", [](double x) { return std::log(x); }},
      {"Sin", [](double x) { return std::sin(x); }},
      {"Cos", [](double x) { return std::cos(x); }},
      {"Tanh", [](double x) { return std::tanh(x); }},
      {"Erf", [](double x) { return std::erf(x); }},
      {"Sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
  };
  return m;
}

Outs eval_unary(const Node &n, const Args &a) {
  In x = a.in(0);
  const std::string &op = n.op;
  Kind k = kind_of(x.dt);
  auto fu = float_unaries().find(op);
  if (fu != float_unaries().end()) {
    if (k != Kind::F) fail(n, "needs a floating-point input");
    UnaryF f = fu->second;
    return {elementwise(n, {x}, x.dt, k, [&](const auto *v) { return f((double)v[0]); })};
  }
  if (op == "IsNaN" || op == "IsInf") {
    int64_t pos = n.attr_int("detect_positive", 1), neg = n.attr_int("detect_negative", 1);
    return {elementwise(n, {x}, DType::Bool, Kind::F, [&](const auto *v) -> bool {
      double d = (double)v[0];
      if (op == "IsNaN") return std::isnan(d);
      return std::isinf(d) && ((d > 0 && pos) || (d < 0 && neg));
    })};
  }
  return {elementwise(n, {x}, x.dt, k, [&](const auto *v) {
    using C = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
    C p = v[0];
    if (op == "Neg") return is_f<C> ? (C)-p : wsub<C>(0, p);
    if (op == "Abs") {
      if constexpr (is_f<C>) return std::fabs(p);
      else if constexpr (is_s<C>) return p < 0 ? wsub<C>(0, p) : p;
      else return p;
    }
    if (op == "Relu") {
      if constexpr (std::is_same_v<C, uint64_t>) return p;
      else return p < 0 ? (C)0 : p; // NaN stays NaN
    }
    if (op == "Sign") {
      if constexpr (is_f<C>)
        if (std::isnan(p)) return p;
      return p > 0 ? (C)1 : (p < 0 ? (C)-1 : (C)0);
    }
    if (op == "Identity") return p;
    fail(n, "internal: unknown unary op");
  })};
}

bool check_float_input(const Node &n) { return n.input(0) && kind_of(n.input(0)->dtype) == Kind::F; }

Outs eval_clip(const Node &n, const Args &a) {
  In x = a.in(0);
  Kind k = kind_of(x.dt);
  bool attrs = n.opset < 11;
  std::optional<double> lo_f, hi_f;
  std::optional<In> lo, hi;
  if (attrs) {
    lo_f = n.attr_float("min", -std::numeric_limits<float>::max());
    hi_f = n.attr_float("max", std::numeric_limits<float>::max());
  } else {
    if (a.has(1)) lo = a.in(1);
    if (a.has(2)) hi = a.in(2);
    if ((lo && lo->n != 1) || (hi && hi->n != 1)) fail(n, "min and max must be scalars");
  }
  return {elementwise(n, {x}, x.dt, k, [&](const auto *v) {
    using C = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
    C r = v[0];
    if constexpr (is_f<C>) {
      if (std::isnan(r)) return r;
      if (lo_f && r < *lo_f) r = *lo_f;
      if (hi_f && r > *hi_f) r = *hi_f;
    }
    if (lo) r = max_op<C>(r, ld<C>(lo->dt, lo->p, 0));
    if (hi) r = min_op<C>(r, ld<C>(hi->dt, hi->p, 0));
    return r;
  })};
}

// ------------------------------------------------------------ type conversion
Outs eval_cast_to(const In &x, DType to) {
  HostTensor t = make(to, x.shape);
  if (to == x.dt) {
    t.data.assign(x.p, x.p + x.n * x.es);
    return {t};
  }
  uint8_t *d = t.data.data();
  switch (kind_of(x.dt)) {
  case Kind::F:
    for (int64_t i = 0; i < x.n; ++i) st(to, d, i, ldf(x.dt, x.p, i));
    break;
  case Kind::S:
    for (int64_t i = 0; i < x.n; ++i) st(to, d, i, lds(x.dt, x.p, i));
    break;
  default:
    for (int64_t i = 0; i < x.n; ++i) st(to, d, i, ldu(x.dt, x.p, i));
    break;
  }
  return {t};
}

Outs eval_cast(const Node &n, const Args &a) {
  DType to = n.op == "CastLike" ? a.in(1).dt : ir::dtype_from_onnx((int)n.attr_int("to"));
  if (!numeric(to)) fail(n, "unsupported target type");
  const In &x = a.in(0);
  if (to == DType::BF16 && n.opset < 19 && (x.dt == DType::F32 || x.dt == DType::F64)) {
    // Before opset 19, float -> bfloat16 truncates (ONNX's reference and its
    // test data do); the Cast kernel does the same.
    HostTensor t = make(to, x.shape);
    for (int64_t i = 0; i < x.n; ++i) {
      float f = (float)ldf(x.dt, x.p, i);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      uint16_t h = (uint16_t)(bits >> 16);
      if (std::isnan(f)) h = (uint16_t)((bits >> 16) | 0x40u);
      wr<uint16_t>(t.data.data(), i, h);
    }
    return {t};
  }
  return eval_cast_to(x, to);
}

bool check_cast(const Node &n) {
  if (n.op == "CastLike") return n.input(1) && numeric(n.input(1)->dtype);
  if (!n.has_attr("to")) return false;
  return numeric(ir::dtype_from_onnx((int)n.attr_int("to")));
}

/// Scale/zero-point index of element i: per tensor or along `axis`.
struct QuantIndex {
  bool per_tensor = true;
  int64_t inner = 1, dim = 1;
  int64_t of(int64_t i) const { return per_tensor ? 0 : (i / inner) % dim; }
};

QuantIndex quant_index(const Node &n, const In &x, const In &scale) {
  QuantIndex q;
  if (scale.n == 1 && scale.rank() <= 1) return q;
  if (scale.rank() != 1) fail(n, "scale must be a scalar or a 1-D tensor");
  int64_t axis = norm_axis(n, n.attr_int("axis", 1), x.rank());
  if (x.shape[(size_t)axis] != scale.n)
    fail(n, fmt::format("scale has {} elements, axis {} has {}", scale.n, axis, x.shape[(size_t)axis]));
  q.per_tensor = false;
  q.dim = scale.n;
  q.inner = prod(x.shape, (size_t)axis + 1, x.shape.size());
  return q;
}

Outs eval_dequantize(const Node &n, const Args &a) {
  In x = a.in(0), s = a.in(1);
  std::optional<In> zp;
  if (a.has(2)) zp = a.in(2);
  if (zp && zp->n != s.n) fail(n, "zero point and scale must have the same shape");
  QuantIndex q = quant_index(n, x, s);
  HostTensor t = make(s.dt, x.shape);
  for (int64_t i = 0; i < x.n; ++i) {
    int64_t j = q.of(i);
    int64_t z = zp ? lds(zp->dt, zp->p, j) : 0;
    float v = (float)(lds(x.dt, x.p, i) - z) * (float)ldf(s.dt, s.p, j);
    st(s.dt, t.data.data(), i, (double)v);
  }
  return {t};
}

DType quant_out_dtype(const Node &n) {
  if (n.input(2)) return n.input(2)->dtype;
  return DType::U8;
}

Outs eval_quantize(const Node &n, const Args &a) {
  In x = a.in(0), s = a.in(1);
  std::optional<In> zp;
  if (a.has(2)) zp = a.in(2);
  if (zp && zp->n != s.n) fail(n, "zero point and scale must have the same shape");
  DType od = zp ? zp->dt : DType::U8;
  double lo, hi;
  switch (od) {
  case DType::U8: lo = 0, hi = 255; break;
  case DType::I8: lo = -128, hi = 127; break;
  case DType::U16: lo = 0, hi = 65535; break;
  case DType::I16: lo = -32768, hi = 32767; break;
  default: fail(n, std::string("unsupported output type ") + ir::dtype_name(od));
  }
  QuantIndex q = quant_index(n, x, s);
  HostTensor t = make(od, x.shape);
  for (int64_t i = 0; i < x.n; ++i) {
    int64_t j = q.of(i);
    double z = zp ? (double)lds(zp->dt, zp->p, j) : 0.0;
    double v;
    if (x.dt == DType::F64 || s.dt == DType::F64) v = ldf(x.dt, x.p, i) / ldf(s.dt, s.p, j);
    else v = (double)((float)ldf(x.dt, x.p, i) / (float)ldf(s.dt, s.p, j));
    v = std::nearbyint(v) + z; // round half to even
    if (std::isnan(v)) v = 0;
    v = std::min(std::max(v, lo), hi);
    st(od, t.data.data(), i, v);
  }
  return {t};
}

bool check_quantize(const Node &n) {
  DType od = quant_out_dtype(n);
  if (od != DType::U8 && od != DType::I8 && od != DType::U16 && od != DType::I16) return false;
  return n.input(1) && kind_of(n.input(1)->dtype) == Kind::F;
}
bool check_dequantize(const Node &n) {
  return n.input(0) && kind_of(n.input(0)->dtype) != Kind::F && n.input(1) &&
         kind_of(n.input(1)->dtype) == Kind::F;
}

// ------------------------------------------------------------ shapes
Outs eval_shape(const Node &n, const Args &a) {
  const Value *v = a.v.at(0);
  if (!v) fail(n, "missing input");
  const Shape &s = v->shape;
  int64_t r = (int64_t)s.size();
  int64_t start = n.attr_int("start", 0), end = n.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  std::vector<int64_t> vals;
  for (int64_t i = start; i < end; ++i) vals.push_back(s[(size_t)i]);
  HostTensor t = make(DType::I64, {(int64_t)vals.size()});
  if (!vals.empty()) std::memcpy(t.data.data(), vals.data(), vals.size() * 8);
  return {t};
}

Outs eval_size(const Node &n, const Args &a) {
  const Value *v = a.v.at(0);
  if (!v) fail(n, "missing input");
  HostTensor t = make(DType::I64, {});
  int64_t s = ir::shape_numel(v->shape);
  std::memcpy(t.data.data(), &s, 8);
  return {t};
}

Outs eval_identity(const Node &, const Args &a) {
  In x = a.in(0);
  return {copy_of(x, x.shape)};
}

Outs eval_reshape(const Node &n, const Args &a) {
  In x = a.in(0);
  std::vector<int64_t> spec = a.has(1) ? a.ints(1) : n.attr_ints("shape");
  bool allowzero = n.attr_int("allowzero", 0) != 0;
  Shape out(spec.size());
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowzero) {
      if (i >= x.shape.size()) fail(n, fmt::format("shape[{}] = 0 copies a dimension the input does not have", i));
      d = x.shape[i];
    }
    if (d == -1) {
      if (infer >= 0) fail(n, "more than one -1 in the shape");
      infer = (int64_t)i;
      continue;
    }
    if (d < 0) fail(n, fmt::format("invalid dimension {} in the shape", d));
    out[i] = d;
    known *= d;
  }
  if (infer >= 0) {
    if (known == 0 || x.n % known != 0)
      fail(n, fmt::format("cannot reshape {} to {}", ir::shape_str(x.shape), ir::shape_str(Shape(spec))));
    out[(size_t)infer] = x.n / known;
  }
  if (ir::shape_numel(out) != x.n)
    fail(n, fmt::format("cannot reshape {} to {}", ir::shape_str(x.shape), ir::shape_str(out)));
  return {copy_of(x, out)};
}

Outs eval_flatten(const Node &n, const Args &a) {
  In x = a.in(0);
  int64_t r = x.rank(), axis = n.attr_int("axis", 1);
  if (axis < -r || axis > r) fail(n, fmt::format("axis {} is out of range for rank {}", axis, r));
  if (axis < 0) axis += r;
  return {copy_of(x, {prod(x.shape, 0, (size_t)axis), prod(x.shape, (size_t)axis, (size_t)r)})};
}

Outs eval_unsqueeze(const Node &n, const Args &a) {
  In x = a.in(0);
  auto axes = a.attr_or_input("axes", 1);
  if (!axes) fail(n, "axes are required");
  int64_t r = x.rank() + (int64_t)axes->size();
  std::vector<bool> is_new((size_t)r, false);
  for (int64_t ax : *axes) {
    int64_t k = norm_axis(n, ax, r);
    if (is_new[(size_t)k]) fail(n, "repeated axis");
    is_new[(size_t)k] = true;
  }
  Shape out;
  size_t j = 0;
  for (int64_t i = 0; i < r; ++i) out.push_back(is_new[(size_t)i] ? 1 : x.shape[j++]);
  return {copy_of(x, out)};
}

Outs eval_squeeze(const Node &n, const Args &a) {
  In x = a.in(0);
  auto axes = a.attr_or_input("axes", 1);
  std::vector<bool> drop(x.shape.size(), false);
  if (!axes) {
    for (size_t i = 0; i < x.shape.size(); ++i) drop[i] = x.shape[i] == 1;
  } else {
    for (int64_t ax : *axes) {
      int64_t k = norm_axis(n, ax, x.rank());
      if (x.shape[(size_t)k] != 1) fail(n, fmt::format("cannot squeeze axis {} of size {}", k, x.shape[(size_t)k]));
      drop[(size_t)k] = true;
    }
  }
  Shape out;
  for (size_t i = 0; i < x.shape.size(); ++i)
    if (!drop[i]) out.push_back(x.shape[i]);
  return {copy_of(x, out)};
}

Outs eval_transpose(const Node &n, const Args &a) {
  In x = a.in(0);
  size_t r = x.shape.size();
  std::vector<int64_t> perm = n.attr_ints("perm");
  if (perm.empty() && r > 0)
    for (size_t i = 0; i < r; ++i) perm.push_back((int64_t)(r - 1 - i));
  if (perm.size() != r) fail(n, "perm has the wrong length");
  std::vector<bool> seen(r, false);
  auto s = strides_of(x.shape);
  Shape out(r);
  std::vector<int64_t> ps(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t p = perm[i];
    if (p < 0 || p >= (int64_t)r || seen[(size_t)p]) fail(n, "perm is not a permutation");
    seen[(size_t)p] = true;
    out[i] = x.shape[(size_t)p];
    ps[i] = s[(size_t)p];
  }
  HostTensor t = make(x.dt, out);
  walk(out, {ps}, {0}, [&](int64_t i, const int64_t *o) { copy_el(t.data.data(), i, x.p, o[0], x.es); });
  return {t};
}

Outs eval_constant_of_shape(const Node &n, const Args &a) {
  std::vector<int64_t> dims = a.has(0) ? a.ints(0) : std::vector<int64_t>{};
  for (int64_t d : dims)
    if (d < 0) fail(n, fmt::format("negative dimension {}", d));
  const ir::TensorAttr *val = n.attr_tensor("value");
  DType dt = val ? val->dtype : DType::F32;
  HostTensor t = make(dt, Shape(dims));
  int64_t es = (int64_t)ir::dtype_size(dt);
  if (val) {
    if (!val->data || (int64_t)val->data->size() != es) fail(n, "value must have exactly one element");
    for (int64_t i = 0; i < ir::shape_numel(t.shape); ++i) std::memcpy(t.data.data() + i * es, val->data->data(), (size_t)es);
  }
  return {t};
}

bool check_constant_of_shape(const Node &n) {
  const ir::TensorAttr *val = n.attr_tensor("value");
  return !val || numeric(val->dtype);
}

/// Number of elements of Range(start, limit, delta), or -1 if invalid.
int64_t range_count(const In &s, const In &l, const In &d) {
  if (kind_of(s.dt) == Kind::F) {
    double st = ldf(s.dt, s.p, 0), li = ldf(l.dt, l.p, 0), de = ldf(d.dt, d.p, 0);
    if (de == 0 || !std::isfinite(st) || !std::isfinite(li) || !std::isfinite(de)) return -1;
    double c = std::ceil((li - st) / de);
    if (!(c >= 0)) return 0;
    if (c > 9.0e18) return -1;
    return (int64_t)c;
  }
  __int128 st = lds(s.dt, s.p, 0), li = lds(l.dt, l.p, 0), de = lds(d.dt, d.p, 0);
  if (de == 0) return -1;
  __int128 diff = li - st;
  if ((diff > 0) != (de > 0) || diff == 0) return 0;
  if (de < 0) diff = -diff, de = -de;
  return (int64_t)((diff + de - 1) / de);
}

Outs eval_range(const Node &n, const Args &a) {
  In s = a.in(0), l = a.in(1), d = a.in(2);
  if (s.n != 1 || l.n != 1 || d.n != 1) fail(n, "start, limit and delta must be scalars");
  int64_t cnt = range_count(s, l, d);
  if (cnt < 0) fail(n, "invalid delta");
  HostTensor t = make(s.dt, {cnt});
  if (kind_of(s.dt) == Kind::F) {
    double st0 = ldf(s.dt, s.p, 0), de = ldf(d.dt, d.p, 0);
    for (int64_t i = 0; i < cnt; ++i) st(s.dt, t.data.data(), i, st0 + (double)i * de);
  } else {
    int64_t st0 = lds(s.dt, s.p, 0), de = lds(d.dt, d.p, 0);
    for (int64_t i = 0; i < cnt; ++i) st(s.dt, t.data.data(), i, wadd<int64_t>(st0, wmul<int64_t>(i, de)));
  }
  return {t};
}

Outs eval_expand(const Node &n, const Args &a) {
  In x = a.in(0);
  std::vector<int64_t> sh = a.ints(1);
  Shape out = broadcast(n, {x.shape, Shape(sh)});
  HostTensor t = make(x.dt, out);
  walk(out, {bstrides(x.shape, out)}, {0}, [&](int64_t i, const int64_t *o) { copy_el(t.data.data(), i, x.p, o[0], x.es); });
  return {t};
}

Outs eval_tile(const Node &n, const Args &a) {
  In x = a.in(0);
  std::vector<int64_t> rep = a.ints(1);
  if ((int64_t)rep.size() != x.rank()) fail(n, "repeats must have one entry per input dimension");
  // Walk [rep0, d0, rep1, d1, ...] row-major: that is exactly the output order.
  Shape walk_shape, out;
  std::vector<int64_t> ws;
  auto s = strides_of(x.shape);
  for (size_t i = 0; i < rep.size(); ++i) {
    if (rep[i] < 0) fail(n, "negative repeat");
    walk_shape.push_back(rep[i]);
    walk_shape.push_back(x.shape[i]);
    ws.push_back(0);
    ws.push_back(s[i]);
    out.push_back(rep[i] * x.shape[i]);
  }
  HostTensor t = make(x.dt, out);
  walk(walk_shape, {ws}, {0}, [&](int64_t i, const int64_t *o) { copy_el(t.data.data(), i, x.p, o[0], x.es); });
  return {t};
}

Outs eval_concat(const Node &n, const Args &a) {
  std::vector<In> xs;
  for (size_t i = 0; i < a.v.size(); ++i)
    if (a.has(i)) xs.push_back(a.in(i));
  if (xs.empty()) fail(n, "needs at least one input");
  int64_t r = xs[0].rank();
  int64_t axis = norm_axis(n, n.attr_int("axis"), r);
  Shape out = xs[0].shape;
  out[(size_t)axis] = 0;
  for (auto &x : xs) {
    if (x.rank() != r || x.dt != xs[0].dt) fail(n, "inputs must have the same rank and dtype");
    for (int64_t i = 0; i < r; ++i)
      if (i != axis && x.shape[(size_t)i] != xs[0].shape[(size_t)i]) fail(n, "input shapes differ off the axis");
    out[(size_t)axis] += x.shape[(size_t)axis];
  }
  HostTensor t = make(xs[0].dt, out);
  int64_t outer = prod(out, 0, (size_t)axis), es = xs[0].es;
  uint8_t *d = t.data.data();
  for (int64_t o = 0; o < outer; ++o)
    for (auto &x : xs) {
      int64_t chunk = prod(x.shape, (size_t)axis, x.shape.size()) * es;
      if (chunk == 0) continue;
      std::memcpy(d, x.p + o * chunk, (size_t)chunk);
      d += chunk;
    }
  return {t};
}

Outs eval_split(const Node &n, const Args &a) {
  In x = a.in(0);
  int64_t axis = norm_axis(n, n.attr_int("axis", 0), x.rank());
  int64_t dim = x.shape[(size_t)axis];
  size_t nout = n.outputs.size();
  std::vector<int64_t> sizes;
  if (auto sp = a.attr_or_input("split", 1)) {
    sizes = *sp;
  } else {
    int64_t parts = n.has_attr("num_outputs") ? n.attr_int("num_outputs") : (int64_t)nout;
    if (parts <= 0) fail(n, "no outputs");
    if (!n.has_attr("num_outputs") && dim % parts != 0)
      fail(n, fmt::format("dimension {} cannot be split into {} equal parts", dim, parts));
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) fail(n, "negative split size");
    total += s;
  }
  if (total != dim || sizes.size() != nout)
    fail(n, fmt::format("split sizes do not match dimension {} and {} outputs", dim, nout));
  int64_t outer = prod(x.shape, 0, (size_t)axis), inner = prod(x.shape, (size_t)axis + 1, x.shape.size()) * x.es;
  Outs outs;
  int64_t off = 0;
  for (int64_t s : sizes) {
    Shape sh = x.shape;
    sh[(size_t)axis] = s;
    HostTensor t = make(x.dt, sh);
    int64_t chunk = s * inner;
    if (chunk > 0)
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(t.data.data() + o * chunk, x.p + o * dim * inner + off * inner, (size_t)chunk);
    off += s;
    outs.push_back(std::move(t));
  }
  return outs;
}

Outs eval_gather(const Node &n, const Args &a) {
  In x = a.in(0);
  In ix = a.in(1);
  std::vector<int64_t> idx = a.ints(1);
  int64_t axis = norm_axis(n, n.attr_int("axis", 0), x.rank());
  int64_t dim = x.shape[(size_t)axis];
  for (int64_t &i : idx) {
    if (i < -dim || i >= dim) fail(n, fmt::format("index {} is out of range for dimension {}", i, dim));
    if (i < 0) i += dim;
  }
  Shape out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), ix.shape.begin(), ix.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  HostTensor t = make(x.dt, out);
  int64_t outer = prod(x.shape, 0, (size_t)axis), inner = prod(x.shape, (size_t)axis + 1, x.shape.size()) * x.es;
  int64_t ni = (int64_t)idx.size();
  if (inner > 0)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < ni; ++j)
        std::memcpy(t.data.data() + (o * ni + j) * inner, x.p + (o * dim + idx[(size_t)j]) * inner, (size_t)inner);
  return {t};
}

Outs eval_slice(const Node &n, const Args &a) {
  In x = a.in(0);
  size_t r = x.shape.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.opset < 10 || n.has_attr("starts")) {
    starts = n.attr_ints("starts");
    ends = n.attr_ints("ends");
    axes = n.attr_ints("axes");
  } else {
    starts = a.ints(1);
    ends = a.ints(2);
    if (a.has(3)) axes = a.ints(3);
    if (a.has(4)) steps = a.ints(4);
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back((int64_t)i);
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail(n, "starts, ends, axes and steps must have the same length");
  std::vector<int64_t> first(r, 0), step(r, 1);
  Shape out = x.shape;
  std::vector<bool> seen(r, false);
  for (size_t k = 0; k < starts.size(); ++k) {
    size_t ax = (size_t)norm_axis(n, axes[k], (int64_t)r);
    if (seen[ax]) fail(n, "repeated axis");
    seen[ax] = true;
    int64_t d = x.shape[ax], s = starts[k], e = ends[k], st = steps[k];
    if (st == 0) fail(n, "step 0");
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t cnt = 0;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      if (e > s) cnt = (int64_t)(((uint64_t)(e - s) - 1) / (uint64_t)st) + 1;
    } else if (d > 0) {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      if (s > e) cnt = (int64_t)(((uint64_t)(s - e) - 1) / (uint64_t)(-(st + 1) + 1ull)) + 1;
    }
    first[ax] = s;
    step[ax] = st;
    out[ax] = cnt;
  }
  HostTensor t = make(x.dt, out);
  if (ir::shape_numel(out) == 0) return {t};
  auto strd = strides_of(x.shape);
  int64_t base = 0;
  std::vector<int64_t> ws(r);
  for (size_t i = 0; i < r; ++i) {
    base += first[i] * strd[i];
    ws[i] = out[i] > 1 ? step[i] * strd[i] : 0; // step unused (and maybe huge) when count <= 1
  }
  walk(out, {ws}, {base}, [&](int64_t i, const int64_t *o) { copy_el(t.data.data(), i, x.p, o[0], x.es); });
  return {t};
}

std::string pad_mode(const Node &n) { return n.attr_string("mode", "constant"); }

Outs eval_pad(const Node &n, const Args &a) {
  In x = a.in(0);
  size_t r = x.shape.size();
  std::vector<int64_t> pads;
  std::vector<uint8_t> cval((size_t)x.es, 0);
  std::vector<int64_t> axes;
  if (n.opset < 11) {
    pads = n.has_attr("pads") ? n.attr_ints("pads") : n.attr_ints("paddings");
    st(x.dt, cval.data(), 0, (double)n.attr_float("value", 0.0f));
  } else {
    pads = a.ints(1);
    if (a.has(2)) {
      In c = a.in(2);
      if (c.n != 1) fail(n, "constant_value must be a scalar");
      if (c.dt != x.dt) fail(n, "constant_value must have the data's dtype");
      std::memcpy(cval.data(), c.p, (size_t)x.es);
    }
    if (a.has(3)) axes = a.ints(3);
  }
  if (axes.empty())
    for (size_t i = 0; i < r; ++i) axes.push_back((int64_t)i);
  if (pads.size() != 2 * axes.size()) fail(n, fmt::format("pads has {} entries, expected {}", pads.size(), 2 * axes.size()));
  std::vector<int64_t> before(r, 0), after(r, 0);
  for (size_t k = 0; k < axes.size(); ++k) {
    size_t ax = (size_t)norm_axis(n, axes[k], (int64_t)r);
    before[ax] = pads[k];
    after[ax] = pads[k + axes.size()];
  }
  std::string mode = pad_mode(n);
  Shape out(r);
  // Per axis: source index of each output index (-1: constant padding).
  std::vector<std::vector<int64_t>> src(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t d = x.shape[i];
    out[i] = d + before[i] + after[i];
    if (out[i] < 0) fail(n, "pads make a dimension negative");
    if (out[i] > 0 && d == 0 && mode != "constant") fail(n, "cannot pad an empty dimension in mode " + mode);
    src[i].resize((size_t)out[i]);
    for (int64_t j = 0; j < out[i]; ++j) {
      int64_t k = j - before[i];
      if (k < 0 || k >= d) {
        if (mode == "constant") {
          k = -1;
        } else if (mode == "edge") {
          k = std::clamp<int64_t>(k, 0, d - 1);
        } else { // reflect
          if (d == 1) {
            k = 0;
          } else {
            int64_t period = 2 * (d - 1);
            k %= period;
            if (k < 0) k += period;
            if (k >= d) k = period - k;
          }
        }
      }
      src[i][(size_t)j] = k;
    }
  }
  HostTensor t = make(x.dt, out);
  int64_t total = ir::shape_numel(out);
  if (total == 0) return {t};
  auto strd = strides_of(x.shape);
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t off = 0;
    bool pad = false;
    for (size_t k = 0; k < r; ++k) {
      int64_t s = src[k][(size_t)idx[k]];
      if (s < 0) {
        pad = true;
        break;
      }
      off += s * strd[k];
    }
    if (pad) std::memcpy(t.data.data() + i * x.es, cval.data(), (size_t)x.es);
    else copy_el(t.data.data(), i, x.p, off, x.es);
    for (size_t k = r; k-- > 0;) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return {t};
}

bool check_pad(const Node &n) {
  std::string m = pad_mode(n);
  return m == "constant" || m == "reflect" || m == "edge";
}

Outs eval_nonzero(const Node &n, const Args &a) {
  In x = a.in(0);
  if (x.rank() == 0) fail(n, "scalar input is not supported");
  std::vector<int64_t> nz;
  Kind k = kind_of(x.dt);
  for (int64_t i = 0; i < x.n; ++i) {
    bool v = k == Kind::F ? ldf(x.dt, x.p, i) != 0 : ldu(x.dt, x.p, i) != 0;
    if (v) nz.push_back(i);
  }
  int64_t r = x.rank(), cnt = (int64_t)nz.size();
  HostTensor t = make(DType::I64, {r, cnt});
  auto strd = strides_of(x.shape);
  for (int64_t j = 0; j < cnt; ++j) {
    int64_t rem = nz[(size_t)j];
    for (int64_t d = 0; d < r; ++d) {
      wr<int64_t>(t.data.data(), d * cnt + j, rem / strd[(size_t)d]);
      rem %= strd[(size_t)d];
    }
  }
  return {t};
}

// ------------------------------------------------------------ reductions
/// Opset from which the op takes `axes` as an input instead of an attribute.
int reduce_axes_input_opset(const std::string &op) { return op == "ReduceSum" ? 13 : 18; }

Outs eval_reduce(const Node &n, const Args &a) {
  In x = a.in(0);
  const std::string &op = n.op;
  size_t r = x.shape.size();
  std::optional<std::vector<int64_t>> axes;
  if (n.has_attr("axes")) axes = n.attr_ints("axes");
  else if (n.opset >= reduce_axes_input_opset(op) && a.has(1)) axes = a.ints(1);
  bool keep = n.attr_int("keepdims", 1) != 0;
  if ((!axes || axes->empty()) && n.attr_int("noop_with_empty_axes", 0) != 0) return {copy_of(x, x.shape)};
  std::vector<bool> red(r, !axes || axes->empty());
  if (axes)
    for (int64_t ax : *axes) red[(size_t)norm_axis(n, ax, (int64_t)r)] = true;
  Shape kept(r), out;
  int64_t count = 1;
  for (size_t i = 0; i < r; ++i) {
    kept[i] = red[i] ? 1 : x.shape[i];
    if (red[i]) count *= x.shape[i];
    if (!red[i] || keep) out.push_back(kept[i]);
  }
  auto ks = strides_of(kept);
  for (size_t i = 0; i < r; ++i)
    if (red[i]) ks[i] = 0;
  int64_t nout = ir::shape_numel(kept);
  HostTensor t = make(x.dt, out);
  with_kind(kind_of(x.dt), [&](auto tag) {
    using C = decltype(tag);
    C init;
    if (op == "ReduceProd") init = 1;
    else if (op == "ReduceMax") init = is_f<C> ? (C)-INFINITY : std::numeric_limits<C>::lowest();
    else if (op == "ReduceMin") init = is_f<C> ? (C)INFINITY : std::numeric_limits<C>::max();
    else init = 0;
    std::vector<C> acc((size_t)nout, init);
    walk(x.shape, {ks}, {0}, [&](int64_t i, const int64_t *o) {
      C v = ld<C>(x.dt, x.p, i);
      C &s = acc[(size_t)o[0]];
      if (op == "ReduceSum" || op == "ReduceMean") s = is_f<C> ? (C)(s + v) : wadd<C>(s, v);
      else if (op == "ReduceProd") s = is_f<C> ? (C)(s * v) : wmul<C>(s, v);
      else if (op == "ReduceMax") s = max_op<C>(s, v);
      else if (op == "ReduceMin") s = min_op<C>(s, v);
      else if (op == "ReduceSumSquare") s = is_f<C> ? (C)(s + v * v) : wadd<C>(s, wmul<C>(v, v));
      else if (op == "ReduceL1") {
        C av = v;
        if constexpr (is_f<C>) av = std::fabs(v);
        else if constexpr (is_s<C>) av = v < 0 ? wsub<C>(0, v) : v;
        s = is_f<C> ? (C)(s + av) : wadd<C>(s, av);
      } else if (op == "ReduceL2") {
        double dv = (double)v;
        s = (C)((double)s + dv * dv);
      }
    });
    for (int64_t i = 0; i < nout; ++i) {
      C v = acc[(size_t)i];
      if (op == "ReduceMean") {
        if constexpr (is_f<C>) st(x.dt, t.data.data(), i, count ? v / (double)count : NAN);
        else st(x.dt, t.data.data(), i, count ? div_op<C>(v, (C)count) : (C)0);
      } else if (op == "ReduceL2") {
        st(x.dt, t.data.data(), i, std::sqrt((double)v));
      } else {
        st(x.dt, t.data.data(), i, v);
      }
    }
  });
  return {t};
}

// ------------------------------------------------------------ linear algebra
/// C[M,N] (+)= op(A)[M,K] * op(B)[K,N] for one matrix, in compute type C.
template <typename C>
void matmul_one(const In &A, int64_t aoff, int64_t ars, int64_t acs, const In &B, int64_t boff, int64_t brs,
                int64_t bcs, int64_t M, int64_t K, int64_t N, std::vector<C> &out) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t nn = 0; nn < N; ++nn) {
      C s = 0;
      for (int64_t k = 0; k < K; ++k) {
        C p = ld<C>(A.dt, A.p, aoff + m * ars + k * acs), q = ld<C>(B.dt, B.p, boff + k * brs + nn * bcs);
        s = is_f<C> ? (C)(s + p * q) : wadd<C>(s, wmul<C>(p, q));
      }
      out[(size_t)(m * N + nn)] = s;
    }
}

Outs eval_matmul(const Node &n, const Args &a) {
  In A = a.in(0), B = a.in(1);
  if (A.rank() == 0 || B.rank() == 0) fail(n, "scalar operands are not allowed");
  Shape sa = A.shape, sb = B.shape;
  bool va = sa.size() == 1, vb = sb.size() == 1;
  if (va) sa.insert(sa.begin(), 1);
  if (vb) sb.push_back(1);
  int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  if (sb[sb.size() - 2] != K) fail(n, fmt::format("inner dimensions differ: {} vs {}", ir::shape_str(A.shape), ir::shape_str(B.shape)));
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  Shape batch = broadcast(n, {ba, bb});
  Shape out = batch;
  if (!va) out.push_back(M);
  if (!vb) out.push_back(N);
  HostTensor t = make(A.dt, out);
  // Batch strides in elements of whole matrices.
  auto sA = bstrides(ba, batch), sB = bstrides(bb, batch);
  for (auto &s : sA) s *= M * K;
  for (auto &s : sB) s *= K * N;
  with_kind(kind_of(A.dt), [&](auto tag) {
    using C = decltype(tag);
    std::vector<C> res((size_t)(M * N));
    walk(batch, {sA, sB}, {0, 0}, [&](int64_t i, const int64_t *o) {
      matmul_one<C>(A, o[0], K, 1, B, o[1], N, 1, M, K, N, res);
      for (int64_t j = 0; j < M * N; ++j) st(A.dt, t.data.data(), i * M * N + j, res[(size_t)j]);
    });
  });
  return {t};
}

Outs eval_gemm(const Node &n, const Args &a) {
  In A = a.in(0), B = a.in(1);
  if (A.rank() != 2 || B.rank() != 2) fail(n, "A and B must be matrices");
  bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
  double alpha = n.attr_float("alpha", 1.0f), beta = n.attr_float("beta", 1.0f);
  int64_t M = ta ? A.shape[1] : A.shape[0], K = ta ? A.shape[0] : A.shape[1];
  int64_t KB = tb ? B.shape[1] : B.shape[0], N = tb ? B.shape[0] : B.shape[1];
  if (K != KB) fail(n, "inner dimensions differ");
  std::optional<In> Cm;
  if (a.has(2)) Cm = a.in(2);
  Shape out{M, N};
  std::vector<int64_t> cs;
  if (Cm) {
    Shape chk = broadcast(n, {Cm->shape, out});
    if (chk != out) fail(n, "C cannot be broadcast to the output");
    cs = bstrides(Cm->shape, out);
  }
  HostTensor t = make(A.dt, out);
  with_kind(kind_of(A.dt), [&](auto tag) {
    using C = decltype(tag);
    std::vector<C> res((size_t)(M * N));
    matmul_one<C>(A, 0, ta ? 1 : K, ta ? M : 1, B, 0, tb ? 1 : N, tb ? K : 1, M, K, N, res);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < N; ++j) {
        C v = res[(size_t)(m * N + j)];
        if constexpr (is_f<C>) {
          double r = alpha * v;
          if (Cm) r += beta * ldf(Cm->dt, Cm->p, m * cs[0] + j * cs[1]);
          st(A.dt, t.data.data(), m * N + j, r);
        } else {
          C r = wmul<C>(v, (C)alpha);
          if (Cm) r = wadd<C>(r, wmul<C>((C)beta, ld<C>(Cm->dt, Cm->p, m * cs[0] + j * cs[1])));
          st(A.dt, t.data.data(), m * N + j, r);
        }
      }
  });
  return {t};
}

// ------------------------------------------------------------ more ops
/// Float activations with attributes, computed in double and rounded to the dtype.
double act(const Node &n, const std::string &op, double x) {
  if (op == "LeakyRelu") return x < 0 ? x * (double)n.attr_float("alpha", 0.01f) : x;
  if (op == "Elu") return x < 0 ? (double)n.attr_float("alpha", 1.0f) * (std::exp(x) - 1.0) : x;
  if (op == "Celu") {
    double al = n.attr_float("alpha", 1.0f);
    return std::max(0.0, x) + std::min(0.0, al * (std::exp(x / al) - 1.0));
  }
  if (op == "Selu") {
    double al = n.attr_float("alpha", 1.67326319217681884765625f), ga = n.attr_float("gamma", 1.05070102214813232421875f);
    return x <= 0 ? ga * (al * std::exp(x) - al) : ga * x;
  }
  if (op == "HardSigmoid") {
    double al = n.attr_float("alpha", 0.2f), be = n.attr_float("beta", 0.5f);
    return std::max(0.0, std::min(1.0, al * x + be));
  }
  if (op == "HardSwish") return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5));
  if (op == "ThresholdedRelu") return x > (double)n.attr_float("alpha", 1.0f) ? x : 0.0;
  if (op == "Softplus") return x > 30 ? x : std::log1p(std::exp(x));
  if (op == "Softsign") return x / (1.0 + std::fabs(x));
  if (op == "Tan") return std::tan(x);
  if (op == "Asin") return std::asin(x);
  if (op == "Acos") return std::acos(x);
  if (op == "Atan") return std::atan(x);
  if (op == "Sinh") return std::sinh(x);
  if (op == "Cosh") return std::cosh(x);
  if (op == "Asinh") return std::asinh(x);
  if (op == "Acosh") return std::acosh(x);
  if (op == "Atanh") return std::atanh(x);
  fail(n, "internal: unknown activation");
}
const char *const kActivations[] = {"LeakyRelu", "Elu", "Celu", "Selu", "HardSigmoid", "HardSwish", "ThresholdedRelu",
                                    "Softplus", "Softsign", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
                                    "Acosh", "Atanh"};

Outs eval_activation(const Node &n, const Args &a) {
  In x = a.in(0);
  HostTensor t = make(x.dt, x.shape);
  for (int64_t i = 0; i < x.n; ++i) st(x.dt, t.data.data(), i, act(n, n.op, ldf(x.dt, x.p, i)));
  return {t};
}

Outs eval_prelu(const Node &n, const Args &a) {
  In x = a.in(0), s = a.in(1);
  return {elementwise(n, {x, s}, x.dt, kind_of(x.dt), [&](const auto *v) {
    using C = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
    if constexpr (std::is_same_v<C, uint64_t>) return v[0];
    else return v[0] < 0 ? (is_f<C> ? (C)(v[0] * v[1]) : wmul<C>(v[0], v[1])) : v[0];
  })};
}

/// Softmax / LogSoftmax: opset < 13 coerces to 2-D at `axis` (default 1), opset 13+ works along `axis` (default -1).
Outs eval_softmax(const Node &n, const Args &a) {
  In x = a.in(0);
  int64_t r = x.rank();
  bool old = n.opset < 13;
  int64_t axis = n.attr_int("axis", old ? 1 : -1);
  if (r == 0) fail(n, "scalar input");
  if (old) {
    if (axis < -r || axis > r) fail(n, "axis out of range");
    if (axis < 0) axis += r;
  } else {
    axis = norm_axis(n, axis, r);
  }
  int64_t outer, len, inner;
  if (old) {
    outer = prod(x.shape, 0, (size_t)axis);
    len = prod(x.shape, (size_t)axis, (size_t)r);
    inner = 1;
  } else {
    outer = prod(x.shape, 0, (size_t)axis);
    len = x.shape[(size_t)axis];
    inner = prod(x.shape, (size_t)axis + 1, (size_t)r);
  }
  bool log = n.op == "LogSoftmax";
  HostTensor t = make(x.dt, x.shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t base = o * len * inner + in;
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < len; ++j) mx = std::max(mx, ldf(x.dt, x.p, base + j * inner));
      for (int64_t j = 0; j < len; ++j) sum += std::exp(ldf(x.dt, x.p, base + j * inner) - mx);
      for (int64_t j = 0; j < len; ++j) {
        double d = ldf(x.dt, x.p, base + j * inner) - mx;
        st(x.dt, t.data.data(), base + j * inner, log ? d - std::log(sum) : std::exp(d) / sum);
      }
    }
  return {t};
}

Outs eval_trilu(const Node &n, const Args &a) {
  In x = a.in(0);
  if (x.rank() < 2) fail(n, "input must have rank >= 2");
  int64_t k = a.has(1) ? a.scalar_int(1) : 0;
  bool upper = n.attr_int("upper", 1) != 0;
  int64_t R = x.shape[x.shape.size() - 2], C = x.shape.back();
  HostTensor t = make(x.dt, x.shape);
  for (int64_t i = 0; i < x.n; ++i) {
    int64_t col = i % C, row = (i / C) % R;
    bool keep = upper ? col - row >= k : col - row <= k;
    if (keep) copy_el(t.data.data(), i, x.p, i, x.es);
  }
  return {t};
}

Outs eval_cumsum(const Node &n, const Args &a) {
  In x = a.in(0);
  int64_t axis = norm_axis(n, a.scalar_int(1), x.rank());
  bool excl = n.attr_int("exclusive", 0) != 0, rev = n.attr_int("reverse", 0) != 0;
  int64_t len = x.shape[(size_t)axis], inner = prod(x.shape, (size_t)axis + 1, x.shape.size());
  int64_t outer = prod(x.shape, 0, (size_t)axis);
  HostTensor t = make(x.dt, x.shape);
  with_kind(kind_of(x.dt), [&](auto tag) {
    using C = decltype(tag);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        C acc = 0;
        for (int64_t jj = 0; jj < len; ++jj) {
          int64_t j = rev ? len - 1 - jj : jj;
          int64_t idx = (o * len + j) * inner + in;
          C v = ld<C>(x.dt, x.p, idx);
          if (!excl) acc = is_f<C> ? (C)round_to(x.dt, (double)acc + (double)v) : wadd<C>(acc, v);
          st(x.dt, t.data.data(), idx, acc);
          if (excl) acc = is_f<C> ? (C)round_to(x.dt, (double)acc + (double)v) : wadd<C>(acc, v);
        }
      }
  });
  return {t};
}

Outs eval_eyelike(const Node &n, const Args &a) {
  In x = a.in(0);
  if (x.rank() != 2) fail(n, "input must be 2-D");
  DType dt = n.has_attr("dtype") ? ir::dtype_from_onnx((int)n.attr_int("dtype")) : x.dt;
  if (!numeric(dt)) fail(n, "unsupported dtype");
  int64_t k = n.attr_int("k", 0);
  HostTensor t = make(dt, x.shape);
  for (int64_t i = 0; i < x.shape[0]; ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < x.shape[1]) st(dt, t.data.data(), i * x.shape[1] + j, (int64_t)1);
  }
  return {t};
}

bool check_eyelike(const Node &n) { return !n.has_attr("dtype") || numeric(ir::dtype_from_onnx((int)n.attr_int("dtype"))); }

Outs eval_onehot(const Node &n, const Args &a) {
  In ix = a.in(0), dp = a.in(1), vals = a.in(2);
  if (dp.n != 1 || vals.n != 2) fail(n, "depth must be a scalar and values must have two elements");
  int64_t depth = sat_i64(ldf(dp.dt, dp.p, 0));
  if (depth <= 0) fail(n, "depth must be positive");
  int64_t r = ix.rank() + 1;
  int64_t axis = norm_axis(n, n.attr_int("axis", -1), r);
  Shape out = ix.shape;
  out.insert(out.begin() + axis, depth);
  HostTensor t = make(vals.dt, out);
  int64_t outer = prod(ix.shape, 0, (size_t)axis), inner = prod(ix.shape, (size_t)axis, ix.shape.size());
  for (int64_t i = 0; i < ir::shape_numel(out); ++i) copy_el(t.data.data(), i, vals.p, 0, vals.es);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t v = sat_i64(ldf(ix.dt, ix.p, o * inner + in));
      if (v < 0) v += depth;
      if (v < 0 || v >= depth) continue;
      copy_el(t.data.data(), (o * depth + v) * inner + in, vals.p, 1, vals.es);
    }
  return {t};
}

int64_t checked_index(const Node &n, int64_t i, int64_t dim) {
  if (i < -dim || i >= dim) fail(n, fmt::format("index {} is out of range for dimension {}", i, dim));
  return i < 0 ? i + dim : i;
}

Outs eval_gather_elements(const Node &n, const Args &a) {
  In x = a.in(0), ix = a.in(1);
  std::vector<int64_t> idx = a.ints(1);
  int64_t r = x.rank();
  int64_t axis = norm_axis(n, n.attr_int("axis", 0), r);
  if (ix.rank() != r) fail(n, "indices must have the data's rank");
  auto xs = strides_of(x.shape), is = strides_of(ix.shape);
  HostTensor t = make(x.dt, ix.shape);
  for (int64_t i = 0; i < ix.n; ++i) {
    int64_t off = 0, rem = i;
    for (int64_t d = 0; d < r; ++d) {
      int64_t c = rem / is[(size_t)d];
      rem %= is[(size_t)d];
      if (d == axis) c = checked_index(n, idx[(size_t)i], x.shape[(size_t)d]);
      else if (c >= x.shape[(size_t)d]) fail(n, "indices are larger than the data");
      off += c * xs[(size_t)d];
    }
    copy_el(t.data.data(), i, x.p, off, x.es);
  }
  return {t};
}

/// Applies ScatterElements / ScatterND reduction to element `di` of `t` from updates element `ui`.
void scatter_store(const Node &n, const std::string &red, HostTensor &t, int64_t di, const In &u, int64_t ui) {
  if (red == "none") {
    copy_el(t.data.data(), di, u.p, ui, u.es);
    return;
  }
  with_kind(kind_of(u.dt), [&](auto tag) {
    using C = decltype(tag);
    C p = ld<C>(t.dtype, t.data.data(), di), q = ld<C>(u.dt, u.p, ui), r;
    if (red == "add") r = is_f<C> ? (C)(p + q) : wadd<C>(p, q);
    else if (red == "mul") r = is_f<C> ? (C)(p * q) : wmul<C>(p, q);
    else if (red == "max") r = max_op<C>(p, q);
    else if (red == "min") r = min_op<C>(p, q);
    else fail(n, "unsupported reduction " + red);
    st(t.dtype, t.data.data(), di, r);
  });
}

bool check_scatter(const Node &n) {
  std::string red = n.attr_string("reduction", "none");
  return red == "none" || red == "add" || red == "mul" || red == "max" || red == "min";
}

Outs eval_scatter_elements(const Node &n, const Args &a) {
  In x = a.in(0), ix = a.in(1), u = a.in(2);
  std::vector<int64_t> idx = a.ints(1);
  int64_t r = x.rank();
  int64_t axis = norm_axis(n, n.attr_int("axis", 0), r);
  if (ix.rank() != r || ix.shape != u.shape || u.dt != x.dt) fail(n, "indices and updates must match");
  std::string red = n.attr_string("reduction", "none");
  HostTensor t = copy_of(x, x.shape);
  auto xs = strides_of(x.shape), is = strides_of(ix.shape);
  for (int64_t i = 0; i < ix.n; ++i) {
    int64_t off = 0, rem = i;
    for (int64_t d = 0; d < r; ++d) {
      int64_t c = rem / is[(size_t)d];
      rem %= is[(size_t)d];
      if (d == axis) c = checked_index(n, idx[(size_t)i], x.shape[(size_t)d]);
      else if (c >= x.shape[(size_t)d]) fail(n, "indices are larger than the data");
      off += c * xs[(size_t)d];
    }
    scatter_store(n, red, t, off, u, i);
  }
  return {t};
}

Outs eval_gather_nd(const Node &n, const Args &a) {
  In x = a.in(0), ix = a.in(1);
  std::vector<int64_t> idx = a.ints(1);
  int64_t b = n.attr_int("batch_dims", 0), r = x.rank(), q = ix.rank();
  if (q < 1 || b < 0 || b >= q || b > r) fail(n, "invalid batch_dims or indices rank");
  int64_t k = ix.shape.back();
  if (k < 1 || b + k > r) fail(n, "index tuples are too long");
  for (int64_t i = 0; i < b; ++i)
    if (ix.shape[(size_t)i] != x.shape[(size_t)i]) fail(n, "batch dimensions differ");
  Shape out(ix.shape.begin(), ix.shape.end() - 1);
  out.insert(out.end(), x.shape.begin() + b + k, x.shape.end());
  HostTensor t = make(x.dt, out);
  int64_t batch = prod(x.shape, 0, (size_t)b);
  int64_t per_batch = prod(ix.shape, (size_t)b, (size_t)q - 1); // index tuples per batch
  int64_t slice = prod(x.shape, (size_t)(b + k), (size_t)r);
  int64_t xbatch = prod(x.shape, (size_t)b, (size_t)r);
  auto xs = strides_of(Shape(x.shape.begin() + b, x.shape.end()));
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t j = 0; j < per_batch; ++j) {
      int64_t tup = (bi * per_batch + j) * k, off = bi * xbatch;
      for (int64_t d = 0; d < k; ++d)
        off += checked_index(n, idx[(size_t)(tup + d)], x.shape[(size_t)(b + d)]) * xs[(size_t)d];
      if (slice > 0)
        std::memcpy(t.data.data() + (bi * per_batch + j) * slice * x.es, x.p + off * x.es, (size_t)(slice * x.es));
    }
  return {t};
}

Outs eval_scatter_nd(const Node &n, const Args &a) {
  In x = a.in(0), ix = a.in(1), u = a.in(2);
  std::vector<int64_t> idx = a.ints(1);
  int64_t r = x.rank(), q = ix.rank();
  if (q < 1 || u.dt != x.dt) fail(n, "invalid indices or updates");
  int64_t k = ix.shape.back();
  if (k < 1 || k > r) fail(n, "index tuples are too long");
  int64_t tuples = prod(ix.shape, 0, (size_t)q - 1), slice = prod(x.shape, (size_t)k, (size_t)r);
  if (u.n != tuples * slice) fail(n, "updates have the wrong size");
  std::string red = n.attr_string("reduction", "none");
  HostTensor t = copy_of(x, x.shape);
  auto xs = strides_of(x.shape);
  for (int64_t j = 0; j < tuples; ++j) {
    int64_t off = 0;
    for (int64_t d = 0; d < k; ++d) off += checked_index(n, idx[(size_t)(j * k + d)], x.shape[(size_t)d]) * xs[(size_t)d];
    for (int64_t e = 0; e < slice; ++e) scatter_store(n, red, t, off + e, u, j * slice + e);
  }
  return {t};
}

Outs eval_argminmax(const Node &n, const Args &a) {
  In x = a.in(0);
  int64_t r = x.rank();
  int64_t axis = norm_axis(n, n.attr_int("axis", 0), std::max<int64_t>(r, 1));
  bool keep = n.attr_int("keepdims", 1) != 0, last = n.attr_int("select_last_index", 0) != 0;
  bool is_max = n.op == "ArgMax";
  Shape out;
  for (int64_t i = 0; i < r; ++i)
    if (i != axis) out.push_back(x.shape[(size_t)i]);
    else if (keep) out.push_back(1);
  int64_t len = x.shape[(size_t)axis], inner = prod(x.shape, (size_t)axis + 1, (size_t)r);
  int64_t outer = prod(x.shape, 0, (size_t)axis);
  if (len == 0) fail(n, "empty reduction");
  HostTensor t = make(DType::I64, out);
  with_kind(kind_of(x.dt), [&](auto tag) {
    using C = decltype(tag);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        int64_t best = 0;
        C bv = ld<C>(x.dt, x.p, o * len * inner + in);
        for (int64_t j = 1; j < len; ++j) {
          C v = ld<C>(x.dt, x.p, (o * len + j) * inner + in);
          bool better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
          if (better) best = j, bv = v;
        }
        wr<int64_t>(t.data.data(), o * inner + in, best);
      }
  });
  return {t};
}

// ------------------------------------------------------------ registry
using EvalFn = Outs (*)(const Node &, const Args &);
using CheckFn = bool (*)(const Node &);

struct OpImpl {
  EvalFn eval = nullptr;
  size_t min_inputs = 1;
  CheckFn check = nullptr; ///< extra support check on attributes/dtypes
};

const std::map<std::string, OpImpl> &registry() {
  static const std::map<std::string, OpImpl> m = [] {
    std::map<std::string, OpImpl> r;
    for (const char *op : {"Add", "Sub", "Mul", "Div", "Mod", "Pow"}) r[op] = {eval_binary, 2, nullptr};
    for (const char *op : {"BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"}) r[op] = {eval_binary, 2, check_bitwise};
    for (const char *op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) r[op] = {eval_compare, 2, nullptr};
    for (const char *op : {"And", "Or", "Xor"}) r[op] = {eval_logical, 2, nullptr};
    r["Not"] = {eval_logical, 1, nullptr};
    for (const char *op : {"Sum", "Mean", "Min", "Max"}) r[op] = {eval_variadic, 1, nullptr};
    for (const char *op : {"Neg", "Abs", "Relu", "Sign"}) r[op] = {eval_unary, 1, nullptr};
    for (auto &kv : float_unaries()) r[kv.first] = {eval_unary, 1, check_float_input};
    r["IsNaN"] = {eval_unary, 1, check_float_input};
    r["IsInf"] = {eval_unary, 1, check_float_input};
    r["Clip"] = {eval_clip, 1, nullptr};
    r["Cast"] = {eval_cast, 1, check_cast};
    r["CastLike"] = {eval_cast, 2, check_cast};
    r["Where"] = {eval_where, 3, nullptr};
    r["Identity"] = {eval_identity, 1, nullptr};
    r["Shape"] = {eval_shape, 1, nullptr};
    r["Size"] = {eval_size, 1, nullptr};
    r["Reshape"] = {eval_reshape, 1, nullptr};
    r["Flatten"] = {eval_flatten, 1, nullptr};
    r["Unsqueeze"] = {eval_unsqueeze, 1, nullptr};
    r["Squeeze"] = {eval_squeeze, 1, nullptr};
    r["Transpose"] = {eval_transpose, 1, nullptr};
    r["ConstantOfShape"] = {eval_constant_of_shape, 1, check_constant_of_shape};
    r["Range"] = {eval_range, 3, nullptr};
    r["Expand"] = {eval_expand, 2, nullptr};
    r["Tile"] = {eval_tile, 2, nullptr};
    r["Concat"] = {eval_concat, 1, nullptr};
    r["Split"] = {eval_split, 1, nullptr};
    r["Gather"] = {eval_gather, 2, nullptr};
    r["Slice"] = {eval_slice, 1, nullptr};
    r["Pad"] = {eval_pad, 1, check_pad};
    r["NonZero"] = {eval_nonzero, 1, nullptr};
    r["DequantizeLinear"] = {eval_dequantize, 2, check_dequantize};
    r["QuantizeLinear"] = {eval_quantize, 2, check_quantize};
    for (const char *op : {"ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceMean", "ReduceSumSquare",
                           "ReduceL1", "ReduceL2"})
      r[op] = {eval_reduce, 1, nullptr};
    r["MatMul"] = {eval_matmul, 2, nullptr};
    r["Gemm"] = {eval_gemm, 2, nullptr};
    for (const char *op : kActivations) r[op] = {eval_activation, 1, check_float_input};
    r["PRelu"] = {eval_prelu, 2, nullptr};
    r["Softmax"] = {eval_softmax, 1, check_float_input};
    r["LogSoftmax"] = {eval_softmax, 1, check_float_input};
    r["Trilu"] = {eval_trilu, 1, nullptr};
    r["CumSum"] = {eval_cumsum, 2, nullptr};
    r["EyeLike"] = {eval_eyelike, 1, check_eyelike};
    r["OneHot"] = {eval_onehot, 3, nullptr};
    r["GatherElements"] = {eval_gather_elements, 2, nullptr};
    r["GatherND"] = {eval_gather_nd, 2, nullptr};
    r["ScatterElements"] = {eval_scatter_elements, 3, check_scatter};
    r["Scatter"] = {eval_scatter_elements, 3, check_scatter}; // opset 9-10 name
    r["ScatterND"] = {eval_scatter_nd, 3, check_scatter};
    r["ArgMax"] = {eval_argminmax, 1, nullptr};
    r["ArgMin"] = {eval_argminmax, 1, nullptr};
    return r;
  }();
  return m;
}

/// Bytes above which can_evaluate refuses a node because computing it would
/// need too much host memory (the folding pass applies its own, stricter
/// growth policy after evaluation).
constexpr int64_t kMaxExtraBytes = int64_t(16) << 20;

/// Upper estimate of the output bytes of `n` (all inputs constant), or -1
/// when the node cannot be estimated (treated as "too big").
int64_t estimate_out_bytes(const Node &n) {
  auto vals = [&](size_t i) -> std::optional<std::vector<int64_t>> {
    const Value *v = n.input(i);
    if (!v || !v->data || kind_of(v->dtype) == Kind::None || kind_of(v->dtype) == Kind::F) return std::nullopt;
    return v->int_values();
  };
  auto mul_ok = [](int64_t a, int64_t b, int64_t &r) { return !__builtin_mul_overflow(a, b, &r) && r >= 0; };
  int64_t es = 8;
  if (n.output(0) && n.output(0)->dtype != DType::Undefined) es = std::max<int64_t>(1, (int64_t)ir::dtype_size(n.output(0)->dtype));
  auto elems_bytes = [&](const Shape &s) -> int64_t {
    int64_t e = 1;
    for (int64_t d : s)
      if (d < 0 || !mul_ok(e, d, e)) return -1;
    int64_t b;
    return mul_ok(e, es, b) ? b : -1;
  };
  const std::string &op = n.op;
  if (op == "ConstantOfShape") {
    auto v = vals(0);
    if (!v) return n.input(0) ? -1 : 0;
    return elems_bytes(Shape(*v));
  }
  if (op == "Expand") {
    auto v = vals(1);
    Shape out;
    if (!v || !n.input(0) || !try_broadcast({n.input(0)->shape, Shape(*v)}, out)) return -1;
    return elems_bytes(out);
  }
  if (op == "Tile") {
    auto v = vals(1);
    if (!v || !n.input(0) || v->size() != n.input(0)->shape.size()) return -1;
    Shape out;
    for (size_t i = 0; i < v->size(); ++i) {
      int64_t d;
      if (!mul_ok((*v)[i], n.input(0)->shape[i], d)) return -1;
      out.push_back(d);
    }
    return elems_bytes(out);
  }
  if (op == "Range") {
    for (size_t i = 0; i < 3; ++i)
      if (!n.input(i) || !n.input(i)->data || n.input(i)->numel() != 1 || !numeric(n.input(i)->dtype)) return -1;
    In s[3];
    for (size_t i = 0; i < 3; ++i) {
      s[i].dt = n.input(i)->dtype;
      s[i].p = n.input(i)->data->data();
    }
    int64_t c = range_count(s[0], s[1], s[2]);
    return c < 0 ? -1 : elems_bytes({c});
  }
  if (op == "Pad") {
    const Value *x = n.input(0);
    if (!x) return -1;
    std::vector<int64_t> pads;
    if (n.opset < 11) {
      pads = n.has_attr("pads") ? n.attr_ints("pads") : n.attr_ints("paddings");
    } else {
      auto v = vals(1);
      if (!v) return -1;
      pads = *v;
    }
    Shape out = x->shape;
    size_t r = out.size();
    if (pads.size() == 2 * r) {
      for (size_t i = 0; i < r; ++i) out[i] = std::max<int64_t>(0, out[i] + pads[i] + pads[i + r]);
    } else { // pads for a subset of axes (opset 18): bound each dim by all positive pads
      int64_t extra = 0;
      for (int64_t p : pads)
        if (p > 0) extra += p;
      for (auto &d : out) d += extra;
    }
    return elems_bytes(out);
  }
  if (op == "OneHot") {
    const Value *ix = n.input(0), *dp = n.input(1);
    if (!ix || !dp || !dp->data || dp->numel() != 1 || !numeric(dp->dtype)) return -1;
    int64_t depth = sat_i64(dp->float_at(0)), b;
    if (depth < 0 || !mul_ok(ix->numel(), depth, b)) return -1;
    return elems_bytes({b});
  }
  if (op == "GatherND") {
    const Value *x = n.input(0), *ix = n.input(1);
    if (!x || !ix || ix->shape.empty()) return -1;
    int64_t tuples = ix->numel() / std::max<int64_t>(1, ix->shape.back()), b;
    if (!mul_ok(tuples, x->numel(), b)) return -1;
    return elems_bytes({b});
  }
  if (op == "Gather") {
    const Value *x = n.input(0), *ix = n.input(1);
    if (!x || !ix) return -1;
    int64_t r = (int64_t)x->shape.size(), axis = n.attr_int("axis", 0);
    if (axis < -r || axis >= r) return -1;
    if (axis < 0) axis += r;
    Shape out(x->shape.begin(), x->shape.begin() + axis);
    out.insert(out.end(), ix->shape.begin(), ix->shape.end());
    out.insert(out.end(), x->shape.begin() + axis + 1, x->shape.end());
    return elems_bytes(out);
  }
  if (op == "MatMul" || op == "Gemm") {
    const Value *A = n.input(0), *B = n.input(1);
    if (!A || !B || A->shape.empty() || B->shape.empty()) return -1;
    Shape bs;
    Shape ba(A->shape.begin(), A->shape.end() - std::min<size_t>(2, A->shape.size()));
    Shape bb(B->shape.begin(), B->shape.end() - std::min<size_t>(2, B->shape.size()));
    if (!try_broadcast({ba, bb}, bs)) return -1;
    bs.push_back(A->shape.size() >= 2 ? std::max(A->shape[A->shape.size() - 2], A->shape.back()) : 1);
    bs.push_back(B->shape.size() >= 2 ? std::max(B->shape[B->shape.size() - 2], B->shape.back()) : 1);
    return elems_bytes(bs);
  }
  if (registry().at(op).eval == eval_binary || registry().at(op).eval == eval_compare ||
      registry().at(op).eval == eval_logical || registry().at(op).eval == eval_variadic || op == "Where") {
    // Elementwise ops with broadcasting: the broadcast shape of the inputs.
    std::vector<Shape> shapes;
    for (const Value *v : n.inputs)
      if (v) shapes.push_back(v->shape);
    Shape out;
    if (!try_broadcast(shapes, out)) return -1;
    return elems_bytes(out);
  }
  return 0; // other ops do not grow beyond their inputs (times the dtype ratio)
}

} // namespace

bool can_evaluate(const ir::Node &n) {
  try {
    if (!n.domain.empty() && n.domain != "ai.onnx") return false;
    if (is_nn_op(n)) return nn_can_evaluate(n);
    auto &reg = registry();
    auto it = reg.find(n.op);
    if (it == reg.end()) return false;
    const OpImpl &impl = it->second;
    for (size_t i = 0; i < impl.min_inputs; ++i)
      if (!n.input(i)) return false;
    int64_t in_bytes = 0;
    for (const Value *v : n.inputs) {
      if (!v) continue;
      if (!numeric(v->dtype)) return false; // string / undefined
      if (!v->shape_known && !v->data) return false;
      if (v->data) in_bytes += (int64_t)v->data->size();
    }
    for (const Value *v : n.outputs)
      if (v && v->dtype != DType::Undefined && !numeric(v->dtype)) return false;
    if (impl.check && !impl.check(n)) return false;
    int64_t est = estimate_out_bytes(n);
    if (est < 0 || est > in_bytes + kMaxExtraBytes) return false;
    return true;
  } catch (...) {
    return false;
  }
}

std::vector<HostTensor> evaluate(const ir::Node &n, const std::vector<const ir::Value *> &inputs) {
  if (is_nn_op(n)) return nn_evaluate(n, inputs);
  auto &reg = registry();
  auto it = reg.find(n.op);
  if (it == reg.end()) throw ir::CompileError(n, "the constant evaluator does not implement this op");
  Args args{n, inputs};
  Outs outs = it->second.eval(n, args);
  outs.resize(std::max(outs.size(), n.outputs.size()));
  return outs;
}

} // namespace tmc::passes::eval
