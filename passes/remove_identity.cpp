// Removes Identity nodes and inference-mode Dropout (its mask output must be
// unused). A graph output that would become a graph input or a constant keeps
// its Identity, so the output buffer is still written.
#include "passes/pass.h"

namespace tmc::passes {
namespace {

class RemoveIdentity : public Pass {
public:
  const char *name() const override { return "remove-identity"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> todo;
    for (auto &n : g.nodes()) {
      if (!n->domain.empty()) continue;
      if (n->op == "Identity" && n->inputs.size() == 1 && n->input(0)) todo.push_back(n.get());
      if (n->op == "Dropout" && n->input(0)) {
        bool training = false;
        if (n->input(2)) {
          // training_mode input: only removable when it is a constant false.
          training = !n->input(2)->is_constant() || n->input(2)->int_at(0) != 0;
        }
        if (n->attr_int("is_test", 1) == 0 && n->opset < 7) training = true;
        bool mask_used = n->output(1) && (!g.users(n->output(1)).empty() || g.is_graph_output(n->output(1)));
        if (!training && !mask_used) todo.push_back(n.get());
      }
    }
    for (ir::Node *n : todo) {
      ir::Value *in = n->input(0);
      ir::Value *out = n->output(0);
      if (!out) continue;
      if (g.is_graph_output(out) &&
          (g.is_graph_output(in) || g.is_graph_input(in) || in->is_constant())) {
        if (n->op == "Dropout") {
          // Keep the copy, as an Identity.
          n->op = "Identity";
          n->inputs.resize(1);
          n->outputs.resize(1);
          n->attrs.clear();
          changed = true;
        }
        continue;
      }
      if (g.is_graph_output(out)) {
        // Let the producer of `in` write the output directly.
        if (in->dtype != out->dtype) continue;
        g.replace_all_uses(in, out);
        // `in`'s producer now must produce `out`.
        if (ir::Node *p = in->producer) {
          for (auto &o : p->outputs)
            if (o == in) o = out;
          out->producer = p;
        }
        n->inputs[0] = nullptr;
        g.remove_node(n);
        // Re-point any user of `in` scheduled earlier (none: producers precede).
      } else {
        g.replace_all_uses(out, in);
        g.remove_node(n);
      }
      changed = true;
    }
    if (changed) {
      g.rebuild_producers();
      g.remove_unused_values();
    }
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_remove_identity_pass() { return std::make_unique<RemoveIdentity>(); }
} // namespace tmc::passes
