// Kernel family: elementwise ops (unary math, activations, binary arithmetic and
// comparisons with numpy broadcasting, variadic Sum/Mean/Max/Min, Where, Clip,
// Cast/CastLike).
//
// Most ops are one entry of the table in register_elementwise_kernels(): a C
// expression template per kind of element type (floating, signed integer,
// unsigned integer, bool). A template may start with statements separated by
// "; " (e.g. "{T} t = ...; t * t"); its last part is the value. Placeholders:
//   {a} {b} {c}   operands 0, 1, 2 (already loaded in the compute type)
//   {T}           the compute C type: float for float32/float16/bfloat16,
//                 double for float64, the storage type for integers and bool
//   {U}           unsigned type for wrap-around integer arithmetic
//   {f}           "f" when computing in float, "" in double: exp{f}(x), 1.0{f}
//   {bits}        bit width of an integer type
//   {<attr>}      a float attribute of the entry, as a literal of the compute type
//   {h:<key>}     the C name of shared helper <key> (requests it)
// float16 and bfloat16 are loaded into float and stored back with rounding.
#include <cmath>
#include <fmt/format.h>
#include <regex>

#include "codegen/helpers.h"
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {

// Quantization kernels (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear)
// live in quantize.cpp.

namespace {

using ir::DType;

// ---------------------------------------------------------------------------
// Element type kinds and compute types

enum Kind : unsigned { KF = 1, KS = 2, KU = 4, KB = 8, KNONE = 0 };

Kind kind_of(DType dt) {
  if (ir::dtype_is_float(dt)) return KF;
  if (dt == DType::Bool) return KB;
  if (ir::dtype_is_integer(dt)) return ir::dtype_is_signed(dt) ? KS : KU;
  return KNONE;
}

/// The C type an element is computed in.
struct CType {
  DType dt = DType::Undefined; ///< storage type it was derived from
  std::string T, U, f;
  int bits = 0;
  bool raw = false; ///< values stay in the storage type (no float16 conversion)
};

CType compute_type(DType dt, bool raw = false) {
  CType c;
  c.dt = dt;
  c.raw = raw;
  c.bits = (int)ir::dtype_size(dt) * 8;
  if (raw) {
    c.T = ir::dtype_ctype(dt);
  } else if (dt == DType::F64) {
    c.T = "double";
  } else if (ir::dtype_is_float(dt)) {
    c.T = "float";
    c.f = "f";
  } else {
    c.T = ir::dtype_ctype(dt);
  }
  c.U = c.bits >= 64 ? "uint64_t" : c.bits == 32 ? "uint32_t" : "unsigned";
  return c;
}

bool computes_in_float(const CType &c) { return !c.raw && ir::dtype_is_float(c.dt) && c.dt != DType::F64; }

/// A literal of value v in the compute type (parenthesised when negative).
std::string compute_literal(const CType &c, double v) {
  std::string s = computes_in_float(c) ? c_float_literal((float)v) : c_double_literal(v);
  if (!s.empty() && s[0] == '-') s = "(" + s + ")";
  return s;
}

/// Element `elem` of a tensor of type dt, converted to float if it is
/// float16/bfloat16, else left in its storage type.
std::string load_natural(KernelContext &k, DType dt, const std::string &elem) {
  if (dt == DType::F16) return fmt::format("{}({})", k.helper("f16_to_f32"), elem);
  if (dt == DType::BF16) return fmt::format("{}({})", k.helper("bf16_to_f32"), elem);
  return elem;
}

std::string natural_ctype(DType dt) {
  return dt == DType::F16 || dt == DType::BF16 ? "float" : ir::dtype_ctype(dt);
}

/// Converts a compute-type expression to the storage type `out`.
std::string store_to(KernelContext &k, DType out, const CType &c, const std::string &expr) {
  if (!c.raw) {
    if (out == DType::F16) {
      if (c.T == "double") return fmt::format("{}({})", k.helper("ew_f64_to_f16"), expr);
      return fmt::format("{}({})", k.helper("f32_to_f16"), c.T == "float" ? expr : "(float)(" + expr + ")");
    }
    if (out == DType::BF16) return fmt::format("{}((float)({}))", k.helper("f32_to_bf16"), expr);
  }
  if (c.T == ir::dtype_ctype(out) && !(out == DType::Bool && c.dt != DType::Bool)) return expr;
  return fmt::format("({})({})", ir::dtype_ctype(out), expr);
}

// ---------------------------------------------------------------------------
// Template expansion

using Vars = std::map<std::string, std::string>;

std::string expand(KernelContext &k, const std::string &tpl, const Vars &vars) {
  std::string out;
  for (size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] != '{') {
      out += tpl[i];
      continue;
    }
    size_t e = tpl.find('}', i);
    if (e == std::string::npos) throw ir::CompileError(k.node, "internal: bad expression template " + tpl);
    std::string key = tpl.substr(i + 1, e - i - 1);
    if (key.rfind("h:", 0) == 0) {
      out += k.helper(key.substr(2));
    } else {
      auto it = vars.find(key);
      if (it == vars.end())
        throw ir::CompileError(k.node, "internal: no value for {" + key + "} in template " + tpl);
      out += it->second;
    }
    i = e;
  }
  return out;
}

