// Re-runs ONNX shape inference over the current IR to resolve shapes that
// became computable after constant folding (e.g. Pad amounts built from
// Shape/Slice/Concat chains).
#include <fmt/format.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <unordered_map>

#include "frontend/contrib_schemas.h"
#include "frontend/onnx_importer.h"

namespace tmc::frontend {

static void set_type(onnx::ValueInfoProto *vi, const ir::Value &v, bool with_shape) {
  vi->set_name(v.name);
  auto *tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(ir::dtype_to_onnx(v.dtype));
  if (with_shape && v.shape_known) {
    auto *sh = tt->mutable_shape();
    for (int64_t d : v.shape) sh->add_dim()->set_dim_value(d);
  }
}

static void to_attr(onnx::AttributeProto *a, const std::string &name, const ir::AttrValue &v) {
  using AP = onnx::AttributeProto;
  a->set_name(name);
  if (auto p = std::get_if<int64_t>(&v)) { a->set_type(AP::INT); a->set_i(*p); }
  else if (auto p = std::get_if<float>(&v)) { a->set_type(AP::FLOAT); a->set_f(*p); }
  else if (auto p = std::get_if<std::string>(&v)) { a->set_type(AP::STRING); a->set_s(*p); }
  else if (auto p = std::get_if<std::vector<int64_t>>(&v)) { a->set_type(AP::INTS); for (auto x : *p) a->add_ints(x); }
  else if (auto p = std::get_if<std::vector<float>>(&v)) { a->set_type(AP::FLOATS); for (auto x : *p) a->add_floats(x); }
  else if (auto p = std::get_if<std::vector<std::string>>(&v)) { a->set_type(AP::STRINGS); for (auto &x : *p) a->add_strings(x); }
  else if (auto p = std::get_if<ir::TensorAttr>(&v)) {
    a->set_type(AP::TENSOR);
    auto *t = a->mutable_t();
    t->set_data_type(ir::dtype_to_onnx(p->dtype));
    for (auto d : p->shape) t->add_dims(d);
    if (p->data) t->set_raw_data(std::string(p->data->begin(), p->data->end()));
  }
}

int refine_shapes(ir::Graph &g) {
  bool any_unknown = false;
  for (auto &v : g.values())
    if (!v->shape_known || v->dtype == ir::DType::Undefined) any_unknown = true;
  if (!any_unknown) return 0;

  onnx::ModelProto m;
  m.set_ir_version(8);
  for (auto &[d, ver] : g.opsets) {
    auto *op = m.add_opset_import();
    op->set_domain(d);
    op->set_version(ver);
  }
  auto *gp = m.mutable_graph();
  gp->set_name(g.name.empty() ? "g" : g.name);
  for (const ir::Value *v : g.inputs) set_type(gp->add_input(), *v, true);
  std::unordered_map<const ir::Value *, bool> emitted;
  for (auto &n : g.nodes())
    for (const ir::Value *v : n->inputs)
      if (v && v->is_constant() && !emitted[v]) {
        emitted[v] = true;
        auto *t = gp->add_initializer();
        t->set_name(v->name);
        t->set_data_type(ir::dtype_to_onnx(v->dtype));
        for (auto d : v->shape) t->add_dims(d);
        t->set_raw_data(std::string(v->data->begin(), v->data->end()));
      }
  for (auto &n : g.nodes()) {
    auto *np = gp->add_node();
    np->set_op_type(n->op);
    np->set_domain(n->domain);
    np->set_name(n->name);
    for (const ir::Value *v : n->inputs) np->add_input(v ? v->name : "");
    for (const ir::Value *v : n->outputs) np->add_output(v ? v->name : "");
    for (auto &[k, a] : n->attrs) {
      if (std::holds_alternative<std::shared_ptr<ir::Graph>>(a)) continue;
      if (k.rfind("tmc_", 0) == 0) continue; // internal attributes (fusion)
      to_attr(np->add_attribute(), k, a);
    }
    for (const ir::Value *v : n->outputs)
      if (v && v->shape_known && v->dtype != ir::DType::Undefined && !g.is_graph_output(v))
        set_type(gp->add_value_info(), *v, true);
  }
  for (const ir::Value *v : g.outputs) set_type(gp->add_output(), *v, v->shape_known);
  try {
    onnx::ShapeInferenceOptions so(false, 0, true);
    onnx::shape_inference::InferShapes(m, schema_registry(), so);
  } catch (const std::exception &e) {
    throw ir::CompileError(fmt::format("ONNX shape inference failed while refining shapes: {}", e.what()));
  }
  int fixed = 0;
  auto take = [&](const onnx::ValueInfoProto &vi) {
    ir::Value *v = g.find_value(vi.name());
    if (!v || (v->shape_known && v->dtype != ir::DType::Undefined) || !vi.type().has_tensor_type()) return;
    auto &tt = vi.type().tensor_type();
    if (v->dtype == ir::DType::Undefined) v->dtype = ir::dtype_from_onnx(tt.elem_type());
    if (!tt.has_shape()) return;
    ir::Shape s;
    for (auto &d : tt.shape().dim()) {
      if (!d.has_dim_value()) return;
      s.push_back(d.dim_value());
    }
    v->shape = s;
    v->shape_known = true;
    ++fixed;
  };
  for (auto &vi : gp->value_info()) take(vi);
  for (auto &vi : gp->output()) take(vi);
  return fixed;
}

} // namespace tmc::frontend
