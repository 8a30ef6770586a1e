// Folds an elementwise Mul, Add, Sub or Div by a constant that is a scalar or
// per-output-channel into the weights and bias of the Conv, ConvTranspose or
// Gemm that produces the other operand (its single-use output):
//   Conv:  constant shaped [], [1], [C,1,1], [1,C,1,1] (any rank <= output rank
//          whose only non-1 dimension is the channel dimension 1);
//   Gemm:  constant shaped [], [1], [N], [1,N].
// Mul scales the weights and bias, Add/Sub shift the bias, Div by a nonzero
// constant scales by its reciprocal.
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

/// Per-channel values of constant operand `ci` of `n` broadcast against an
/// output of shape `out` (channel = dim 1); false if it is not per-channel.
bool per_channel_values(const ir::Node *n, size_t ci, const ir::Shape &out, std::vector<double> &v) {
  const ir::Value *c = n->input(ci);
  if (!rw::is_f32_constant(c) || out.size() < 2) return false;
  ir::Shape cs = rw::operand_shape(*n, ci);
  if (cs.size() > out.size()) return false;
  int64_t C = out[1];
  bool has_channel = false;
  size_t off = out.size() - cs.size();
  for (size_t j = 0; j < cs.size(); ++j) {
    if (cs[j] == 1) continue;
    if (off + j == 1 && cs[j] == C) {
      has_channel = true;
      continue;
    }
    return false;
  }
  if (ir::shape_numel(cs) != c->numel()) return false;
  auto vals = rw::f32_values(c);
  v.assign((size_t)C, 0.0);
  for (int64_t i = 0; i < C; ++i) v[(size_t)i] = vals[has_channel ? (size_t)i : 0];
  return true;
}

class FoldConvScale : public Pass {
public:
  const char *name() const override { return "fold-conv-scale"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *n : order) {
      if (!(rw::is_op(n, "Mul") || rw::is_op(n, "Add") || rw::is_op(n, "Sub") || rw::is_op(n, "Div"))) continue;
      if (n->inputs.size() != 2 || !n->output(0) || n->output(0)->dtype != ir::DType::F32) continue;
      for (size_t i = 0; i < 2; ++i) {
        ir::Value *x = n->input(i);
        if (!x || !x->producer || x->is_constant()) continue;
        ir::Node *p = x->producer;
        if (!(rw::is_op(p, "Conv") || rw::is_op(p, "ConvTranspose") || rw::is_op(p, "Gemm"))) continue;
        if (p->output(0) != x || !rw::single_use(g, x) || !rw::can_apply_channel_affine(p)) continue;
        if (n->output(0)->shape != x->shape || rw::operand_shape(*n, i) != x->shape) continue;
        std::vector<double> v;
        if (!per_channel_values(n, 1 - i, x->shape, v)) continue;
        std::vector<double> scale(v.size(), 1.0), shift(v.size(), 0.0);
        if (n->op == "Mul") {
          scale = v;
        } else if (n->op == "Add") {
          shift = v;
        } else if (n->op == "Sub") {
          if (i == 0) {
            for (size_t c = 0; c < v.size(); ++c) shift[c] = -v[c];
          } else {
            for (size_t c = 0; c < v.size(); ++c) {
              scale[c] = -1.0;
              shift[c] = v[c];
            }
          }
        } else { // Div
          if (i != 0) continue;
          bool ok = true;
          for (double d : v) ok = ok && d != 0.0;
          if (!ok) continue;
          for (size_t c = 0; c < v.size(); ++c) scale[c] = 1.0 / v[c];
        }
        rw::apply_channel_affine(g, p, scale, shift);
        rw::absorb_consumer(g, p, x, n, n->output(0));
        changed = true;
        break;
      }
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_fold_conv_scale_pass() { return std::make_unique<FoldConvScale>(); }
} // namespace tmc::passes
