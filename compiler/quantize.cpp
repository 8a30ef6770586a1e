#include "compiler/quantize.h"

#include "frontend/onnx_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <llvm/Support/JSON.h>
#include <llvm/Support/raw_ostream.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>
#include <set>
#include <sstream>
#include <unistd.h>
#include <unordered_map>

#include "frontend/onnx_importer.h"
#include "frontend/tensor_proto.h"
#include "passes/eval/evaluator.h"

namespace fs = std::filesystem;

namespace tmc::driver {
namespace {

using calib::Tensor;
using ir::CompileError;
using ir::DType;

constexpr int kMinQdqOpset = 13; // per-axis QuantizeLinear/DequantizeLinear
constexpr size_t kHistogramBins = 2048;

bool is_onnx_domain(const onnx::NodeProto &n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

std::string node_label(const onnx::NodeProto &n, int idx) {
  return fmt::format("{} node '{}'", n.op_type(), n.name().empty() ? fmt::format("#{}", idx + 1) : n.name());
}

// ------------------------------------------------------------ proto helpers
const onnx::AttributeProto *find_attr(const onnx::NodeProto &n, const std::string &name) {
  for (auto &a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_i(const onnx::NodeProto &n, const std::string &name, int64_t dflt) {
  auto *a = find_attr(n, name);
  return a && a->type() == onnx::AttributeProto::INT ? a->i() : dflt;
}
float attr_f(const onnx::NodeProto &n, const std::string &name, float dflt) {
  auto *a = find_attr(n, name);
  return a && a->type() == onnx::AttributeProto::FLOAT ? a->f() : dflt;
}
std::vector<int64_t> attr_ints(const onnx::NodeProto &n, const std::string &name) {
  auto *a = find_attr(n, name);
  if (!a || a->type() != onnx::AttributeProto::INTS) return {};
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}
void set_attr_i(onnx::NodeProto &n, const std::string &name, int64_t v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
std::string in_at(const onnx::NodeProto &n, int i) { return i < n.input_size() ? n.input(i) : std::string(); }

onnx::TensorProto make_tensor(const std::string &name, DType dt, const ir::Shape &dims, const void *data,
                              size_t bytes) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(ir::dtype_to_onnx(dt));
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char *>(data), bytes));
  return t;
}
template <typename T>
onnx::TensorProto make_tensor_of(const std::string &name, DType dt, const ir::Shape &dims, const std::vector<T> &v) {
  return make_tensor(name, dt, dims, v.data(), v.size() * sizeof(T));
}

Tensor tensor_of(const onnx::TensorProto &t) {
  auto lt = frontend::parse_tensor_proto_bytes(t.SerializeAsString(), "initializer '" + t.name() + "'");
  return Tensor{lt.dtype, lt.shape, lt.data};
}
std::vector<float> floats_of(const Tensor &t) {
  if (t.dtype != DType::F32) throw CompileError("internal: expected a float32 tensor");
  std::vector<float> v((size_t)t.numel());
  if (!v.empty()) std::memcpy(v.data(), t.data->data(), v.size() * 4);
  return v;
}

/// Unique names over everything a graph defines.
struct Names {
  std::set<std::string> used;
  explicit Names(const onnx::GraphProto &g) {
    for (auto &v : g.input()) used.insert(v.name());
    for (auto &v : g.output()) used.insert(v.name());
    for (auto &v : g.value_info()) used.insert(v.name());
    for (auto &t : g.initializer()) used.insert(t.name());
    for (auto &n : g.node()) {
      used.insert(n.name());
      for (auto &o : n.output()) used.insert(o);
      for (auto &i : n.input()) used.insert(i);
    }
  }
  std::string make(const std::string &base) {
    std::string s = base;
    for (int k = 1; used.count(s); ++k) s = fmt::format("{}_{}", base, k);
    used.insert(s);
    return s;
  }
};

/// Who defines and who reads each tensor name.
struct GraphIndex {
  std::unordered_map<std::string, int> producer;               ///< node index
  std::unordered_map<std::string, std::vector<int>> consumers; ///< node indices (repeated per use)
  std::unordered_map<std::string, int> init;                   ///< initializer index
  std::set<std::string> outputs, inputs;
  explicit GraphIndex(const onnx::GraphProto &g) {
    for (int i = 0; i < g.initializer_size(); ++i) init[g.initializer(i).name()] = i;
    for (auto &v : g.output()) outputs.insert(v.name());
    for (auto &v : g.input())
      if (!init.count(v.name())) inputs.insert(v.name());
    for (int i = 0; i < g.node_size(); ++i) {
      for (auto &o : g.node(i).output())
        if (!o.empty()) producer[o] = i;
      for (auto &in : g.node(i).input())
        if (!in.empty()) consumers[in].push_back(i);
    }
  }
  int uses(const std::string &t) const {
    auto it = consumers.find(t);
    return (it == consumers.end() ? 0 : (int)it->second.size()) + (outputs.count(t) ? 1 : 0);
  }
};

/// Element type and rank of every tensor, from ONNX shape inference (rank -1 = unknown).
struct TypeInfo {
  int elem = 0;
  int rank = -1;
  std::vector<int64_t> dims; ///< -1 for symbolic or unknown dimensions
  bool static_shape() const {
    return rank >= 0 && std::all_of(dims.begin(), dims.end(), [](int64_t d) { return d >= 0; });
  }
};
std::unordered_map<std::string, TypeInfo> infer_types(const onnx::ModelProto &m) {
  onnx::ModelProto copy = m;
  try {
    onnx::ShapeInferenceOptions so(false, 0, true);
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), so);
  } catch (const std::exception &e) {
    throw CompileError(fmt::format("ONNX shape inference failed: {}", e.what()));
  }
  std::unordered_map<std::string, TypeInfo> r;
  auto note = [&](const onnx::ValueInfoProto &vi) {
    if (!vi.type().has_tensor_type()) return;
    TypeInfo t;
    t.elem = vi.type().tensor_type().elem_type();
    if (vi.type().tensor_type().has_shape()) {
      t.rank = vi.type().tensor_type().shape().dim_size();
      for (auto &d : vi.type().tensor_type().shape().dim()) t.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
    r[vi.name()] = t;
  };
  for (auto &v : copy.graph().value_info()) note(v);
  for (auto &v : copy.graph().input()) note(v);
  for (auto &v : copy.graph().output()) note(v);
  for (auto &t : copy.graph().initializer())
    r[t.name()] = TypeInfo{t.data_type(), t.dims_size(), std::vector<int64_t>(t.dims().begin(), t.dims().end())};
  return r;
}

// ------------------------------------------------------------ preparation
int onnx_opset(const onnx::ModelProto &m) {
  for (auto &op : m.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return (int)op.version();
  return -1;
}

onnx::ModelProto load_model(const std::string &path) {
  onnx::ModelProto m = frontend::load_model_proto(path);
  for (auto &t : m.graph().initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      throw CompileError(
          fmt::format("{}: initializer '{}' uses external data, which tmc quantize does not support", path, t.name()));
  for (auto &n : m.graph().node())
    if (!is_onnx_domain(n))
      throw CompileError(fmt::format("{}: {} (domain '{}'): tmc quantize accepts ai.onnx ops only", path,
                                     node_label(n, 0), n.domain()));
  int v = onnx_opset(m);
  if (v < 0) throw CompileError(path + ": the model imports no ai.onnx opset");
  for (auto &n : m.graph().node())
    for (auto &o : n.output())
      for (auto &t : m.graph().initializer())
        if (o == t.name())
          throw CompileError(fmt::format("{}: '{}' is both an initializer and a node output", path, o));
  if (v < kMinQdqOpset) {
    try {
      onnx::shape_inference::InferShapes(m);
      m = onnx::version_conversion::ConvertVersion(m, kMinQdqOpset);
    } catch (const std::exception &e) {
      throw CompileError(fmt::format("{}: ai.onnx opset {} is older than {} (needed for per-channel "
                                     "QuantizeLinear/DequantizeLinear) and ONNX's version converter failed: {}",
                                     path, v, kMinQdqOpset, e.what()));
    }
  }
  return m;
}

/// Constant nodes become initializers (weights are then visible uniformly).
void constants_to_initializers(onnx::GraphProto &g) {
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (auto &n : g.node()) {
    if (!(is_onnx_domain(n) && n.op_type() == "Constant" && n.output_size() == 1 && n.attribute_size() == 1)) {
      *kept.Add() = n;
      continue;
    }
    const auto &a = n.attribute(0);
    onnx::TensorProto t;
    if (a.name() == "value" && a.has_t()) {
      t = a.t();
    } else if (a.name() == "value_float") {
      t = make_tensor_of<float>("", DType::F32, {}, {a.f()});
    } else if (a.name() == "value_floats") {
      std::vector<float> v(a.floats().begin(), a.floats().end());
      t = make_tensor_of<float>("", DType::F32, {(int64_t)v.size()}, v);
    } else if (a.name() == "value_int") {
      t = make_tensor_of<int64_t>("", DType::I64, {}, {(int64_t)a.i()});
    } else if (a.name() == "value_ints") {
      std::vector<int64_t> v(a.ints().begin(), a.ints().end());
      t = make_tensor_of<int64_t>("", DType::I64, {(int64_t)v.size()}, v);
    } else {
      *kept.Add() = n;
      continue;
    }
    t.set_name(n.output(0));
    *g.add_initializer() = t;
  }
  g.mutable_node()->Swap(&kept);
}

bool float_init(const GraphIndex &ix, const onnx::GraphProto &g, const std::string &name) {
  auto it = ix.init.find(name);
  return it != ix.init.end() && g.initializer(it->second).data_type() == onnx::TensorProto::FLOAT;
}

/// BatchNormalization right after a Conv (its only reader) is folded into the
/// Conv's weights and bias.
int fold_batchnorm(onnx::GraphProto &g, Names &names) {
  GraphIndex ix(g);
  std::set<int> removed;
  int folded = 0;
  for (int j = 0; j < g.node_size(); ++j) {
    const onnx::NodeProto &bn = g.node(j);
    if (!is_onnx_domain(bn) || bn.op_type() != "BatchNormalization" || bn.input_size() < 5) continue;
    if (attr_i(bn, "training_mode", 0) != 0) continue;
    bool extra_out = false;
    for (int k = 1; k < bn.output_size(); ++k)
      if (!bn.output(k).empty()) extra_out = true;
    if (extra_out) continue;
    auto pit = ix.producer.find(bn.input(0));
    if (pit == ix.producer.end() || ix.uses(bn.input(0)) != 1) continue;
    onnx::NodeProto &conv = *g.mutable_node(pit->second);
    if (!is_onnx_domain(conv) || conv.op_type() != "Conv" || !float_init(ix, g, in_at(conv, 1))) continue;
    std::string bname = in_at(conv, 2);
    if (!bname.empty() && !float_init(ix, g, bname)) continue;
    bool params = true;
    for (int k = 1; k < 5; ++k) params = params && float_init(ix, g, bn.input(k));
    if (!params) continue;
    Tensor W = tensor_of(g.initializer(ix.init.at(conv.input(1))));
    if (W.shape.size() < 3) continue;
    int64_t M = W.shape[0];
    std::vector<float> p[4];
    bool sizes = true;
    for (int k = 0; k < 4; ++k) {
      p[k] = floats_of(tensor_of(g.initializer(ix.init.at(bn.input(k + 1)))));
      if ((int64_t)p[k].size() != M) sizes = false;
    }
    std::vector<float> b(M, 0.0f);
    if (!bname.empty()) {
      b = floats_of(tensor_of(g.initializer(ix.init.at(bname))));
      if ((int64_t)b.size() != M) sizes = false;
    }
    if (!sizes) continue;
    double eps = attr_f(bn, "epsilon", 1e-5f);
    std::vector<float> w = floats_of(W);
    int64_t per = (int64_t)w.size() / std::max<int64_t>(M, 1);
    std::vector<float> nb(M);
    for (int64_t m = 0; m < M; ++m) {
      double a = (double)p[0][m] / std::sqrt((double)p[3][m] + eps);
      for (int64_t i = 0; i < per; ++i) w[m * per + i] = (float)((double)w[m * per + i] * a);
      nb[m] = (float)(((double)b[m] - (double)p[2][m]) * a + (double)p[1][m]);
    }
    std::string wn = names.make(conv.input(1) + "_bn"),
                bn_name = names.make(bn.name().empty() ? conv.output(0) + "_bias" : bn.name() + "_bias");
    *g.add_initializer() = make_tensor_of<float>(wn, DType::F32, W.shape, w);
    *g.add_initializer() = make_tensor_of<float>(bn_name, DType::F32, {M}, nb);
    conv.set_input(1, wn);
    if (conv.input_size() < 3)
      conv.add_input(bn_name);
    else
      conv.set_input(2, bn_name);
    conv.set_output(0, bn.output(0));
    removed.insert(j);
    ++folded;
  }
  if (!removed.empty()) {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    for (int i = 0; i < g.node_size(); ++i)
      if (!removed.count(i)) *kept.Add() = g.node(i);
    g.mutable_node()->Swap(&kept);
  }
  return folded;
}

/// MatMul of a rank-2 activation by a constant matrix becomes Gemm (taking a
/// following Add of a constant row vector as its bias): Gemm folds to one
/// integer kernel, with Relu fused.
void matmul_to_gemm(onnx::ModelProto &m) {
  onnx::GraphProto &g = *m.mutable_graph();
  auto types = infer_types(m);
  GraphIndex ix(g);
  std::set<int> removed;
  for (int i = 0; i < g.node_size(); ++i) {
    onnx::NodeProto &mm = *g.mutable_node(i);
    if (!is_onnx_domain(mm) || mm.op_type() != "MatMul" || mm.input_size() != 2) continue;
    auto ta = types.find(mm.input(0));
    if (ta == types.end() || ta->second.rank != 2 || ix.init.count(mm.input(0))) continue;
    if (!float_init(ix, g, mm.input(1)) || g.initializer(ix.init.at(mm.input(1))).dims_size() != 2) continue;
    int64_t N = g.initializer(ix.init.at(mm.input(1))).dims(1);
    mm.set_op_type("Gemm");
    std::string out = mm.output(0);
    if (ix.outputs.count(out) || ix.uses(out) != 1) continue;
    int j = ix.consumers.at(out)[0];
    const onnx::NodeProto &add = g.node(j);
    if (!is_onnx_domain(add) || add.op_type() != "Add" || add.input_size() != 2) continue;
    std::string c = add.input(0) == out ? add.input(1) : add.input(0);
    if (c == out || !float_init(ix, g, c)) continue;
    const auto &ct = g.initializer(ix.init.at(c));
    int64_t numel = 1;
    for (auto d : ct.dims()) numel *= d;
    if (numel != N || !(ct.dims_size() == 1 || (ct.dims_size() == 2 && ct.dims(0) == 1))) continue;
    mm.add_input(c);
    mm.set_output(0, add.output(0));
    removed.insert(j);
  }
  if (!removed.empty()) {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    for (int i = 0; i < g.node_size(); ++i)
      if (!removed.count(i)) *kept.Add() = g.node(i);
    g.mutable_node()->Swap(&kept);
  }
}

/// Replaces the nodes whose inputs are all initializers, and that the host
/// evaluator implements, by initializers (e.g. Cast of a Clip bound, Transpose
/// of a weight), so that weights and bounds are visible as constants.
bool fold_constants_once(onnx::ModelProto &m);
void fold_constants(onnx::ModelProto &m) {
  for (int round = 0; round < 8 && fold_constants_once(m); ++round) {
  }
}

bool fold_constants_once(onnx::ModelProto &m) {
  onnx::GraphProto &g = *m.mutable_graph();
  int opset = onnx_opset(m);
  auto types = infer_types(m);
  bool changed = false;
  std::unordered_map<std::string, std::unique_ptr<ir::Value>> consts;
  for (auto &t : g.initializer()) {
    Tensor x;
    try {
      x = tensor_of(t);
    } catch (const CompileError &) {
      continue; // e.g. string tensors: never folded through
    }
    auto v = std::make_unique<ir::Value>();
    v->name = t.name();
    v->dtype = x.dtype;
    v->shape = x.shape;
    v->shape_known = true;
    v->data = x.data;
    consts[t.name()] = std::move(v);
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (auto &n : g.node()) {
    // Shape of a tensor whose shape the model fixes (no symbolic dimension).
    if (is_onnx_domain(n) && n.op_type() == "Shape" && n.input_size() == 1 && n.output_size() == 1 &&
        types.count(n.input(0)) && types.at(n.input(0)).static_shape()) {
      const auto &dims = types.at(n.input(0)).dims;
      int64_t r = (int64_t)dims.size(), b = attr_i(n, "start", 0), e = attr_i(n, "end", r);
      if (b < 0) b += r;
      if (e < 0) e += r;
      b = std::clamp<int64_t>(b, 0, r);
      e = std::clamp<int64_t>(e, 0, r);
      std::vector<int64_t> v(dims.begin() + b, dims.begin() + std::max(b, e));
      *g.add_initializer() = make_tensor_of<int64_t>(n.output(0), DType::I64, {(int64_t)v.size()}, v);
      auto c = std::make_unique<ir::Value>();
      c->name = n.output(0);
      c->dtype = DType::I64;
      c->shape = {(int64_t)v.size()};
      c->shape_known = true;
      c->data = std::make_shared<ir::Bytes>((const uint8_t *)v.data(), (const uint8_t *)(v.data() + v.size()));
      consts[n.output(0)] = std::move(c);
      changed = true;
      continue;
    }
    bool all = n.input_size() > 0 && is_onnx_domain(n);
    for (auto &i : n.input()) all = all && (i.empty() || consts.count(i));
    ir::Node in;
    in.op = n.op_type();
    in.name = n.name();
    in.opset = opset;
    for (auto &a : n.attribute()) {
      switch (a.type()) {
      case onnx::AttributeProto::INT: in.attrs[a.name()] = (int64_t)a.i(); break;
      case onnx::AttributeProto::FLOAT: in.attrs[a.name()] = a.f(); break;
      case onnx::AttributeProto::STRING: in.attrs[a.name()] = a.s(); break;
      case onnx::AttributeProto::INTS:
        in.attrs[a.name()] = std::vector<int64_t>(a.ints().begin(), a.ints().end());
        break;
      case onnx::AttributeProto::FLOATS:
        in.attrs[a.name()] = std::vector<float>(a.floats().begin(), a.floats().end());
        break;
      case onnx::AttributeProto::TENSOR:
        try {
          Tensor t = tensor_of(a.t());
          in.attrs[a.name()] = ir::TensorAttr{t.dtype, t.shape, t.data};
        } catch (const CompileError &) {
          all = false;
        }
        break;
      default: all = false;
      }
    }
    std::vector<std::unique_ptr<ir::Value>> outs;
    int64_t in_bytes = 0;
    if (all) {
      for (auto &i : n.input()) {
        in.inputs.push_back(i.empty() ? nullptr : consts.at(i).get());
        if (!i.empty()) in_bytes += (int64_t)consts.at(i)->data->size();
      }
      for (auto &o : n.output()) {
        outs.push_back(std::make_unique<ir::Value>());
        outs.back()->name = o;
        in.outputs.push_back(o.empty() ? nullptr : outs.back().get());
      }
    }
    std::vector<passes::eval::HostTensor> res;
    bool folded = false;
    if (all && passes::eval::can_evaluate(in)) {
      try {
        std::vector<const ir::Value *> ins(in.inputs.begin(), in.inputs.end());
        res = passes::eval::evaluate(in, ins);
        int64_t out_bytes = 0;
        for (auto &t : res) out_bytes += (int64_t)t.data.size();
        folded = out_bytes <= in_bytes + (1 << 16) && res.size() >= (size_t)n.output_size();
      } catch (const CompileError &) {
        folded = false; // left for the frontend to report
      }
    }
    if (!folded) {
      *kept.Add() = n;
      continue;
    }
    for (int k = 0; k < n.output_size(); ++k) {
      if (n.output(k).empty()) continue;
      auto &t = res[(size_t)k];
      *g.add_initializer() = make_tensor(n.output(k), t.dtype, t.shape, t.data.data(), t.data.size());
      auto v = std::make_unique<ir::Value>();
      v->name = n.output(k);
      v->dtype = t.dtype;
      v->shape = t.shape;
      v->shape_known = true;
      v->data = std::make_shared<ir::Bytes>(std::move(t.data));
      consts[n.output(k)] = std::move(v);
    }
    changed = true;
  }
  g.mutable_node()->Swap(&kept);
  return changed;
}

/// A constant-zero Pad of the spatial axes in front of a Conv (or an
/// AveragePool that counts padding) becomes the consumer's own padding.
void fold_pad(onnx::ModelProto &m) {
  onnx::GraphProto &g = *m.mutable_graph();
  auto types = infer_types(m);
  GraphIndex ix(g);
  std::set<int> removed;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &pad = g.node(i);
    if (!is_onnx_domain(pad) || pad.op_type() != "Pad" || pad.output_size() != 1) continue;
    if (find_attr(pad, "mode") && find_attr(pad, "mode")->s() != "constant") continue;
    if (!in_at(pad, 3).empty() || !types.count(in_at(pad, 0))) continue;
    int64_t r = types.at(pad.input(0)).rank;
    auto pit = ix.init.find(in_at(pad, 1));
    if (r < 3 || pit == ix.init.end()) continue;
    Tensor pt = tensor_of(g.initializer(pit->second));
    if (pt.dtype != DType::I64 || pt.numel() != 2 * r) continue;
    const int64_t *pv = (const int64_t *)pt.data->data();
    bool ok = pv[0] == 0 && pv[1] == 0 && pv[r] == 0 && pv[r + 1] == 0;
    for (int64_t k = 0; k < 2 * r; ++k) ok = ok && pv[k] >= 0;
    if (!in_at(pad, 2).empty()) {
      auto cit = ix.init.find(pad.input(2));
      if (cit == ix.init.end()) continue;
      Tensor cv = tensor_of(g.initializer(cit->second));
      ok = ok && cv.dtype == DType::F32 && cv.numel() == 1 && cv.f32()[0] == 0.0f;
    }
    const std::string &t = pad.output(0);
    if (!ok || ix.outputs.count(t) || ix.uses(t) != 1) continue;
    onnx::NodeProto &c = *g.mutable_node(ix.consumers.at(t)[0]);
    if (!is_onnx_domain(c) || in_at(c, 0) != t || (c.op_type() != "Conv" && c.op_type() != "AveragePool")) continue;
    std::string ap = find_attr(c, "auto_pad") ? find_attr(c, "auto_pad")->s() : "NOTSET";
    if (ap != "NOTSET" && ap != "VALID") continue;
    int64_t nsp = r - 2;
    std::vector<int64_t> pads = ap == "VALID" ? std::vector<int64_t>() : attr_ints(c, "pads");
    bool had = std::any_of(pads.begin(), pads.end(), [](int64_t v) { return v != 0; });
    if (pads.empty()) pads.assign((size_t)(2 * nsp), 0);
    if ((int64_t)pads.size() != 2 * nsp) continue;
    for (int64_t k = 0; k < nsp; ++k) {
      pads[(size_t)k] += pv[2 + k];
      pads[(size_t)(k + nsp)] += pv[r + 2 + k];
    }
    if (c.op_type() == "AveragePool") {
      // Padded zeros count in the average; ONNX Runtime wants pads < kernel.
      if (attr_i(c, "count_include_pad", 0) == 0 && had) continue;
      auto ks = attr_ints(c, "kernel_shape");
      bool small = (int64_t)ks.size() == nsp;
      for (int64_t k = 0; k < nsp && small; ++k)
        small = pads[(size_t)k] < ks[(size_t)k] && pads[(size_t)(k + nsp)] < ks[(size_t)k];
      if (!small) continue;
    }
    google::protobuf::RepeatedPtrField<onnx::AttributeProto> attrs;
    for (auto &a : c.attribute())
      if (a.name() != "pads" && a.name() != "auto_pad" && a.name() != "count_include_pad") *attrs.Add() = a;
    c.mutable_attribute()->Swap(&attrs);
    auto *pa = c.add_attribute();
    pa->set_name("pads");
    pa->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : pads) pa->add_ints(v);
    if (c.op_type() == "AveragePool") set_attr_i(c, "count_include_pad", 1);
    c.set_input(0, pad.input(0));
    removed.insert(i);
  }
  if (!removed.empty()) {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    for (int i = 0; i < g.node_size(); ++i)
      if (!removed.count(i)) *kept.Add() = g.node(i);
    g.mutable_node()->Swap(&kept);
  }
}

/// Reads a Clip's bounds (constant scalars or absent); false if not constant.
bool clip_bounds(const onnx::GraphProto &g, const GraphIndex &ix, const onnx::NodeProto &c, double &lo, double &hi) {
  lo = -std::numeric_limits<double>::infinity();
  hi = std::numeric_limits<double>::infinity();
  for (int k = 1; k < 3 && k < c.input_size(); ++k) {
    if (c.input(k).empty()) continue;
    auto it = ix.init.find(c.input(k));
    if (it == ix.init.end() || g.initializer(it->second).data_type() != onnx::TensorProto::FLOAT) return false;
    Tensor t = tensor_of(g.initializer(it->second));
    if (t.numel() != 1) return false;
    (k == 1 ? lo : hi) = t.f32()[0];
  }
  return true;
}

/// Relu -> Clip and Clip -> Relu chains (the first op's only reader) become
/// one Clip, which then fuses into the producing op.
void merge_clamps(onnx::GraphProto &g, Names &names) {
  for (bool again = true; again;) {
    again = false;
    GraphIndex ix(g);
    for (int i = 0; i < g.node_size() && !again; ++i) {
      const onnx::NodeProto &a = g.node(i);
      if (!is_onnx_domain(a) || (a.op_type() != "Relu" && a.op_type() != "Clip") || a.output_size() != 1) continue;
      const std::string &t = a.output(0);
      if (ix.outputs.count(t) || ix.uses(t) != 1) continue;
      int j = ix.consumers.at(t)[0];
      const onnx::NodeProto &b = g.node(j);
      if (!is_onnx_domain(b) || (b.op_type() != "Relu" && b.op_type() != "Clip") || in_at(b, 0) != t) continue;
      double lo = 0, hi = std::numeric_limits<double>::infinity(), l2 = 0, h2 = hi;
      if (a.op_type() == "Clip" && !clip_bounds(g, ix, a, lo, hi)) continue;
      if (b.op_type() == "Clip" && !clip_bounds(g, ix, b, l2, h2)) continue;
      if (a.op_type() == "Relu") lo = 0;
      if (b.op_type() == "Relu") l2 = 0;
      lo = std::max(lo, l2);
      hi = std::min(hi, h2);
      onnx::NodeProto c;
      c.set_op_type("Clip");
      c.set_name(names.make((b.name().empty() ? b.output(0) : b.name()) + "_merged"));
      c.add_input(a.input(0));
      std::string ln = names.make(c.name() + "_min"), hn = names.make(c.name() + "_max");
      *g.add_initializer() = make_tensor_of<float>(ln, DType::F32, {}, {(float)lo});
      c.add_input(ln);
      if (std::isfinite(hi)) {
        *g.add_initializer() = make_tensor_of<float>(hn, DType::F32, {}, {(float)hi});
        c.add_input(hn);
      }
      c.add_output(b.output(0));
      google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
      for (int k = 0; k < g.node_size(); ++k) {
        if (k == i)
          *kept.Add() = c;
        else if (k != j)
          *kept.Add() = g.node(k);
      }
      g.mutable_node()->Swap(&kept);
      again = true;
    }
  }
}

/// ReduceMean over all spatial axes of a rank >= 3 tensor (how exporters
/// write global average pooling) becomes GlobalAveragePool (+ Flatten when
/// keepdims = 0), which has an integer kernel.
void reduce_mean_to_pool(onnx::ModelProto &m, Names &names) {
  onnx::GraphProto &g = *m.mutable_graph();
  auto types = infer_types(m);
  GraphIndex ix(g);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> out;
  for (auto &n : g.node()) {
    int r = -1;
    if (n.input_size() >= 1 && types.count(n.input(0))) r = types.at(n.input(0)).rank;
    std::vector<int64_t> axes = attr_ints(n, "axes");
    if (n.input_size() >= 2 && !n.input(1).empty()) {
      auto it = ix.init.find(n.input(1));
      axes.clear();
      if (it != ix.init.end()) {
        Tensor t = tensor_of(g.initializer(it->second));
        if (t.dtype == DType::I64)
          for (int64_t k = 0; k < t.numel(); ++k) axes.push_back(((const int64_t *)t.data->data())[k]);
      }
    }
    for (auto &a : axes)
      if (a < 0) a += r;
    std::sort(axes.begin(), axes.end());
    std::vector<int64_t> spatial;
    for (int k = 2; k < r; ++k) spatial.push_back(k);
    if (!is_onnx_domain(n) || n.op_type() != "ReduceMean" || r < 3 || axes != spatial || n.output_size() != 1) {
      *out.Add() = n;
      continue;
    }
    bool keep = attr_i(n, "keepdims", 1) != 0;
    std::string pooled = keep ? n.output(0) : names.make(n.output(0) + "_pooled");
    onnx::NodeProto &p = *out.Add();
    p.set_op_type("GlobalAveragePool");
    p.set_name(names.make((n.name().empty() ? n.output(0) : n.name()) + "_gap"));
    p.add_input(n.input(0));
    p.add_output(pooled);
    if (!keep) {
      onnx::NodeProto &f = *out.Add();
      f.set_op_type("Flatten");
      f.set_name(names.make(p.name() + "_flatten"));
      f.add_input(pooled);
      f.add_output(n.output(0));
      set_attr_i(f, "axis", 1);
    }
  }
  g.mutable_node()->Swap(&out);
}

/// Drops initializers nothing reads (and their graph-input entries).
void drop_unused_initializers(onnx::GraphProto &g) {
  std::set<std::string> used;
  for (auto &n : g.node())
    for (auto &i : n.input()) used.insert(i);
  for (auto &o : g.output()) used.insert(o.name());
  std::set<std::string> dropped;
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  for (auto &t : g.initializer()) {
    if (used.count(t.name()))
      *kept.Add() = t;
    else
      dropped.insert(t.name());
  }
  g.mutable_initializer()->Swap(&kept);
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> ins;
  for (auto &v : g.input())
    if (!dropped.count(v.name())) *ins.Add() = v;
  g.mutable_input()->Swap(&ins);
}

std::vector<calib::InputSpec> input_specs(const onnx::ModelProto &m, const std::map<std::string, ir::Shape> &fixed) {
  GraphIndex ix(m.graph());
  std::vector<calib::InputSpec> r;
  for (auto &v : m.graph().input()) {
    if (ix.init.count(v.name())) continue;
    calib::InputSpec s;
    s.name = v.name();
    if (!v.type().has_tensor_type()) throw CompileError(fmt::format("graph input '{}' is not a tensor", v.name()));
    s.dtype = ir::dtype_from_onnx(v.type().tensor_type().elem_type());
    for (auto &d : v.type().tensor_type().shape().dim()) s.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    auto it = fixed.find(v.name());
    if (it != fixed.end()) {
      if (it->second.size() != s.shape.size())
        throw CompileError(
            fmt::format("--input-shape: input '{}' has rank {}, not {}", v.name(), s.shape.size(), it->second.size()));
      s.shape = it->second;
    }
    r.push_back(s);
  }
  for (auto &[name, shape] : fixed) {
    (void)shape;
    if (std::none_of(r.begin(), r.end(), [&](const calib::InputSpec &s) { return s.name == name; }))
      throw CompileError(fmt::format("--input-shape: the model has no input '{}'", name));
  }
  return r;
}

std::unique_ptr<ir::Graph> import_graph(const std::string &bytes, const std::string &model_path,
                                        const std::map<std::string, ir::Shape> &shapes) {
  frontend::ImportOptions io;
  io.input_shapes = shapes;
  try {
    return frontend::import_onnx_bytes(bytes, fs::path(model_path).parent_path().string(), io);
  } catch (const CompileError &e) {
    std::string msg = e.what();
    const std::string tag = "<memory>";
    if (msg.rfind(tag, 0) == 0) msg = model_path + msg.substr(tag.size());
    throw CompileError(msg);
  }
}

// ------------------------------------------------------------ static plan
enum class QK { None, Conv, Gemm, MatMul, Binary, AvgPool, Softmax, Unary, Pass, FusedAct };

/// Elementwise activations quantize-folding turns into a table (or a clamp).
bool is_unary_act(const std::string &op) {
  return op == "Sigmoid" || op == "Tanh" || op == "HardSwish" || op == "HardSigmoid" || op == "LeakyRelu" ||
         op == "Relu" || op == "Clip";
}

struct NodePlan {
  QK kind = QK::None;
  std::vector<std::string> act_in; ///< activation inputs that get QDQ
  int const_input = -1;            ///< Add/Mul: the float constant operand, quantized per tensor
  std::string out;                 ///< output tensor that gets QDQ (after a fused Relu/Clip)
};

struct Plan {
  std::vector<NodePlan> nodes;
  std::vector<std::string> tensors;          ///< tensors with a QDQ pair, first use order
  std::map<std::string, std::string> parent; ///< union-find: tensors sharing parameters
  std::set<std::string> unit_range;          ///< Softmax outputs: fixed range [0, 1]
  std::vector<std::string> float_nodes;

  std::string find(const std::string &t) {
    auto it = parent.find(t);
    if (it == parent.end() || it->second == t) return t;
    return it->second = find(it->second);
  }
  void unite(const std::string &a, const std::string &b) {
    std::string ra = find(a), rb = find(b);
    if (ra != rb) parent[rb] = ra;
  }
  void add(const std::string &t) {
    if (std::find(tensors.begin(), tensors.end(), t) == tensors.end()) {
      tensors.push_back(t);
      parent.emplace(t, t);
    }
  }
  bool has(const std::string &t) const { return parent.count(t) != 0; }
};

bool clip_fusable(const onnx::GraphProto &g, const GraphIndex &ix, const onnx::NodeProto &c) {
  if (!is_onnx_domain(c)) return false;
  if (c.op_type() == "Relu") return true;
  if (c.op_type() != "Clip") return false;
  for (int k = 1; k < 3 && k < c.input_size(); ++k) {
    if (c.input(k).empty()) continue;
    if (!float_init(ix, g, c.input(k))) return false;
    const auto &t = g.initializer(ix.init.at(c.input(k)));
    int64_t n = 1;
    for (auto d : t.dims()) n *= d;
    if (n != 1) return false;
  }
  return true;
}

Plan make_plan(const onnx::ModelProto &m) {
  const onnx::GraphProto &g = m.graph();
  GraphIndex ix(g);
  auto types = infer_types(m);
  Plan p;
  p.nodes.resize((size_t)g.node_size());
  auto rank = [&](const std::string &t) {
    auto it = types.find(t);
    return it == types.end() ? -1 : it->second.rank;
  };
  auto is_act = [&](const std::string &t) {
    if (t.empty() || ix.init.count(t)) return false;
    auto it = types.find(t);
    return it != types.end() && it->second.elem == onnx::TensorProto::FLOAT;
  };
  auto init_dims = [&](const std::string &t) {
    const auto &x = g.initializer(ix.init.at(t));
    return std::vector<int64_t>(x.dims().begin(), x.dims().end());
  };
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &n = g.node(i);
    NodePlan &np = p.nodes[(size_t)i];
    if (np.kind == QK::FusedAct) continue;
    const std::string &op = n.op_type();
    bool compute = op == "Conv" || op == "Gemm" || op == "MatMul";
    QK k = QK::None;
    if (op == "Conv") {
      std::string x = in_at(n, 0), w = in_at(n, 1), b = in_at(n, 2);
      if (is_act(x) && rank(x) >= 3 && float_init(ix, g, w) && (int)init_dims(w).size() == rank(x) &&
          (b.empty() || (float_init(ix, g, b) && init_dims(b).size() == 1 && init_dims(b)[0] == init_dims(w)[0])))
        k = QK::Conv;
    } else if (op == "Gemm") {
      std::string a = in_at(n, 0), b = in_at(n, 1), c = in_at(n, 2);
      bool ok = attr_i(n, "transA", 0) == 0 && attr_f(n, "alpha", 1.0f) == 1.0f &&
                (c.empty() || attr_f(n, "beta", 1.0f) == 1.0f) && is_act(a) && rank(a) == 2 && float_init(ix, g, b) &&
                init_dims(b).size() == 2;
      if (ok && !c.empty()) {
        int64_t N = attr_i(n, "transB", 0) ? init_dims(b)[0] : init_dims(b)[1];
        auto cd = float_init(ix, g, c) ? init_dims(c) : std::vector<int64_t>{-1};
        int64_t numel = 1;
        for (auto d : cd) numel *= d;
        ok = numel == N && (cd.size() == 1 || (cd.size() == 2 && cd[0] == 1));
      }
      if (ok) k = QK::Gemm;
    } else if (op == "MatMul") {
      if (is_act(in_at(n, 0)) && rank(in_at(n, 0)) >= 2 && float_init(ix, g, in_at(n, 1)) &&
          init_dims(in_at(n, 1)).size() == 2)
        k = QK::MatMul;
    } else if (op == "Add" || op == "Mul") {
      // Anchored on quantized data (never on shape arithmetic done in float).
      if (n.input_size() == 2 && is_act(n.input(0)) && is_act(n.input(1)) && (p.has(n.input(0)) || p.has(n.input(1))))
        k = QK::Binary;
      for (int c = 0; c < 2 && n.input_size() == 2 && k == QK::None; ++c)
        if (is_act(n.input(1 - c)) && p.has(n.input(1 - c)) && float_init(ix, g, n.input(c))) {
          k = QK::Binary;
          np.const_input = c;
        }
    } else if (op == "AveragePool" || op == "GlobalAveragePool") {
      bool dil = false;
      for (auto d : attr_ints(n, "dilations")) dil = dil || d != 1;
      if (is_act(in_at(n, 0)) && rank(in_at(n, 0)) >= 3 && !dil && n.output_size() == 1) k = QK::AvgPool;
    } else if (op == "Softmax") {
      if (is_act(in_at(n, 0)) && p.has(n.input(0))) k = QK::Softmax;
    } else if (is_unary_act(op)) {
      if (is_act(in_at(n, 0)) && p.has(n.input(0)) && (op != "Clip" || clip_fusable(g, ix, n))) k = QK::Unary;
    } else if (op == "MaxPool" || op == "GlobalMaxPool" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
               op == "Unsqueeze" || op == "Transpose") {
      bool single = op != "MaxPool" || n.output_size() == 1 || (n.output_size() == 2 && n.output(1).empty());
      if (single && is_act(in_at(n, 0)) && p.has(n.input(0))) k = QK::Pass;
    } else if (op == "Concat") {
      bool all = n.input_size() > 0, any = false;
      for (auto &x : n.input()) {
        all = all && is_act(x);
        any = any || p.has(x);
      }
      if (all && any) k = QK::Pass;
    }
    if (!is_onnx_domain(n)) k = QK::None;
    if (k == QK::None) {
      if (compute) p.float_nodes.push_back(node_label(n, i));
      continue;
    }
    np.kind = k;
    std::string out = n.output(0);
    bool can_fuse = k == QK::Conv || k == QK::Gemm || k == QK::Binary || k == QK::AvgPool || k == QK::Unary ||
                    (k == QK::Pass && (op == "MaxPool" || op == "GlobalMaxPool"));
    if (can_fuse && !ix.outputs.count(out) && ix.uses(out) == 1) {
      int j = ix.consumers.at(out)[0];
      if (j > i && clip_fusable(g, ix, g.node(j)) && in_at(g.node(j), 0) == out) {
        p.nodes[(size_t)j].kind = QK::FusedAct;
        out = g.node(j).output(0);
      }
    }
    if (k == QK::Conv || k == QK::Gemm || k == QK::MatMul || k == QK::AvgPool || k == QK::Softmax || k == QK::Unary ||
        (k == QK::Pass && op != "Concat"))
      np.act_in = {n.input(0)};
    else if (np.const_input >= 0)
      np.act_in = {n.input(1 - np.const_input)};
    else
      np.act_in.assign(n.input().begin(), n.input().end());
    np.out = out;
    for (auto &x : np.act_in) p.add(x);
    p.add(out);
    if (k == QK::Pass)
      for (auto &x : np.act_in) p.unite(x, out);
    if (k == QK::Softmax) p.unit_range.insert(out);
  }
  return p;
}

// ------------------------------------------------------------ calibration
struct TensorStats {
  double mn = std::numeric_limits<double>::infinity(), mx = -std::numeric_limits<double>::infinity();
  calib::Histogram hist;
};

void observe_minmax(TensorStats &s, const Tensor &t) {
  const float *x = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (std::isnan(x[i])) continue;
    s.mn = std::min(s.mn, (double)x[i]);
    s.mx = std::max(s.mx, (double)x[i]);
  }
}

struct QParams {
  calib::ActQuant q;
  calib::Range range;
};

// ------------------------------------------------------------ QDQ rewriting
struct QdqBuilder {
  onnx::GraphProto &g;
  Names &names;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> out;

