// Folds inference BatchNormalization with constant parameters:
//  * into the weights and bias of a preceding Conv, ConvTranspose or Gemm
//    (the BN input must be that node's single-use output; for Gemm the BN
//    channel is the output's last dimension);
//  * otherwise into Mul and Add by constant per-channel tensors shaped
//    [C, 1, ..., 1] (rank of the input minus 1), which broadcast on NCHW
//    (so a following activation can fuse into the Add), unless the BN output
//    is a graph output (the split would cost an extra arena buffer).
// y = (x - mean) / sqrt(var + eps) * scale + bias = x * s + (bias - mean * s)
// with s = scale / sqrt(var + eps), computed in double.
#include <cmath>

#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

struct BnParams {
  std::vector<double> s, t; // y = x * s + t per channel
};

/// True if `n` is an inference BatchNormalization over float32 with constant
/// parameters whose extra outputs are unused; fills the per-channel affine.
bool bn_inference_params(const ir::Graph &g, const ir::Node *n, BnParams &p) {
  if (!rw::is_op(n, "BatchNormalization")) return false;
  const ir::Value *x = n->input(0), *y = n->output(0);
  if (!x || !y || x->dtype != ir::DType::F32 || y->dtype != ir::DType::F32) return false;
  if (!x->shape_known || x->rank() < 2 || x->shape != y->shape) return false;
  if (n->inputs.size() != 5) return false;
  for (size_t i = 1; i < 5; ++i)
    if (!rw::is_f32_constant(n->input(i))) return false;
  for (size_t i = 1; i < n->outputs.size(); ++i) {
    const ir::Value *o = n->outputs[i];
    if (o && (g.is_graph_output(o) || !g.users(o).empty())) return false;
  }
  // Training mode, as codegen decides it: the training_mode attribute from
  // opset 14; before, the presence of the statistics outputs (unless is_test).
  bool training;
  if (n->opset >= 14) {
    training = n->attr_int("training_mode", 0) != 0;
  } else if (n->opset > 0 && n->opset <= 6 && n->attr_int("is_test", 0) != 0) {
    training = false;
  } else {
    training = false;
    for (size_t i = 1; i < n->outputs.size(); ++i)
      if (n->outputs[i]) training = true;
  }
  if (training) return false;
  if (n->opset < 9 && n->attr_int("spatial", 1) == 0) return false;
  int64_t C = x->shape[1];
  for (size_t i = 1; i < 5; ++i)
    if (n->input(i)->numel() != C) return false;
  double eps = n->attr_float("epsilon", 1e-5f);
  auto scale = rw::f32_values(n->input(1)), bias = rw::f32_values(n->input(2));
  auto mean = rw::f32_values(n->input(3)), var = rw::f32_values(n->input(4));
  p.s.assign((size_t)C, 0.0);
  p.t.assign((size_t)C, 0.0);
  for (size_t c = 0; c < (size_t)C; ++c) {
    double d = var[c] + eps;
    if (!(d > 0.0)) return false; // keep the reference's NaN/inf behaviour
    p.s[c] = scale[c] / std::sqrt(d);
    p.t[c] = bias[c] - mean[c] * p.s[c];
  }
  return true;
}

class FoldBatchNorm : public Pass {
public:
  const char *name() const override { return "fold-batchnorm"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *bn : order) {
      BnParams p;
      if (!bn_inference_params(g, bn, p)) continue;
      ir::Value *x = bn->input(0), *y = bn->output(0);
      ir::Node *prod = x->producer;
      if (prod && rw::single_use(g, x) && prod->output(0) == x &&
          (rw::is_op(prod, "Conv") || rw::is_op(prod, "ConvTranspose") || rw::is_op(prod, "Gemm")) &&
          rw::can_apply_channel_affine(prod) && rw::output_channels(prod) == (int64_t)p.s.size() &&
          x->shape == y->shape) {
        rw::apply_channel_affine(g, prod, p.s, p.t);
        rw::absorb_consumer(g, prod, x, bn, y);
        changed = true;
        continue;
      }
      // Standalone: Mul and Add by [C, 1, ..., 1] constants. Not when the BN
      // writes a graph output: the Mul would then need an arena buffer the BN
      // did not (the Add writes the output, the Mul cannot).
      if (g.is_graph_output(y)) continue;
      int64_t C = x->shape[1];
      ir::Shape cs((size_t)x->rank() - 1, 1);
      cs[0] = C;
      ir::Value *sc = rw::add_f32_constant(g, bn->name + "_scale", cs, p.s);
      ir::Value *sh = rw::add_f32_constant(g, bn->name + "_shift", cs, p.t);
      ir::Value *tmp = g.add_value(g.unique_name(bn->name + "_scaled"), ir::DType::F32, x->shape);
      ir::Node *mul = g.insert_node(bn, "Mul", {x, sc}, {tmp}, g.unique_name(bn->name + "_mul"));
      ir::Node *add = g.insert_node(bn, "Add", {tmp, sh}, {y}, g.unique_name(bn->name + "_add"));
      mul->opset = add->opset = bn->opset;
      if (bn->opset < 7) {
        // Legacy broadcasting: align the [C, 1, ...] operand at axis 1.
        for (ir::Node *e : {mul, add}) {
          e->attrs["broadcast"] = int64_t(1);
          e->attrs["axis"] = int64_t(1);
        }
      }
      std::string bn_name = bn->name;
      g.remove_node(bn);
      y->producer = add;
      add->name = bn_name;
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
std::unique_ptr<Pass> create_fold_batchnorm_pass() { return std::make_unique<FoldBatchNorm>(); }
} // namespace tmc::passes