/// Splits "stmt; stmt; expr" into statements (with ';') and the final expression.
struct Code {
  std::vector<std::string> pre;
  std::string expr;
  bool stored = false; ///< expr is already of the output storage type
};

Code split_code(const std::string &s) {
  Code c;
  size_t start = 0, p;
  while ((p = s.find("; ", start)) != std::string::npos) {
    c.pre.push_back(s.substr(start, p - start) + ";");
    start = p + 2;
  }
  c.expr = s.substr(start);
  return c;
}

Vars type_vars(const CType &c) {
  return {{"T", c.T}, {"U", c.U}, {"f", c.f}, {"bits", std::to_string(c.bits)}};
}

// ---------------------------------------------------------------------------
// The elementwise loop engine

struct Operand {
  size_t input;             ///< node input index
  ir::Shape shape;          ///< shape used for broadcasting
  bool natural = false;     ///< load without converting to the compute type
};

using ExprFn = std::function<Code(KernelContext &, const std::vector<std::string> &vars)>;

/// Loops over the output elements; operand j is available as local `v<j>`.
/// Operands the expression does not mention are neither loaded nor indexed.
void emit_map(KernelContext &k, const std::vector<Operand> &ops, const CType &ct, const ExprFn &make) {
  const ir::Value &y = k.vout(0);
  std::vector<std::string> names;
  for (size_t j = 0; j < ops.size(); ++j) names.push_back("v" + std::to_string(j));
  Code code = make(k, names);
  std::string all = code.expr;
  for (auto &s : code.pre) all += "\n" + s;
  std::vector<size_t> used;
  std::vector<ir::Shape> shapes;
  for (size_t j = 0; j < ops.size(); ++j)
    if (std::regex_search(all, std::regex("\\b" + names[j] + "\\b"))) {
      used.push_back(j);
      shapes.push_back(ops[j].shape);
    }
  emit_broadcast_loop(k, y.shape, shapes, [&](const std::vector<std::string> &idx, const std::string &oi) {
    for (size_t u = 0; u < used.size(); ++u) {
      const Operand &op = ops[used[u]];
      const std::string &name = names[used[u]];
      DType dt = k.vin(op.input).dtype;
      std::string elem = fmt::format("{}[{}]", KernelContext::in(op.input), idx[u]);
      if (ct.raw) {
        k.line("const {} {} = {};", ir::dtype_ctype(dt), name, elem);
      } else if (op.natural) {
        k.line("const {} {} = {};", natural_ctype(dt), name, load_natural(k, dt, elem));
      } else {
        std::string v = load_natural(k, dt, elem);
        if (natural_ctype(dt) != ct.T) v = fmt::format("({}){}", ct.T, v);
        k.line("const {} {} = {};", ct.T, name, v);
      }
    }
    for (auto &s : code.pre) k.line("{}", s);
    k.line("y0[{}] = {};", oi, code.stored ? code.expr : store_to(k, y.dtype, ct, code.expr));
  });
}

/// Broadcast shape of input i; handles the legacy (opset < 7) `broadcast`/`axis`
/// attributes of binary ops, which align the second operand at `axis`.
ir::Shape operand_shape(const ir::Node &n, size_t i) {
  const ir::Value *v = n.input(i);
  if (i == 1 && n.opset < 7 && n.attr_int("broadcast", 0) == 1 && n.has_attr("axis")) {
    size_t rank = n.input(0)->rank();
    int64_t axis = n.attr_int("axis");
    if (axis < 0) axis += (int64_t)rank;
    ir::Shape s(rank, 1);
    for (size_t d = 0; d < v->rank(); ++d) {
      size_t at = (size_t)axis + d;
      if (at >= rank) throw ir::CompileError(n, "legacy broadcast axis is out of range");
      s[at] = v->shape[d];
    }
    return s;
  }
  // PRelu before opset 7 applied a 1-D slope of C elements per channel (axis 1).
  // ONNX's version converter keeps such slopes when it upgrades a model, so
  // also accept them later when numpy broadcasting cannot apply.
  const ir::Value *x = n.input(0);
  auto numpy_ok = [&] {
    for (size_t d = 0; d < v->rank(); ++d) {
      int64_t a = v->shape[v->rank() - 1 - d], b = x->shape[x->rank() - 1 - d];
      if (a != b && a != 1) return false;
    }
    return v->rank() <= x->rank();
  };
  if (i == 1 && n.op == "PRelu" && v->rank() == 1 && x->rank() >= 2 && v->shape[0] > 1 &&
      v->shape[0] == x->shape[1] && (n.opset < 7 || !numpy_ok())) {
    ir::Shape s(x->rank(), 1);
    s[1] = v->shape[0];
    return s;
  }
  return v->shape;
}