  onnx::NodeProto &node(const std::string &op, std::vector<std::string> ins, std::vector<std::string> outs,
                        const std::string &name) {
    onnx::NodeProto &n = *out.Add();
    n.set_op_type(op);
    n.set_name(names.make(name));
    for (auto &i : ins) n.add_input(i);
    for (auto &o : outs) n.add_output(o);
    return n;
  }
  std::string init(onnx::TensorProto t) {
    std::string name = t.name();
    *g.add_initializer() = std::move(t);
    return name;
  }
  /// QuantizeLinear + DequantizeLinear of activation `src` into `dst`.
  void qdq(const std::string &src, const std::string &dst, const std::string &base, const calib::ActQuant &q) {
    std::string s = init(make_tensor_of<float>(names.make(base + "_scale"), DType::F32, {}, {q.scale}));
    std::string z =
        init(make_tensor_of<int8_t>(names.make(base + "_zero_point"), DType::I8, {}, {(int8_t)q.zero_point}));
    std::string qn = names.make(base + "_quantized");
    node("QuantizeLinear", {src, s, z}, {qn}, base + "_QuantizeLinear");
    node("DequantizeLinear", {qn, s, z}, {dst}, base + "_DequantizeLinear");
  }
};

double mean_or(double sum, int64_t n, double dflt) { return n ? sum / (double)n : dflt; }

QuantTensorInfo weight_info(const std::string &name, const onnx::NodeProto &n, const std::vector<float> &w,
                            const calib::WeightQuant &wq, const ir::Shape &shape) {
  QuantTensorInfo t;
  t.name = name;
  t.kind = "weight";
  t.op = n.op_type();
  t.node = n.name();
  t.scales = wq.scales;
  t.zero_points.assign(wq.scales.size(), 0);
  std::vector<float> dq(w.size());
  int64_t inner = 1, dim = 1;
  if (wq.axis >= 0) {
    dim = shape[(size_t)wq.axis];
    inner = ir::shape_numel(ir::Shape(shape.begin() + wq.axis + 1, shape.end()));
  }
  double lo = 0, hi = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    float s = wq.scales[wq.axis < 0 ? 0 : (size_t)(((int64_t)i / inner) % dim)];
    dq[i] = (float)wq.q[i] * s;
    lo = std::min(lo, (double)w[i]);
    hi = std::max(hi, (double)w[i]);
  }
  t.seen_min = lo;
  t.seen_max = hi;
  float smax = *std::max_element(wq.scales.begin(), wq.scales.end());
  t.lo = -127.0 * smax;
  t.hi = 127.0 * smax;
  t.snr_db = calib::snr_db(w.data(), dq.data(), (int64_t)w.size());
  t.cosine = calib::cosine(w.data(), dq.data(), (int64_t)w.size());
  return t;
}

