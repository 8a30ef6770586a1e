// Emission helpers shared by the int8 kernels (QLinearConv in conv.cpp,
// QGemm in int8.cpp): ONNX Runtime-exact requantization without rintf, and
// int8 dot products that use the target header's SMLAD/SXTB16 wrappers on DSP
// cores with a portable C fallback.
#pragma once
#include <string>
#include <vector>

#include "codegen/kernel.h"

namespace tmc::codegen {

std::string upper(std::string s);

/// Emits the requantization of int32 expression `acc` with float scale `sc`
/// and stores it to `dst`: bit-identical to rintf(acc * sc) + zp, saturated.
void emit_q8_requant(KernelContext &k, const std::string &acc, const std::string &sc, int64_t zp, ir::DType yt,
                     const std::string &dst);

/// "1, 2, 3"
std::string int_array(const std::vector<int64_t> &v);

/// Emits accumulation of dot products of length K: int16 columns xs[i] (in
/// each full quad of 4 the order is 0, 2, 1, 3, so one 32-bit word pairs with
/// SXTB16 of 4 weight bytes) with int8 weight rows ws[j] (natural order) into
/// int32 accumulators acc[i][j].
void emit_q8_dot(KernelContext &k, int64_t K, const std::vector<std::string> &xs, const std::vector<std::string> &ws,
                 const std::vector<std::vector<std::string>> &acc);

} // namespace tmc::codegen
