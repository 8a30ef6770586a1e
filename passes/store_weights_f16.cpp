// Pass: store-weights-f16 (opt-in: tmc compile --weights float16). The
// float32 constant weights of Conv, ConvTranspose, Gemm and MatMul (input 1,
// after every packing pass has run) are stored as IEEE half in flash, rounded
// to nearest even, and widened back by a Cast node right before their
// consumer. Flash for those weights halves; the widened copy lives in the
// activation arena only while its consumer runs (the memory planner overlaps
// it with other tensors), so RAM grows by at most the largest such layer's
// float32 weights, and each inference converts every weight once. Results
// change by the half rounding of the weights (about 3 decimal digits).
// Biases and small tensors (< 64 elements) stay float32.
#include <cstring>

#include "passes/pass.h"

namespace tmc::passes {
namespace {

class StoreWeightsF16 : public Pass {
public:
  const char *name() const override { return "store-weights-f16"; }
  bool run(ir::Graph &g) override {
    static const char *ops[] = {"Conv", "ConvTranspose", "Gemm", "MatMul"};
    std::vector<ir::Node *> todo;
    for (auto &np : g.nodes()) {
      ir::Node *n = np.get();
      if (!n->domain.empty()) continue;
      bool match = false;
      for (const char *o : ops) match = match || n->op == o;
      ir::Value *w = match ? n->input(1) : nullptr;
      if (!w || !w->is_constant() || w->dtype != ir::DType::F32 || w->numel() < 64) continue;
      todo.push_back(n);
    }
    for (ir::Node *n : todo) {
      ir::Value *w = n->input(1);
      const float *src = w->as<float>();
      std::vector<uint16_t> h((size_t)w->numel());
      for (int64_t i = 0; i < w->numel(); ++i) h[(size_t)i] = ir::f32_to_f16(src[i]);
      ir::Value *c = g.add_constant_of<uint16_t>(g.unique_name(w->name + "_f16"), ir::DType::F16, w->shape, h);
      ir::Value *wide = g.add_value(g.unique_name(w->name + "_f32"), ir::DType::F32, w->shape);
      ir::Node *cast = g.insert_node(n, "Cast", {c}, {wide}, n->name + "_weights_f16");
      cast->attrs["to"] = int64_t(1); // FLOAT
      n->inputs[1] = wide;
    }
    if (!todo.empty()) g.remove_unused_values();
    return !todo.empty();
  }
};

} // namespace
std::unique_ptr<Pass> create_store_weights_f16_pass() { return std::make_unique<StoreWeightsF16>(); }
} // namespace tmc::passes