/// Transposes a [R, C] float matrix.
std::vector<float> transpose2(const std::vector<float> &v, int64_t R, int64_t C) {
  std::vector<float> t(v.size());
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) t[(size_t)(c * R + r)] = v[(size_t)(r * C + c)];
  return t;
}

std::string render_opts(const QuantizeOptions &o, int64_t samples) {
  if (o.dynamic) return fmt::format("dynamic int8 ({} weights)", o.per_channel ? "per-channel" : "per-tensor");
  std::string m = calib::method_name(o.method);
  if (o.method == calib::Method::Percentile) m += fmt::format(" {}", o.percentile);
  return fmt::format("static int8 QDQ, {} calibration over {} samples, {} weights", m, samples,
                     o.per_channel ? "per-channel" : "per-tensor");
}

// ------------------------------------------------------------ dynamic mode
QuantizeResult quantize_dynamic(onnx::ModelProto &m, const QuantizeOptions &o) {
  onnx::GraphProto &g = *m.mutable_graph();
  auto types = infer_types(m);
  GraphIndex ix(g);
  Names names(g);
  QuantizeResult r;
  QdqBuilder b{g, names, {}};
  std::map<std::string, std::array<std::string, 3>> dql; // activation -> (q, scale, zero point)
  auto is_act = [&](const std::string &t) {
    auto it = types.find(t);
    return !t.empty() && !ix.init.count(t) && it != types.end() && it->second.elem == onnx::TensorProto::FLOAT;
  };
  auto quantize_input = [&](const std::string &x) {
    auto it = dql.find(x);
    if (it != dql.end()) return it->second;
    std::array<std::string, 3> q{names.make(x + "_quantized"), names.make(x + "_scale"), names.make(x + "_zero_point")};
    b.node("DynamicQuantizeLinear", {x}, {q[0], q[1], q[2]}, x + "_DynamicQuantizeLinear");
    dql[x] = q;
    return q;
  };
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &n = g.node(i);
    const std::string &op = n.op_type();
    bool mm = false, conv = false;
    std::string a = in_at(n, 0), w = in_at(n, 1), c = in_at(n, 2);
    if (op == "MatMul" && n.input_size() == 2 && is_act(a) && float_init(ix, g, w) &&
        g.initializer(ix.init.at(w)).dims_size() == 2)
      mm = true;
    if (op == "Gemm" && is_act(a) && types[a].rank == 2 && attr_i(n, "transA", 0) == 0 &&
        attr_f(n, "alpha", 1.0f) == 1.0f && (c.empty() || (attr_f(n, "beta", 1.0f) == 1.0f && float_init(ix, g, c))) &&
        float_init(ix, g, w) && g.initializer(ix.init.at(w)).dims_size() == 2)
      mm = true;
    if (op == "Conv" && is_act(a) && float_init(ix, g, w) && (c.empty() || float_init(ix, g, c)) &&
        g.initializer(ix.init.at(w)).dims_size() >= 3)
      conv = true;
    if (!mm && !conv) {
      if (op == "Conv" || op == "Gemm" || op == "MatMul") r.float_nodes.push_back(node_label(n, i));
      *b.out.Add() = n;
      continue;
    }
    Tensor W = tensor_of(g.initializer(ix.init.at(w)));
    std::vector<float> wf = floats_of(W);
    ir::Shape ws = W.shape;
    int64_t axis;
    if (mm) {
      if (op == "Gemm" && attr_i(n, "transB", 0)) { // [N, K] -> [K, N]
        wf = transpose2(wf, ws[0], ws[1]);
        ws = {ws[1], ws[0]};
      }
      axis = o.per_channel ? 1 : -1;
    } else {
      axis = o.per_channel ? 0 : -1;
    }
    calib::WeightQuant wq = calib::quantize_weights(wf.data(), ws, axis);
    r.tensors.push_back(weight_info(w, n, wf, wq, ws));
    auto xq = quantize_input(a);
    std::string y = n.output(0);
    std::string wqn = b.init(make_tensor_of<int8_t>(names.make(w + "_quantized"), DType::I8, ws, wq.q));
    // Scale of the int32 result: x_scale * w_scale, shaped to broadcast over the output.
    ir::Shape sshape;
    if (axis >= 0) {
      sshape = {(int64_t)wq.scales.size()};
      if (conv)
        for (size_t d = 2; d < ws.size(); ++d) sshape.push_back(1);
    }
    std::string wsn = b.init(make_tensor_of<float>(names.make(w + "_scale"), DType::F32, sshape, wq.scales));
    std::string acc = names.make(y + "_int32");
    if (mm) {
      b.node("MatMulInteger", {xq[0], wqn, xq[2]}, {acc}, (n.name().empty() ? y : n.name()) + "_MatMulInteger");
    } else {
      auto &ci = b.node("ConvInteger", {xq[0], wqn, xq[2]}, {acc}, (n.name().empty() ? y : n.name()) + "_ConvInteger");
      for (auto &at : n.attribute()) *ci.add_attribute() = at;
    }
    std::string accf = names.make(y + "_int32_float"), sc = names.make(y + "_scale"),
                yb = c.empty() ? y : names.make(y + "_unbiased");
    auto &cast = b.node("Cast", {acc}, {accf}, y + "_Cast");
    set_attr_i(cast, "to", onnx::TensorProto::FLOAT);
    b.node("Mul", {xq[1], wsn}, {sc}, y + "_scale_Mul");
    b.node("Mul", {accf, sc}, {yb}, y + "_Mul");
    if (!c.empty()) {
      Tensor C = tensor_of(g.initializer(ix.init.at(c)));
      ir::Shape cs{C.numel()};
      if (conv)
        for (size_t d = 2; d < ws.size(); ++d) cs.push_back(1);
      std::string cn = b.init(make_tensor_of<float>(names.make(c + "_bias"), DType::F32, cs, floats_of(C)));
      b.node("Add", {yb, cn}, {y}, y + "_bias_Add");
    }
    ++r.quantized_nodes;
  }
  g.mutable_node()->Swap(&b.out);
  drop_unused_initializers(g);
  g.clear_value_info();
  r.mode_text = render_opts(o, 0);
  r.model_bytes = m.SerializeAsString();
  return r;
}

} // namespace

