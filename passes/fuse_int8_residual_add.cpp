// Pass: fuse-int8-residual-add. A tmc::QAdd whose one operand is the only
// use of an int8 QLinearConv (group 1, every parameter constant, weight zero
// points 0) becomes one tmc::QLinearConvAdd node:
//   QLinearConvAdd(x, x_scale, x_zp, w, w_scale, w_zp, c_scale, c_zp, bias,
//                  skip, skip_scale, skip_zp, y_scale, y_zp) -> y
// computing, per output element, the convolution requantized to (c_scale,
// c_zp) exactly as QLinearConv would store it, then the QAdd of that value
// and skip[i] exactly as the QAdd kernel would (both int8 semantics; the
// QAdd arithmetic is symmetric in its operands). The result is bit-identical
// and the conv output tensor disappears; the kernel reads skip[i] before it
// writes y[i], so y may take over skip's storage (a residual block then needs
// two activation buffers instead of three).
#include "passes/pass.h"

namespace tmc::passes {
namespace {

bool is_const(const ir::Value *v) { return v && v->is_constant(); }

bool conv_fusable(const ir::Graph &g, const ir::Node *c) {
  if (!c || !c->domain.empty() || c->op != "QLinearConv") return false;
  if (c->attr_int("group", 1) != 1 || c->has_attr("tmc_layout")) return false;
  const ir::Value *x = c->input(0), *w = c->input(3), *y = c->output(0);
  if (!x || !w || !y || x->dtype != ir::DType::I8 || w->dtype != ir::DType::I8) return false;
  if (y->dtype != ir::DType::I8 || x->rank() != 4 || x->shape[0] != 1) return false;
  for (size_t i = 1; i < 8; ++i)
    if (!is_const(c->input(i))) return false;
  if (c->input(8) && !is_const(c->input(8))) return false;
  for (int64_t z : c->input(5)->int_values())
    if (z != 0) return false;
  return !g.is_graph_output(y) && g.users(y).size() == 1;
}

class FuseInt8ResidualAdd : public Pass {
public:
  const char *name() const override { return "fuse-int8-residual-add"; }
  bool run(ir::Graph &g) override {
    bool changed = false, again = true;
    while (again) {
      again = false;
      for (auto &np : g.nodes()) {
        ir::Node *add = np.get();
        if (add->domain != "tmc" || add->op != "QAdd") continue;
        // QLinearAdd's own arithmetic (tmc_int8_arith = qlinear) is not the
        // epilogue's; leave those adds alone.
        if (!add->attr_string("tmc_int8_arith", "").empty()) continue;
        const ir::Value *y = add->output(0);
        if (!y || y->dtype != ir::DType::I8) continue;
        bool params = true;
        for (size_t i : {1, 2, 4, 5, 6, 7}) params = params && is_const(add->input(i)) && add->input(i)->numel() == 1;
        if (!params) continue;
        // The operand produced by a fusable conv (the later one if both are).
        int side = -1;
        for (int s : {0, 3}) {
          ir::Value *v = add->input(s);
          ir::Value *o = add->input(s == 0 ? 3 : 0);
          if (!v || !o || v->shape != y->shape || o->shape != y->shape || o->dtype != ir::DType::I8) continue;
          if (!conv_fusable(g, v->producer)) continue;
          if (side < 0 || g.index_of(v->producer) > g.index_of(add->input(side)->producer)) side = s;
        }
        if (side < 0) continue;
        ir::Node *conv = add->input(side)->producer;
        const int o = side == 0 ? 3 : 0;
        std::vector<ir::Value *> ins(conv->inputs.begin(), conv->inputs.end());
        ins.resize(9, nullptr);
        ins.push_back(add->input(o));
        ins.push_back(add->input(o + 1));
        ins.push_back(add->input(o + 2));
        ins.push_back(add->input(6));
        ins.push_back(add->input(7));
        ir::Value *out = add->output(0);
        ir::Node *f = g.insert_node(add, "QLinearConvAdd", ins, {}, conv->name + "_add");
        f->domain = "tmc";
        f->attrs = conv->attrs;
        for (auto &kv : add->attrs)
          if (kv.first == "tmc_int8_semantics") f->attrs[kv.first] = kv.second;
        g.remove_node(add);
        g.remove_node(conv);
        f->outputs.push_back(out);
        g.rebuild_producers();
        g.remove_unused_values();
        changed = again = true;
        break;
      }
    }
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_fuse_int8_residual_add_pass() { return std::make_unique<FuseInt8ResidualAdd>(); }
} // namespace tmc::passes
