#include "frontend/onnx_importer.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <onnx/checker.h>
#include <onnx/version_converter/convert.h>
#include <onnx/defs/function.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <set>
#include <sstream>
#include <unordered_map>

#include "frontend/contrib_schemas.h"
#include "frontend/onnx_model.h"
#include "frontend/tensor_proto_impl.h"

namespace fs = std::filesystem;

namespace tmc::frontend {

using ir::CompileError;
using ir::DType;

ir::Shape parse_shape(const std::string &text) {
  ir::Shape s;
  std::string cur;
  auto flush = [&]() {
    if (cur.empty()) throw CompileError("bad shape '" + text + "': empty dimension");
    for (char c : cur)
      if (c < '0' || c > '9')
        throw CompileError("bad shape '" + text + "': '" + cur + "' is not a non-negative integer");
    if (cur.size() > 12) throw CompileError("bad shape '" + text + "': dimension too large");
    s.push_back(std::stoll(cur));
    cur.clear();
  };
  if (text == "scalar" || text.empty()) return s;
  for (char c : text) {
    if (c == 'x' || c == 'X' || c == ',') flush();
    else cur += c;
  }
  flush();
  return s;
}

namespace {

struct Importer {
  std::string what;      // file name for messages
  std::string model_dir; // external data anchor ("" = not allowed)
  const ImportOptions &opts;

  [[noreturn]] void fail(const std::string &msg) const {
    throw CompileError(fmt::format("{}: {}", what, msg));
  }

  /// Every name a node reads or the graph outputs must be defined earlier
  /// (graph input, initializer or node output). libonnx's converter and
  /// importer assume this, so check it before handing the model to them.
  void check_names(const onnx::GraphProto &gp) {
    std::set<std::string> defined;
    for (auto &in : gp.input()) defined.insert(in.name());
    for (auto &t : gp.initializer()) defined.insert(t.name());
    int idx = 0;
    for (auto &n : gp.node()) {
      ++idx;
      std::string label = fmt::format("{} node '{}'", n.op_type(), n.name().empty() ? fmt::format("#{}", idx) : n.name());
      for (auto &in : n.input())
        if (!in.empty() && !defined.count(in))
          fail(fmt::format("{}: input '{}' is not defined by any initializer, graph input or earlier node", label, in));
      for (auto &o : n.output())
        if (!o.empty()) defined.insert(o);
    }
    for (auto &o : gp.output())
      if (!defined.count(o.name())) fail(fmt::format("graph output '{}' is never computed", o.name()));
  }

  void resolve_external(onnx::TensorProto &t) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
    if (model_dir.empty())
      fail(fmt::format("tensor '{}' uses external data, which needs the model to be loaded from a file", t.name()));
    try {
      inline_external_tensor(t, model_dir);
    } catch (const CompileError &e) {
      fail(e.what());
    }
  }

  void resolve_external_in_graph(onnx::GraphProto &g) {
    for (auto &t : *g.mutable_initializer()) resolve_external(t);
    for (auto &n : *g.mutable_node())
      for (auto &a : *n.mutable_attribute()) {
        if (a.has_t()) resolve_external(*a.mutable_t());
        if (a.has_g()) resolve_external_in_graph(*a.mutable_g());
      }
  }

  static void read_type(const onnx::TypeProto &tp, DType &dt, ir::Shape &shape, bool &known,
                        bool &is_tensor) {
    is_tensor = tp.has_tensor_type();
    if (!is_tensor) return;
    dt = ir::dtype_from_onnx(tp.tensor_type().elem_type());
    shape.clear();
    known = tp.tensor_type().has_shape();
    if (!known) return;
    for (auto &d : tp.tensor_type().shape().dim()) {
      if (d.has_dim_value() && d.dim_value() >= 0) {
        shape.push_back(d.dim_value());
      } else {
        shape.push_back(-1);
        known = false;
      }
    }
  }

