// Pass: prepack-gemm-weights. A float32 Gemm whose B is a constant [K,N] with
// transB=0 reads B column-wise (stride N) in its inner loop. Store B
// transposed at compile time ([N,K], transB=1) so every output column is a
// contiguous dot product. Exact: the same products are summed in the same
// order.
#include "passes/pass.h"

namespace tmc::passes {
namespace {

class PrepackGemmWeights : public Pass {
public:
  const char *name() const override { return "prepack-gemm-weights"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    for (auto &np : g.nodes()) {
      ir::Node *n = np.get();
      if (!n->domain.empty() || n->op != "Gemm" || n->attr_int("transB", 0) != 0) continue;
      ir::Value *b = n->input(1);
      if (!b || !b->is_constant() || b->dtype != ir::DType::F32 || b->rank() != 2) continue;
      const int64_t K = b->shape[0], N = b->shape[1];
      std::vector<float> t((size_t)(K * N));
      const float *src = b->as<float>();
      for (int64_t kk = 0; kk < K; ++kk)
        for (int64_t j = 0; j < N; ++j) t[(size_t)(j * K + kk)] = src[kk * N + j];
      n->inputs[1] = g.add_constant_of<float>(g.unique_name(b->name + "_packed"), ir::DType::F32, {N, K}, t);
      n->attrs["transB"] = int64_t(1);
      changed = true;
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_prepack_gemm_weights_pass() { return std::make_unique<PrepackGemmWeights>(); }
} // namespace tmc::passes
