#include <chrono>
#include <fmt/format.h>

#include "passes/pass.h"

namespace tmc::passes {

void PassManager::run(ir::Graph &g) {
  timings_.clear();
  for (auto &p : passes_) {
    if (disabled_.count(p->name())) continue;
    auto t0 = std::chrono::steady_clock::now();
    bool changed = p->run(g);
    auto t1 = std::chrono::steady_clock::now();
    timings_.push_back({p->name(), std::chrono::duration<double, std::milli>(t1 - t0).count(), changed});
    if (verify_) {
      try {
        ir::verify(g, false);
      } catch (const ir::CompileError &e) {
        throw ir::CompileError(fmt::format("after pass '{}': {}", p->name(), e.what()));
      }
    }
    if (dump_os_ && (dump_names_.count("all") || dump_names_.count(p->name())))
      *dump_os_ << "// ----- IR after " << p->name() << "\n" << ir::print(g);
  }
}

std::vector<std::string> PassManager::names() const {
  std::vector<std::string> r;
  for (auto &p : passes_) r.push_back(p->name());
  return r;
}

bool op_removed_by_passes(const ir::Node &n) {
  if (lowers_qoperator_op(n)) return true;
  if (!n.domain.empty()) return false;
  if (n.op == "Identity" || n.op == "Dropout") return true;
  if ((n.op == "Shape" || n.op == "Size") && n.input(0) && n.input(0)->shape_known) return true;
  return false;
}

std::set<std::string> fusion_pass_names() {
  return {"simplify-transpose-reshape", "fold-pad", "fold-batchnorm", "fold-conv-scale", "matmul-add-to-gemm",
          "fuse-activation", "layout-channels-last"};
}

void add_default_pipeline(PassManager &pm, const std::string &int8_semantics) {
  pm.add(create_remove_identity_pass());
  pm.add(create_shape_folding_pass());
  pm.add(create_lower_qoperator_pass(int8_semantics));
  pm.add(create_quantize_folding_pass(int8_semantics)); // before constant folding dequantizes weights
  pm.add(create_constant_folding_pass());
  pm.add(create_remove_identity_pass());
  pm.add(create_simplify_transpose_reshape_pass());
  pm.add(create_fold_pad_pass());
  pm.add(create_fold_batchnorm_pass());
  pm.add(create_fold_conv_scale_pass());
  pm.add(create_matmul_add_to_gemm_pass());
  pm.add(create_prepack_gemm_weights_pass());
  pm.add(create_pack_int8_fc_weights_pass());
  pm.add(create_fuse_int8_residual_add_pass());
  pm.add(create_fuse_activation_pass());
  pm.add(create_layout_channels_last_pass());
  pm.add(create_simplify_transpose_reshape_pass()); // cancels layout conversions
  pm.add(create_dead_code_elimination_pass());
}

} // namespace tmc::passes
