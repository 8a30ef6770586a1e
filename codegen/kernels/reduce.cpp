// Kernel family: reduce. (To be filled in.)
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {

void register_reduce_kernels(KernelRegistry &r) { (void)r; }

} // namespace tmc::codegen