/// "" when the operands broadcast to the output shape.
std::string check_broadcast(const ir::Node &n, const std::vector<ir::Shape> &shapes) {
  const ir::Value *y = n.output(0);
  for (auto &s : shapes)
    if (s.size() > y->rank()) return "an operand has a higher rank than the output";
  ir::Shape b = broadcast_shapes(n, shapes);
  if (b.size() < y->rank()) b.insert(b.begin(), y->rank() - b.size(), 1);
  if (b != y->shape)
    return fmt::format("operands broadcast to {} but the output is {}", ir::shape_str(b), ir::shape_str(y->shape));
  return "";
}

std::string dtype_reason(DType dt) { return std::string("dtype ") + ir::dtype_name(dt) + " is not supported"; }

// ---------------------------------------------------------------------------
// Table-driven ops

struct AttrDef {
  const char *name;
  double dflt;
};

/// Templates per kind; an empty string means the kind is not supported.
struct Templates {
  std::string flt, sint, uint, boolean;
  const char *pick(Kind kd) const {
    const std::string *s = kd == KF ? &flt : kd == KS ? &sint : kd == KU ? &uint : kd == KB ? &boolean : nullptr;
    return s && !s->empty() ? s->c_str() : nullptr;
  }
};

struct MapDef {
  const char *op;
  int arity; ///< number of operands (all broadcast together)
  Templates t;
  std::vector<AttrDef> attrs = {};
  /// Overrides `t` when the template depends on attributes or operand types.
  std::function<Templates(const ir::Node &)> select = nullptr;
  unsigned natural_mask = 0; ///< operands not converted to the compute type
  size_t type_input = 0;     ///< input whose dtype gives the compute type
  bool raw = false;          ///< compute in the storage type (selection ops)
  bool same_dtypes = true;   ///< non-natural operands must share a dtype
};

Templates templates_of(const MapDef &d, const ir::Node &n) { return d.select ? d.select(n) : d.t; }

std::string check_map(const MapDef &d, const ir::Node &n) {
  for (int j = 0; j < d.arity; ++j)
    if (!n.input((size_t)j)) return fmt::format("input {} is missing", j);
  if (!n.output(0)) return "output 0 is missing";
  DType dt = n.input(d.type_input)->dtype;
  if (!templates_of(d, n).pick(kind_of(dt))) return dtype_reason(dt);
  std::vector<ir::Shape> shapes;
  for (int j = 0; j < d.arity; ++j) {
    const ir::Value *v = n.input((size_t)j);
    if (d.same_dtypes && !(d.natural_mask & (1u << j)) && v->dtype != dt)
      return fmt::format("mixed operand dtypes {} and {} are not supported", ir::dtype_name(v->dtype),
                         ir::dtype_name(dt));
    shapes.push_back(operand_shape(n, (size_t)j));
  }
  return check_broadcast(n, shapes);
}

void emit_mapdef(const MapDef &d, KernelContext &k) {
  const ir::Node &n = k.node;
  DType dt = k.vin(d.type_input).dtype;
  CType ct = compute_type(dt, d.raw);
  std::string tpl = templates_of(d, n).pick(kind_of(dt));
  Vars vars = type_vars(ct);
  for (auto &a : d.attrs) vars[a.name] = compute_literal(ct, n.attr_float(a.name, (float)a.dflt));
  std::vector<Operand> ops;
  for (int j = 0; j < d.arity; ++j)
    ops.push_back({(size_t)j, operand_shape(n, (size_t)j), (d.natural_mask & (1u << j)) != 0});
  emit_map(k, ops, ct, [&](KernelContext &kc, const std::vector<std::string> &v) {
    Vars all = vars;
    const char *names[] = {"a", "b", "c"};
    for (size_t j = 0; j < v.size() && j < 3; ++j) all[names[j]] = v[j];
    return split_code(expand(kc, tpl, all));
  });
}

