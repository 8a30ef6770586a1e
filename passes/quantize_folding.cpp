// Pass: quantize-folding. Lowers QDQ patterns (ONNX Runtime's quantization
// format: DequantizeLinear -> float op -> QuantizeLinear) to integer ops that
// keep the quantization parameters as inputs:
//   Conv                      -> QLinearConv (int32 bias, per-channel weights)
//   Gemm                      -> tmc::QGemm (weights stored [N, K], int32 bias)
//   MatMul (constant B)       -> QLinearMatMul
//   Add                       -> tmc::QAdd
//   Mul                       -> tmc::QMul
//   ConvTranspose             -> tmc::QConvTranspose (int32 bias, weights
//                                per-tensor or per output channel, axis 1)
//   AveragePool, GlobalAveragePool -> tmc::QAveragePool
//   Softmax                   -> tmc::QSoftmax
//   Sigmoid, Tanh, HardSwish, HardSigmoid, LeakyRelu, Relu, Clip
//                             -> tmc::QLut, a 256-entry table built here
//                                (passes/qlut.h), or tmc::QClamp when the
//                                table is a clamp
//   MaxPool, GlobalMaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
//   Concat with the same scale and zero point on every input and the output
//   -> the same op on the integer data.
// A Relu or Clip between the op and its QuantizeLinear is folded: since
// quantization is monotone, Q(clip(v, a, b)) == clamp(Q(v), Q(a), Q(b)); when
// that clamp is not the plain saturation of the output type a tmc::QClamp
// node is added after the integer op.
// Requantization follows ONNX Runtime (codegen/kernels/int8.cpp), or, with
// --int8-semantics tflite, TFLite's fixed-point reference kernels: the integer
// nodes then carry the attribute tmc_int8_semantics = "tflite". The pass
// runs before constant folding, so DequantizeLinear of constant weights is
// still visible. Ops that read a DequantizeLinear and feed a QuantizeLinear
// but cannot be folded stay float islands, with a warning on stderr.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "passes/pass.h"
#include "passes/qlut.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

using ir::DType;

bool is_q8(DType t) { return t == DType::I8 || t == DType::U8; }
int64_t qmin_of(DType t) { return t == DType::I8 ? -128 : 0; }
int64_t qmax_of(DType t) { return t == DType::I8 ? 127 : 255; }

/// A (de)quantization: integer value, scale, zero point (may be null), axis.
struct QInfo {
  ir::Node *node = nullptr;
  ir::Value *q = nullptr;     ///< the integer tensor (DQ input / Q output)
  ir::Value *scale = nullptr; ///< float32 constant
  ir::Value *zp = nullptr;    ///< constant or null (= 0)
  int64_t axis = 1;
  bool per_tensor() const { return scale->numel() == 1; }
  float s(int64_t i = 0) const { return scale->as<float>()[scale->numel() == 1 ? 0 : i]; }
  int64_t z(int64_t i = 0) const { return zp ? zp->int_at(zp->numel() == 1 ? 0 : i) : 0; }
};

bool params_ok(ir::Node *n) {
  if (!n->domain.empty() && n->domain != "ai.onnx") return false;
  if (n->attr_int("block_size", 0) != 0) return false;
  ir::Value *s = n->input(1), *z = n->input(2);
  if (!s || !s->is_constant() || s->dtype != DType::F32) return false;
  if (s->numel() != 1 && s->rank() != 1) return false;
  if (z && (!z->is_constant() || z->numel() != s->numel())) return false;
  return true;
}

/// `v` is the output of a DequantizeLinear of an int8/uint8 (or int32 when
/// `allow_i32`) tensor with constant float32 parameters.
bool dq_of(ir::Value *v, QInfo &qi, bool allow_i32 = false) {
  if (!v || !v->producer) return false;
  ir::Node *n = v->producer;
  if (n->op != "DequantizeLinear" || !params_ok(n) || n->output(0) != v) return false;
  ir::Value *x = n->input(0);
  if (!is_q8(x->dtype) && !(allow_i32 && x->dtype == DType::I32)) return false;
  if (v->dtype != DType::F32) return false;
  qi.node = n;
  qi.q = x;
  qi.scale = n->input(1);
  qi.zp = n->input(2);
  int64_t r = (int64_t)x->rank();
  qi.axis = n->attr_int("axis", 1);
  if (qi.axis < 0) qi.axis += r;
  if (!qi.per_tensor() && (qi.axis < 0 || qi.axis >= r || x->shape[(size_t)qi.axis] != qi.scale->numel()))
    return false;
  return true;
}

