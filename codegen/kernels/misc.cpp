// Kernel family: misc. Inference-mode Dropout when its mask output is used
// (otherwise a pass removes the node).
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {

void register_misc_kernels(KernelRegistry &r) {
  r.add({"Dropout",
         [](const ir::Node &n) -> std::string {
           const ir::Value *t = n.input(2);
           if (t && (!t->is_constant() || t->int_at(0) != 0))
             return "training-mode Dropout (random output) is not supported";
           return "";
         },
         [](KernelContext &k) {
           if (k.vout(0).nbytes() > 0) k.line("memcpy(y0, x0, {});", k.vout(0).nbytes());
           if (k.has_out(1)) k.line("memset(y1, 1, {});", k.vout(1).nbytes()); // mask: all kept
         },
         nullptr});
}

} // namespace tmc::codegen