void add_map(KernelRegistry &r, MapDef d) {
  auto def = std::make_shared<MapDef>(std::move(d));
  r.add({def->op, [def](const ir::Node &n) { return check_map(*def, n); },
         [def](KernelContext &k) { emit_mapdef(*def, k); }, nullptr});
}

// ---------------------------------------------------------------------------
// Variadic ops: Sum, Mean, Max, Min fold a binary template over 1..N inputs.

struct FoldDef {
  const char *op;
  Templates t; ///< binary template over {a} (accumulator) and {b}
  bool mean = false;
};

std::string check_fold(const FoldDef &d, const ir::Node &n) {
  if (n.inputs.empty()) return "at least one input is required";
  if (!n.output(0)) return "output 0 is missing";
  DType dt = n.input(0) ? n.input(0)->dtype : DType::Undefined;
  if (!d.t.pick(kind_of(dt))) return dtype_reason(dt);
  std::vector<ir::Shape> shapes;
  for (auto *v : n.inputs) {
    if (!v) return "omitted inputs are not supported";
    if (v->dtype != dt) return "all inputs must have the same dtype";
    shapes.push_back(v->shape);
  }
  return check_broadcast(n, shapes);
}

void emit_fold(const FoldDef &d, KernelContext &k) {
  DType dt = k.vin(0).dtype;
  CType ct = compute_type(dt);
  std::string tpl = d.t.pick(kind_of(dt));
  std::vector<Operand> ops;
  for (size_t j = 0; j < k.num_in(); ++j) ops.push_back({j, k.vin(j).shape, false});
  emit_map(k, ops, ct, [&](KernelContext &kc, const std::vector<std::string> &v) {
    Code c;
    if (v.size() == 1 && !d.mean) {
      c.expr = v[0];
      return c;
    }
    c.pre.push_back(fmt::format("{} r = {};", ct.T, v[0]));
    Vars vars = type_vars(ct);
    vars["a"] = "r";
    for (size_t j = 1; j < v.size(); ++j) {
      vars["b"] = v[j];
      Code step = split_code(expand(kc, tpl, vars));
      if (!step.pre.empty()) throw ir::CompileError(kc.node, "internal: fold templates must be expressions");
      c.pre.push_back(fmt::format("r = {};", step.expr));
    }
    c.expr = d.mean ? fmt::format("r / {}", compute_literal(ct, (double)v.size())) : "r";
    return c;
  });
}

void add_fold(KernelRegistry &r, FoldDef d) {
  auto def = std::make_shared<FoldDef>(std::move(d));
  r.add({def->op, [def](const ir::Node &n) { return check_fold(*def, n); },
         [def](KernelContext &k) { emit_fold(*def, k); }, nullptr});
}

// ---------------------------------------------------------------------------
// Clip: bounds are attributes before opset 11, optional inputs after.

std::string check_clip(const ir::Node &n) {
  if (!n.input(0) || !n.output(0)) return "input or output is missing";
  DType dt = n.input(0)->dtype;
  Kind kd = kind_of(dt);
  if (kd == KNONE || kd == KB) return dtype_reason(dt);
  if (n.opset < 11) {
    if (kd != KF) return dtype_reason(dt);
    return "";
  }
  for (size_t i = 1; i <= 2; ++i)
    if (const ir::Value *v = n.input(i)) {
      if (v->dtype != dt) return "min/max must have the input's dtype";
      if (v->numel() != 1) return "min/max must be scalars";
    }
  return "";
}

void emit_clip(KernelContext &k) {
  const ir::Node &n = k.node;
  DType dt = k.vin(0).dtype;
  CType ct = compute_type(dt);
  std::vector<Operand> ops{{0, k.vin(0).shape, false}};
  std::string lo, hi;
  if (n.opset < 11) {
    if (n.has_attr("min")) lo = compute_literal(ct, n.attr_float("min", 0.0f));
    if (n.has_attr("max")) hi = compute_literal(ct, n.attr_float("max", 0.0f));
  } else {
    for (size_t i = 1; i <= 2; ++i)
      if (k.has_in(i)) {
        (i == 1 ? lo : hi) = "v" + std::to_string(ops.size());
        ops.push_back({i, {}, false});
      }
  }
  emit_map(k, ops, ct, [&](KernelContext &, const std::vector<std::string> &v) {
    Code c;
    if (lo.empty() && hi.empty()) {
      c.expr = v[0];
      return c;
    }
    c.pre.push_back(fmt::format("{} t = {};", ct.T, v[0]));
    if (!lo.empty()) c.pre.push_back(fmt::format("if (t < {0}) t = {0};", lo));
    if (!hi.empty()) c.pre.push_back(fmt::format("if (t > {0}) t = {0};", hi));
    c.expr = "t";
    return c;
  });
}

