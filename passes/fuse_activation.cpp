// Fuses an activation into the node computing its input: a Conv,
// ConvTranspose, Gemm, MatMul, Add or Mul whose float32 output is read only by
// one of Relu, Clip, LeakyRelu, HardSwish, HardSigmoid, Sigmoid, Tanh, Elu,
// Selu, Softplus. The activation node disappears; the producer writes the
// activation's output value and carries the attributes
//   tmc_activation        the ONNX op name
//   tmc_activation_alpha  LeakyRelu/Elu alpha, HardSigmoid alpha, Selu alpha, Clip min
//   tmc_activation_beta   HardSigmoid beta, Selu gamma, Clip max
// which codegen applies (fused_activation_expr in codegen/kernel.cpp).
// x * HardSigmoid(x) with alpha 1/6, beta 0.5 (HardSwish before opset 14)
// fuses as HardSwish.
// A producer that already carries an activation only takes another one when
// the two compose into one (Relu/Clip chains, e.g. Relu then Clip(0, 6)).
#include <algorithm>
#include <cmath>
#include <limits>

#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

struct Act {
  std::string op;
  float alpha = 0.0f, beta = 0.0f;
  bool has_alpha = false, has_beta = false;
};

/// Reads a Clip bound: an optional constant float32 scalar input.
bool clip_bound(const ir::Value *v, float dflt, float &out) {
  if (!v) {
    out = dflt;
    return true;
  }
  if (!rw::is_f32_constant(v) || v->numel() != 1) return false;
  out = v->as<float>()[0];
  return true;
}

/// The activation `n` stands for, or false if it cannot be fused.
bool activation_of(const ir::Node *n, Act &a) {
  if (!n->domain.empty() || !n->input(0) || !n->output(0)) return false;
  for (size_t i = 1; i < n->outputs.size(); ++i)
    if (n->outputs[i]) return false;
  a.op = n->op;
  const std::string &op = n->op;
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish" || op == "Softplus") {
    return n->inputs.size() == 1;
  }
  if (op == "LeakyRelu") {
    a.alpha = n->attr_float("alpha", 0.01f);
    a.has_alpha = true;
    return true;
  }
  if (op == "Elu") {
    a.alpha = n->attr_float("alpha", 1.0f);
    a.has_alpha = true;
    return true;
  }
  if (op == "HardSigmoid") {
    a.alpha = n->attr_float("alpha", 0.2f);
    a.beta = n->attr_float("beta", 0.5f);
    a.has_alpha = a.has_beta = true;
    return true;
  }
  if (op == "Selu") {
    a.alpha = n->attr_float("alpha", 1.67326319217681884765625f);
    a.beta = n->attr_float("gamma", 1.05070102214813232421875f);
    a.has_alpha = a.has_beta = true;
    return true;
  }
  if (op == "Clip") {
    const float lo = -std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::max();
    if (n->opset < 11) {
      if (n->inputs.size() != 1) return false;
      a.alpha = n->attr_float("min", lo);
      a.beta = n->attr_float("max", hi);
    } else {
      if (n->inputs.size() > 3) return false;
      if (!clip_bound(n->input(1), lo, a.alpha) || !clip_bound(n->input(2), hi, a.beta)) return false;
    }
    // Clip with min > max yields max everywhere; the fused form would not.
    if (!(a.alpha <= a.beta)) return false;
    a.has_alpha = a.has_beta = true;
    return true;
  }
  return false;
}