  ir::AttrValue convert_attr(const onnx::AttributeProto &a, const std::string &node_label) {
    using AP = onnx::AttributeProto;
    switch (a.type()) {
    case AP::INT: return (int64_t)a.i();
    case AP::FLOAT: return a.f();
    case AP::STRING: return a.s();
    case AP::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case AP::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case AP::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case AP::TENSOR: {
      ir::TensorAttr t;
      t.dtype = ir::dtype_from_onnx(a.t().data_type());
      t.shape.assign(a.t().dims().begin(), a.t().dims().end());
      t.data = tensor_proto_data(a.t(), what + ": " + node_label + " attribute '" + a.name() + "'");
      return t;
    }
    case AP::GRAPH: return std::shared_ptr<ir::Graph>(); // subgraphs are not lowered
    default:
      fail(fmt::format("{}: attribute '{}' has unsupported type {}", node_label, a.name(), (int)a.type()));
    }
  }

  /// Replaces nodes without a kernel by their ONNX function body, repeatedly
  /// (bodies may use function ops too), re-running shape inference after.
  void expand_functions(onnx::ModelProto &model) {
    auto *gp = model.mutable_graph();
    std::map<std::string, int> opset;
    for (auto &op : model.opset_import()) opset[op.domain() == "ai.onnx" ? "" : op.domain()] = (int)op.version();
    for (int round = 0; round < 8; ++round) {
      std::unordered_map<std::string, onnx::TypeProto> types;
      for (auto &vi : gp->value_info()) types[vi.name()] = vi.type();
      for (auto &vi : gp->input()) types[vi.name()] = vi.type();
      for (auto &t : gp->initializer()) {
        onnx::TypeProto tp;
        tp.mutable_tensor_type()->set_elem_type(t.data_type());
        auto *sh = tp.mutable_tensor_type()->mutable_shape();
        for (auto d : t.dims()) sh->add_dim()->set_dim_value(d);
        types[t.name()] = tp;
      }
      onnx::GraphProto expanded;
      bool changed = false;
      int idx = 0;
      for (auto &np : gp->node()) {
        ++idx;
        std::string domain = np.domain() == "ai.onnx" ? "" : np.domain();
        const onnx::OpSchema *schema = nullptr;
        if (!opts.has_kernel(domain, np.op_type()) && opset.count(domain))
          schema = onnx::OpSchemaRegistry::Schema(np.op_type(), opset[domain], domain);
        onnx::FunctionProto fn;
        bool have = false;
        if (schema && schema->HasFunction() && schema->GetFunction()) {
          fn = *schema->GetFunction();
          have = true;
        } else if (schema && schema->HasContextDependentFunction()) {
          std::vector<onnx::TypeProto> in_types;
          for (auto &in : np.input()) in_types.push_back(types.count(in) ? types[in] : onnx::TypeProto());
          onnx::FunctionBodyBuildContextImpl ctx(np, in_types);
          try {
            have = schema->BuildContextDependentFunction(ctx, fn);
          } catch (const std::exception &) {
            have = false;
          }
        }
        if (!have) {
          *expanded.add_node() = np;
          continue;
        }
        std::string prefix = fmt::format("{}__{}_{}", np.name().empty() ? np.op_type() : np.name(), round, idx);
        try {
          onnx::FunctionExpandHelper(np, fn, expanded, prefix);
        } catch (const std::exception &e) {
          fail(fmt::format("{} node '{}': cannot expand its ONNX function body: {}", np.op_type(), np.name(), e.what()));
        }
        changed = true;
      }
      if (!changed) return;
      gp->mutable_node()->Swap(expanded.mutable_node());
      try {
        onnx::ShapeInferenceOptions so(false, 0, true);
        onnx::shape_inference::InferShapes(model, schema_registry(), so);
      } catch (const std::exception &e) {
        fail(fmt::format("ONNX shape inference failed after expanding functions: {}", e.what()));
      }
    }
  }