/// The per-tensor QuantizeLinear that is the single reader of `v`.
bool q_after(const ir::Graph &g, ir::Value *v, QInfo &qi) {
  if (!v || g.is_graph_output(v)) return false;
  ir::Node *n = rw::single_user(g, v);
  if (!n || n->op != "QuantizeLinear" || !params_ok(n) || n->input(0) != v) return false;
  if (!n->output(0) || !is_q8(n->output(0)->dtype)) return false;
  if (n->input(1)->numel() != 1) return false;
  qi.node = n;
  qi.q = n->output(0);
  qi.scale = n->input(1);
  qi.zp = n->input(2);
  qi.axis = -1;
  return true;
}

/// Quantizes a real value with the parameters of `q` (round half to even, saturate).
int64_t quantize_real(const QInfo &q, double v, DType t) {
  if (std::isinf(v)) return v < 0 ? qmin_of(t) : qmax_of(t);
  double r = std::nearbyint((double)(float)((float)v / q.s())) + (double)q.z();
  if (r < (double)qmin_of(t)) r = (double)qmin_of(t);
  if (r > (double)qmax_of(t)) r = (double)qmax_of(t);
  return (int64_t)r;
}

/// The output side of a folded op: its QuantizeLinear and the integer clamp
/// of a Relu/Clip found between them.
struct OutSide {
  QInfo q;
  std::vector<ir::Node *> removed; ///< activation and Q nodes, in order
  int64_t lo = 0, hi = 0;          ///< integer clamp range
  bool clamp = false;
};

/// Reads a Clip bound (constant float32 scalar or absent).
bool clip_bound(const ir::Node *n, size_t i, const char *attr, double dflt, double &out) {
  out = dflt;
  if (n->opset < 11) {
    out = n->attr_float(attr, (float)dflt);
    return true;
  }
  ir::Value *v = n->input(i);
  if (!v) return true;
  if (!v->is_constant() || v->dtype != DType::F32 || v->numel() != 1) return false;
  out = v->as<float>()[0];
  return true;
}

bool find_out_side(const ir::Graph &g, ir::Value *v, OutSide &os) {
  double a = -std::numeric_limits<double>::infinity(), b = std::numeric_limits<double>::infinity();
  bool act = false;
  ir::Node *u = g.is_graph_output(v) ? nullptr : rw::single_user(g, v);
  if (u && (u->domain.empty() || u->domain == "ai.onnx") && (u->op == "Relu" || u->op == "Clip") &&
      u->input(0) == v && u->output(0)) {
    if (u->op == "Relu") {
      a = 0.0;
    } else if (!clip_bound(u, 1, "min", a, a) || !clip_bound(u, 2, "max", b, b)) {
      return false;
    }
    act = true;
    os.removed.push_back(u);
    v = u->output(0);
  }
  if (!q_after(g, v, os.q)) return false;
  os.removed.push_back(os.q.node);
  DType t = os.q.q->dtype;
  os.lo = qmin_of(t);
  os.hi = qmax_of(t);
  if (act) {
    int64_t qa = quantize_real(os.q, a, t), qb = quantize_real(os.q, b, t);
    if (qa > os.lo) os.lo = qa;
    if (qb < os.hi) os.hi = qb;
    os.clamp = os.lo > qmin_of(t) || os.hi < qmax_of(t);
  }
  return true;
}

/// Zero point as a value (a zero scalar of dtype `t` when absent).
ir::Value *zp_value(ir::Graph &g, const QInfo &qi, DType t) {
  if (qi.zp) return qi.zp;
  std::vector<uint8_t> zero(1, 0);
  return g.add_constant_of<uint8_t>(g.unique_name("zero_point"), t, {}, zero);
}

