#include "codegen/c_emitter.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "codegen/helpers.h"
#include "codegen/kernel.h"

namespace tmc::codegen {

using ir::DType;
using ir::Value;

std::string make_c_identifier(const std::string &stem) {
  std::string r;
  for (char c : stem) r += (std::isalnum((unsigned char)c) ? c : '_');
  if (r.empty() || std::isdigit((unsigned char)r[0])) r = "m_" + r;
  return r;
}

static std::string upper(std::string s) {
  for (char &c : s) c = (char)std::toupper((unsigned char)c);
  return s;
}

static std::string escape_c_string(const std::string &s) {
  std::string r;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { r += '\\'; r += (char)c; }
    else if (c < 32 || c > 126) { char b[8]; snprintf(b, sizeof b, "\\%03o", c); r += b; }
    else r += (char)c;
  }
  return r;
}

/// Comment-safe text (no "*/", printable ASCII only).
static std::string comment_text(const std::string &s) {
  std::string r;
  for (unsigned char c : s) r += (c >= 32 && c < 127) ? (char)c : '?';
  size_t p;
  while ((p = r.find("*/")) != std::string::npos) r.replace(p, 2, "* /");
  return r;
}

static std::string element_literal(const Value &v, int64_t i) {
  switch (v.dtype) {
  case DType::F32: return c_float_literal(v.as<float>()[i]);
  case DType::F64: return c_double_literal(v.as<double>()[i]);
  case DType::F16: case DType::BF16: case DType::U16: {
    char b[16];
    snprintf(b, sizeof b, "0x%04x", v.as<uint16_t>()[i]);
    return b;
  }
  default: return c_int_literal(v.dtype, v.int_at(i));
  }
}

/// A fusion pass may attach an activation to a node (attribute
/// "tmc_activation" = ONNX op name, with "tmc_activation_alpha"/"_beta").
/// Kernels that apply it themselves register with handles_activation; for
/// the others it runs here as an epilogue over output 0, inside the same
/// node function (no extra buffer or node).
static void emit_fused_activation(KernelContext &k) {
  const ir::Node &n = k.node;
  std::string act = n.attr_string("tmc_activation", "");
  if (act.empty()) return;
  const KernelDef *kd = KernelRegistry::instance().find(n);
  if (kd && kd->handles_activation) return;
  const ir::Value &y = k.vout(0);
  if (y.dtype != DType::F32) throw ir::CompileError(n, "fused activation on a non-float32 output");
  k.open("for (size_t i = 0; i < {}; ++i) {{", y.numel());
  k.line("float v = y0[i];");
  k.line("y0[i] = {};", fused_activation_expr(n, "v"));
  k.close();
}

namespace {

struct Emitter {
  const ir::Graph &g;
  const CodegenOptions &opts;
  std::string p;  // prefix
  std::string P;  // PREFIX
  std::map<const Value *, std::string> const_names;
  std::map<const Value *, size_t> input_index, output_index;

  std::string value_ptr(const Value *v, bool as_const) {
    std::string ct = ir::dtype_ctype(v->dtype);
    if (v->is_constant()) {
      auto it = const_names.find(v);
      if (it->second.empty()) return fmt::format("(const {} *)0", ct);
      return it->second;
    }
    if (v->arena_offset >= 0)
      return fmt::format("({}{} *)(a + {})", as_const ? "const " : "", ct, v->arena_offset);
    auto ii = input_index.find(v);
    if (ii != input_index.end())
      return fmt::format("(const {} *)inputs[{}]", ct, ii->second);
    auto oi = output_index.find(v);
    if (oi != output_index.end())
      return fmt::format("({}{} *)outputs[{}]", as_const ? "const " : "", ct, oi->second);
    throw ir::CompileError("internal: value '" + v->name + "' has no storage");
  }

  /// NAME_TRACE_TENSOR calls for the outputs of `n`, right after it ran (a
  /// later in-place node may reuse the storage). Elided views trace where
  /// they would have run: their storage is the source's, already written.
  std::string trace_calls(const ir::Node &n) {
    std::string r;
    for (const Value *o : n.outputs) {
      if (!o || o->nbytes() == 0 || o->is_constant()) continue;
      std::string name;  // '?' escaped too: "??x" would be a trigraph under -std=c99
      for (char ch : escape_c_string(o->name)) name += ch == '?' ? std::string("\\?") : std::string(1, ch);
      r += fmt::format("  {}_TRACE_TENSOR(\"{}\", {}_DTYPE_{}, {}, {}u);\n", P, name, P,
                       ir::dtype_enum_name(o->dtype), value_ptr(o, true), o->nbytes());
    }
    return r;
  }