/// Composes `next` after the activation `p` already carries when the result
/// is again one activation (Relu and Clip only: Relu then Clip(a, b) is
/// Clip(max(a, 0), b), and so on). False if it is not.
bool compose_with_existing(const ir::Node *p, Act &next) {
  std::string cur = p->attr_string("tmc_activation", "");
  float ca = p->attr_float("tmc_activation_alpha", 0.0f), cb = p->attr_float("tmc_activation_beta", 0.0f);
  float lo, hi;
  if (cur == "Relu") {
    lo = 0.0f;
    hi = std::numeric_limits<float>::infinity();
  } else if (cur == "Clip") {
    lo = ca;
    hi = cb;
  } else {
    return false;
  }
  if (next.op == "Relu") {
    if (cur == "Relu") return true;
    next.op = "Clip";
    next.alpha = std::max(lo, 0.0f);
    next.beta = std::max(hi, 0.0f);
  } else if (next.op == "Clip") {
    next.alpha = std::max(lo, next.alpha);
    next.beta = std::min(hi, next.beta);
  } else {
    return false;
  }
  // Disjoint ranges would give a constant: not expressible as one Clip.
  if (!(next.alpha <= next.beta)) return false;
  next.has_alpha = next.has_beta = true;
  return true;
}

bool is_fusable_producer(const ir::Node *p) {
  return rw::is_op(p, "Conv") || rw::is_op(p, "ConvTranspose") || rw::is_op(p, "Gemm") ||
         rw::is_op(p, "MatMul") || rw::is_op(p, "Add") || rw::is_op(p, "Mul");
}

/// x * HardSigmoid(x; alpha 1/6, beta 0.5) is HardSwish(x) (how exporters
/// write HardSwish before opset 14). Fuses it as a HardSwish activation into
/// the producer of x when x is read only by those two nodes.
bool fuse_hardswish_pattern(ir::Graph &g, ir::Node *mul) {
  if (!rw::is_op(mul, "Mul") || mul->inputs.size() != 2 || !mul->output(0)) return false;
  for (size_t i = 0; i < 2; ++i) {
    ir::Value *x = mul->input(1 - i), *h = mul->input(i);
    if (!x || !h || !h->producer || !rw::is_op(h->producer, "HardSigmoid")) continue;
    ir::Node *hs = h->producer;
    if (hs->input(0) != x || hs->output(0) != h || !rw::single_use(g, h)) continue;
    float alpha = hs->attr_float("alpha", 0.2f), beta = hs->attr_float("beta", 0.5f);
    if (std::fabs(alpha - 1.0f / 6.0f) > 1e-7f || beta != 0.5f) continue;
    ir::Node *p = x->producer;
    if (!p || !is_fusable_producer(p) || p->output(0) != x || p->outputs.size() != 1) continue;
    if (!rw::has_no_activation(p) || g.is_graph_output(x) || rw::use_count(g, x) != 2) continue;
    ir::Value *y = mul->output(0);
    if (x->dtype != ir::DType::F32 || y->dtype != ir::DType::F32 || h->shape != x->shape ||
        y->shape != x->shape || !x->shape_known)
      continue;
    p->attrs["tmc_activation"] = std::string("HardSwish");
    g.remove_node(hs);
    rw::absorb_consumer(g, p, x, mul, y);
    return true;
  }
  return false;
}

class FuseActivation : public Pass {
public:
  const char *name() const override { return "fuse-activation"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *n : order) {
      if (fuse_hardswish_pattern(g, n)) {
        changed = true;
        continue;
      }
      Act a;
      if (!activation_of(n, a)) continue;
      ir::Value *x = n->input(0), *y = n->output(0);
      ir::Node *p = x->producer;
      if (!p || !is_fusable_producer(p) || p->output(0) != x) continue;
      if (!rw::has_no_activation(p) && !compose_with_existing(p, a)) continue;
      if (p->outputs.size() != 1 || !rw::single_use(g, x)) continue;
      if (x->dtype != ir::DType::F32 || y->dtype != ir::DType::F32 || x->shape != y->shape) continue;
      if (!x->shape_known) continue;
      p->attrs["tmc_activation"] = a.op;
      if (a.has_alpha) p->attrs["tmc_activation_alpha"] = a.alpha;
      if (a.has_beta) p->attrs["tmc_activation_beta"] = a.beta;
      rw::absorb_consumer(g, p, x, n, y);
      changed = true;
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_fuse_activation_pass() { return std::make_unique<FuseActivation>(); }
} // namespace tmc::passes
