// Kernel family: elementwise unary and binary ops with numpy broadcasting.
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

/// Binary op whose C expression is given with {a} and {b} placeholders.
void emit_binary(KernelContext &k, const std::string &expr_fmt) {
  const ir::Value &a = k.vin(0), &b = k.vin(1), &y = k.vout(0);
  emit_broadcast_loop(k, y.shape, {a.shape, b.shape}, [&](const std::vector<std::string> &ix,
                                                          const std::string &oi) {
    std::string ea = fmt::format("x0[{}]", ix[0]), eb = fmt::format("x1[{}]", ix[1]);
    k.line("y0[{}] = {};", oi, fmt::format(fmt::runtime(expr_fmt), fmt::arg("a", ea), fmt::arg("b", eb)));
  });
}

void emit_unary(KernelContext &k, const std::string &expr_fmt) {
  const ir::Value &y = k.vout(0);
  k.open("for (size_t i = 0; i < {}; ++i) {{", y.numel());
  k.line("y0[i] = {};", fmt::format(fmt::runtime(expr_fmt), fmt::arg("x", "x0[i]")));
  k.close();
}

std::string float_only(const ir::Node &n) {
  ir::DType dt = n.input(0)->dtype;
  if (dt != ir::DType::F32) return std::string("dtype ") + ir::dtype_name(dt) + " is not supported";
  return "";
}

} // namespace

void register_elementwise_kernels(KernelRegistry &r) {
  r.add({"Add", nullptr, [](KernelContext &k) { emit_binary(k, "({a} + {b})"); }, nullptr});
  r.add({"Sub", nullptr, [](KernelContext &k) { emit_binary(k, "({a} - {b})"); }, nullptr});
  r.add({"Mul", nullptr, [](KernelContext &k) { emit_binary(k, "({a} * {b})"); }, nullptr});
  r.add({"Div", float_only, [](KernelContext &k) { emit_binary(k, "({a} / {b})"); }, nullptr});
  r.add({"Relu", float_only, [](KernelContext &k) { emit_unary(k, "({x} > 0.0f ? {x} : 0.0f)"); }, nullptr});
  r.add({"Identity", nullptr, [](KernelContext &k) {
           if (k.vout(0).nbytes() > 0) k.line("memcpy(y0, x0, {});", k.vout(0).nbytes());
         }, nullptr});
}

} // namespace tmc::codegen
