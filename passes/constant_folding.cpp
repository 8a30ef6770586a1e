// Evaluates every node whose inputs are all constant (and that the reference
// evaluator implements) and replaces its outputs with constants.
#include <fmt/format.h>

#include "passes/eval/evaluator.h"
#include "passes/eval/nn.h"
#include "passes/pass.h"

namespace tmc::passes {
namespace {

/// Folding must not blow up flash: skip results much larger than the inputs
/// (e.g. Expand or Tile of a small constant), unless they are small anyway.
constexpr int64_t kMaxGrowthBytes = 1 << 16;

class ConstantFolding : public Pass {
public:
  const char *name() const override { return "constant-folding"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *n : order) {
      if (!n->domain.empty() && n->domain != "ai.onnx") continue;
      bool all_const = true;
      int64_t in_bytes = 0;
      std::vector<const ir::Value *> ins;
      for (ir::Value *v : n->inputs) {
        if (v && !v->is_constant()) all_const = false;
        if (v && v->is_constant()) in_bytes += (int64_t)v->data->size();
        ins.push_back(v);
      }
      // Convolutions, pooling and BatchNormalization are left to the generated
      // code (the evaluator runs them for calibration, not for folding).
      if (!all_const || eval::is_nn_op(*n) || !eval::can_evaluate(*n)) continue;
      std::vector<eval::HostTensor> outs = eval::evaluate(*n, ins);
      if (outs.size() < n->outputs.size()) throw ir::CompileError(*n, "internal: evaluator returned too few outputs");
      int64_t out_bytes = 0;
      for (auto &t : outs) out_bytes += (int64_t)t.data.size();
      if (out_bytes > in_bytes + kMaxGrowthBytes) continue;
      bool keep_node = false;
      for (size_t i = 0; i < n->outputs.size(); ++i) {
        ir::Value *out = n->outputs[i];
        if (!out) continue;
        auto &t = outs[i];
        if (out->dtype != ir::DType::Undefined && out->dtype != t.dtype)
          throw ir::CompileError(*n, fmt::format("internal: evaluator produced {} for output '{}' typed {}",
                                                 ir::dtype_name(t.dtype), out->name, ir::dtype_name(out->dtype)));
        ir::Value *c = g.add_constant(g.unique_name(out->name + "_c"), t.dtype, t.shape,
                                      std::make_shared<ir::Bytes>(std::move(t.data)));
        if (g.is_graph_output(out)) {
          keep_node = true; // the output buffer still has to be written
          out->dtype = c->dtype;
          out->shape = c->shape;
          out->shape_known = true;
          g.add_node("Identity", {c}, {out}, g.unique_name(n->name + "_out"));
        } else {
          g.replace_all_uses(out, c);
        }
      }
      (void)keep_node;
      // Move any Identity we appended to where the node was, then drop the node.
      g.remove_node(n);
      changed = true;
    }
    if (changed) {
      // Identities appended at the end only read constants: schedule is valid.
      g.remove_unused_values();
    }
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_constant_folding_pass() { return std::make_unique<ConstantFolding>(); }
} // namespace tmc::passes
