// Replaces Shape and Size of tensors with static shapes by constants, so that
// shape arithmetic (Gather, Slice, Concat on shapes) can be constant folded.
#include <algorithm>

#include "passes/pass.h"

namespace tmc::passes {
namespace {

class ShapeFolding : public Pass {
public:
  const char *name() const override { return "shape-folding"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> todo;
    for (auto &n : g.nodes())
      if (n->domain.empty() && (n->op == "Shape" || n->op == "Size") && n->input(0) &&
          n->input(0)->shape_known && n->output(0))
        todo.push_back(n.get());
    for (ir::Node *n : todo) {
      const ir::Shape &s = n->input(0)->shape;
      std::vector<int64_t> vals;
      ir::Shape oshape;
      if (n->op == "Shape") {
        int64_t r = (int64_t)s.size();
        int64_t start = n->attr_int("start", 0), end = n->attr_int("end", r);
        if (start < 0) start += r;
        if (end < 0) end += r;
        start = std::clamp<int64_t>(start, 0, r);
        end = std::clamp<int64_t>(end, 0, r);
        for (int64_t i = start; i < end; ++i) vals.push_back(s[(size_t)i]);
        oshape = {(int64_t)vals.size()};
      } else {
        vals.push_back(ir::shape_numel(s));
      }
      ir::Value *out = n->output(0);
      ir::Value *c = g.add_constant_of<int64_t>(g.unique_name(out->name + "_folded"), ir::DType::I64,
                                                oshape, vals);
      if (g.is_graph_output(out)) {
        // Keep the output name: turn the node into an Identity of the constant.
        n->op = "Identity";
        n->inputs = {c};
        n->attrs.clear();
        out->dtype = ir::DType::I64;
        out->shape = oshape;
        out->shape_known = true;
      } else {
        g.replace_all_uses(out, c);
        g.remove_node(n);
      }
      changed = true;
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_shape_folding_pass() { return std::make_unique<ShapeFolding>(); }
} // namespace tmc::passes
