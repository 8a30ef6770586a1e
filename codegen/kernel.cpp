#include "codegen/kernel.h"

#include <set>

#include "codegen/helpers.h"

namespace tmc::codegen {

KernelRegistry &KernelRegistry::instance() {
  static KernelRegistry *r = [] {
    auto *reg = new KernelRegistry();
    register_elementwise_kernels(*reg);
    register_conv_kernels(*reg);
    register_linalg_kernels(*reg);
    register_pool_kernels(*reg);
    register_normalization_kernels(*reg);
    register_reduce_kernels(*reg);
    register_data_movement_kernels(*reg);
    register_resize_kernels(*reg);
    register_recurrent_kernels(*reg);
    register_signal_kernels(*reg);
    register_vision_kernels(*reg);
    return reg;
  }();
  return *r;
}

void KernelRegistry::add(KernelDef def) {
  auto key = std::make_pair(std::string(def.domain), std::string(def.op));
  defs_[key] = std::move(def);
}

const KernelDef *KernelRegistry::find(const ir::Node &n) const {
  std::string d = n.domain == "ai.onnx" ? "" : n.domain;
  auto it = defs_.find({d, n.op});
  return it == defs_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::ops() const {
  std::vector<std::string> r;
  for (auto &[k, v] : defs_) r.push_back(k.first.empty() ? k.second : k.first + "::" + k.second);
  return r;
}

std::string check_supported(const ir::Node &n) {
  const KernelDef *kd = KernelRegistry::instance().find(n);
  if (!kd) return "no kernel for this op";
  for (const ir::Value *v : n.inputs)
    if (v && (v->dtype == ir::DType::String || v->dtype == ir::DType::Undefined))
      return "input '" + v->name + "' has an unsupported type";
  for (const ir::Value *v : n.outputs) {
    if (!v) continue;
    if (v->dtype == ir::DType::String || v->dtype == ir::DType::Undefined)
      return "output '" + v->name + "' has an unsupported or unknown type";
    if (!v->shape_known) return "output '" + v->name + "' has a shape that is not static";
  }
  if (kd->check) {
    try {
      return kd->check(n);
    } catch (const ir::CompileError &e) {
      return e.what();
    }
  }
  return "";
}

int64_t kernel_scratch_bytes(const ir::Node &n) {
  const KernelDef *kd = KernelRegistry::instance().find(n);
  return kd && kd->scratch ? kd->scratch(n) : 0;
}

bool kernel_output_is_view(const ir::Node &n) {
  static const std::set<std::string> views{"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
  if (!n.domain.empty() || !views.count(n.op) || !n.input(0) || !n.output(0)) return false;
  return n.input(0)->dtype == n.output(0)->dtype && n.input(0)->nbytes() == n.output(0)->nbytes();
}

std::vector<int> kernel_inplace_inputs(const ir::Node &n) {
  // Elementwise kernels emitted as one pass "y[i] = f(x[i], ...)".
  static const std::set<std::string> unary{"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
                                           "Elu", "Selu", "Celu", "Softplus", "Softsign", "Abs", "Neg", "Exp",
                                           "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Erf", "Clip"};
  static const std::set<std::string> binary{"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "PRelu"};
  std::vector<int> r;
  if (!n.domain.empty() || !n.output(0)) return r;
  const ir::Value *y = n.output(0);
  auto same = [&](const ir::Value *x) { return x && x->dtype == y->dtype && x->shape == y->shape; };
  if (unary.count(n.op) && same(n.input(0))) r.push_back(0);
  if (binary.count(n.op))
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (same(n.input(i))) r.push_back((int)i);
  return r;
}

bool is_fusable_activation(const std::string &op) {
  static const std::set<std::string> acts{"Relu", "Clip", "LeakyRelu", "HardSwish", "HardSigmoid",
                                          "Sigmoid", "Tanh", "Elu", "Selu", "Softplus"};
  return acts.count(op) != 0;
}

std::string fused_activation_expr(const ir::Node &n, const std::string &v) {
  std::string act = n.attr_string("tmc_activation", "");
  float a = n.attr_float("tmc_activation_alpha", 0.0f), b = n.attr_float("tmc_activation_beta", 0.0f);
  auto F = [](float x) { return c_float_literal(x); };
  if (act == "Relu") return fmt::format("({0} > 0.0f ? {0} : 0.0f)", v);
  if (act == "Clip") return fmt::format("({0} < {1} ? {1} : ({0} > {2} ? {2} : {0}))", v, F(a), F(b));
  if (act == "LeakyRelu") return fmt::format("({0} >= 0.0f ? {0} : {0} * {1})", v, F(a));
  if (act == "HardSigmoid")
    return fmt::format("fmaxf(0.0f, fminf(1.0f, {} * {} + {}))", F(a), v, F(b));
  if (act == "HardSwish") return fmt::format("({0} * fmaxf(0.0f, fminf(1.0f, {0} / 6.0f + 0.5f)))", v);
  if (act == "Sigmoid") return fmt::format("(1.0f / (1.0f + expf(-{})))", v);
  if (act == "Tanh") return fmt::format("tanhf({})", v);
  if (act == "Elu") return fmt::format("({0} >= 0.0f ? {0} : {1} * (expf({0}) - 1.0f))", v, F(a));
  if (act == "Selu")
    return fmt::format("({0} > 0.0f ? {2} * {0} : {2} * ({1} * expf({0}) - {1}))", v, F(a), F(b));
  if (act == "Softplus") return fmt::format("logf(1.0f + expf({}))", v);
  throw ir::CompileError(n, "unknown fused activation '" + act + "'");
}

KernelContext::KernelContext(const ir::Graph &g, const ir::Node &n, const std::string &p)
    : graph(g), node(n), prefix(p) {}

const ir::Value &KernelContext::vin(size_t i) const {
  if (!node.input(i)) throw ir::CompileError(node, "internal: input " + std::to_string(i) + " is absent");
  return *node.input(i);
}
const ir::Value &KernelContext::vout(size_t i) const {
  if (!node.output(i)) throw ir::CompileError(node, "internal: output " + std::to_string(i) + " is absent");
  return *node.output(i);
}

std::string KernelContext::helper(const std::string &key) {
  if (!find_helper(key)) throw ir::CompileError(node, "internal: unknown helper '" + key + "'");
  helpers_.insert(key);
  return prefix + "_h_" + key;
}

} // namespace tmc::codegen