  std::unique_ptr<ir::Graph> run(onnx::ModelProto &model) {
    auto g = std::make_unique<ir::Graph>();
    auto *gp = model.mutable_graph();
    g->name = gp->name();

    // Opsets.
    for (auto &op : model.opset_import()) {
      std::string d = op.domain() == "ai.onnx" ? "" : op.domain();
      g->opsets[d] = (int)op.version();
    }
    if (!g->opsets.count("")) {
      if (model.opset_import_size() == 0) g->opsets[""] = 1;
    }
    check_names(*gp);
    if (g->opsets.count("")) {
      int v = g->opsets[""];
      if (v < 1 || v > kMaxOnnxOpset)
        fail(fmt::format("ai.onnx opset {} is not supported (supported: 1 to {})", v, kMaxOnnxOpset));
      if (v < kMinOnnxOpset) {
        // Legacy opsets (broadcast attributes, is_test, consumed_inputs...):
        // let ONNX's version converter bring the model to the oldest opset
        // the kernels implement.
        // The converter assumes a well-formed graph (it crashes on dangling
        // names): check the model first.
        try {
          onnx::checker::check_model(model);
        } catch (const std::exception &e) {
          fail(fmt::format("the ONNX checker rejects the model: {}", e.what()));
        }
        try {
          onnx::shape_inference::InferShapes(model);
          onnx::ModelProto converted = onnx::version_conversion::ConvertVersion(model, kMinOnnxOpset);
          model = std::move(converted);
        } catch (const std::exception &e) {
          fail(fmt::format("ai.onnx opset {} is older than {} and ONNX's version converter failed: {}", v,
                           kMinOnnxOpset, e.what()));
        }
        gp = model.mutable_graph();
        g->opsets.clear();
        for (auto &op : model.opset_import()) g->opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = (int)op.version();
      }
    }

    resolve_external_in_graph(*gp);

    // Apply --input-shape overrides.
    std::set<std::string> init_names;
    for (auto &t : gp->initializer()) init_names.insert(t.name());
    for (auto &[name, shape] : opts.input_shapes) {
      onnx::ValueInfoProto *vi = nullptr;
      for (auto &in : *gp->mutable_input())
        if (in.name() == name && !init_names.count(name)) vi = &in;
      if (!vi) {
        std::string names;
        for (auto &in : gp->input())
          if (!init_names.count(in.name())) names += (names.empty() ? "" : ", ") + in.name();
        fail(fmt::format("--input-shape: the model has no input '{}' (inputs: {})", name, names));
      }
      auto *tt = vi->mutable_type()->mutable_tensor_type();
      if (tt->has_shape() && tt->shape().dim_size() != (int)shape.size())
        fail(fmt::format("--input-shape: input '{}' has rank {}, but the given shape {} has rank {}", name,
                         tt->shape().dim_size(), ir::shape_str(shape), shape.size()));
      if (tt->has_shape())
        for (int i = 0; i < (int)shape.size(); ++i) {
          auto &d = tt->shape().dim(i);
          if (d.has_dim_value() && d.dim_value() != shape[(size_t)i])
            fail(fmt::format("--input-shape: input '{}' dimension {} is fixed to {} in the model, not {}",
                             name, i, d.dim_value(), shape[(size_t)i]));
        }
      tt->clear_shape();
      auto *sp = tt->mutable_shape();
      for (int64_t d : shape) sp->add_dim()->set_dim_value(d);
    }

    if (opts.run_checker) {
      try {
        onnx::checker::check_model(model);
      } catch (const std::exception &e) {
        fail(fmt::format("the ONNX checker rejects the model: {}", e.what()));
      }
    }
    try {
      onnx::ShapeInferenceOptions so(false, 0, true);
      onnx::shape_inference::InferShapes(model, schema_registry(), so);
    } catch (const std::exception &e) {
      fail(fmt::format("ONNX shape inference failed: {}", e.what()));
    }

    if (opts.has_kernel) expand_functions(model);

    // Types of every named value.
    struct TypeInfo {
      DType dt = DType::Undefined;
      ir::Shape shape;
      bool known = false;
      bool tensor = true;
    };
    std::unordered_map<std::string, TypeInfo> types;
    auto note = [&](const onnx::ValueInfoProto &vi) {
      TypeInfo ti;
      read_type(vi.type(), ti.dt, ti.shape, ti.known, ti.tensor);
      types[vi.name()] = ti;
    };
    for (auto &vi : gp->value_info()) note(vi);
    for (auto &vi : gp->input()) note(vi);
    for (auto &vi : gp->output()) note(vi);

    std::unordered_map<std::string, ir::Value *> env;
    // Initializers become constants (they also shadow same-named graph inputs).
    for (auto &t : gp->initializer()) {
      ir::Shape shape(t.dims().begin(), t.dims().end());
      DType dt = ir::dtype_from_onnx(t.data_type());
      auto data = tensor_proto_data(t, what);
      env[t.name()] = g->add_constant(t.name(), dt, shape, data);
    }
    if (gp->sparse_initializer_size() > 0) fail("sparse initializers are not supported");
    for (auto &in : gp->input()) {
      if (env.count(in.name())) continue;
      auto &ti = types[in.name()];
      if (!ti.tensor)
        fail(fmt::format("graph input '{}' is not a tensor (sequence, map and optional types are not supported)",
                         in.name()));
      if (ti.dt == DType::Undefined || ti.dt == DType::String)
        fail(fmt::format("graph input '{}' has an unsupported element type", in.name()));
      if (!ti.known)
        fail(fmt::format("graph input '{}' has a symbolic or unknown shape {}; fix it with --input-shape {}=...",
                         in.name(), ir::shape_str(ti.shape), in.name()));
      ir::Value *v = g->add_value(in.name(), ti.dt, ti.shape);
      g->inputs.push_back(v);
      env[in.name()] = v;
    }

    int idx = 0;
    std::set<std::string> used_names;
    for (auto &np : gp->node()) {
      ++idx;
      std::string domain = np.domain() == "ai.onnx" ? "" : np.domain();
      std::string nname = np.name();
      if (nname.empty() || used_names.count(nname)) nname = fmt::format("{}_{}", np.op_type(), idx);
      used_names.insert(nname);
      std::string label = fmt::format("{} node '{}'", np.op_type(), nname);
      int opset = g->opsets.count(domain) ? g->opsets[domain] : 0;

      // Constant nodes become constant values right away.
      if (domain.empty() && np.op_type() == "Constant" && np.output_size() == 1) {
        const std::string &out = np.output(0);
        for (auto &a : np.attribute()) {
          ir::Value *v = nullptr;
          if (a.name() == "value") {
            ir::Shape shape(a.t().dims().begin(), a.t().dims().end());
            v = g->add_constant(out, ir::dtype_from_onnx(a.t().data_type()), shape,
                                tensor_proto_data(a.t(), what + ": " + label));
          } else if (a.name() == "value_float") {
            v = g->add_constant_of<float>(out, DType::F32, {}, {a.f()});
          } else if (a.name() == "value_floats") {
            std::vector<float> vals(a.floats().begin(), a.floats().end());
            v = g->add_constant_of<float>(out, DType::F32, {(int64_t)vals.size()}, vals);
          } else if (a.name() == "value_int") {
            v = g->add_constant_of<int64_t>(out, DType::I64, {}, {(int64_t)a.i()});
          } else if (a.name() == "value_ints") {
            std::vector<int64_t> vals(a.ints().begin(), a.ints().end());
            v = g->add_constant_of<int64_t>(out, DType::I64, {(int64_t)vals.size()}, vals);
          } else {
            fail(fmt::format("{} (opset {}): Constant attribute '{}' is not supported", label, opset, a.name()));
          }
          env[out] = v;
        }
        if (!env.count(out)) fail(fmt::format("{}: Constant node has no value", label));
        continue;
      }

      std::vector<ir::Value *> ins;
      for (auto &iname : np.input()) {
        if (iname.empty()) {
          ins.push_back(nullptr);
          continue;
        }
        auto it = env.find(iname);
        if (it == env.end())
          fail(fmt::format("{}: input '{}' is not defined by any initializer, graph input or earlier node",
                           label, iname));
        ins.push_back(it->second);
      }
      std::vector<ir::Value *> outs;
      for (auto &oname : np.output()) {
        if (oname.empty()) {
          outs.push_back(nullptr);
          continue;
        }
        if (env.count(oname)) fail(fmt::format("{}: output '{}' is defined twice", label, oname));
        TypeInfo ti;
        auto it = types.find(oname);
        if (it != types.end()) ti = it->second;
        ir::Value *v = g->add_value(oname, ti.dt, ti.shape);
        v->shape_known = ti.known && ti.dt != DType::Undefined;
        if (!ti.known) v->shape.clear();
        outs.push_back(v);
        env[oname] = v;
      }
      ir::Node *n = g->add_node(np.op_type(), ins, outs, nname);
      n->domain = domain;
      n->opset = opset;
      for (auto &a : np.attribute()) n->attrs[a.name()] = convert_attr(a, label);
    }

    for (auto &out : gp->output()) {
      auto it = env.find(out.name());
      if (it == env.end()) fail(fmt::format("graph output '{}' is never computed", out.name()));
      g->outputs.push_back(it->second);
    }
    return g;
  }
};

} // namespace