  std::vector<GeneratedFile> run();
};

std::vector<GeneratedFile> Emitter::run() {
  // 1. Every node must have a kernel: report all problems at once.
  std::string errors;
  int nerr = 0;
  for (auto &n : g.nodes()) {
    std::string why = check_supported(*n);
    if (!why.empty()) {
      errors += fmt::format("\n  {} (domain '{}', opset {}) node '{}': {}", n->op,
                            n->domain.empty() ? "ai.onnx" : n->domain, n->opset, n->name, why);
      ++nerr;
    }
  }
  if (nerr) throw ir::CompileError(fmt::format("{} unsupported node{}:{}", nerr, nerr > 1 ? "s" : "", errors));

  for (size_t i = 0; i < g.inputs.size(); ++i) input_index.emplace(g.inputs[i], i);
  for (size_t i = 0; i < g.outputs.size(); ++i) output_index.emplace(g.outputs[i], i);

  // 2. Constants referenced by nodes or outputs, in first-use order.
  std::vector<const Value *> consts;
  auto note_const = [&](const Value *v) {
    if (!v || !v->is_constant() || const_names.count(v)) return;
    const_names[v] = v->numel() == 0 ? "" : fmt::format("{}_c{}", p, consts.size());
    consts.push_back(v);
  };
  auto is_skipped_view = [](const ir::Node &n) { return node_is_elided(n); };
  for (auto &n : g.nodes())
    if (!is_skipped_view(*n))
      for (const Value *v : n->inputs) note_const(v);
  for (const Value *v : g.outputs) note_const(v);

  std::string c;
  c += fmt::format("/* Generated by tmc from {}. Do not edit. */\n", comment_text(opts.source_model));
  c += fmt::format("#include \"{}.h\"\n#include \"{}\"\n\n", p, target_header_filename(p));
  c += "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n";
  if (opts.trace)
    c += fmt::format("/* Tensor trace (compiled with --trace): after each node, {0}_TRACE_TENSOR(name, dtype,\n"
                     "   data, bytes) sees every tensor it wrote: the ONNX tensor name, a {0}_DTYPE_* code,\n"
                     "   a pointer valid only during the call, and the byte count. A no-op unless defined\n"
                     "   (e.g. in {0}_CONFIG_HEADER). */\n"
                     "#ifndef {0}_TRACE_TENSOR\n#define {0}_TRACE_TENSOR(name, dtype, data, bytes) ((void)0)\n"
                     "#endif\n\n",
                     P);

  // 3. Node functions (emitted first into a buffer so helpers are known).
  std::string funcs;
  std::set<std::string> helpers;
  std::vector<std::string> calls;
  size_t idx = 0;
  for (auto &nptr : g.nodes()) {
    const ir::Node &n = *nptr;
    const KernelDef *kd = KernelRegistry::instance().find(n);
    if (is_skipped_view(n)) {
      calls.push_back(fmt::format("  /* {} '{}': elided: the planned storage already holds the result */\n", comment_text(n.op), comment_text(n.name)));
      if (opts.trace) calls.back() += trace_calls(n);
      continue;
    }
    KernelContext kc(g, n, p);
    kd->emit(kc);
    emit_fused_activation(kc);
    helpers.insert(kc.helpers_used().begin(), kc.helpers_used().end());
    std::string fname = fmt::format("{}_n{}", p, idx++);
    std::vector<std::string> params, args;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!n.inputs[i]) continue;
      params.push_back(fmt::format("const {} *x{}", ir::dtype_ctype(n.inputs[i]->dtype), i));
      args.push_back(value_ptr(n.inputs[i], true));
    }
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      if (!n.outputs[i]) continue;
      params.push_back(fmt::format("{} *y{}", ir::dtype_ctype(n.outputs[i]->dtype), i));
      args.push_back(value_ptr(n.outputs[i], false));
    }
    if (n.scratch_bytes > 0) {
      params.push_back("unsigned char *scratch");
      args.push_back(fmt::format("a + {}", n.scratch_offset));
    }
    // Silence unused parameters the kernel did not touch.
    std::string unused;
    for (auto &prm : params) {
      std::string id = prm.substr(prm.find_last_of(" *") + 1);
      std::regex word("\\b" + id + "\\b");
      if (!std::regex_search(kc.body(), word)) unused += fmt::format("  (void){};\n", id);
    }
    std::string outs;
    for (auto *o : n.outputs)
      if (o) outs += fmt::format(" {}:{}[{}]", o->name, ir::dtype_name(o->dtype), ir::shape_str(o->shape));
    funcs += fmt::format("/* {} '{}' ->{} */\n", comment_text(n.op), comment_text(n.name), comment_text(outs));
    std::string plist;
    for (size_t i = 0; i < params.size(); ++i) plist += (i ? ", " : "") + params[i];
    if (plist.empty()) plist = "void";
    funcs += fmt::format("static void {}({}) {{\n{}{}}}\n\n", fname, plist, unused, kc.body());
    std::string alist;
    for (size_t i = 0; i < args.size(); ++i) alist += (i ? ", " : "") + args[i];
    calls.push_back(fmt::format("  {0}_PROFILE_BEGIN({1});\n  {2}({3});\n  {0}_PROFILE_END({1});\n", P, idx - 1,
                                fname, alist));
    if (opts.trace) calls.back() += trace_calls(n);
  }

  // 4. Weights.
  for (const Value *v : consts) {
    if (v->numel() == 0) continue;
    c += fmt::format("/* {} {}[{}] */\n", comment_text(v->name), ir::dtype_name(v->dtype), ir::shape_str(v->shape));
    c += fmt::format("static const {} {}[{}] {}_WEIGHTS_ATTR = {{", ir::dtype_ctype(v->dtype), const_names[v],
                     v->numel(), P);
    for (int64_t i = 0; i < v->numel(); ++i) {
      if (i % 8 == 0) c += "\n ";
      c += " " + element_literal(*v, i) + ",";
    }
    c += "\n};\n\n";
  }

  c += emit_helpers(std::vector<std::string>(helpers.begin(), helpers.end()), p);
  c += funcs;

  // 5. Entry point.
  c += fmt::format("int {}_run(const void *const inputs[], void *const outputs[], void *arena) {{\n", p);
  c += "  unsigned char *a = (unsigned char *)arena;\n";
  c += "  (void)a;\n";
  c += fmt::format("  if ({}(!inputs && {}_NUM_INPUTS > 0) || !outputs) return -1;\n",
                   g.arena_bytes > 0 ? "!arena || " : "", P);
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Value *v = g.inputs[i];
    if (v->arena_offset >= 0 && v->nbytes() > 0)
      c += fmt::format("  if (inputs[{0}] != (const void *)(a + {1})) memcpy(a + {1}, inputs[{0}], {2});\n", i,
                       v->arena_offset, v->nbytes());
  }
  for (auto &cl : calls) c += cl;
  // Outputs not written by a node: graph inputs, constants, repeated outputs.
  std::set<const Value *> written;
  for (size_t j = 0; j < g.outputs.size(); ++j) {
    const Value *v = g.outputs[j];
    bool by_node = v->producer != nullptr && !v->is_constant();
    if (by_node && output_index[v] == j && v->arena_offset < 0) continue;
    if (v->nbytes() == 0) continue;
    if (v->arena_offset >= 0)
      c += fmt::format("  if (outputs[{0}] != (void *)(a + {1})) memcpy(outputs[{0}], a + {1}, {2});\n", j,
                       v->arena_offset, v->nbytes());
    else
      c += fmt::format("  memcpy(outputs[{}], {}, {});\n", j, value_ptr(v, true), v->nbytes());
  }
  c += "  return 0;\n}\n";

  // Tensor metadata.
  auto meta = [&](const char *kind, const std::vector<Value *> &vals) {
    std::string m;
    for (size_t i = 0; i < vals.size(); ++i) {
      std::string dims;
      for (size_t d = 0; d < vals[i]->shape.size(); ++d) dims += (d ? ", " : "") + std::to_string(vals[i]->shape[d]);
      if (dims.empty()) dims = "1";
      m += fmt::format("static const int32_t {}_{}{}_shape[] = {{{}}};\n", p, kind, i, dims);
    }
    m += fmt::format("const {}_tensor_info {}_{}s[{}] = {{\n", p, p, kind, std::max<size_t>(vals.size(), 1));
    for (size_t i = 0; i < vals.size(); ++i)
      m += fmt::format("  {{\"{}\", {}, {}, {}_{}{}_shape, {}u, {}u}},\n", escape_c_string(vals[i]->name),
                       ir::dtype_to_onnx(vals[i]->dtype), vals[i]->rank(), p, kind, i, vals[i]->numel(),
                       vals[i]->nbytes());
    if (vals.empty()) m += "  {\"\", 0, 0, 0, 0u, 0u},\n";
    m += "};\n\n";
    return m;
  };
  c += "\n" + meta("input", g.inputs) + meta("output", g.outputs);

  // Header.
  std::string h;
  std::string guard = P + "_H_";
  h += fmt::format("/* Generated by tmc from {}. Do not edit.\n", comment_text(opts.source_model));
  h += " * Contract: docs/generated-code.md */\n";
  h += fmt::format("#ifndef {0}\n#define {0}\n\n#include <stddef.h>\n#include <stdint.h>\n\n", guard);
  h += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  h += "/* Element type codes (ONNX TensorProto.DataType numbers). */\n";
  for (DType dt : {DType::F32, DType::U8, DType::I8, DType::U16, DType::I16, DType::I32, DType::I64,
                   DType::Bool, DType::F16, DType::F64, DType::U32, DType::U64, DType::BF16})
    h += fmt::format("#define {}_DTYPE_{} {}\n", P, ir::dtype_enum_name(dt), ir::dtype_to_onnx(dt));
  h += "\n/* Activation arena: bytes and required alignment of the caller's buffer. */\n";
  h += fmt::format("#define {}_ARENA_BYTES {}\n", P, g.arena_bytes);
  h += fmt::format("#define {}_ARENA_ALIGN {}\n\n", P, g.arena_alignment);
  h += fmt::format("#define {}_NUM_INPUTS {}\n#define {}_NUM_OUTPUTS {}\n\n", P, g.inputs.size(), P, g.outputs.size());
  auto io_macros = [&](const char *kind, const std::vector<Value *> &vals) {
    for (size_t i = 0; i < vals.size(); ++i) {
      const Value *v = vals[i];
      std::string K = fmt::format("{}_{}_{}", P, upper(kind), i);
      std::string dims;
      for (size_t d = 0; d < v->shape.size(); ++d) dims += (d ? ", " : "") + std::to_string(v->shape[d]);
      h += fmt::format("/* {} {}: '{}' */\n", kind, i, comment_text(v->name));
      h += fmt::format("#define {}_NAME \"{}\"\n", K, escape_c_string(v->name));
      h += fmt::format("#define {}_DTYPE {}_DTYPE_{}\n", K, P, ir::dtype_enum_name(v->dtype));
      h += fmt::format("#define {}_CTYPE {}\n", K, ir::dtype_ctype(v->dtype));
      h += fmt::format("#define {}_RANK {}\n", K, v->rank());
      h += fmt::format("#define {}_SHAPE {{{}}}\n", K, dims.empty() ? "1" : dims);
      h += fmt::format("#define {}_SIZE {}\n", K, v->numel());
      h += fmt::format("#define {}_BYTES {}\n", K, v->nbytes());
      if (v->arena_offset >= 0)
        h += fmt::format("/* With --io-in-arena: the tensor's slot in the arena. Passing\n"
                         "   (char *)arena + {}_ARENA_OFFSET avoids a copy. */\n#define {}_ARENA_OFFSET {}\n", K, K,
                         v->arena_offset);
      h += "\n";
    }
  };
  io_macros("input", g.inputs);
  io_macros("output", g.outputs);
  h += fmt::format(R"(typedef struct {{
  const char *name;     /* tensor name in the ONNX graph */
  int32_t dtype;        /* {0}_DTYPE_* */
  int32_t rank;         /* number of dimensions (0 for a scalar) */
  const int32_t *shape; /* rank dimensions, row-major */
  size_t size;          /* elements */
  size_t bytes;         /* size * element bytes */
}} {1}_tensor_info;

