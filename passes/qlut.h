// 256-entry lookup tables for 8-bit elementwise ops (tmc::QLut), built at
// compile time by quantize-folding (DQ -> Sigmoid/Tanh/... -> Q) and
// lower-qoperator (QLinearSigmoid, QLinearLeakyRelu, QLinearConcat
// requantization). See docs/quantization.md.
//
// "onnx" semantics, what ONNX Runtime computes (its QLinear* lookup tables
// and its unfused DQ -> float op -> Q): every input code is dequantized in
// float32 (x_scale * (code - x_zero_point)), the float op is applied as ONNX
// Runtime's CPU kernels compute it in float32 (Sigmoid and Tanh: MLAS's
// rational approximations evaluated with fused multiply-adds, as on x86-64
// with AVX2/FMA3), and the result is quantized: divided by y_scale, rounded
// half to even, offset by y_zero_point, saturated.
// "tflite" semantics: TFLite's LUTPopulate (multiply by 1 / y_scale, round
// half away from zero) for Sigmoid, Tanh, HardSwish, HardSigmoid and the
// identity (requantization); TFLite's integer reference kernels (Q31
// multipliers) for LeakyRelu, Relu and Clip.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes::qlut {

enum class Act { Identity, Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh };

struct Activation {
  Act kind = Act::Identity;
  float alpha = 0.0f; ///< LeakyRelu/HardSigmoid alpha; Clip lower bound
  float beta = 0.0f;  ///< HardSigmoid beta; Clip upper bound
};

/// Per-tensor quantization of one side.
struct QParams {
  ir::DType dtype = ir::DType::I8;
  float scale = 1.0f;
  int64_t zero_point = 0;
};

/// The activation `op` of an ai.onnx node (Relu, Clip, LeakyRelu, HardSigmoid,
/// HardSwish, Sigmoid, Tanh) with its attributes/constant bounds; false if it
/// is not one or its parameters are not constant.
bool activation_of(const ir::Node &n, Activation &a);

/// The activation as ONNX Runtime's CPU kernels compute it in float32.
float ort_activation(const Activation &a, float x);

/// The table: entry b is the output code for the input byte b (the input
/// code is (int8_t)b for int8, b for uint8). `tflite`: TFLite's arithmetic.
std::vector<int64_t> build_table(const Activation &a, const QParams &in, const QParams &out, bool tflite);

/// True (and the bounds) when table[b] == clamp(code(b), lo, hi) with the
/// same input and output dtype: the op is a plain clamp (or a copy).
bool table_is_clamp(const std::vector<int64_t> &table, ir::DType in, ir::DType out, int64_t &lo, int64_t &hi);

/// Inserts before `before` a node computing `y` from `x`: tmc::QClamp when
/// the table is a clamp, else tmc::QLut(x, table constant). Returns it.
ir::Node *insert_table_op(ir::Graph &g, ir::Node *before, ir::Value *x, ir::Value *y,
                          const std::vector<int64_t> &table, const std::string &name);


} // namespace tmc::passes::qlut
