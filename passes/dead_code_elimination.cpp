// Removes nodes none of whose outputs reach a graph output, then unused values.
#include <set>

#include "passes/pass.h"

namespace tmc::passes {
namespace {

class DeadCodeElimination : public Pass {
public:
  const char *name() const override { return "dce"; }
  bool run(ir::Graph &g) override {
    std::set<const ir::Value *> needed(g.outputs.begin(), g.outputs.end());
    std::vector<ir::Node *> dead;
    auto &nodes = g.nodes();
    for (size_t i = nodes.size(); i-- > 0;) {
      ir::Node *n = nodes[i].get();
      bool live = false;
      for (ir::Value *o : n->outputs)
        if (o && needed.count(o)) live = true;
      if (!live) {
        dead.push_back(n);
        continue;
      }
      for (ir::Value *in : n->inputs)
        if (in) needed.insert(in);
    }
    for (ir::Node *n : dead) g.remove_node(n);
    size_t before = g.values().size();
    g.remove_unused_values();
    return !dead.empty() || before != g.values().size();
  }
};

} // namespace
std::unique_ptr<Pass> create_dead_code_elimination_pass() {
  return std::make_unique<DeadCodeElimination>();
}
} // namespace tmc::passes