// ------------------------------------------------------------ static mode
QuantizeResult quantize_model(const QuantizeOptions &o) {
  if (!o.dynamic && o.method == calib::Method::Percentile && !(o.percentile > 0.0 && o.percentile <= 100.0))
    throw CompileError(fmt::format("--percentile {} is not in (0, 100]", o.percentile));
  onnx::ModelProto m = load_model(o.model_path);
  onnx::GraphProto &g = *m.mutable_graph();
  {
    constants_to_initializers(g);
    fold_constants(m);
    Names names(g);
    merge_clamps(g, names);
    fold_batchnorm(g, names);
    fold_pad(m);
    matmul_to_gemm(m);
    reduce_mean_to_pool(m, names);
    drop_unused_initializers(g);
  }
  std::vector<calib::InputSpec> specs = input_specs(m, o.input_shapes);
  m.set_producer_name("tmc quantize");
  m.set_producer_version("0.1.0");
  if (o.dynamic) return quantize_dynamic(m, o);

  auto samples = calib::load_calibration_dir(o.calibration_dir, specs);
  std::map<std::string, ir::Shape> shapes = o.input_shapes;
  for (size_t k = 0; k < specs.size(); ++k) shapes[specs[k].name] = samples[0][k].shape;
  std::string float_bytes = m.SerializeAsString();
  auto fg = import_graph(float_bytes, o.model_path, shapes);

  auto run = [&](const ir::Graph &gr, const std::vector<Tensor> &in, const calib::Visitor &visit) {
    try {
      calib::run_graph(gr, in, visit);
    } catch (const CompileError &e) {
      throw CompileError(fmt::format("{}: {}", o.model_path, e.what()));
    }
  };
  Plan plan = make_plan(m);
  QuantizeResult r;
  r.samples = (int64_t)samples.size();
  r.float_nodes = plan.float_nodes;
  if (plan.tensors.empty())
    throw CompileError(o.model_path + ": nothing to quantize (no Conv, Gemm, MatMul or Add on float activations)");

  // Calibration: min/max of every planned tensor, then (percentile, mse) a
  // histogram over that range in a second pass.
  std::unordered_map<std::string, TensorStats> stats;
  for (auto &t : plan.tensors) stats[t];
  bool hist = o.method != calib::Method::MinMax;
  {
    calib::Progress bar("calibrate", r.samples * (hist ? 2 : 1), o.progress);
    for (auto &s : samples) {
      run(*fg, s, [&](const ir::Value &v, const Tensor &t) {
        auto it = stats.find(v.name);
        if (it != stats.end() && t.dtype == DType::F32) observe_minmax(it->second, t);
      });
      bar.step();
    }
    if (hist) {
      for (auto &[name, st] : stats) {
        (void)name;
        if (!(st.mn <= st.mx)) st.mn = st.mx = 0;
        st.hist = calib::Histogram(std::min(st.mn, 0.0), std::max(st.mx, 0.0), kHistogramBins);
      }
      for (auto &s : samples) {
        run(*fg, s, [&](const ir::Value &v, const Tensor &t) {
          auto it = stats.find(v.name);
          if (it != stats.end() && t.dtype == DType::F32) it->second.hist.add(t.f32(), t.numel());
        });
        bar.step();
      }
    }
    bar.done();
  }
  // Ranges: per tensor, then the union over tensors that share parameters.
  std::map<std::string, calib::Range> group_range;
  for (auto &t : plan.tensors) {
    TensorStats &st = stats[t];
    calib::Range rg{st.mn <= st.mx ? st.mn : 0.0, st.mn <= st.mx ? st.mx : 0.0};
    if (plan.unit_range.count(t))
      rg = {0.0, 1.0};
    else if (o.method == calib::Method::Percentile)
      rg = calib::percentile_range(st.hist, o.percentile);
    else if (o.method == calib::Method::Mse)
      rg = calib::mse_range(st.hist);
    std::string root = plan.find(t);
    auto it = group_range.find(root);
    if (it == group_range.end())
      group_range[root] = rg;
    else
      it->second = {std::min(it->second.lo, rg.lo), std::max(it->second.hi, rg.hi)};
  }
  std::map<std::string, QParams> qp;
  for (auto &t : plan.tensors) {
    calib::Range rg = group_range[plan.find(t)];
    qp[t] = QParams{calib::activation_quant(rg), {std::min(rg.lo, 0.0), std::max(rg.hi, 0.0)}};
  }
  // Softmax outputs (alone in their group): ONNX Runtime's fixed parameters,
  // scale 1/256 and zero point -128.
  for (auto &t : plan.unit_range) {
    bool alone = true;
    for (auto &u : plan.tensors)
      if (u != t && plan.find(u) == plan.find(t)) alone = false;
    if (alone) qp[t] = QParams{calib::ActQuant{1.0f / 256.0f, -128}, {0.0, 255.0 / 256.0}};
  }

  // Rewrite: QDQ on planned tensors, DequantizeLinear of int8 weights and
  // int32 biases in front of Conv/Gemm/MatMul.
  GraphIndex ix(g);
  Names names(g);
  QdqBuilder b{g, names, {}};
  std::map<std::string, std::string> qdq_name; // float tensor -> its fake-quantized tensor in the QDQ model
  std::map<std::string, std::string> input_rename;
  for (auto &t : plan.tensors)
    if (ix.inputs.count(t)) {
      std::string dq = names.make(t + "_dequantized");
      b.qdq(t, dq, t, qp[t].q);
      input_rename[t] = dq;
      qdq_name[t] = dq;
    }
  std::vector<QuantTensorInfo> weight_rows;
  for (int i = 0; i < g.node_size(); ++i) {
    onnx::NodeProto n = g.node(i);
    const NodePlan &np = plan.nodes[(size_t)i];
    for (int k = 0; k < n.input_size(); ++k) {
      auto it = input_rename.find(n.input(k));
      if (it != input_rename.end()) n.set_input(k, it->second);
    }
    if (np.kind == QK::Conv || np.kind == QK::Gemm || np.kind == QK::MatMul) {
      const std::string &x = np.act_in[0];
      float sx = qp.at(x).q.scale;
      std::string wname = n.input(1);
      Tensor W = tensor_of(g.initializer(ix.init.at(wname)));
      std::vector<float> wf = floats_of(W);
      int64_t axis = -1;
      if (o.per_channel) axis = np.kind == QK::Conv ? 0 : np.kind == QK::Gemm && attr_i(n, "transB", 0) ? 0 : 1;
      calib::WeightQuant wq = calib::quantize_weights(wf.data(), W.shape, axis);
      if (!in_at(n, 2).empty())
        calib::fit_bias_in_int32(wq, wf.data(), W.shape, floats_of(tensor_of(g.initializer(ix.init.at(n.input(2))))),
                                 sx);
      weight_rows.push_back(weight_info(wname, n, wf, wq, W.shape));
      std::string base = names.make(wname + "_" + (n.name().empty() ? n.output(0) : n.name()));
      ir::Shape sshape = axis >= 0 ? ir::Shape{(int64_t)wq.scales.size()} : ir::Shape{};
      std::string wq_n = b.init(make_tensor_of<int8_t>(names.make(base + "_quantized"), DType::I8, W.shape, wq.q));
      std::string ws_n = b.init(make_tensor_of<float>(names.make(base + "_scale"), DType::F32, sshape, wq.scales));
      std::string wz_n = b.init(make_tensor_of<int8_t>(names.make(base + "_zero_point"), DType::I8, sshape,
                                                       std::vector<int8_t>(wq.scales.size(), 0)));
      std::string wdq = names.make(base + "_dequantized");
      auto &d = b.node("DequantizeLinear", {wq_n, ws_n, wz_n}, {wdq}, base + "_DequantizeLinear");
      if (axis >= 0) set_attr_i(d, "axis", axis);
      n.set_input(1, wdq);
      std::string bname = in_at(n, 2);
      if (!bname.empty()) {
        std::vector<float> bf = floats_of(tensor_of(g.initializer(ix.init.at(bname))));
        std::vector<float> bs(wq.scales.size());
        for (size_t c = 0; c < bs.size(); ++c) bs[c] = sx * wq.scales[c];
        std::vector<int32_t> bq(bf.size());
        for (size_t c = 0; c < bf.size(); ++c) {
          float s = bs[axis >= 0 ? c : 0];
          double v = s > 0 ? std::nearbyint((double)bf[c] / (double)s) : 0.0;
          bq[c] = (int32_t)std::clamp(v, -2147483647.0, 2147483647.0);
        }
        std::string bbase = names.make(bname + "_" + (n.name().empty() ? n.output(0) : n.name()));
        std::string bq_n =
            b.init(make_tensor_of<int32_t>(names.make(bbase + "_quantized"), DType::I32, {(int64_t)bf.size()}, bq));
        std::string bs_n = b.init(make_tensor_of<float>(names.make(bbase + "_scale"), DType::F32, sshape, bs));
        std::string bz_n = b.init(make_tensor_of<int32_t>(names.make(bbase + "_zero_point"), DType::I32, sshape,
                                                          std::vector<int32_t>(bs.size(), 0)));
        std::string bdq = names.make(bbase + "_dequantized");
        auto &bd = b.node("DequantizeLinear", {bq_n, bs_n, bz_n}, {bdq}, bbase + "_DequantizeLinear");
        if (axis >= 0) set_attr_i(bd, "axis", 0);
        n.set_input(2, bdq);
      }
    }
    if (np.kind == QK::Binary && np.const_input >= 0) {
      // The constant operand: int8, per tensor, asymmetric over its range.
      std::string cname = n.input(np.const_input);
      std::vector<float> cv = floats_of(tensor_of(g.initializer(ix.init.at(cname))));
      Tensor ct = tensor_of(g.initializer(ix.init.at(cname)));
      calib::Range cr{0.0, 0.0};
      for (float v : cv) cr = {std::min(cr.lo, (double)v), std::max(cr.hi, (double)v)};
      calib::ActQuant cq = calib::activation_quant(cr);
      std::vector<int8_t> q(cv.size());
      std::vector<float> back(cv.size());
      for (size_t k = 0; k < cv.size(); ++k) {
        double v = std::nearbyint((double)(cv[k] / cq.scale)) + cq.zero_point;
        q[k] = (int8_t)std::clamp(v, -128.0, 127.0);
        back[k] = (float)(q[k] - cq.zero_point) * cq.scale;
      }
      std::string base = names.make(cname + "_" + (n.name().empty() ? n.output(0) : n.name()));
      std::string qn = b.init(make_tensor_of<int8_t>(names.make(base + "_quantized"), DType::I8, ct.shape, q));
      std::string sn = b.init(make_tensor_of<float>(names.make(base + "_scale"), DType::F32, {}, {cq.scale}));
      std::string zn =
          b.init(make_tensor_of<int8_t>(names.make(base + "_zero_point"), DType::I8, {}, {(int8_t)cq.zero_point}));
      std::string dqn = names.make(base + "_dequantized");
      b.node("DequantizeLinear", {qn, sn, zn}, {dqn}, base + "_DequantizeLinear");
      n.set_input(np.const_input, dqn);
      QuantTensorInfo ci;
      ci.name = cname;
      ci.kind = "weight";
      ci.op = n.op_type();
      ci.node = n.name();
      ci.scales = {cq.scale};
      ci.zero_points = {cq.zero_point};
      ci.lo = cr.lo;
      ci.hi = cr.hi;
      ci.seen_min = cr.lo;
      ci.seen_max = cr.hi;
      ci.snr_db = calib::snr_db(cv.data(), back.data(), (int64_t)cv.size());
      ci.cosine = calib::cosine(cv.data(), back.data(), (int64_t)cv.size());
      weight_rows.push_back(ci);
    }
    if (np.kind != QK::None && np.kind != QK::FusedAct) ++r.quantized_nodes;
    // Outputs with a QDQ pair: the node writes T_float, DequantizeLinear writes T.
    std::vector<std::pair<std::string, std::string>> after;
    for (int k = 0; k < n.output_size(); ++k) {
      const std::string t = n.output(k);
      if (t.empty() || !plan.has(t) || ix.inputs.count(t)) continue;
      std::string pre = names.make(t + "_float");
      n.set_output(k, pre);
      after.push_back({pre, t});
      qdq_name[t] = t;
    }
    *b.out.Add() = n;
    for (auto &[pre, t] : after) b.qdq(pre, t, t, qp[t].q);
  }
  g.mutable_node()->Swap(&b.out);
  drop_unused_initializers(g);
  g.clear_value_info();
  r.model_bytes = m.SerializeAsString();
  r.mode_text = render_opts(o, r.samples);

  // Accuracy: run the QDQ model through the same evaluator and compare each
  // quantized tensor with the float model's.
  auto qg = import_graph(r.model_bytes, o.model_path, shapes);
  struct Acc {
    double snr = 0, cos = 0;
    int64_t n = 0;
  };
  std::map<std::string, Acc> acc;
  std::map<std::string, std::string> float_of; // QDQ-model name -> float name
  for (auto &[f, q] : qdq_name) float_of[q] = f;
  {
    calib::Progress bar("evaluate ", r.samples, o.progress);
    for (auto &s : samples) {
      std::unordered_map<std::string, std::vector<float>> ref;
      run(*fg, s, [&](const ir::Value &v, const Tensor &t) {
        if (qdq_name.count(v.name) && t.dtype == DType::F32) ref[v.name].assign(t.f32(), t.f32() + t.numel());
      });
      run(*qg, s, [&](const ir::Value &v, const Tensor &t) {
        auto it = float_of.find(v.name);
        if (it == float_of.end() || t.dtype != DType::F32) return;
        auto rit = ref.find(it->second);
        if (rit == ref.end() || (int64_t)rit->second.size() != t.numel()) return;
        Acc &a = acc[it->second];
        a.snr += calib::snr_db(rit->second.data(), t.f32(), t.numel());
        a.cos += calib::cosine(rit->second.data(), t.f32(), t.numel());
        ++a.n;
      });
      bar.step();
    }
    bar.done();
  }
  for (auto &t : plan.tensors) {
    QuantTensorInfo info;
    info.name = t;
    info.kind = "activation";
    info.op = ix.inputs.count(t) ? "input" : "";
    info.scales = {qp[t].q.scale};
    info.zero_points = {qp[t].q.zero_point};
    info.lo = qp[t].range.lo;
    info.hi = qp[t].range.hi;
    info.seen_min = stats[t].mn <= stats[t].mx ? stats[t].mn : 0.0;
    info.seen_max = stats[t].mn <= stats[t].mx ? stats[t].mx : 0.0;
    info.snr_db = mean_or(acc[t].snr, acc[t].n, 0.0);
    info.cosine = mean_or(acc[t].cos, acc[t].n, 0.0);
    r.tensors.push_back(info);
  }
  // Producer ops, from the original graph order (the rewritten graph renamed outputs).
  {
    std::map<std::string, std::pair<std::string, std::string>> prod;
    for (auto &n : fg->nodes()) {
      std::string op = n->op;
      // A fused activation: "Conv+Relu".
      if ((op == "Relu" || op == "Clip") && n->input(0) && n->input(0)->producer)
        op = n->input(0)->producer->op + "+" + op;
      for (auto *v : n->outputs)
        if (v) prod[v->name] = {op, n->name};
    }
    for (auto &t : r.tensors) {
      if (t.op == "input") continue;
      auto it = prod.find(t.name);
      if (it != prod.end()) {
        t.op = it->second.first;
        t.node = it->second.second;
      }
    }
  }
  r.tensors.insert(r.tensors.end(), weight_rows.begin(), weight_rows.end());
  return r;
}

