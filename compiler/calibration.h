// Post-training quantization support: running a float model on the host over
// calibration data, statistics of activation tensors, and the choice of
// quantization ranges and parameters (tmc quantize, compiler/quantize.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::driver::calib {

// ------------------------------------------------------------ ranges
/// A real interval [lo, hi].
struct Range {
  double lo = 0, hi = 0;
};

/// Asymmetric int8 activation parameters: real = (q - zero_point) * scale.
struct ActQuant {
  float scale = 1.0f;
  int32_t zero_point = 0; ///< in [-128, 127]
};

/// Int8 parameters for an activation range: the range is first widened to
/// include 0 (so zero is exact), then scale = (hi - lo) / 255 and the zero
/// point maps lo to -128 (rounded, clamped to [-128, 127]). An empty range
/// gives scale 1, zero point 0.
ActQuant activation_quant(Range r);

/// Quantizes `x` with `q` (round half to even, saturate to int8) and back.
float fake_quant(float x, const ActQuant &q);

/// Symmetric int8 weights in [-127, 127], zero point 0: one scale per slice
/// along `axis` (or one for the whole tensor when axis < 0),
/// scale = max|w| / 127 (1 for an all-zero slice).
struct WeightQuant {
  std::vector<float> scales;
  std::vector<int8_t> q;
  int64_t axis = -1;
};
WeightQuant quantize_weights(const float *w, const ir::Shape &shape, int64_t axis);

/// Bias b[c] is stored as round(b[c] / (x_scale * w_scale[c])) in int32. For
/// a slice of tiny weights under a large bias that overflows; this widens
/// such scales so every quantized bias stays within +-2^30 (the integer
/// kernels add the zero-point correction to it) and re-quantizes those
/// slices of `wq` from `w`. `bias` has one entry per output channel.
/// Returns the number of scales changed.
int fit_bias_in_int32(WeightQuant &wq, const float *w, const ir::Shape &shape, const std::vector<float> &bias,
                      float x_scale);

/// Histogram of a tensor's values over a fixed interval [lo, hi] (values
/// outside are counted in the edge bins).
struct Histogram {
  double lo = 0, hi = 0;
  std::vector<double> counts;
  Histogram() = default;
  Histogram(double lo, double hi, size_t bins);
  void add(const float *x, int64_t n);
  double total() const;
  double bin_width() const { return counts.empty() ? 0.0 : (hi - lo) / (double)counts.size(); }
};

/// Calibration methods.
enum class Method { MinMax, Percentile, Mse };
Method parse_method(const std::string &s); ///< throws ir::CompileError
const char *method_name(Method m);

/// The smallest interval holding all but (100 - pct)% of the values in each
/// tail (bin edges), widened to include 0.
Range percentile_range(const Histogram &h, double pct);

/// The interval whose int8 quantization has the least expected squared error
/// over the histogram: rounding error scale^2/12 inside the range, the squared
/// clipping distance outside. Searched over shrunken candidates of [h.lo, h.hi]
/// (a proportional sweep, then each end over its span, then finer grids
/// around the best).
Range mse_range(const Histogram &h);

/// Expected squared error of quantizing the histogram with range `r` (the
/// objective of mse_range; exposed for tests).
double quant_mse(const Histogram &h, Range r);

// ------------------------------------------------------------ calibration data
/// One host tensor (dtype, shape, little-endian row-major bytes).
struct Tensor {
  ir::DType dtype = ir::DType::Undefined;
  ir::Shape shape;
  ir::BytesPtr data;
  const float *f32() const { return reinterpret_cast<const float *>(data->data()); }
  int64_t numel() const { return ir::shape_numel(shape); }
};

/// A graph input as the model declares it: -1 marks a symbolic dimension.
struct InputSpec {
  std::string name;
  ir::DType dtype = ir::DType::F32;
  ir::Shape shape;
};

/// Loads a calibration folder: one sample per file. A model with one input
/// takes every `*.npy` file in `dir` (sorted by name) as one sample; a model
/// with N > 1 inputs takes files named `SAMPLE.K.npy`, K the 0-based index of
/// the graph input, grouped by SAMPLE (every sample must have all N files).
/// Every tensor must have the input's dtype and a shape that matches its
/// fixed dimensions, and all samples the same shape. Throws ir::CompileError
/// with the file and the reason.
std::vector<std::vector<Tensor>> load_calibration_dir(const std::string &dir, const std::vector<InputSpec> &inputs);

// ------------------------------------------------------------ host execution
/// Runs an imported graph on the host, node by node: the reference evaluator
/// of passes/eval for every op it implements, plus float Conv, MaxPool,
/// AveragePool, GlobalAveragePool, GlobalMaxPool and BatchNormalization
/// (which constant folding deliberately leaves to codegen). `visit` is called
/// for every graph input and node output as it is computed. Throws
/// ir::CompileError naming the node when an op cannot be run.
using Visitor = std::function<void(const ir::Value &v, const Tensor &t)>;
void run_graph(const ir::Graph &g, const std::vector<Tensor> &inputs, const Visitor &visit);

/// True if run_graph can execute `n` (all of its inputs assumed available).
bool can_run(const ir::Node &n);

// ------------------------------------------------------------ accuracy
/// Signal-to-noise ratio 10 log10(sum x^2 / sum (x - y)^2) in dB, capped at
/// kMaxSnrDb (identical tensors), and cosine similarity (1 when both are 0).
constexpr double kMaxSnrDb = 120.0;
double snr_db(const float *x, const float *y, int64_t n);
double cosine(const float *x, const float *y, int64_t n);

/// A progress bar on stderr: "label [#####-----] k/n", redrawn in place on a
/// terminal, one line per quarter otherwise.
class Progress {
public:
  Progress(std::string label, int64_t total, bool enabled);
  void step();
  void done();

private:
  void draw();
  std::string label_;
  int64_t total_, k_ = 0;
  bool enabled_, tty_, finished_ = false;
  int last_mark_ = -1;
};

} // namespace tmc::driver::calib
