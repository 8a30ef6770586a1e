// Simplifies layout ops (all shapes are static):
//  * removes Transposes whose permutation is the identity;
//  * merges a Transpose that reads a single-use Transpose into one Transpose
//    with the composed permutation (removed if that is the identity);
//  * collapses a Reshape, Flatten, Squeeze or Unsqueeze that reads the
//    single-use output of another one into a single Reshape with a constant
//    shape (the final output shape);
//  * removes Reshape/Flatten/Squeeze/Unsqueeze whose output shape equals the
//    input shape.
// Graph outputs keep their names (the producer writes them directly; when
// that is impossible an identity Transpose becomes a plain Identity copy).
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

bool is_reshape_like(const ir::Node *n) {
  return rw::is_op(n, "Reshape") || rw::is_op(n, "Flatten") || rw::is_op(n, "Squeeze") ||
         rw::is_op(n, "Unsqueeze");
}

/// A usable single-output layout node over a static tensor.
bool plain_layout_node(const ir::Node *n) {
  if (!n->input(0) || !n->output(0)) return false;
  for (size_t i = 1; i < n->outputs.size(); ++i)
    if (n->outputs[i]) return false;
  const ir::Value *x = n->input(0), *y = n->output(0);
  return x->shape_known && y->shape_known && x->dtype == y->dtype && x->dtype != ir::DType::Undefined &&
         x->numel() == y->numel();
}

/// The permutation of a Transpose (default: reversed dims); empty if invalid.
std::vector<int64_t> perm_of(const ir::Node *t) {
  int64_t r = (int64_t)t->input(0)->rank();
  std::vector<int64_t> p = t->attr_ints("perm");
  if (p.empty() && !t->has_attr("perm"))
    for (int64_t i = r - 1; i >= 0; --i) p.push_back(i);
  if ((int64_t)p.size() != r) return {};
  std::vector<bool> seen((size_t)r, false);
  for (int64_t &v : p) {
    if (v < 0) v += r;
    if (v < 0 || v >= r || seen[(size_t)v]) return {};
    seen[(size_t)v] = true;
  }
  return p;
}

bool is_identity_perm(const std::vector<int64_t> &p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != (int64_t)i) return false;
  return true;
}

class SimplifyTransposeReshape : public Pass {
public:
  const char *name() const override { return "simplify-transpose-reshape"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    // One walk in schedule order: a rewrite only looks at a node and its
    // producer (removing the producer, which is behind us), so each node is
    // retried until stable and then left behind.
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *n : order) {
      for (;;) {
        Result r = rewrite(g, n);
        if (r == Result::None) break;
        changed = true;
        if (r == Result::RemovedSelf) break;
      }
    }
    if (changed) {
      g.rebuild_producers();
      g.remove_unused_values();
    }
    return changed;
  }

private:
  enum class Result { None, Changed, RemovedSelf };

  static Result rewrite(ir::Graph &g, ir::Node *n) {
    if (rw::is_op(n, "Transpose")) {
      if (!plain_layout_node(n) || n->inputs.size() != 1) return Result::None;
      std::vector<int64_t> p2 = perm_of(n);
      if (p2.empty() && n->input(0)->rank() > 0) return Result::None;
      if (is_identity_perm(p2)) {
        if (rw::bypass_node(g, n)) return Result::RemovedSelf;
        // A graph output that must stay a copy: an Identity is cheaper.
        n->op = "Identity";
        n->attrs.clear();
        return Result::Changed;
      }
      ir::Node *t1 = n->input(0)->producer;
      if (rw::is_op(t1, "Transpose") && plain_layout_node(t1) && t1->inputs.size() == 1 &&
          rw::single_use(g, n->input(0))) {
        std::vector<int64_t> p1 = perm_of(t1);
        if (p1.size() != p2.size()) return Result::None;
        std::vector<int64_t> c(p2.size());
        for (size_t i = 0; i < p2.size(); ++i) c[i] = p1[(size_t)p2[i]];
        n->inputs[0] = t1->input(0);
        n->attrs["perm"] = c;
        g.remove_node(t1);
        return Result::Changed;
      }
      return Result::None;
    }
    if (!is_reshape_like(n) || !plain_layout_node(n)) return Result::None;
    ir::Value *x = n->input(0), *y = n->output(0);
    if (x->shape == y->shape) return rw::bypass_node(g, n) ? Result::RemovedSelf : Result::None;
    ir::Node *r1 = x->producer;
    if (is_reshape_like(r1) && plain_layout_node(r1) && rw::single_use(g, x)) {
      if (y->numel() == 0) return Result::None; // a 0 in a Reshape shape means "copy"
      ir::Value *src = r1->input(0);
      n->op = "Reshape";
      n->attrs.clear();
      if (n->opset > 0 && n->opset < 5) {
        n->inputs = {src};
        n->attrs["shape"] = std::vector<int64_t>(y->shape.begin(), y->shape.end());
      } else {
        ir::Value *s = g.add_constant_of<int64_t>(g.unique_name(n->name + "_shape"), ir::DType::I64,
                                                  {(int64_t)y->rank()},
                                                  std::vector<int64_t>(y->shape.begin(), y->shape.end()));
        n->inputs = {src, s};
      }
      g.remove_node(r1);
      return Result::Changed;
    }
    return Result::None;
  }
};

} // namespace
std::unique_ptr<Pass> create_simplify_transpose_reshape_pass() {
  return std::make_unique<SimplifyTransposeReshape>();
}
} // namespace tmc::passes