// ---------------------------------------------------------------------------
// Cast and CastLike

DType onnx_type_name_to_dtype(const std::string &s) {
  static const std::map<std::string, DType> m = {
      {"FLOAT", DType::F32},   {"DOUBLE", DType::F64}, {"FLOAT16", DType::F16}, {"BFLOAT16", DType::BF16},
      {"INT8", DType::I8},     {"INT16", DType::I16},  {"INT32", DType::I32},   {"INT64", DType::I64},
      {"UINT8", DType::U8},    {"UINT16", DType::U16}, {"UINT32", DType::U32},  {"UINT64", DType::U64},
      {"BOOL", DType::Bool}};
  auto it = m.find(s);
  return it == m.end() ? DType::Undefined : it->second;
}

std::string check_cast(const ir::Node &n) {
  if (!n.input(0) || !n.output(0)) return "input or output is missing";
  if (n.op == "CastLike" && !n.input(1)) return "target_type input is missing";
  DType from = n.input(0)->dtype, to = n.output(0)->dtype;
  if (kind_of(from) == KNONE) return dtype_reason(from);
  if (kind_of(to) == KNONE) return dtype_reason(to);
  if (n.op == "Cast" && n.has_attr("to")) {
    DType want = std::holds_alternative<std::string>(n.attrs.at("to"))
                     ? onnx_type_name_to_dtype(n.attr_string("to", ""))
                     : ir::dtype_from_onnx((int)n.attr_int("to"));
    if (want != to) return "the 'to' type is not supported";
  }
  if (n.input(0)->shape != n.output(0)->shape && n.input(0)->numel() != n.output(0)->numel())
    return "input and output shapes differ";
  return "";
}

/// C code converting value `v` (natural load of a `from` element) to storage type `to`.
Code cast_code(KernelContext &k, DType from, DType to, const std::string &v) {
  Code c;
  c.stored = true;
  Kind kf = kind_of(from);
  // ONNX 1.12 (opsets < 19) rounds float -> bfloat16 by truncation; opset 19
  // specifies round to nearest even.
  bool bf16_trunc = k.node.opset < 19;
  switch (to) {
  case DType::Bool: c.expr = fmt::format("(uint8_t)({} != 0)", v); return c;
  case DType::F32: c.expr = from == DType::F32 ? v : fmt::format("(float){}", v); return c;
  case DType::F64: c.expr = fmt::format("(double){}", v); return c;
  case DType::F16:
    if (from == DType::F64) c.expr = fmt::format("{}({})", k.helper("ew_f64_to_f16"), v);
    else c.expr = fmt::format("{}((float){})", k.helper("f32_to_f16"), v);
    return c;
  case DType::BF16:
    c.expr = fmt::format("{}((float){})", k.helper(bf16_trunc ? "ew_f32_to_bf16_trunc" : "f32_to_bf16"), v);
    return c;
  default: break;
  }
  // Integer targets.
  std::string T = ir::dtype_ctype(to);
  if (kf != KF) {
    c.expr = fmt::format("({}){}", T, v);
    return c;
  }
  // From floating point: truncate toward zero; NaN gives 0 and out-of-range
  // values saturate (C leaves them undefined).
  CType ct = compute_type(from == DType::F64 ? DType::F64 : DType::F32);
  int bits = (int)ir::dtype_size(to) * 8;
  bool sgn = ir::dtype_is_signed(to);
  double lo = sgn ? -std::ldexp(1.0, bits - 1) : 0.0;
  double hi = sgn ? std::ldexp(1.0, bits - 1) : std::ldexp(1.0, bits);
  int64_t imin = sgn ? (bits == 64 ? INT64_MIN : -(int64_t(1) << (bits - 1))) : 0;
  std::string imax = sgn ? c_int_literal(to, bits == 64 ? INT64_MAX : (int64_t(1) << (bits - 1)) - 1)
                         : (bits == 64 ? "UINT64_MAX" : c_int_literal(to, (int64_t(1) << bits) - 1));
  c.pre.push_back(fmt::format("const {} t = {};", ct.T, v));
  c.expr = fmt::format("t != t ? 0 : (t <= {} ? {} : (t >= {} ? {} : ({})t))", compute_literal(ct, lo),
                       c_int_literal(to, imin), compute_literal(ct, hi), imax, T);
  return c;
}

