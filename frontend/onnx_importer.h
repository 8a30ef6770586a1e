// ONNX frontend: loads a .onnx file through libonnx (checker, shape inference,
// external data) and lowers it to the tmc IR.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ir/graph.h"

namespace tmc::frontend {

struct ImportOptions {
  /// Fixed shapes for graph inputs, by name (from --input-shape NAME=1x3x96x96).
  std::map<std::string, ir::Shape> input_shapes;
  /// Run the ONNX checker (on by default).
  bool run_checker = true;
  /// Tells whether a later stage implements (domain, op) directly. Ops that
  /// it does not implement but that ONNX defines as a function of other ops
  /// (e.g. Celu, MeanVarianceNormalization, SoftmaxCrossEntropyLoss) are
  /// expanded into their function body. Null: never expand.
  std::function<bool(const std::string &domain, const std::string &op)> has_kernel;
};

/// Loads and imports a model. Throws ir::CompileError with a message that names
/// the file and, where it applies, the node, op and reason.
std::unique_ptr<ir::Graph> import_onnx_file(const std::string &path,
                                            const ImportOptions &opts = {});

/// Same, from serialized bytes; `model_dir` anchors external data ("" = none allowed).
std::unique_ptr<ir::Graph> import_onnx_bytes(const std::string &bytes,
                                             const std::string &model_dir,
                                             const ImportOptions &opts = {});

/// Fills in static shapes that were unknown at import (typically because they
/// depended on values that passes have since folded to constants) by running
/// ONNX shape inference again over the current IR. Returns the number of
/// values whose shape became known.
int refine_shapes(ir::Graph &g);

/// Parses "1x3x96x96" (also accepts ',' separators). Throws on bad syntax.
ir::Shape parse_shape(const std::string &text);

/// Highest ai.onnx opset version this frontend accepts.
constexpr int kMaxOnnxOpset = 18;
constexpr int kMinOnnxOpset = 7;

} // namespace tmc::frontend
