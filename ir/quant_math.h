// Host-side integer arithmetic of TensorFlow Lite's quantized kernels, used
// at compile time by passes (lookup tables) and codegen (multipliers): one
// definition of the quantization semantics for every stage.
#pragma once
#include <cstdint>

namespace tmc::ir {

/// TFLite's QuantizeMultiplier: real multiplier `m` (double) -> Q31 `mult`
/// and power-of-two `shift` (m ~= mult * 2^(shift - 31)); 0 for m == 0 and
/// for multipliers below 2^-31.
void tflite_quantize_multiplier(double m, int32_t &mult, int &shift);

/// gemmlowp's SaturatingRoundingDoublingHighMul.
int32_t tflite_srdhm(int32_t a, int32_t b);
/// gemmlowp's RoundingDivideByPOT (round half away from zero), 0 <= e <= 31.
int32_t tflite_rdpot(int32_t x, int e);
/// TFLite's MultiplyByQuantizedMultiplier (double rounding).
int32_t tflite_mbqm(int32_t x, int32_t mult, int shift);

} // namespace tmc::ir