void emit_cast(KernelContext &k) {
  DType from = k.vin(0).dtype, to = k.vout(0).dtype;
  if (from == to) {
    if (k.vout(0).nbytes() > 0) k.line("memcpy(y0, x0, {});", k.vout(0).nbytes());
    return;
  }
  CType ct = compute_type(from, true);
  std::vector<Operand> ops{{0, k.vout(0).shape, false}};
  emit_map(k, ops, ct, [&](KernelContext &kc, const std::vector<std::string> &v) {
    (void)v;
    return cast_code(kc, from, to, load_natural(kc, from, "v0"));
  });
}

// ---------------------------------------------------------------------------
// Helpers used by the templates

void register_ew_helpers() {
  static bool done = false;
  if (done) return;
  done = true;
  register_helper({"ew_ipow", R"(static int64_t @P@_h_ew_ipow(int64_t base, int64_t e) {
  uint64_t r = 1u, b = (uint64_t)base;
  if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
  while (e > 0) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)r;
}
)", {}});
  register_helper({"ew_f32_to_bf16_trunc", R"(static uint16_t @P@_h_ew_f32_to_bf16_trunc(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)(x >> 16);
}
)", {}});
  register_helper({"ew_f64_to_f16", R"(static uint16_t @P@_h_ew_f64_to_f16(double d) {
  uint64_t x, man, r, rem, half;
  uint32_t sign;
  int32_t exp;
  memcpy(&x, &d, sizeof x);
  sign = (uint32_t)(x >> 48) & 0x8000u;
  exp = (int32_t)((x >> 52) & 0x7ffu);
  man = x & UINT64_C(0xfffffffffffff);
  if (exp == 0x7ff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0u));
  exp = exp - 1023 + 15;
  if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) {
    unsigned shift;
    if (exp < -10) return (uint16_t)sign;
    man |= UINT64_C(1) << 52;
    shift = (unsigned)(43 - exp);
    r = man >> shift;
    rem = man & ((UINT64_C(1) << shift) - 1u);
    half = UINT64_C(1) << (shift - 1u);
  } else {
    r = ((uint64_t)exp << 10) | (man >> 42);
    rem = man & ((UINT64_C(1) << 42) - 1u);
    half = UINT64_C(1) << 41;
  }
  if (rem > half || (rem == half && (r & 1u))) r++;
  return (uint16_t)(sign | (uint32_t)r);
}
)", {}});
}

// Shorthands for common template sets.
Templates F(const std::string &flt) { return {flt, "", "", ""}; }
Templates FI(const char *flt, const char *sint, const char *uint) { return {flt, sint, uint ? uint : "", ""}; }
Templates ALL(const char *e) { return {e, e, e, e}; }
Templates NUM(const char *e) { return {e, e, e, ""}; }
Templates INTS(const char *e) { return {"", e, e, ""}; }
Templates BOOL(const char *e) { return {"", "", "", e}; }

// Integer add/sub/mul in unsigned arithmetic: wraps like numpy, no C overflow.
const char *kWrapAdd = "({T})(({U}){a} + ({U}){b})";
const char *kWrapSub = "({T})(({U}){a} - ({U}){b})";
const char *kWrapMul = "({T})(({U}){a} * ({U}){b})";

Templates pow_templates(const ir::Node &n) {
  DType e = n.input(1) ? n.input(1)->dtype : DType::Undefined;
  Kind ke = kind_of(e);
  if (ke == KNONE || ke == KB) return {};
  Templates t;
  t.flt = "pow{f}({a}, ({T}){b})";
  if (ke == KF) {
    t.sint = t.uint = "({T})pow((double){a}, (double){b})";
  } else {
    t.sint = t.uint = "({T}){h:ew_ipow}((int64_t){a}, (int64_t){b})";
  }
  return t;
}

Templates mod_templates(const ir::Node &n) {
  Templates t;
  t.uint = "({b} == 0 ? 0 : ({T})({a} % {b}))";
  if (n.attr_int("fmod", 0)) {
    t.flt = "fmod{f}({a}, {b})";
    t.sint = "(({b} == 0 || {b} == -1) ? 0 : ({T})({a} % {b}))";
  } else {
    // Python/numpy modulo: the result has the sign of the divisor.
    t.flt = "{T} t = fmod{f}({a}, {b}); ((t != 0 && ((t < 0) != ({b} < 0))) ? t + {b} : t)";
    t.sint = "{T} t = (({b} == 0 || {b} == -1) ? 0 : ({T})({a} % {b})); "
             "((t != 0 && ((t < 0) != ({b} < 0))) ? ({T})(t + {b}) : t)";
  }
  return t;
}

Templates isinf_templates(const ir::Node &n) {
  bool pos = n.attr_int("detect_positive", 1) != 0, neg = n.attr_int("detect_negative", 1) != 0;
  if (pos && neg) return F("(isinf({a}) != 0)");
  if (pos) return F("({a} == INFINITY)");
  if (neg) return F("({a} == -INFINITY)");
  return F("0");
}

