// Float32 Conv in NHWC layout (tmc_layout = "NHWC", set by the
// layout-channels-last pass). Called from the Conv kernel in conv.cpp.
#pragma once
#include <string>

#include "codegen/kernel.h"

namespace tmc::codegen {

/// "" if the NHWC conv node can be emitted, else a reason.
std::string check_conv_nhwc(const ir::Node &n);
/// Emits the body of an NHWC float32 Conv node.
void emit_conv_nhwc(KernelContext &k);

} // namespace tmc::codegen
