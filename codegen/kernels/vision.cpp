// Kernel family: vision. (To be filled in.)
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {

void register_vision_kernels(KernelRegistry &r) { (void)r; }

} // namespace tmc::codegen