std::unique_ptr<ir::Graph> import_onnx_bytes(const std::string &bytes, const std::string &model_dir,
                                             const ImportOptions &opts, const std::string &what) {
  onnx::ModelProto model;
  if (bytes.empty()) throw CompileError(what + ": the file is empty");
  if (!model.ParseFromString(bytes))
    throw CompileError(what + ": not a valid ONNX model (protobuf parsing failed; the file may be corrupt or truncated)");
  if (!model.has_graph()) throw CompileError(what + ": the model has no graph");
  Importer imp{what, model_dir, opts};
  return imp.run(model);
}

std::unique_ptr<ir::Graph> import_onnx_bytes(const std::string &bytes, const std::string &model_dir,
                                             const ImportOptions &opts) {
  return import_onnx_bytes(bytes, model_dir, opts, "<memory>");
}

std::string read_model_file(const std::string &path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw CompileError(path + ": no such file");
  if (fs::is_directory(path, ec)) throw CompileError(path + ": is a directory, not an ONNX model");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CompileError(path + ": cannot open the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

onnx::ModelProto load_model_proto(const std::string &path) {
  std::string bytes = read_model_file(path);
  onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromString(bytes) || !m.has_graph())
    throw CompileError(path + ": not a valid ONNX model");
  return m;
}

void inline_external_tensor(onnx::TensorProto &t, const std::string &model_dir) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
  auto fail = [&](const std::string &msg) { throw CompileError(msg); };
  std::string location;
  int64_t offset = 0, length = -1;
  for (auto &kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = std::stoll(kv.value());
    else if (kv.key() == "length") length = std::stoll(kv.value());
  }
  if (location.empty()) fail(fmt::format("tensor '{}' has external data without a location", t.name()));
  fs::path rel(location);
  if (rel.is_absolute())
    fail(fmt::format("tensor '{}': external data path '{}' is absolute; it must be relative to the model's folder",
                     t.name(), location));
  for (auto &part : rel)
    if (part == "..")
      fail(fmt::format("tensor '{}': external data path '{}' leaves the model's folder", t.name(), location));
  fs::path dir = fs::weakly_canonical(fs::path(model_dir));
  fs::path full = fs::weakly_canonical(dir / rel);
  auto [a, b] = std::mismatch(dir.begin(), dir.end(), full.begin(), full.end());
  if (a != dir.end())
    fail(fmt::format("tensor '{}': external data path '{}' leaves the model's folder", t.name(), location));
  std::ifstream f(full, std::ios::binary);
  if (!f) fail(fmt::format("tensor '{}': cannot open external data file '{}'", t.name(), location));
  f.seekg(0, std::ios::end);
  int64_t fsize = (int64_t)f.tellg();
  if (offset < 0 || offset > fsize) fail(fmt::format("tensor '{}': external data offset {} is outside '{}'", t.name(), offset, location));
  if (length < 0) length = fsize - offset;
  if (offset + length > fsize)
    fail(fmt::format("tensor '{}': external data '{}' is truncated ({} bytes at offset {}, file has {})",
                     t.name(), location, length, offset, fsize));
  std::string buf((size_t)length, '\0');
  f.seekg(offset);
  f.read(buf.data(), length);
  t.set_raw_data(buf);
  t.clear_external_data();
  t.set_data_location(onnx::TensorProto::DEFAULT);
}

void inline_external_data(onnx::GraphProto &g, const std::string &model_dir) {
  for (auto &t : *g.mutable_initializer()) inline_external_tensor(t, model_dir);
  for (auto &n : *g.mutable_node())
    for (auto &a : *n.mutable_attribute()) {
      if (a.has_t()) inline_external_tensor(*a.mutable_t(), model_dir);
      if (a.has_g()) inline_external_data(*a.mutable_g(), model_dir);
      for (auto &sg : *a.mutable_graphs()) inline_external_data(sg, model_dir);
    }
}

std::unique_ptr<ir::Graph> import_onnx_file(const std::string &path, const ImportOptions &opts) {
  const std::string bytes = read_model_file(path);
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  return import_onnx_bytes(bytes, dir, opts, path);
}

} // namespace tmc::frontend
