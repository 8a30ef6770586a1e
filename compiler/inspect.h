#pragma once
#include <string>

#include "compiler/driver.h"

namespace tmc::driver {
/// MACs of one node (Conv, ConvTranspose, Gemm, MatMul; 0 for others).
int64_t node_macs(const ir::Node &n);
/// The `tmc inspect` table: one row per node, then totals and the memory plan.
std::string inspect(const CompileOptions &opts);
} // namespace tmc::driver