std::string quantize_table(const QuantizeResult &r) {
  std::string s = fmt::format("{:<30} {:<6} {:<18} {:>11} {:>5} {:>23} {:>8} {:>9}\n", "tensor", "kind", "op", "scale",
                              "zp", "range", "SNR dB", "cosine");
  for (auto &t : r.tensors) {
    std::string name = t.name.size() > 30 ? t.name.substr(0, 27) + "..." : t.name;
    std::string op = t.op.size() > 18 ? t.op.substr(0, 15) + "..." : t.op;
    std::string scale, zp;
    if (t.scales.size() == 1) {
      scale = fmt::format("{:.5g}", t.scales[0]);
      zp = fmt::format("{}", t.zero_points.empty() ? 0 : t.zero_points[0]);
    } else {
      auto [lo, hi] = std::minmax_element(t.scales.begin(), t.scales.end());
      scale = fmt::format("{:.3g}..{:.3g}", *lo, *hi);
      zp = "0";
    }
    std::string range = fmt::format("[{:.4g}, {:.4g}]", t.lo, t.hi);
    s += fmt::format("{:<30} {:<6} {:<18} {:>11} {:>5} {:>23} {:>8.2f} {:>9.6f}\n", name,
                     t.kind == "activation" ? "act" : "weight", op, scale, zp, range, t.snr_db, t.cosine);
  }
  return s;
}

