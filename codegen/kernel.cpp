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
    register_misc_kernels(*reg);
    register_quantize_kernels(*reg);
    register_int8_kernels(*reg);
    register_int8_fc_kernels(*reg);
    register_int8_lut_kernels(*reg);
    register_int8_mul_kernels(*reg);
    register_int8_convtranspose_kernels(*reg);
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

static std::vector<int64_t> row_strides(const ir::Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

std::vector<int64_t> kernel_view_offsets(const ir::Node &n) {
  static const std::set<std::string> reshapes{"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
  const ir::Value *x = n.input(0);
  if (!n.domain.empty() || !x || n.outputs.empty()) return {};
  for (const ir::Value *o : n.outputs)
    if (!o || o->dtype != x->dtype) return {};
  const int64_t es = (int64_t)ir::dtype_size(x->dtype);
  if (reshapes.count(n.op)) {
    if (n.outputs.size() != 1 || n.output(0)->nbytes() != x->nbytes()) return {};
    return {0};
  }
  try {
    if (n.op == "Split") {
      int64_t r = (int64_t)x->rank();
      int64_t a = n.attr_int("axis", 0);
      if (a < 0) a += r;
      if (a < 0 || a >= r) return {};
      for (int64_t d = 0; d < a; ++d)
        if (x->shape[(size_t)d] != 1) return {};
      std::vector<int64_t> offs;
      int64_t at = 0, inner = row_strides(x->shape)[(size_t)a] * es;
      for (const ir::Value *o : n.outputs) {
        offs.push_back(at);
        at += o->shape[(size_t)a] * inner;
      }
      return at == x->nbytes() ? offs : std::vector<int64_t>{};
    }
    if (n.op == "Slice" && n.outputs.size() == 1) {
      const ir::Value *y = n.output(0);
      size_t r = x->rank();
      if (y->rank() != r) return {};
      std::vector<int64_t> starts, axes, steps;
      if (n.opset < 10) {
        starts = n.attr_ints("starts");
        axes = n.attr_ints("axes");
      } else {
        for (size_t i = 1; i <= 4; ++i)
          if (n.input(i) && !n.input(i)->is_constant()) return {};
        if (!n.input(1)) return {};
        starts = n.input(1)->int_values();
        if (n.input(3)) axes = n.input(3)->int_values();
        if (n.input(4)) steps = n.input(4)->int_values();
      }
      if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back((int64_t)i);
      std::vector<int64_t> start(r, 0);
      for (size_t i = 0; i < axes.size() && i < starts.size(); ++i) {
        int64_t a = axes[i] < 0 ? axes[i] + (int64_t)r : axes[i];
        if (a < 0 || a >= (int64_t)r) return {};
        int64_t step = i < steps.size() ? steps[i] : 1;
        if (step != 1 && y->shape[(size_t)a] > 1) return {};
        if (step < 0) return {};
        int64_t dim = x->shape[(size_t)a], st = starts[i];
        if (st < 0) st += dim;
        st = std::max<int64_t>(0, std::min(st, dim));
        start[(size_t)a] = st;
      }
      // Contiguous iff, before the last sliced axis, every axis is 1 in the
      // output (sliced) or 1 in the input (unsliced).
      int last = -1;
      for (size_t d = 0; d < r; ++d)
        if (y->shape[d] != x->shape[d]) last = (int)d;
      for (int d = 0; d < last; ++d)
        if (y->shape[(size_t)d] != 1) return {};
      auto st = row_strides(x->shape);
      int64_t off = 0;
      for (size_t d = 0; d < r; ++d) off += start[d] * st[d];
      if ((off * es) + y->nbytes() > x->nbytes()) return {};
      return {off * es};
    }
  } catch (const ir::CompileError &) {
    return {};
  }
  return {};
}

std::vector<int64_t> kernel_concat_slots(const ir::Node &n) {
  if (!n.domain.empty() || n.op != "Concat" || !n.output(0)) return {};
  const ir::Value *y = n.output(0);
  int64_t r = (int64_t)y->rank();
  int64_t a = n.attr_int("axis", 1);
  if (a < 0) a += r;
  if (a < 0 || a >= r) return {};
  for (int64_t d = 0; d < a; ++d)
    if (y->shape[(size_t)d] != 1) return {};
  std::vector<int64_t> slots;
  int64_t at = 0;
  for (const ir::Value *x : n.inputs) {
    if (!x || x->dtype != y->dtype) return {};
    slots.push_back(at);
    at += x->nbytes();
  }
  return at == y->nbytes() ? slots : std::vector<int64_t>{};
}

bool node_is_elided(const ir::Node &n) {
  if (!n.output_view_offsets.empty()) {
    const ir::Value *x = n.input(0);
    if (!x || x->arena_offset < 0) return false;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const ir::Value *o = n.outputs[k];
      if (!o) continue;
      if (k >= n.output_view_offsets.size() || o->arena_offset != x->arena_offset + n.output_view_offsets[k])
        return false;
    }
    return true;
  }
  if (!n.input_slot_offsets.empty()) {
    const ir::Value *y = n.output(0);
    if (!y || y->arena_offset < 0 || n.input_slot_offsets.size() != n.inputs.size()) return false;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (!n.inputs[i] || n.inputs[i]->arena_offset != y->arena_offset + n.input_slot_offsets[i]) return false;
    return true;
  }
  return false;
}

std::vector<int> kernel_inplace_inputs(const ir::Node &n) {
  // Elementwise kernels emitted as one pass "y[i] = f(x[i], ...)".
  static const std::set<std::string> unary{"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
                                           "Elu", "Selu", "Celu", "Softplus", "Softsign", "Abs", "Neg", "Exp",
                                           "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Erf", "Clip"};
  static const std::set<std::string> binary{"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "PRelu"};
  std::vector<int> r;
  if (!n.output(0)) return r;
  const ir::Value *y = n.output(0);
  auto same = [&](const ir::Value *x) { return x && x->dtype == y->dtype && x->shape == y->shape; };
  // The fused residual add reads skip[i] right before it writes y[i].
  if (n.domain == "tmc" && n.op == "QLinearConvAdd" && same(n.input(9))) return {9};
  if (!n.domain.empty()) return r;
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
  if (act == "Relu") return fmt::format("({0} < 0.0f ? 0.0f : {0})", v); // keeps NaN, like max(x, 0)
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
