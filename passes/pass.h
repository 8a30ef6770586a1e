// Pass infrastructure: a Pass rewrites the graph in place; the PassManager
// runs a pipeline, times each pass, verifies the IR after it and can dump it.
#pragma once
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes {

class Pass {
public:
  virtual ~Pass() = default;
  /// Short kebab-case name, used by --dump-ir-after=NAME.
  virtual const char *name() const = 0;
  /// Rewrites `g`. Returns true if anything changed.
  virtual bool run(ir::Graph &g) = 0;
};

struct PassTiming {
  std::string name;
  double millis = 0;
  bool changed = false;
};

class PassManager {
public:
  void add(std::unique_ptr<Pass> p) { passes_.push_back(std::move(p)); }
  /// Dumps the IR to `os` after passes whose name is in `names` ("all" = every pass).
  void dump_after(std::set<std::string> names, std::ostream *os) {
    dump_names_ = std::move(names);
    dump_os_ = os;
  }
  /// Skip the passes with these names (e.g. to measure what fusion buys).
  void disable(std::set<std::string> names) { disabled_ = std::move(names); }
  /// Verify the IR after every pass (on by default).
  void set_verify(bool v) { verify_ = v; }
  void run(ir::Graph &g);
  const std::vector<PassTiming> &timings() const { return timings_; }
  std::vector<std::string> names() const;

private:
  std::vector<std::unique_ptr<Pass>> passes_;
  std::set<std::string> dump_names_;
  std::set<std::string> disabled_;
  std::ostream *dump_os_ = nullptr;
  bool verify_ = true;
  std::vector<PassTiming> timings_;
};

// ---- the passes (one per file)
std::unique_ptr<Pass> create_remove_identity_pass();   // remove_identity.cpp
std::unique_ptr<Pass> create_constant_folding_pass();  // constant_folding.cpp
std::unique_ptr<Pass> create_shape_folding_pass();     // shape_folding.cpp
std::unique_ptr<Pass> create_dead_code_elimination_pass(); // dead_code_elimination.cpp
/// `int8_semantics`: "onnx" (ORT float requantization) or "tflite" (TFLite
/// fixed-point kernels; the integer nodes get attribute tmc_int8_semantics).
std::unique_ptr<Pass> create_quantize_folding_pass(const std::string &int8_semantics = "onnx"); // quantize_folding.cpp
/// com.microsoft QOperator ops (QLinearAdd, QLinearSigmoid, ...) to tmc integer ops.
std::unique_ptr<Pass> create_lower_qoperator_pass(const std::string &int8_semantics = "onnx"); // lower_qoperator.cpp
/// True for the com.microsoft ops that lower-qoperator lowers.
bool lowers_qoperator_op(const ir::Node &n); // lower_qoperator.cpp
std::unique_ptr<Pass> create_layout_channels_last_pass();  // layout_channels_last.cpp
std::unique_ptr<Pass> create_prepack_gemm_weights_pass();  // prepack_gemm_weights.cpp
std::unique_ptr<Pass> create_pack_int8_fc_weights_pass();  // pack_int8_fc_weights.cpp
std::unique_ptr<Pass> create_fuse_int8_residual_add_pass(); // fuse_int8_residual_add.cpp
/// Opt-in (tmc compile --weights float16), run once after the pipeline.
std::unique_ptr<Pass> create_store_weights_f16_pass();       // store_weights_f16.cpp
// Fusion and simplification (float32 graphs; helpers in rewrite_utils.h).
std::unique_ptr<Pass> create_simplify_transpose_reshape_pass(); // simplify_transpose_reshape.cpp
std::unique_ptr<Pass> create_fold_pad_pass();                   // fold_pad.cpp
std::unique_ptr<Pass> create_fold_batchnorm_pass();             // fold_batchnorm.cpp
std::unique_ptr<Pass> create_fold_conv_scale_pass();            // fold_conv_scale.cpp
std::unique_ptr<Pass> create_matmul_add_to_gemm_pass();         // matmul_add_to_gemm.cpp
std::unique_ptr<Pass> create_fuse_activation_pass();            // fuse_activation.cpp

/// True for ops the default pipeline always removes when they can be removed
/// (Identity, inference Dropout, Shape and Size of static tensors).
bool op_removed_by_passes(const ir::Node &n);

/// Names of the fusion and simplification passes (what --no-fusion disables).
std::set<std::string> fusion_pass_names();

/// The default pipeline, in order.
void add_default_pipeline(PassManager &pm, const std::string &int8_semantics = "onnx");

} // namespace tmc::passes
