#include <fmt/format.h>
#include <set>

#include "ir/graph.h"

namespace tmc::ir {

void verify(const Graph &g, bool require_static_shapes) {
  std::set<const Value *> owned;
  for (auto &v : g.values()) owned.insert(v.get());
  std::set<const Value *> defined;
  std::set<std::string> node_names;
  auto check_value = [&](const Value *v, const std::string &where) {
    if (!owned.count(v))
      throw CompileError(fmt::format("IR verifier: {} refers to a value not owned by the graph", where));
    if (v->dtype == DType::Undefined)
      throw CompileError(fmt::format("IR verifier: value '{}' has no dtype", v->name));
    if (require_static_shapes && !v->shape_known)
      throw CompileError(fmt::format("IR verifier: value '{}' has a non-static shape {}; fix it with --input-shape",
                                     v->name, shape_str(v->shape)));
  };
  for (const Value *v : g.inputs) {
    check_value(v, "a graph input");
    if (v->is_constant())
      throw CompileError(fmt::format("IR verifier: graph input '{}' is constant", v->name));
    defined.insert(v);
  }
  for (auto &v : g.values())
    if (v->is_constant()) {
      if ((int64_t)v->data->size() != v->nbytes())
        throw CompileError(fmt::format("IR verifier: constant '{}' holds {} bytes, shape needs {}",
                                       v->name, v->data->size(), v->nbytes()));
      defined.insert(v.get());
    }
  for (auto &n : g.nodes()) {
    if (!node_names.insert(n->name).second)
      throw CompileError(fmt::format("IR verifier: duplicate node name '{}'", n->name));
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Value *v = n->inputs[i];
      if (!v) continue;
      check_value(v, n->label());
      if (!defined.count(v))
        throw CompileError(*n, fmt::format("IR verifier: input {} '{}' is used before it is defined",
                                           i, v->name));
    }
    for (const Value *v : n->outputs) {
      if (!v) continue;
      check_value(v, n->label());
      if (v->is_constant())
        throw CompileError(*n, fmt::format("IR verifier: output '{}' is a constant", v->name));
      if (!defined.insert(v).second)
        throw CompileError(*n, fmt::format("IR verifier: value '{}' is defined twice", v->name));
      if (v->producer != n.get())
        throw CompileError(*n, fmt::format("IR verifier: producer link of '{}' is stale", v->name));
    }
  }
  for (const Value *v : g.outputs) {
    check_value(v, "a graph output");
    if (!defined.count(v))
      throw CompileError(fmt::format("IR verifier: graph output '{}' is never computed", v->name));
  }
}

} // namespace tmc::ir
