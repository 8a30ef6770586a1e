// Kernel family: 8-bit table lookup (tmc::QLut), produced by quantize-folding
// (DQ -> Sigmoid/Tanh/HardSwish/HardSigmoid/LeakyRelu/Relu/Clip -> Q) and by
// lower-qoperator (QLinearSigmoid, QLinearLeakyRelu, QLinearConcat
// requantization). The 256-entry table is computed at compile time by the
// pass (passes/qlut.cpp), so every quantization detail lives in the table:
//   QLut(x int8/uint8, table[256] of y's dtype) -> y,  y[i] = table[(uint8_t)x[i]]
// (entry b holds the output for the input byte b, i.e. code (int8_t)b for int8).
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/int8_emit.h"

namespace tmc::codegen {
namespace {

std::string check_qlut(const ir::Node &n) {
  const ir::Value *x = n.input(0), *t = n.input(1), *y = n.output(0);
  if (!x || !t || !y) return "x and the table are required";
  if (!is_q8(x->dtype) || !is_q8(y->dtype)) return "only int8/uint8 tensors are supported";
  if (t->dtype != y->dtype || t->numel() != 256) return "the table must have 256 entries of the output type";
  if (x->numel() != y->numel()) return "input and output sizes differ";
  return "";
}

void emit_qlut(KernelContext &k) {
  int64_t n = k.vout(0).numel();
  if (n == 0) return;
  k.line("for (size_t i = 0; i < {}; ++i) y0[i] = x1[(uint8_t)x0[i]];", n);
}

} // namespace

void register_int8_lut_kernels(KernelRegistry &r) {
  KernelDef d{"QLut", check_qlut, emit_qlut, nullptr, "tmc"};
  r.add(d);
}

} // namespace tmc::codegen
