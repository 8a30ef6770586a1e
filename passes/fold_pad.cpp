// Folds a zero constant Pad into the Conv or AveragePool reading it:
//  * Pad(mode constant, value 0 or absent, constant pads that are zero on the
//    batch and channel dims and non-negative on the spatial dims) whose
//    single-use output is input 0 of a Conv with explicit pads (auto_pad
//    NOTSET, absent, or VALID) adds its pads to the Conv's `pads`;
//  * the same Pad before an AveragePool folds into the pool's pads with
//    count_include_pad=1 when the pool had no pads of its own, or already
//    counted its pads (the padded zeros are then part of every divisor, as
//    they were when they were real elements).
// MaxPool is left alone: its pads mean -inf, not zero.
// Also removes Pads whose pads are all zero, and merges a zero Pad reading
// the single-use output of another zero Pad into one Pad.
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

/// The constant pads of a Pad (ONNX layout: all begins, then all ends) and
/// whether it pads with zeros in constant mode; false if the pads are not
/// known or the node has an axes input.
bool pad_params(const ir::Node *p, std::vector<int64_t> &pads, bool &zero_constant) {
  if (!rw::is_op(p, "Pad") || !p->input(0) || !p->output(0)) return false;
  const ir::Value *x = p->input(0);
  if (!x->shape_known) return false;
  zero_constant = p->attr_string("mode", "constant") == "constant";
  if (p->opset < 11) {
    if (p->inputs.size() != 1) return false;
    pads = p->attr_ints(p->opset < 2 ? "paddings" : "pads");
    if (p->attr_float("value", 0.0f) != 0.0f) zero_constant = false;
  } else {
    if (p->inputs.size() > 3) return false; // axes input (opset 18)
    const ir::Value *pv = p->input(1);
    if (!pv || !pv->is_constant() || !ir::dtype_is_integer(pv->dtype)) return false;
    pads = pv->int_values();
    const ir::Value *cv = p->input(2);
    if (cv && (!cv->is_constant() || cv->numel() != 1 || cv->float_at(0) != 0.0)) zero_constant = false;
  }
  return pads.size() == 2 * x->rank();
}

/// The pads of a foldable zero Pad, or false.
bool zero_pad_pads(const ir::Node *p, std::vector<int64_t> &pads) {
  bool zc = false;
  if (!pad_params(p, pads, zc) || !zc) return false;
  size_t r = p->input(0)->rank();
  if (r < 3) return false;
  if (pads[0] || pads[1] || pads[r] || pads[r + 1]) return false;
  for (int64_t v : pads)
    if (v < 0) return false;
  return true;
}

/// Removes a Pad with all-zero pads (a copy, in any mode), or merges a zero
/// constant Pad into the zero constant Pad it reads (single-use) by adding
/// the pads.
enum class PadSimplified { None, Merged, Removed };
PadSimplified simplify_pad(ir::Graph &g, ir::Node *pad) {
  std::vector<int64_t> pads;
  bool zc = false;
  const auto none = PadSimplified::None;
  if (!pad_params(pad, pads, zc)) return none;
  bool all_zero = true;
  for (int64_t v : pads) all_zero = all_zero && v == 0;
  if (all_zero)
    return pad->input(0)->shape == pad->output(0)->shape && rw::bypass_node(g, pad) ? PadSimplified::Removed
                                                                                     : none;
  if (!zc) return none;
  for (int64_t v : pads)
    if (v < 0) return none;
  ir::Node *first = pad->input(0)->producer;
  std::vector<int64_t> p1;
  bool zc1 = false;
  if (!first || !pad_params(first, p1, zc1) || !zc1 || !rw::single_use(g, pad->input(0))) return none;
  for (int64_t v : p1)
    if (v < 0) return none;
  for (size_t i = 0; i < pads.size(); ++i) pads[i] += p1[i];
  ir::Value *src = first->input(0);
  if (pad->opset < 11) {
    pad->attrs[pad->opset < 2 ? "paddings" : "pads"] = pads;
    pad->inputs = {src};
  } else {
    ir::Value *pv = g.add_constant_of<int64_t>(g.unique_name(pad->name + "_pads"), ir::DType::I64,
                                               {(int64_t)pads.size()}, pads);
    pad->inputs[0] = src;
    pad->inputs[1] = pv;
  }
  g.remove_node(first);
  return PadSimplified::Merged;
}

class FoldPad : public Pass {
public:
  const char *name() const override { return "fold-pad"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *pad : order) {
      if (!rw::is_op(pad, "Pad")) continue;
      PadSimplified ps = simplify_pad(g, pad);
      if (ps != PadSimplified::None) changed = true;
      if (ps == PadSimplified::Removed) continue;
      std::vector<int64_t> pads;
      if (!zero_pad_pads(pad, pads)) continue;
      ir::Value *mid = pad->output(0);
      ir::Node *u = rw::single_user(g, mid);
      if (!u || u->input(0) != mid) continue;
      bool conv = rw::is_op(u, "Conv"), avg = rw::is_op(u, "AveragePool");
      if (!conv && !avg) continue;
      size_t r = mid->rank(), nd = r - 2;
      if (!u->output(0) || u->output(0)->rank() != r) continue;
      std::string ap = u->attr_string("auto_pad", "NOTSET");
      if (ap != "NOTSET" && ap != "" && ap != "VALID") continue;
      std::vector<int64_t> own = ap == "VALID" ? std::vector<int64_t>() : u->attr_ints("pads");
      if (own.empty()) own.assign(2 * nd, 0);
      if (own.size() != 2 * nd) continue;
      if (avg) {
        bool own_zero = true;
        for (int64_t v : own) own_zero = own_zero && v == 0;
        if (!own_zero && u->attr_int("count_include_pad", 0) == 0) continue;
      }
      for (size_t d = 0; d < nd; ++d) {
        own[d] += pads[2 + d];
        own[nd + d] += pads[r + 2 + d];
      }
      u->attrs["pads"] = own;
      u->attrs.erase("auto_pad");
      if (avg) u->attrs["count_include_pad"] = int64_t(1);
      u->inputs[0] = pad->input(0);
      g.remove_node(pad);
      changed = true;
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_fold_pad_pass() { return std::make_unique<FoldPad>(); }
} // namespace tmc::passes
