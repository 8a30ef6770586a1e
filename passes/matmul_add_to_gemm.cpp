// Rewrites MatMul(A, B) + bias into Gemm(A, B, bias) when A has rank 2, B is
// a constant [K, N], the bias is a constant [N] or [1, N] (either Add operand
// order), everything is float32, and the MatMul output is read only by the Add.
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

class MatMulAddToGemm : public Pass {
public:
  const char *name() const override { return "matmul-add-to-gemm"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    std::vector<ir::Node *> order;
    for (auto &n : g.nodes()) order.push_back(n.get());
    for (ir::Node *add : order) {
      if (!rw::is_op(add, "Add") || add->inputs.size() != 2 || !add->output(0)) continue;
      ir::Value *y = add->output(0);
      if (y->dtype != ir::DType::F32) continue;
      for (size_t i = 0; i < 2; ++i) {
        ir::Value *m = add->input(i), *bias = add->input(1 - i);
        if (!m || !bias) continue;
        ir::Node *mm = m->producer;
        if (!rw::is_op(mm, "MatMul") || mm->output(0) != m || mm->inputs.size() != 2) continue;
        if (!rw::single_use(g, m) || !rw::has_no_activation(mm)) continue;
        ir::Value *a = mm->input(0), *b = mm->input(1);
        if (!a || a->dtype != ir::DType::F32 || a->rank() != 2) continue;
        if (!rw::is_f32_constant(b) || b->rank() != 2) continue;
        int64_t M = a->shape[0], K = a->shape[1], N = b->shape[1];
        if (b->shape[0] != K || m->shape != ir::Shape{M, N} || y->shape != m->shape) continue;
        if (!rw::is_f32_constant(bias)) continue;
        ir::Shape bs = rw::operand_shape(*add, 1 - i);
        if (bs != ir::Shape{N} && bs != ir::Shape{1, N}) continue;
        if (rw::operand_shape(*add, i) != m->shape) continue;
        mm->op = "Gemm";
        mm->inputs = {a, b, bias};
        mm->attrs.clear();
        if (mm->opset > 0 && mm->opset < 7) mm->attrs["broadcast"] = int64_t(1);
        rw::absorb_consumer(g, mm, m, add, y);
        changed = true;
        break;
      }
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_matmul_add_to_gemm_pass() { return std::make_unique<MatMulAddToGemm>(); }
} // namespace tmc::passes