class QuantizeFolding : public Pass {
public:
  explicit QuantizeFolding(std::string semantics) : semantics_(std::move(semantics)) {}
  const char *name() const override { return "quantize-folding"; }
  bool run(ir::Graph &g) override;

private:
  ir::Graph *g_ = nullptr;
  std::string why_;
  std::string semantics_; ///< "onnx" or "tflite"

  bool fail(const std::string &w) {
    why_ = w;
    return false;
  }
  /// Puts the integer node `n` in place: writes the Q output, inserting a
  /// QClamp when needed, and removes `orig` and the output-side nodes.
  void finish(ir::Node *n, ir::Node *orig, OutSide &os);
  /// The int32 bias for a Conv/Gemm: from DQ(int32) or a float constant,
  /// quantized with scale x_scale * w_scale[c]. Null value and false on failure.
  /// `wch(c)`: the weight scale index of output channel c (default c).
  bool bias_i32(ir::Value *b, const QInfo &x, const QInfo &w, int64_t channels, ir::Value *&out,
                const std::function<int64_t(int64_t)> &wch = nullptr);

  bool fold_conv(ir::Node *n);
  bool fold_gemm(ir::Node *n);
  bool fold_matmul(ir::Node *n);
  bool fold_binary(ir::Node *n, const char *qop);
  bool fold_unary(ir::Node *n);
  bool fold_convtranspose(ir::Node *n);
  bool fold_avgpool(ir::Node *n);
  bool fold_softmax(ir::Node *n);
  bool fold_passthrough(ir::Node *n);
};

void QuantizeFolding::finish(ir::Node *n, ir::Node *orig, OutSide &os) {
  ir::Graph &g = *g_;
  ir::Value *y = os.q.q;
  // The integer kernels read this to pick TFLite's fixed-point arithmetic.
  if (semantics_ == "tflite" && orig->op != n->op) n->attrs["tmc_int8_semantics"] = std::string("tflite");
  if (os.clamp) {
    ir::Value *t = g.add_value(g.unique_name(y->name + "_unclamped"), y->dtype, y->shape);
    t->shape_known = y->shape_known;
    n->outputs[0] = t;
    t->producer = n;
    ir::Node *c = g.insert_node(orig, "QClamp", {t}, {y}, orig->name + "_clamp");
    c->domain = "tmc";
    c->opset = 1;
    c->attrs["lo"] = os.lo;
    c->attrs["hi"] = os.hi;
  } else {
    n->outputs[0] = y;
    y->producer = n;
  }
  for (ir::Node *r : os.removed) g.remove_node(r);
  g.remove_node(orig);
  g.rebuild_producers();
}

bool QuantizeFolding::bias_i32(ir::Value *b, const QInfo &x, const QInfo &w, int64_t channels, ir::Value *&out,
                               const std::function<int64_t(int64_t)> &wch) {
  ir::Graph &g = *g_;
  out = nullptr;
  if (!b) return true;
  if (b->numel() != channels) return fail("bias size does not match");
  std::vector<float> bscale(channels);
  for (int64_t c = 0; c < channels; ++c) bscale[c] = x.s() * w.s(wch ? wch(c) : c);
  QInfo bq;
  std::vector<double> real(channels);
  if (dq_of(b, bq, true)) {
    if (!bq.q->is_constant()) return fail("bias is not constant");
    bool same = bq.q->dtype == DType::I32;
    for (int64_t c = 0; c < channels && same; ++c) {
      float s = bq.s(c);
      if (bq.z(c) != 0 || std::fabs((double)s - (double)bscale[c]) > 1e-6 * std::fabs((double)bscale[c])) same = false;
    }
    if (same) {
      ir::Shape s{channels};
      out = g.add_constant(g.unique_name(bq.q->name + "_i32"), DType::I32, s, bq.q->data);
      return true;
    }
    for (int64_t c = 0; c < channels; ++c) real[c] = (double)(bq.q->int_at(c) - bq.z(c)) * (double)bq.s(c);
  } else if (b->is_constant() && b->dtype == DType::F32) {
    for (int64_t c = 0; c < channels; ++c) real[c] = (double)b->as<float>()[c];
  } else {
    return fail("bias is neither DequantizeLinear of a constant nor a float32 constant");
  }
  std::vector<int32_t> q(channels);
  for (int64_t c = 0; c < channels; ++c) {
    double r = bscale[c] == 0.0f ? 0.0 : std::nearbyint(real[c] / (double)bscale[c]);
    if (r < -2147483648.0 || r > 2147483647.0) return fail("quantized bias overflows int32");
    q[c] = (int32_t)r;
  }
  out = g.add_constant_of<int32_t>(g.unique_name(b->name + "_i32"), DType::I32, {channels}, q);
  return true;
}

