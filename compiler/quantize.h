// tmc quantize: post-training quantization of a float ONNX model.
//
// Static mode writes a standard QDQ model (QuantizeLinear/DequantizeLinear
// pairs, ai.onnx opset >= 13) in the conventions that ONNX Runtime runs and
// that passes/quantize_folding.cpp lowers to integer kernels: int8 weights
// symmetric in [-127, 127] per output channel, asymmetric int8 activations
// whose range includes 0, int32 biases with scale = input scale x weight
// scale, Relu/Clip fused into the preceding op's output range. Activation
// ranges come from running the float model on calibration data with the host
// evaluator (compiler/calibration.h). Dynamic mode writes ONNX Runtime's
// dynamic format (DynamicQuantizeLinear + MatMulInteger/ConvInteger + Cast +
// Mul) and needs no calibration.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "compiler/calibration.h"
#include "ir/graph.h"

namespace tmc::driver {

struct QuantizeOptions {
  std::string model_path;
  std::string calibration_dir; ///< static mode: folder of .npy samples
  bool dynamic = false;        ///< dynamic mode instead of static QDQ
  calib::Method method = calib::Method::MinMax;
  double percentile = 99.99;                     ///< for Method::Percentile
  bool per_channel = true;                       ///< per-output-channel weight scales
  std::map<std::string, ir::Shape> input_shapes; ///< fixes symbolic input dims
  bool progress = true;                          ///< progress bars on stderr
};

/// One quantized tensor in the report.
struct QuantTensorInfo {
  std::string name; ///< tensor name in the float model
  std::string kind; ///< "activation" or "weight"
  std::string op;   ///< producing op (activations, "input" for graph inputs) or consuming op (weights)
  std::string node; ///< that node's name
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  double lo = 0, hi = 0;             ///< quantization range (real values)
  double seen_min = 0, seen_max = 0; ///< observed float range (activations)
  double snr_db = 0, cosine = 0;     ///< fake-quantized vs float, mean over the samples
};

struct QuantizeResult {
  std::string model_bytes; ///< the serialized quantized ModelProto
  std::vector<QuantTensorInfo> tensors;
  int64_t samples = 0;
  int quantized_nodes = 0;
  std::vector<std::string> float_nodes; ///< compute nodes left in float ("Op 'name'")
  std::string mode_text;                ///< one-line description of what was done
};

/// Quantizes the model. Throws ir::CompileError (bad model, bad calibration
/// data, unsupported graph) with a message naming the file or node.
QuantizeResult quantize_model(const QuantizeOptions &opts);

/// The per-tensor report as a text table, and as JSON.
std::string quantize_table(const QuantizeResult &r);
std::string quantize_report_json(const QuantizeResult &r, const QuantizeOptions &opts);

/// Writes `bytes` to `path` (through a temporary file renamed into place).
void write_file_atomically(const std::string &path, const std::string &bytes);

} // namespace tmc::driver
