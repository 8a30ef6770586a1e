// The compilation driver: frontend -> passes -> memory planning -> codegen.
#pragma once
#include <map>
#include <optional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "codegen/c_emitter.h"
#include "ir/graph.h"
#include "passes/memory/memory_planning.h"
#include "passes/pass.h"

namespace tmc::driver {

/// Data layout of the convolution and pooling kernels.
enum class Layout { Auto, NCHW, NHWC };

struct QuantizeOptions; // compiler/quantize.h

struct CompileOptions {
  std::string model_path;
  std::string name; ///< "" = from the model file's stem
  std::string target = "host";
  std::map<std::string, ir::Shape> input_shapes;
  std::set<std::string> dump_ir_after; ///< pass names, or "all"
  std::set<std::string> disabled_passes; ///< pass names to skip
  std::ostream *dump_os = nullptr;
  bool io_in_arena = false;
  int64_t alignment = 8; ///< at least; the target may require more
  std::optional<std::string> weights_section, arena_section;
  bool profiling = false;
  /// Emit NAME_TRACE_TENSOR hooks after every node (--trace; verify --per-layer).
  bool trace = false;
  /// Auto: channels-last unless it would grow the arena.
  Layout layout = Layout::Auto;
  /// Overrides of the board's flash / RAM budgets in bytes (-1 = board's).
  int64_t flash_budget = -1, ram_budget = -1;
  /// Integer arithmetic of quantized ops: "onnx" (ONNX Runtime) or "tflite".
  std::string int8_semantics = "onnx";
  /// Store float weights of Conv/ConvTranspose/Gemm/MatMul as IEEE half
  /// (--weights float16; passes/store_weights_f16.cpp).
  bool weights_f16 = false;
  /// Post-training quantization before compiling (compile --quantize,
  /// compiler/quantize.h): null = compile the model as it is.
  std::shared_ptr<const QuantizeOptions> quantize;
  /// Where the quantization report table goes (null = nowhere).
  std::ostream *quantize_report_os = nullptr;
};

/// Flash and RAM estimates against a budget (a board's, or --flash-budget /
/// --ram-budget). Code and stack are estimates until measured on the target.
struct BudgetReport {
  int64_t flash_budget = 0, ram_budget = 0; ///< 0 = none
  int64_t code_estimate = 0, stack_estimate = 0;
  int64_t flash_needed = 0, ram_needed = 0;
};

struct CompileResult {
  std::unique_ptr<ir::Graph> graph;
  std::vector<codegen::GeneratedFile> files;
  passes::memory::PlanReport plan;
  std::vector<passes::PassTiming> timings;
  std::string name;
  int64_t weight_bytes = 0;
  BudgetReport budget;
  std::string report_json;
};

/// Loads the model and runs the pass pipeline (no codegen). Used by inspect.
std::unique_ptr<ir::Graph> load_and_optimize(const CompileOptions &opts,
                                             std::vector<passes::PassTiming> *timings = nullptr);

/// Full compilation to in-memory files. Throws ir::CompileError.
CompileResult compile(const CompileOptions &opts);

/// Writes `files` into `dir` atomically: either the whole folder appears (or
/// replaces an older one) or nothing changes. Throws on I/O failure.
void write_files_atomically(const std::string &dir, const std::vector<codegen::GeneratedFile> &files);

/// Error text may quote names from a corrupt model: escapes non-printable
/// bytes as \xNN so messages stay readable text.
std::string printable(const std::string &s);

/// Short human summary of the memory figures.
std::string memory_summary(const CompileResult &r);

} // namespace tmc::driver