bool QuantizeFolding::fold_conv(ir::Node *n) {
  QInfo x, w;
  if (!dq_of(n->input(0), x) || !x.per_tensor()) return fail("input is not a per-tensor DequantizeLinear");
  if (!dq_of(n->input(1), w) || !w.q->is_constant()) return fail("weight is not a DequantizeLinear of a constant");
  int64_t M = w.q->shape.empty() ? 0 : w.q->shape[0];
  if (!w.per_tensor() && w.axis != 0) return fail("weight is not quantized per output channel");
  if (w.zp && w.zp->dtype != w.q->dtype) return fail("weight zero point dtype differs");
  OutSide os;
  if (!find_out_side(*g_, n->output(0), os)) return fail("output is not quantized");
  ir::Value *bias = nullptr;
  if (!bias_i32(n->input(2), x, w, M, bias)) return false;
  ir::Graph &g = *g_;
  std::vector<ir::Value *> ins{x.q, x.scale, zp_value(g, x, x.q->dtype), w.q, w.scale, zp_value(g, w, w.q->dtype),
                               os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  if (bias) ins.push_back(bias);
  ir::Node *qc = g.insert_node(n, "QLinearConv", ins, {nullptr}, n->name + "_q");
  for (const char *a : {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
    if (n->has_attr(a)) qc->attrs[a] = n->attrs.at(a);
  finish(qc, n, os);
  return true;
}

bool QuantizeFolding::fold_gemm(ir::Node *n) {
  ir::Graph &g = *g_;
  if (n->attr_int("transA", 0) != 0) return fail("transA is not supported");
  if (n->attr_float("alpha", 1.0f) != 1.0f) return fail("alpha != 1");
  if (n->input(2) && n->attr_float("beta", 1.0f) != 1.0f) return fail("beta != 1");
  QInfo a, b;
  if (!dq_of(n->input(0), a) || !a.per_tensor() || a.q->rank() != 2) return fail("A is not a per-tensor DequantizeLinear");
  if (!dq_of(n->input(1), b) || !b.q->is_constant() || b.q->rank() != 2) return fail("B is not a DequantizeLinear of a constant");
  bool tb = n->attr_int("transB", 0) != 0;
  int64_t K = a.q->shape[1], N = tb ? b.q->shape[0] : b.q->shape[1];
  if ((tb ? b.q->shape[1] : b.q->shape[0]) != K) return fail("shape mismatch");
  if (!b.per_tensor() && b.axis != (tb ? 0 : 1)) return fail("B is not quantized per output column");
  if (b.zp && b.zp->dtype != b.q->dtype) return fail("B zero point dtype differs");
  ir::Value *c = n->input(2);
  if (c && !(c->numel() == N && (c->rank() == 1 || (c->rank() == 2 && c->shape[0] == 1))))
    return fail("bias is not a row vector");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  ir::Value *bias = nullptr;
  if (!bias_i32(c, a, b, N, bias)) return false;
  // QGemm reads B as [N, K].
  ir::Value *bnk = b.q;
  if (!tb) {
    size_t es = ir::dtype_size(b.q->dtype);
    auto bytes = std::make_shared<ir::Bytes>(b.q->data->size());
    const uint8_t *src = b.q->data->data();
    for (int64_t p = 0; p < K; ++p)
      for (int64_t j = 0; j < N; ++j) std::memcpy(bytes->data() + (j * K + p) * es, src + (p * N + j) * es, es);
    bnk = g.add_constant(g.unique_name(b.q->name + "_t"), b.q->dtype, {N, K}, bytes);
  }
  std::vector<ir::Value *> ins{a.q, a.scale, zp_value(g, a, a.q->dtype), bnk, b.scale, zp_value(g, b, b.q->dtype),
                               os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  if (bias) ins.push_back(bias);
  ir::Node *qg = g.insert_node(n, "QGemm", ins, {nullptr}, n->name + "_q");
  qg->domain = "tmc";
  qg->opset = 1;
  finish(qg, n, os);
  return true;
}

bool QuantizeFolding::fold_matmul(ir::Node *n) {
  ir::Graph &g = *g_;
  QInfo a, b;
  if (!dq_of(n->input(0), a) || !a.per_tensor()) return fail("A is not a per-tensor DequantizeLinear");
  if (!dq_of(n->input(1), b)) return fail("B is not a DequantizeLinear");
  if (!b.per_tensor() && !(b.q->rank() == 2 && b.axis == 1)) return fail("B is not quantized per column");
  if (b.zp && b.zp->dtype != b.q->dtype) return fail("B zero point dtype differs");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  if (os.clamp) return fail("a clamp after MatMul is not supported");
  std::vector<ir::Value *> ins{a.q, a.scale, zp_value(g, a, a.q->dtype), b.q, b.scale, zp_value(g, b, b.q->dtype),
                               os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  ir::Node *qm = g.insert_node(n, "QLinearMatMul", ins, {nullptr}, n->name + "_q");
  finish(qm, n, os);
  return true;
}

/// Add and Mul of two per-tensor DequantizeLinear inputs -> tmc::QAdd / QMul.
bool QuantizeFolding::fold_binary(ir::Node *n, const char *qop) {
  ir::Graph &g = *g_;
  if (n->opset < 7) return fail("legacy broadcast is not supported");
  QInfo a, b;
  if (!dq_of(n->input(0), a) || !a.per_tensor()) return fail("input A is not a per-tensor DequantizeLinear");
  if (!dq_of(n->input(1), b) || !b.per_tensor()) return fail("input B is not a per-tensor DequantizeLinear");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  std::vector<ir::Value *> ins{a.q, a.scale, zp_value(g, a, a.q->dtype), b.q, b.scale, zp_value(g, b, b.q->dtype),
                               os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  ir::Node *q = g.insert_node(n, qop, ins, {nullptr}, n->name + "_q");
  q->domain = "tmc";
  q->opset = 1;
  finish(q, n, os);
  return true;
}

/// An elementwise activation between DQ and Q: a 256-entry table of the
/// output code of every input code (a following Relu/Clip folded in).
bool QuantizeFolding::fold_unary(ir::Node *n) {
  ir::Graph &g = *g_;
  qlut::Activation act;
  if (!qlut::activation_of(*n, act)) return fail("parameters are not constant");
  QInfo x;
  if (!dq_of(n->input(0), x) || !x.per_tensor()) return fail("input is not a per-tensor DequantizeLinear");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  qlut::QParams in{x.q->dtype, x.s(), x.z()}, out{os.q.q->dtype, os.q.s(), os.q.z()};
  std::vector<int64_t> table = qlut::build_table(act, in, out, semantics_ == "tflite");
  for (auto &v : table) v = std::min(std::max(v, os.lo), os.hi);
  qlut::insert_table_op(g, n, x.q, os.q.q, table, n->name + "_q");
  for (ir::Node *r : os.removed) g.remove_node(r);
  g.remove_node(n);
  g.rebuild_producers();
  return true;
}

bool QuantizeFolding::fold_convtranspose(ir::Node *n) {
  QInfo x, w;
  if (!dq_of(n->input(0), x) || !x.per_tensor()) return fail("input is not a per-tensor DequantizeLinear");
  if (!dq_of(n->input(1), w) || !w.q->is_constant()) return fail("weight is not a DequantizeLinear of a constant");
  if (w.q->rank() < 3) return fail("weight rank < 3");
  int64_t G = n->attr_int("group", 1), Mg = w.q->shape[1];
  if (!w.per_tensor() && w.axis != 1) return fail("weight is not quantized per output channel (axis 1)");
  if (w.zp && w.zp->dtype != w.q->dtype) return fail("weight zero point dtype differs");
  OutSide os;
  if (!find_out_side(*g_, n->output(0), os)) return fail("output is not quantized");
  ir::Value *bias = nullptr;
  if (!bias_i32(n->input(2), x, w, Mg * G, bias, [Mg](int64_t m) { return m % Mg; })) return false;
  ir::Graph &g = *g_;
  std::vector<ir::Value *> ins{x.q, x.scale, zp_value(g, x, x.q->dtype), w.q, w.scale, zp_value(g, w, w.q->dtype),
                               os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  if (bias) ins.push_back(bias);
  ir::Node *qc = g.insert_node(n, "QConvTranspose", ins, {nullptr}, n->name + "_q");
  qc->domain = "tmc";
  qc->opset = 1;
  for (const char *a : {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads",
                        "strides"})
    if (n->has_attr(a)) qc->attrs[a] = n->attrs.at(a);
  finish(qc, n, os);
  return true;
}

bool QuantizeFolding::fold_avgpool(ir::Node *n) {
  ir::Graph &g = *g_;
  QInfo x;
  if (!dq_of(n->input(0), x) || !x.per_tensor()) return fail("input is not a per-tensor DequantizeLinear");
  if (n->outputs.size() != 1) return fail("extra outputs");
  if (x.q->rank() < 3) return fail("input rank < 3");
  for (int64_t d : n->attr_ints("dilations"))
    if (d != 1) return fail("dilations are not supported");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  std::vector<ir::Value *> ins{x.q, x.scale, zp_value(g, x, x.q->dtype), os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  ir::Node *qp = g.insert_node(n, "QAveragePool", ins, {nullptr}, n->name + "_q");
  qp->domain = "tmc";
  qp->opset = 1;
  if (n->op == "GlobalAveragePool") {
    qp->attrs["kernel_shape"] = std::vector<int64_t>(x.q->shape.begin() + 2, x.q->shape.end());
  } else {
    for (const char *a : {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"})
      if (n->has_attr(a)) qp->attrs[a] = n->attrs.at(a);
  }
  finish(qp, n, os);
  return true;
}

bool QuantizeFolding::fold_softmax(ir::Node *n) {
  ir::Graph &g = *g_;
  QInfo x;
  if (!dq_of(n->input(0), x) || !x.per_tensor()) return fail("input is not a per-tensor DequantizeLinear");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  int64_t r = (int64_t)x.q->rank();
  int64_t axis = n->attr_int("axis", n->opset >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return fail("bad axis");
  std::vector<ir::Value *> ins{x.q, x.scale, zp_value(g, x, x.q->dtype), os.q.scale, zp_value(g, os.q, os.q.q->dtype)};
  ir::Node *qs = g.insert_node(n, "QSoftmax", ins, {nullptr}, n->name + "_q");
  qs->domain = "tmc";
  qs->opset = 1;
  qs->attrs["axis"] = axis;
  qs->attrs["coerce_2d"] = (int64_t)(n->opset < 13 ? 1 : 0);
  finish(qs, n, os);
  return true;
}

/// Data movement and MaxPool: the same op on the integer data when every
/// quantized input has the output's parameters.
bool QuantizeFolding::fold_passthrough(ir::Node *n) {
  ir::Graph &g = *g_;
  if (n->op == "MaxPool" && n->output(1)) return fail("MaxPool indices are not supported");
  size_t nq = n->op == "Concat" ? n->inputs.size() : 1;
  std::vector<QInfo> xs(nq);
  for (size_t i = 0; i < nq; ++i)
    if (!dq_of(n->input(i), xs[i]) || !xs[i].per_tensor()) return fail("input is not a per-tensor DequantizeLinear");
  OutSide os;
  if (!find_out_side(g, n->output(0), os)) return fail("output is not quantized");
  if (os.clamp && n->op != "MaxPool" && n->op != "GlobalMaxPool")
    return fail("activation between the op and QuantizeLinear");
  for (auto &x : xs)
    if (x.q->dtype != os.q.q->dtype || x.s() != os.q.s() || x.z() != os.q.z())
      return fail("input and output quantization parameters differ");
  std::vector<ir::Value *> ins = n->inputs;
  for (size_t i = 0; i < nq; ++i) ins[i] = xs[i].q;
  ir::Node *m = g.insert_node(n, n->op, ins, {nullptr}, n->name + "_q");
  m->attrs = n->attrs;
  m->opset = n->opset;
  finish(m, n, os);
  return true;
}

bool QuantizeFolding::run(ir::Graph &g) {
  g_ = &g;
  bool any_dq = false;
  for (auto &n : g.nodes())
    if (n->op == "DequantizeLinear" && n->domain.empty()) any_dq = true;
  if (!any_dq) return false;
  bool changed = false;
  std::vector<ir::Node *> order;
  for (auto &n : g.nodes()) order.push_back(n.get());
  for (size_t i = 0; i < order.size(); ++i) {
    ir::Node *n = order[i];
    // The node may have been removed as part of an earlier rewrite.
    bool alive = false;
    for (auto &m : g.nodes())
      if (m.get() == n) {
        alive = true;
        break;
      }
    if (!alive) continue;
    if (!n->domain.empty() && n->domain != "ai.onnx") continue;
    why_.clear();
    bool ok = false, tried = true;
    const std::string &op = n->op;
    if (op == "Conv") ok = fold_conv(n);
    else if (op == "Gemm") ok = fold_gemm(n);
    else if (op == "MatMul") ok = fold_matmul(n);
    else if (op == "Add") ok = fold_binary(n, "QAdd");
    else if (op == "Mul") ok = fold_binary(n, "QMul");
    else if (op == "ConvTranspose") ok = fold_convtranspose(n);
    else if (op == "Sigmoid" || op == "Tanh" || op == "HardSwish" || op == "HardSigmoid" || op == "LeakyRelu" ||
             op == "Relu" || op == "Clip")
      ok = fold_unary(n);
    else if (op == "AveragePool" || op == "GlobalAveragePool") ok = fold_avgpool(n);
    else if (op == "Softmax") ok = fold_softmax(n);
    else if (op == "MaxPool" || op == "GlobalMaxPool" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
             op == "Unsqueeze" || op == "Transpose" || op == "Concat")
      ok = fold_passthrough(n);
    else tried = false;
    if (ok) {
      changed = true;
      continue;
    }
    // Warn about float islands: a node reading a DequantizeLinear of an
    // 8-bit activation whose result is quantized again.
    if (op == "DequantizeLinear" || op == "QuantizeLinear") continue;
    bool reads_dq = false;
    for (ir::Value *v : n->inputs) {
      QInfo qi;
      if (v && dq_of(v, qi) && !qi.q->is_constant()) reads_dq = true;
    }
    bool feeds_q = false;
    for (ir::Value *v : n->outputs)
      if (v)
        for (ir::Node *u : g.users(v))
          if (u->op == "QuantizeLinear") feeds_q = true;
    if (reads_dq && feeds_q)
      std::cerr << fmt::format("tmc: warning: {} stays a float island (DequantizeLinear -> float -> QuantizeLinear){}\n",
                               n->label(), tried && !why_.empty() ? ": " + why_ : "");
  }
  if (changed) {
    // DequantizeLinear nodes whose outputs are no longer read.
    bool again = true;
    while (again) {
      again = false;
      for (auto &n : g.nodes()) {
        if (n->op != "DequantizeLinear" || !n->domain.empty()) continue;
        ir::Value *o = n->output(0);
        if (o && (g.is_graph_output(o) || !g.users(o).empty())) continue;
        g.remove_node(n.get());
        again = true;
        break;
      }
    }
    g.remove_unused_values();
  }
  return changed;
}

} // namespace
std::unique_ptr<Pass> create_quantize_folding_pass(const std::string &int8_semantics) {
  return std::make_unique<QuantizeFolding>(int8_semantics);
}
} // namespace tmc::passes
