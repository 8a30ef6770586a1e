// Kernel family: data_movement. (To be filled in.)
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {

void register_data_movement_kernels(KernelRegistry &r) { (void)r; }

} // namespace tmc::codegen
