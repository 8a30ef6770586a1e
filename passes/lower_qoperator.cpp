// Pass: lower-qoperator. Lowers the com.microsoft QOperator ops that ONNX
// Runtime's quantizer writes (QOperator format) to tmc's integer ops:
//   QLinearAdd                -> tmc::QAdd
//   QLinearMul                -> tmc::QMul
//   QLinearAveragePool, QLinearGlobalAveragePool -> tmc::QAveragePool
//   QLinearConcat             -> Concat of the int8 inputs; an input whose
//                                scale/zero point differ from the output's is
//                                requantized first with a tmc::QLut
//   QLinearLeakyRelu, QLinearSigmoid -> tmc::QLut (256-entry table built here)
// (QLinearConv and QLinearMatMul are standard ONNX ops with their own kernels.)
// With the default "onnx" semantics the integer nodes get
// tmc_int8_arith = "qlinear": the kernels then reproduce ONNX Runtime's
// QLinear* CPU kernels (MLAS) rather than its unfused DQ -> float op -> Q
// arithmetic; with "tflite" they get tmc_int8_semantics = "tflite" instead.
// The frontend infers the ops' output types and shapes
// (frontend/contrib_schemas.cpp). Scales and zero points must be constant,
// per tensor; channels_last pooling is not supported. A node that cannot be
// lowered is a compile error naming the reason; a node whose shapes are still
// symbolic waits for a later round (after the driver refines shapes).
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "passes/pass.h"
#include "passes/qlut.h"

namespace tmc::passes {
namespace {

using ir::DType;

const char *kMs = "com.microsoft";

bool is_q8(DType t) { return t == DType::I8 || t == DType::U8; }

const std::set<std::string> &lowered_ops() {
  static const std::set<std::string> ops{"QLinearAdd",  "QLinearMul",       "QLinearAveragePool",
                                         "QLinearGlobalAveragePool", "QLinearConcat", "QLinearLeakyRelu",
                                         "QLinearSigmoid"};
  return ops;
}

class LowerQOperator : public Pass {
public:
  explicit LowerQOperator(std::string semantics) : tflite_(semantics == "tflite") {}
  const char *name() const override { return "lower-qoperator"; }
  bool run(ir::Graph &g) override;

private:
  ir::Graph *g_ = nullptr;
  bool tflite_ = false;

  [[noreturn]] void fail(const ir::Node *n, const std::string &why) const {
    throw ir::CompileError(*n, "cannot lower to integer ops: " + why);
  }
  /// Scale input `i`: a constant float32 scalar.
  ir::Value *scale(const ir::Node *n, size_t i) const {
    ir::Value *v = n->input(i);
    if (!v) fail(n, fmt::format("input {} (scale) is missing", i));
    if (!v->is_constant() || v->dtype != DType::F32 || v->numel() != 1)
      fail(n, fmt::format("input {} ('{}') must be a constant float32 scalar", i, v->name));
    return v;
  }
  /// Zero point input `i` of dtype `t` (a zero constant when absent).
  ir::Value *zero_point(const ir::Node *n, size_t i, DType t) const {
    ir::Value *v = n->input(i);
    if (!v) {
      std::vector<uint8_t> zero(1, 0);
      return g_->add_constant_of<uint8_t>(g_->unique_name(n->name + "_zero_point"), t, {}, zero);
    }
    if (!v->is_constant() || v->numel() != 1)
      fail(n, fmt::format("input {} ('{}') must be a constant scalar", i, v->name));
    if (v->dtype != t) fail(n, fmt::format("input {} ('{}') must have the data's type", i, v->name));
    return v;
  }
  qlut::QParams params(const ir::Node *n, size_t data, size_t s, size_t z) const {
    qlut::QParams q;
    q.dtype = n->input(data)->dtype;
    q.scale = scale(n, s)->as<float>()[0];
    q.zero_point = zero_point(n, z, q.dtype)->int_at(0);
    return q;
  }
  /// Tags a new integer node with the arithmetic it must reproduce.
  void tag(ir::Node *q) const {
    q->domain = "tmc";
    q->opset = 1;
    if (tflite_) q->attrs["tmc_int8_semantics"] = std::string("tflite");
    else q->attrs["tmc_int8_arith"] = std::string("qlinear");
  }
  void check_data(const ir::Node *n, std::initializer_list<size_t> data) const {
    for (size_t i : data)
      if (!n->input(i) || !is_q8(n->input(i)->dtype)) fail(n, fmt::format("input {} must be int8 or uint8", i));
    if (!n->output(0) || !is_q8(n->output(0)->dtype)) fail(n, "the output must be int8 or uint8");
  }
  /// Shapes still symbolic: lowered in a later round, after shape refinement.
  static bool shapes_known(const ir::Node *n) {
    for (const ir::Value *v : n->inputs)
      if (v && !v->shape_known) return false;
    for (const ir::Value *v : n->outputs)
      if (v && !v->shape_known) return false;
    return true;
  }