extern const {1}_tensor_info {1}_inputs[];
extern const {1}_tensor_info {1}_outputs[];

/* Runs one inference.
 *   inputs:  {0}_NUM_INPUTS pointers, in ONNX graph order, row-major data.
 *   outputs: {0}_NUM_OUTPUTS pointers to caller buffers of {0}_OUTPUT_<i>_BYTES.
 *   arena:   {0}_ARENA_BYTES of scratch, aligned to {0}_ARENA_ALIGN bytes.
 * Returns 0 on success, -1 on a NULL argument. Reentrant for distinct arenas. */
int {1}_run(const void *const inputs[], void *const outputs[], void *arena);

)", P, p);
  h += "#ifdef __cplusplus\n}\n#endif\n\n";
  h += fmt::format("#endif /* {} */\n", guard);

  const targets::TargetInfo &ti = opts.target_info ? *opts.target_info : targets::get_target("host");
  std::string th = generate_target_header(p, ti, opts.header);
  return {{p + ".h", h}, {target_header_filename(p), th}, {p + ".c", c}};
}

} // namespace

std::vector<GeneratedFile> generate_c(const ir::Graph &g, const CodegenOptions &opts) {
  Emitter e{g, opts, opts.name, upper(opts.name), {}, {}, {}};
  return e.run();
}

} // namespace tmc::codegen