std::string quantize_report_json(const QuantizeResult &r, const QuantizeOptions &o) {
  llvm::json::Array tensors;
  for (auto &t : r.tensors) {
    llvm::json::Array sc, zp;
    for (float v : t.scales) sc.push_back((double)v);
    for (int32_t v : t.zero_points) zp.push_back((int64_t)v);
    tensors.push_back(llvm::json::Object{{"name", t.name},
                                         {"kind", t.kind},
                                         {"op", t.op},
                                         {"node", t.node},
                                         {"scale", std::move(sc)},
                                         {"zero_point", std::move(zp)},
                                         {"range", llvm::json::Array{t.lo, t.hi}},
                                         {"observed", llvm::json::Array{t.seen_min, t.seen_max}},
                                         {"snr_db", t.snr_db},
                                         {"cosine", t.cosine}});
  }
  llvm::json::Array fl;
  for (auto &f : r.float_nodes) fl.push_back(f);
  llvm::json::Object rep{
      {"model", o.model_path},        {"mode", o.dynamic ? "dynamic" : "static"},      {"description", r.mode_text},
      {"per_channel", o.per_channel}, {"quantized_nodes", (int64_t)r.quantized_nodes}, {"float_nodes", std::move(fl)},
      {"tensors", std::move(tensors)}};
  if (!o.dynamic)
    rep["calibration"] = llvm::json::Object{{"dir", o.calibration_dir},
                                            {"method", calib::method_name(o.method)},
                                            {"percentile", o.percentile},
                                            {"samples", r.samples}};
  std::string js;
  llvm::raw_string_ostream os(js);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(rep)));
  os.flush();
  return js + "\n";
}

void write_file_atomically(const std::string &path, const std::string &bytes) {
  fs::path target = fs::absolute(fs::path(path));
  std::error_code ec;
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path(), ec);
  fs::path tmp = target;
  tmp += fmt::format(".tmp-{}", (long)getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f << bytes;
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      throw CompileError(fmt::format("cannot write '{}'", path));
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw CompileError(fmt::format("cannot write '{}'", path));
  }
}

} // namespace tmc::driver