  void lower_binary(ir::Node *n);
  void lower_pool(ir::Node *n);
  void lower_concat(ir::Node *n);
  void lower_lut(ir::Node *n);
};

void LowerQOperator::lower_binary(ir::Node *n) {
  check_data(n, {0, 3});
  DType t = n->input(0)->dtype;
  if (n->input(3)->dtype != t || n->output(0)->dtype != t) fail(n, "A, B and C must have the same type");
  std::vector<ir::Value *> ins{n->input(0), scale(n, 1), zero_point(n, 2, t), n->input(3), scale(n, 4),
                               zero_point(n, 5, t), scale(n, 6), zero_point(n, 7, t)};
  ir::Node *q = g_->insert_node(n, n->op == "QLinearAdd" ? "QAdd" : "QMul", ins, {n->output(0)}, n->name + "_q");
  tag(q);
}

void LowerQOperator::lower_pool(ir::Node *n) {
  check_data(n, {0});
  ir::Value *x = n->input(0);
  if (n->attr_int("channels_last", 0) != 0) fail(n, "channels_last = 1 is not supported");
  if (x->rank() < 3) fail(n, "the input rank must be at least 3");
  DType t = x->dtype;
  if (n->output(0)->dtype != t) fail(n, "X and Y must have the same type");
  std::vector<ir::Value *> ins{x, scale(n, 1), zero_point(n, 2, t), scale(n, 3), zero_point(n, 4, t)};
  ir::Node *q = g_->insert_node(n, "QAveragePool", ins, {n->output(0)}, n->name + "_q");
  tag(q);
  if (n->op == "QLinearGlobalAveragePool") {
    q->attrs["kernel_shape"] = std::vector<int64_t>(x->shape.begin() + 2, x->shape.end());
  } else {
    for (const char *a : {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"})
      if (n->has_attr(a)) q->attrs[a] = n->attrs.at(a);
  }
}

void LowerQOperator::lower_concat(ir::Node *n) {
  size_t ni = n->inputs.size();
  if (ni < 5 || (ni - 2) % 3 != 0) fail(n, "inputs must be Y_scale, Y_zero_point and (X, scale, zero point) triples");
  if (!n->output(0) || !is_q8(n->output(0)->dtype)) fail(n, "the output must be int8 or uint8");
  DType t = n->output(0)->dtype;
  qlut::QParams out;
  out.dtype = t;
  out.scale = scale(n, 0)->as<float>()[0];
  out.zero_point = zero_point(n, 1, t)->int_at(0);
  std::vector<ir::Value *> parts;
  for (size_t i = 2; i < ni; i += 3) {
    check_data(n, {i});
    ir::Value *x = n->input(i);
    if (x->dtype != t) fail(n, fmt::format("input {} has another type than the output", i));
    qlut::QParams in = params(n, i, i + 1, i + 2);
    // ONNX Runtime copies an input with the output's parameters and maps the
    // others through an identity requantization table.
    if (in.scale == out.scale && in.zero_point == out.zero_point) {
      parts.push_back(x);
      continue;
    }
    ir::Value *r = g_->add_value(g_->unique_name(x->name + "_requant"), t, x->shape);
    r->shape_known = x->shape_known;
    qlut::insert_table_op(*g_, n, x, r, qlut::build_table(qlut::Activation{}, in, out, tflite_),
                          n->name + "_requant");
    parts.push_back(r);
  }
  ir::Node *c = g_->insert_node(n, "Concat", parts, {n->output(0)}, n->name + "_q");
  c->attrs["axis"] = n->attr_int("axis");
  c->opset = g_->opsets.count("") ? std::max(g_->opsets.at(""), 13) : 13;
}

void LowerQOperator::lower_lut(ir::Node *n) {
  check_data(n, {0});
  qlut::QParams in = params(n, 0, 1, 2);
  qlut::QParams out;
  out.dtype = n->output(0)->dtype;
  out.scale = scale(n, 3)->as<float>()[0];
  out.zero_point = zero_point(n, 4, out.dtype)->int_at(0);
  qlut::Activation a;
  if (n->op == "QLinearSigmoid") {
    a.kind = qlut::Act::Sigmoid;
  } else {
    a.kind = qlut::Act::LeakyRelu;
    a.alpha = n->attr_float("alpha", 0.01f);
  }
  qlut::insert_table_op(*g_, n, n->input(0), n->output(0), qlut::build_table(a, in, out, tflite_), n->name + "_q");
}

bool LowerQOperator::run(ir::Graph &g) {
  g_ = &g;
  std::vector<ir::Node *> todo;
  for (auto &n : g.nodes())
    if (n->domain == kMs && lowered_ops().count(n->op) && shapes_known(n.get())) todo.push_back(n.get());
  for (ir::Node *n : todo) {
    if (n->op == "QLinearAdd" || n->op == "QLinearMul") lower_binary(n);
    else if (n->op == "QLinearAveragePool" || n->op == "QLinearGlobalAveragePool") lower_pool(n);
    else if (n->op == "QLinearConcat") lower_concat(n);
    else lower_lut(n);
    g.remove_node(n);
  }
  if (!todo.empty()) g.remove_unused_values();
  return !todo.empty();
}

} // namespace

bool lowers_qoperator_op(const ir::Node &n) { return n.domain == kMs && lowered_ops().count(n.op) != 0; }

std::unique_ptr<Pass> create_lower_qoperator_pass(const std::string &int8_semantics) {
  return std::make_unique<LowerQOperator>(int8_semantics);
}

} // namespace tmc::passes
