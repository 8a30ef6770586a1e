#include <fmt/format.h>
#include <sstream>

#include "ir/graph.h"

namespace tmc::ir {

static std::string type_str(const Value *v) {
  std::string s = fmt::format("{}[{}]", dtype_name(v->dtype), v->shape_known ? shape_str(v->shape) : "?");
  if (v->quant) {
    const QuantParams &q = *v->quant;
    if (q.per_tensor() && !q.scales.empty())
      s += fmt::format(" q(scale={:g}, zp={})", q.scales[0],
                       q.zero_points.empty() ? 0 : q.zero_points[0]);
    else
      s += fmt::format(" q(axis={}, {} scales)", q.axis, q.scales.size());
  }
  if (v->arena_offset >= 0) s += fmt::format(" @arena+{}", v->arena_offset);
  if (v->alias_of) s += fmt::format(" @alias({}+{})", v->alias_of->name, v->alias_offset);
  return s;
}

template <typename T> static std::string join(const std::vector<T> &v) {
  std::string r = "[";
  for (size_t i = 0; i < v.size(); ++i) r += (i ? "," : "") + fmt::format("{}", v[i]);
  return r + "]";
}

static std::string attr_str(const AttrValue &a) {
  if (auto p = std::get_if<int64_t>(&a)) return std::to_string(*p);
  if (auto p = std::get_if<float>(&a)) return fmt::format("{:g}", *p);
  if (auto p = std::get_if<std::string>(&a)) return "\"" + *p + "\"";
  if (auto p = std::get_if<std::vector<int64_t>>(&a)) return join(*p);
  if (auto p = std::get_if<std::vector<float>>(&a)) return join(*p);
  if (auto p = std::get_if<std::vector<std::string>>(&a)) return join(*p);
  if (auto p = std::get_if<TensorAttr>(&a))
    return fmt::format("tensor<{}[{}]>", dtype_name(p->dtype), shape_str(p->shape));
  return "graph";
}

std::string print(const Graph &g, bool show_constant_data) {
  std::ostringstream os;
  os << "graph " << g.name << " (";
  bool first = true;
  for (auto &[d, v] : g.opsets) {
    os << (first ? "" : ", ") << (d.empty() ? "ai.onnx" : d) << " v" << v;
    first = false;
  }
  os << ")\n";
  for (const Value *v : g.inputs) os << "  input  %" << v->name << " : " << type_str(v) << "\n";
  for (auto &v : g.values()) {
    if (!v->is_constant()) continue;
    os << "  const  %" << v->name << " : " << type_str(v.get());
    if (show_constant_data || v->numel() <= 8) {
      os << " = [";
      int64_t n = std::min<int64_t>(v->numel(), show_constant_data ? v->numel() : 8);
      for (int64_t i = 0; i < n; ++i) {
        if (i) os << ",";
        if (dtype_is_float(v->dtype) && v->dtype != DType::F16 && v->dtype != DType::BF16)
          os << fmt::format("{:g}", v->float_at(i));
        else if (dtype_is_integer(v->dtype) || v->dtype == DType::Bool)
          os << v->int_at(i);
        else
          os << "?";
      }
      os << "]";
    }
    os << "\n";
  }
  for (auto &n : g.nodes()) {
    os << "  ";
    for (size_t i = 0; i < n->outputs.size(); ++i)
      os << (i ? ", " : "") << (n->outputs[i] ? "%" + n->outputs[i]->name : "_");
    os << " = " << (n->domain.empty() ? "" : n->domain + "::") << n->op << "(";
    for (size_t i = 0; i < n->inputs.size(); ++i)
      os << (i ? ", " : "") << (n->inputs[i] ? "%" + n->inputs[i]->name : "_");
    os << ")";
    if (!n->attrs.empty()) {
      os << " {";
      bool f = true;
      for (auto &[k, a] : n->attrs) {
        os << (f ? "" : ", ") << k << "=" << attr_str(a);
        f = false;
      }
      os << "}";
    }
    os << "  # " << n->name;
    for (Value *o : n->outputs)
      if (o) os << " " << o->name << ":" << type_str(o);
    if (n->scratch_bytes) os << fmt::format(" scratch={}@{}", n->scratch_bytes, n->scratch_offset);
    os << "\n";
  }
  for (const Value *v : g.outputs) os << "  output %" << v->name << " : " << type_str(v) << "\n";
  return os.str();
}

} // namespace tmc::ir
