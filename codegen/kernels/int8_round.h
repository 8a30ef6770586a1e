// Emission helpers for the 8-bit kernels that reproduce a float32 formula of
// ONNX Runtime exactly (QMul, QLut-free requantizations, the "qlinear"
// arithmetic of QAdd/QAveragePool, QConvTranspose): rounding half to even and
// saturation without a call to rintf per element (rintf is a library call on
// most microcontrollers).
#pragma once
#include <string>

#include "codegen/kernel.h"

namespace tmc::codegen {

/// Emits dst = saturate(round_half_even(v [+ add]) + zp_after) for the float
/// expression `v`. `add` (a float expression, may be empty) is added to v in
/// float32 *after* v has been rounded to float (so that a product in `v` is
/// never fused with it into a multiply-add), then the sum is rounded to an
/// integer (half to even) and `zp_after` added as an integer. `v` is first
/// clamped to [-1024, 1024], which leaves every saturated result unchanged.
void emit_round_store(KernelContext &k, const std::string &v, const std::string &add, int64_t zp_after, ir::DType yt,
                      const std::string &dst);

} // namespace tmc::codegen
