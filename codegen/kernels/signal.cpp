// Kernel family: signal. (To be filled in.)
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {

void register_signal_kernels(KernelRegistry &r) { (void)r; }

} // namespace tmc::codegen
