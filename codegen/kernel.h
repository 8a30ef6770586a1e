// Kernel emitters: each operator family lives in kernels/<family>.cpp and
// registers KernelDefs. An emitter writes the body of one C function that
// computes one node, with every shape and attribute known at compile time.
#pragma once
#include <fmt/format.h>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::codegen {

class KernelContext;

struct KernelDef {
  const char *op;     ///< ONNX op type (domain ai.onnx unless `domain` is set)
  /// Returns "" if this node can be emitted, else the reason it cannot
  /// (e.g. "mode 'cubic' is not supported"). May be null (always supported).
  std::function<std::string(const ir::Node &)> check;
  /// Writes the node function body.
  std::function<void(KernelContext &)> emit;
  /// Arena scratch bytes the kernel needs (planned ahead). May be null (0).
  std::function<int64_t(const ir::Node &)> scratch;
  const char *domain = "";
  /// True if emit() applies a fused activation ("tmc_activation") itself;
  /// otherwise codegen appends it as an epilogue over output 0.
  bool handles_activation = false;
};

/// The float C expression of the activation fused into `n`
/// ("tmc_activation": Relu, Clip, LeakyRelu, HardSwish, HardSigmoid, Sigmoid,
/// Tanh, Elu, Selu, Softplus; parameters in "tmc_activation_alpha"/"_beta",
/// Clip's min/max in alpha/beta) applied to the float expression `v`.
std::string fused_activation_expr(const ir::Node &n, const std::string &v);
/// The activations fusion may attach.
bool is_fusable_activation(const std::string &op);

class KernelRegistry {
public:
  static KernelRegistry &instance();
  void add(KernelDef def);
  const KernelDef *find(const ir::Node &n) const;
  std::vector<std::string> ops() const;

private:
  std::map<std::pair<std::string, std::string>, KernelDef> defs_;
};

/// "" if codegen can emit `n`, else a reason ("no kernel for this op", ...).
std::string check_supported(const ir::Node &n);
/// Scratch bytes the node's kernel needs in the arena.
int64_t kernel_scratch_bytes(const ir::Node &n);
/// Byte offsets of each output inside input 0 when the outputs are
/// contiguous byte ranges of it (Reshape, Flatten, Squeeze, Unsqueeze,
/// Identity; Slice and Split along the outermost non-unit axis). Empty if not.
std::vector<int64_t> kernel_view_offsets(const ir::Node &n);
/// Byte offset of each input inside output 0 for a Concat along the
/// outermost non-unit axis (inputs can be produced in place). Empty if not.
std::vector<int64_t> kernel_concat_slots(const ir::Node &n);
/// True if the planned storage already realises the node (views share
/// storage, concat inputs sit in their slots): no code needs to run.
bool node_is_elided(const ir::Node &n);
/// Inputs whose storage output 0 may take over (elementwise kernels that
/// read element i of that input before writing element i, same shape).
std::vector<int> kernel_inplace_inputs(const ir::Node &n);

/// What an emitter sees: the node, its operand names inside the generated
/// function, and an output buffer with indentation handling.
class KernelContext {
public:
  KernelContext(const ir::Graph &g, const ir::Node &n, const std::string &prefix);

  const ir::Graph &graph;
  const ir::Node &node;
  const std::string &prefix; ///< model prefix, lower case, e.g. "kws"

  // Operand names inside the node function: inputs x0.., outputs y0..,
  // the scratch pointer "scratch" (unsigned char *).
  static std::string in(size_t i) { return "x" + std::to_string(i); }
  static std::string out(size_t i) { return "y" + std::to_string(i); }
  const ir::Value &vin(size_t i) const;
  const ir::Value &vout(size_t i) const;
  bool has_in(size_t i) const { return node.input(i) != nullptr; }
  bool has_out(size_t i) const { return node.output(i) != nullptr; }
  size_t num_in() const { return node.inputs.size(); }
  size_t num_out() const { return node.outputs.size(); }
  std::string ctype_in(size_t i) const { return ir::dtype_ctype(vin(i).dtype); }
  std::string ctype_out(size_t i) const { return ir::dtype_ctype(vout(i).dtype); }

  template <typename... Args> void line(fmt::format_string<Args...> f, Args &&...args) {
    body_.append(std::string((size_t)indent_ * 2, ' '));
    body_ += fmt::format(f, std::forward<Args>(args)...);
    body_ += '\n';
  }
  void raw(const std::string &s) { body_ += s; }
  void indent() { ++indent_; }
  void dedent() { --indent_; }
  /// Opens "head {" and indents; close() closes with "}".
  template <typename... Args> void open(fmt::format_string<Args...> f, Args &&...args) {
    line(f, std::forward<Args>(args)...);
    ++indent_;
  }
  void close(const char *tail = "}") {
    --indent_;
    line("{}", tail);
  }
  /// A fresh local identifier ("t3").
  std::string tmp(const std::string &base = "t") { return base + std::to_string(tmp_counter_++); }
  /// Makes a shared helper function available and returns its C name.
  /// See helpers.h for the keys.
  std::string helper(const std::string &key);
  /// Shared helpers requested so far.
  const std::set<std::string> &helpers_used() const { return helpers_; }
  const std::string &body() const { return body_; }

private:
  std::string body_;
  int indent_ = 1;
  int tmp_counter_ = 0;
  std::set<std::string> helpers_;
};

/// Formats a C literal of type `dt` for `v` (for float types: exact round-trip,
/// INFINITY/NAN spelled through <math.h>).
std::string c_literal(ir::DType dt, double v);
std::string c_float_literal(float v);
std::string c_double_literal(double v);
std::string c_int_literal(ir::DType dt, int64_t v);

/// Registration entry points, one per kernel family file.
void register_elementwise_kernels(KernelRegistry &r);
void register_conv_kernels(KernelRegistry &r);
void register_linalg_kernels(KernelRegistry &r);
void register_pool_kernels(KernelRegistry &r);
void register_normalization_kernels(KernelRegistry &r);
void register_reduce_kernels(KernelRegistry &r);
void register_data_movement_kernels(KernelRegistry &r);
void register_resize_kernels(KernelRegistry &r);
void register_recurrent_kernels(KernelRegistry &r);
void register_signal_kernels(KernelRegistry &r);
void register_vision_kernels(KernelRegistry &r);
void register_misc_kernels(KernelRegistry &r);
void register_quantize_kernels(KernelRegistry &r);
void register_int8_kernels(KernelRegistry &r);
void register_int8_fc_kernels(KernelRegistry &r);
void register_int8_lut_kernels(KernelRegistry &r);
void register_int8_mul_kernels(KernelRegistry &r);
void register_int8_convtranspose_kernels(KernelRegistry &r);

} // namespace tmc::codegen