Templates bitshift_templates(const ir::Node &n) {
  std::string dir = n.attr_string("direction", "");
  if (dir == "LEFT") return INTS("({b} >= {bits} ? 0 : ({T})((uint64_t){a} << {b}))");
  if (dir == "RIGHT") return INTS("({b} >= {bits} ? 0 : ({T})({a} >> {b}))");
  return {};
}

Templates gelu_templates(const ir::Node &n) {
  std::string approx = n.attr_string("approximate", "none");
  if (approx == "tanh")
    return F("(0.5{f} * {a} * (1.0{f} + tanh{f}(0.79788456080286535588{f} * ({a} + 0.044715{f} * {a} * {a} * {a}))))");
  if (approx == "none") return F("(0.5{f} * {a} * (1.0{f} + erf{f}({a} * 0.70710678118654752440{f})))");
  return {};
}

} // namespace

void register_elementwise_kernels(KernelRegistry &r) {
  register_ew_helpers();

  // ---- unary math
  const char *fn1[] = {"Sqrt", "sqrt", "Exp", "exp", "Log", "log", "Floor", "floor", "Ceil", "ceil",
                       "Sin", "sin", "Cos", "cos", "Tan", "tan", "Asin", "asin", "Acos", "acos",
                       "Atan", "atan", "Sinh", "sinh", "Cosh", "cosh", "Tanh", "tanh", "Asinh", "asinh",
                       "Acosh", "acosh", "Atanh", "atanh", "Erf", "erf"};
  for (size_t i = 0; i < sizeof fn1 / sizeof fn1[0]; i += 2)
    add_map(r, {fn1[i], 1, F(std::string(fn1[i + 1]) + "{f}({a})")});
  add_map(r, {"Abs", 1, FI("fabs{f}({a})", "({a} < 0 ? ({T})(-({U}){a}) : {a})", "{a}")});
  add_map(r, {"Neg", 1, FI("(-{a})", "({T})(-({U}){a})", nullptr)});
  add_map(r, {"Reciprocal", 1, F("(1.0{f} / {a})")});
  add_map(r, {"Round", 1, F("nearbyint{f}({a})")});
  add_map(r, {"Sign", 1, FI("({a} > 0 ? 1.0{f} : ({a} < 0 ? -1.0{f} : {a}))", "({a} > 0 ? 1 : ({a} < 0 ? -1 : 0))",
                             "({a} > 0 ? 1 : 0)")});
  add_map(r, {"IsNaN", 1, F("(isnan({a}) != 0)")});
  add_map(r, {"IsInf", 1, {}, {}, isinf_templates});
  add_map(r, {"Not", 1, BOOL("(!{a})")});
  add_map(r, {"BitwiseNot", 1, INTS("({T})(~{a})")});

  // ---- activations
  add_map(r, {"Relu", 1, FI("({a} < 0 ? 0.0{f} : {a})", "({a} < 0 ? 0 : {a})", "{a}")});
  add_map(r, {"LeakyRelu", 1, F("({a} < 0 ? {alpha} * {a} : {a})"), {{"alpha", 0.01}}});
  add_map(r, {"Elu", 1, F("({a} < 0 ? {alpha} * expm1{f}({a}) : {a})"), {{"alpha", 1.0}}});
  add_map(r, {"Selu", 1, F("({a} <= 0 ? {gamma} * {alpha} * expm1{f}({a}) : {gamma} * {a})"),
              {{"alpha", 1.67326319217681884765625}, {"gamma", 1.05070102214813232421875}}});
  add_map(r, {"Celu", 1, F("({a} < 0 ? {alpha} * expm1{f}({a} / {alpha}) : {a})"), {{"alpha", 1.0}}});
  add_map(r, {"ThresholdedRelu", 1, F("({a} > {alpha} ? {a} : 0.0{f})"), {{"alpha", 1.0}}});
  add_map(r, {"Sigmoid", 1,
              F("({a} >= 0 ? 1.0{f} / (1.0{f} + exp{f}(-{a})) : exp{f}({a}) / (1.0{f} + exp{f}({a})))")});
  add_map(r, {"HardSigmoid", 1,
              F("{T} t = {alpha} * {a} + {beta}; (t < 0 ? 0.0{f} : (t > 1 ? 1.0{f} : t))"),
              {{"alpha", 0.2}, {"beta", 0.5}}});
  add_map(r, {"HardSwish", 1,
              F("{T} t = {a} * 0.16666667{f} + 0.5{f}; {a} * (t < 0 ? 0.0{f} : (t > 1 ? 1.0{f} : t))")});
  add_map(r, {"Softplus", 1, F("({a} > 0 ? {a} + log1p{f}(exp{f}(-{a})) : log1p{f}(exp{f}({a})))")});
  add_map(r, {"Softsign", 1, F("({a} / (1.0{f} + fabs{f}({a})))")});
  add_map(r, {"Mish", 1,
              F("{T} sp = ({a} > 0 ? {a} + log1p{f}(exp{f}(-{a})) : log1p{f}(exp{f}({a}))); {a} * tanh{f}(sp)")});
  add_map(r, {"Gelu", 1, {}, {}, gelu_templates});
  add_map(r, {"Shrink", 1,
              {"({a} < -{lambd} ? {a} + {bias} : ({a} > {lambd} ? {a} - {bias} : 0.0{f}))",
               "({T})((double){a} < -{lambd} ? (double){a} + {bias} : ((double){a} > {lambd} ? (double){a} - {bias} : 0.0))",
               "({T})((double){a} > {lambd} ? (double){a} - {bias} : 0.0)", ""},
              {{"bias", 0.0}, {"lambd", 0.5}}});

  // ---- binary arithmetic, numpy broadcasting
  add_map(r, {"Add", 2, FI("({a} + {b})", kWrapAdd, kWrapAdd)});
  add_map(r, {"Sub", 2, FI("({a} - {b})", kWrapSub, kWrapSub)});
  add_map(r, {"Mul", 2, FI("({a} * {b})", kWrapMul, kWrapMul)});
  add_map(r, {"Div", 2,
              FI("({a} / {b})", "({b} == 0 ? 0 : ({b} == -1 ? ({T})(-({U}){a}) : ({T})({a} / {b})))",
                 "({b} == 0 ? 0 : ({T})({a} / {b}))")});
  add_map(r, {"Pow", 2, {}, {}, pow_templates, 2u, 0, false, false});
  add_map(r, {"Mod", 2, {}, {}, mod_templates});
  add_map(r, {"BitShift", 2, {}, {}, bitshift_templates});
  add_map(r, {"PRelu", 2, FI("({a} < 0 ? {a} * {b} : {a})", "({a} < 0 ? ({T})(({U}){a} * ({U}){b}) : {a})", "{a}")});

  // ---- logical and bitwise
  add_map(r, {"And", 2, BOOL("({a} && {b})")});
  add_map(r, {"Or", 2, BOOL("({a} || {b})")});
  add_map(r, {"Xor", 2, BOOL("(!{a} != !{b})")});
  add_map(r, {"BitwiseAnd", 2, INTS("({T})({a} & {b})")});
  add_map(r, {"BitwiseOr", 2, INTS("({T})({a} | {b})")});
  add_map(r, {"BitwiseXor", 2, INTS("({T})({a} ^ {b})")});

  // ---- comparisons (bool output)
  add_map(r, {"Equal", 2, {"({a} == {b})", "({a} == {b})", "({a} == {b})", "(!{a} == !{b})"}});
  add_map(r, {"Less", 2, NUM("({a} < {b})")});
  add_map(r, {"Greater", 2, NUM("({a} > {b})")});
  add_map(r, {"LessOrEqual", 2, NUM("({a} <= {b})")});
  add_map(r, {"GreaterOrEqual", 2, NUM("({a} >= {b})")});

  // ---- selection
  add_map(r, {"Where", 3, ALL("({a} ? {b} : {c})"), {}, nullptr, 1u, 1, true, false});

  // ---- variadic
  add_fold(r, {"Sum", FI("({a} + {b})", kWrapAdd, kWrapAdd)});
  add_fold(r, {"Mean", F("({a} + {b})"), true});
  add_fold(r, {"Max", FI("(({a} > {b} || {a} != {a}) ? {a} : {b})", "({a} > {b} ? {a} : {b})", "({a} > {b} ? {a} : {b})")});
  add_fold(r, {"Min", FI("(({a} < {b} || {a} != {a}) ? {a} : {b})", "({a} < {b} ? {a} : {b})", "({a} < {b} ? {a} : {b})")});

  r.add({"Clip", check_clip, emit_clip, nullptr});
  r.add({"Cast", check_cast, emit_cast, nullptr});
  r.add({"CastLike", check_cast, emit_cast, nullptr});
  r.add({"Identity", nullptr, [](KernelContext &k) {
           if (k.vout(0).nbytes() > 0) k.line("memcpy(y0, x0, {});", k.vout(0).nbytes());
         }, nullptr});

}

} // namespace tmc::codegen
