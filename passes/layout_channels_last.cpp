// Pass: layout-channels-last. Runs float32 2-D convolutions and poolings in
// NHWC (channels innermost), which suits MCU kernels better than NCHW.
//
// Convention (read by codegen/kernels/conv.cpp and pool.cpp): a node carrying
// the attribute tmc_layout = "NHWC" reads its data input and writes its output
// in NHWC order, and its data Values have NHWC shapes:
//   Conv                     x [N,H,W,C], y [N,OH,OW,M], weights pre-permuted
//                            by this pass to [M][KH][KW][C/group] (shape
//                            [M,KH,KW,C/group], "OHWI"), bias [M] unchanged;
//                            the weight bytes are further packed for the
//                            kernel as the node attribute tmc_weight_layout
//                            says (see permute_conv_weights): "O4HWI4" for
//                            group 1 (blocks of 4 output channels, innermost),
//                            "HWO" for depthwise, "OHWI" otherwise;
//   MaxPool (no indices), AveragePool, GlobalAveragePool, GlobalMaxPool
//                            x [N,H,W,C], y [N,OH,OW,C] (global: [N,1,1,C]).
// All attributes (pads, strides, kernel_shape...) keep their ONNX meaning
// (spatial dims H, W).
//
// How: when the graph holds at least one convertible 2-D Conv, every such Conv
// becomes NHWC, and the NHWC layout is propagated forward (schedule order) to
// the layout-agnostic nodes that read an NHWC tensor: unary elementwise ops,
// broadcasting binary/variadic elementwise ops (constant operands are
// re-laid out, e.g. a per-channel [C,1,1] constant becomes [1,1,1,C]),
// Concat (axis remapped), reductions (axes remapped; keepdims=0 only when the
// kept axes keep their order, e.g. spatial means) and the poolings above.
// Transpose(perm=[0,2,3,1]) is inserted where an NHWC node reads an NCHW
// tensor and Transpose(perm=[0,3,1,2]) where an NCHW consumer (or a graph
// output) reads an NHWC tensor, so graph inputs/outputs keep their layout and
// Flatten/Reshape/Gemm still see NCHW order. A conversion that only moves
// size-1 dimensions (C == 1 at the input, 1x1 spatial after a global pool)
// does not move any byte and becomes a Reshape (a view).
// The result is exact: only the summation order of some kernels changes.
// The pass does nothing while some Value has an unknown shape (the driver
// then refines shapes with ONNX shape inference, which knows no NHWC, and
// runs the pipeline again).
#include <algorithm>
#include <map>
#include <set>

#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace tmc::passes {
namespace {

using ir::DType;
using ir::Node;
using ir::Shape;
using ir::Value;

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

// Which NHWC kernels to use. Decided from Cortex-M4 instruction counts (see
// the report of the change that introduced this pass).
constexpr bool kConvertConv = true;
constexpr bool kConvertPools = true;

Shape to_nhwc(const Shape &s) { return {s[0], s[2], s[3], s[1]}; }

/// Position in NHWC order of NCHW axis a.
int64_t nhwc_axis(int64_t a) {
  static const int64_t pos[4] = {0, 3, 1, 2};
  return pos[a];
}

bool is_f32_4d(const Value *v) { return v && v->dtype == DType::F32 && v->shape_known && v->rank() == 4; }

bool only_output0(const Node *n) {
  if (!n->output(0)) return false;
  for (size_t i = 1; i < n->outputs.size(); ++i)
    if (n->outputs[i]) return false;
  return true;
}

bool is_unary(const std::string &op) {
  static const std::set<std::string> ops = {
      "Relu",  "Clip",  "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu",  "Selu",
      "Softplus", "Abs", "Neg",     "Exp",     "Log",  "Sqrt",        "Reciprocal", "Floor", "Ceil",
      "Round", "Erf",   "Sign",      "Softsign", "Celu", "ThresholdedRelu", "Identity"};
  return ops.count(op) != 0;
}

bool is_broadcast_op(const std::string &op) {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "PRelu"};
  return ops.count(op) != 0;
}

bool is_reduce(const std::string &op) {
  static const std::set<std::string> ops = {"ReduceMean", "ReduceMax",  "ReduceMin",       "ReduceSum",
                                            "ReduceProd", "ReduceL1",   "ReduceL2",        "ReduceSumSquare",
                                            "ReduceLogSum", "ReduceLogSumExp"};
  return ops.count(op) != 0;
}

bool is_pool(const std::string &op) {
  return op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool";
}

/// A 2-D float32 Conv with constant weights that the NHWC kernel handles.
bool conv_ok(const Node *n) {
  if (!kConvertConv || !rw::is_op(n, "Conv") || n->has_attr("tmc_layout") || !only_output0(n)) return false;
  const Value *x = n->input(0), *w = n->input(1), *b = n->input(2), *y = n->output(0);
  if (!is_f32_4d(x) || !is_f32_4d(y) || !rw::is_f32_constant(w) || w->rank() != 4 || n->inputs.size() > 3)
    return false;
  if (b && (!rw::is_f32_constant(b) || b->numel() != w->shape[0])) return false;
  int64_t G = n->attr_int("group", 1), C = x->shape[1], M = w->shape[0];
  if (G < 1 || C % G || M % G || w->shape[1] * G != C || y->shape[1] != M) return false;
  auto ks = n->attr_ints("kernel_shape");
  if (!ks.empty() && ks != std::vector<int64_t>{w->shape[2], w->shape[3]}) return false;
  return true;
}

bool pool_ok(const Node *n) {
  if (!kConvertPools || !n->domain.empty() || !is_pool(n->op) || n->has_attr("tmc_layout") || !only_output0(n))
    return false;
  if (!is_f32_4d(n->input(0)) || !is_f32_4d(n->output(0)) || n->inputs.size() != 1) return false;
  if (n->op == "MaxPool" || n->op == "AveragePool") return n->attr_ints("kernel_shape").size() == 2;
  return true;
}

/// The reduction axes of a Reduce node (NCHW, normalised, sorted), or false if
/// they are not static. Empty axes with noop_with_empty_axes: returns false.
bool reduce_axes(const Node *n, std::vector<int64_t> &axes) {
  std::vector<int64_t> a;
  if (n->has_attr("axes")) {
    a = n->attr_ints("axes");
  } else if (n->input(1)) {
    if (!n->input(1)->is_constant()) return false;
    a = n->input(1)->int_values();
  }
  if (a.empty()) {
    if (n->attr_int("noop_with_empty_axes", 0) != 0) return false;
    a = {0, 1, 2, 3};
  }
  for (int64_t &v : a) {
    if (v < 0) v += 4;
    if (v < 0 || v > 3) return false;
  }
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  axes = a;
  return true;
}

enum class Kind { None, Conv, Pool, Unary, Broadcast, Concat, Reduce };

/// What `n` is for this pass if it may run in NHWC (given an NHWC input).
Kind kind_of(const Node *n) {
  if (!n->domain.empty() || n->has_attr("tmc_layout")) return Kind::None;
  if (conv_ok(n)) return Kind::Conv;
  if (pool_ok(n)) return Kind::Pool;
  if (!only_output0(n)) return Kind::None;
  const Value *x = n->input(0), *y = n->output(0);
  if (is_unary(n->op)) {
    if (!is_f32_4d(x) || !is_f32_4d(y) || x->shape != y->shape) return Kind::None;
    for (size_t i = 1; i < n->inputs.size(); ++i)
      if (n->inputs[i] && (n->inputs[i]->rank() > 1 || n->inputs[i]->numel() != 1)) return Kind::None;
    return Kind::Unary;
  }
  if (is_broadcast_op(n->op)) {
    int min_opset = (n->op == "Add" || n->op == "Sub" || n->op == "Mul" || n->op == "Div" || n->op == "PRelu") ? 7 : 8;
    if (n->opset < min_opset || !is_f32_4d(y) || n->inputs.empty()) return Kind::None;
    for (const Value *v : n->inputs) {
      if (!v || v->dtype != DType::F32 || !v->shape_known || v->rank() > 4) return Kind::None;
      if (v->rank() < 4 && !v->is_constant() && v->numel() != 1) return Kind::None;
    }
    return Kind::Broadcast;
  }
  if (rw::is_op(n, "Concat")) {
    if (!is_f32_4d(y)) return Kind::None;
    for (const Value *v : n->inputs)
      if (!is_f32_4d(v)) return Kind::None;
    int64_t a = n->attr_int("axis", 1);
    if (a < -4 || a > 3) return Kind::None;
    return Kind::Concat;
  }
  if (is_reduce(n->op)) {
    std::vector<int64_t> axes;
    if (!is_f32_4d(x) || !y || y->dtype != DType::F32 || !y->shape_known || n->inputs.size() > 2) return Kind::None;
    if (!reduce_axes(n, axes)) return Kind::None;
    if (n->attr_int("keepdims", 1) == 0) {
      // The kept axes must keep their relative order in NHWC.
      int64_t last = -1;
      for (int64_t a : kToNhwc) {
        if (std::count(axes.begin(), axes.end(), a)) continue;
        if (a < last) return Kind::None;
        last = a;
      }
    } else if (!is_f32_4d(y)) {
      return Kind::None;
    }
    return Kind::Reduce;
  }
  return Kind::None;
}

/// Input slots that carry layout-dependent data for a node of kind k.
std::vector<size_t> data_slots(const Node *n, Kind k) {
  std::vector<size_t> s;
  if (k == Kind::Broadcast || k == Kind::Concat) {
    for (size_t i = 0; i < n->inputs.size(); ++i) s.push_back(i);
  } else {
    s.push_back(0);
  }
  return s;
}

/// True if node output 0 is an NHWC rank-4 tensor once converted.
bool output_is_nhwc(const Node *n, Kind k) {
  if (k == Kind::Reduce) return n->attr_int("keepdims", 1) != 0;
  return true;
}

/// Constant `v` (rank <= 4, broadcast against rank 4) re-laid out in NHWC.
Value *permute_constant(ir::Graph &g, const Value *v) {
  Shape s4(4 - v->rank(), 1);
  s4.insert(s4.end(), v->shape.begin(), v->shape.end());
  const float *src = v->as<float>();
  std::vector<float> out((size_t)v->numel());
  int64_t N = s4[0], C = s4[1], H = s4[2], W = s4[3];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          out[(size_t)(((n * H + h) * W + w) * C + c)] = src[(size_t)(((n * C + c) * H + h) * W + w)];
  return g.add_constant_of<float>(g.unique_name(v->name + "_nhwc"), DType::F32, to_nhwc(s4), out);
}

/// Conv weights [M][Cg][KH][KW] -> the packed NHWC-kernel layout, recorded in
/// the node attribute tmc_weight_layout (the Value keeps shape [M,KH,KW,Cg]):
///   "O4HWI4" (group 1): output channels in blocks of 4 (last block M % 4),
///            block m0 at offset m0*KH*KW*Cg laid out [KH][KW][Cg][mb];
///   "HWO"    (depthwise, Cg == 1 and group == M): [KH][KW][M];
///   "OHWI"   (other grouped convs): [M][KH][KW][Cg].
Value *permute_conv_weights(ir::Graph &g, Node *n, const Value *w) {
  int64_t M = w->shape[0], Cg = w->shape[1], KH = w->shape[2], KW = w->shape[3];
  int64_t G = n->attr_int("group", 1);
  std::string layout = G == 1 ? "O4HWI4" : (Cg == 1 && G == M) ? "HWO" : "OHWI";
  const float *src = w->as<float>();
  std::vector<float> out((size_t)w->numel());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t h = 0; h < KH; ++h)
        for (int64_t x = 0; x < KW; ++x) {
          int64_t dst;
          if (layout == "O4HWI4") {
            int64_t m0 = m / 4 * 4, mb = std::min<int64_t>(4, M - m0);
            dst = m0 * KH * KW * Cg + ((h * KW + x) * Cg + c) * mb + (m - m0);
          } else if (layout == "HWO") {
            dst = (h * KW + x) * M + m;
          } else {
            dst = ((m * KH + h) * KW + x) * Cg + c;
          }
          out[(size_t)dst] = src[(size_t)(((m * Cg + c) * KH + h) * KW + x)];
        }
  n->attrs["tmc_weight_layout"] = layout;
  return g.add_constant_of<float>(g.unique_name(w->name + "_" + (layout == "OHWI" ? "ohwi" : layout)), DType::F32,
                                  {M, KH, KW, Cg}, out);
}

/// True if permuting dims of `s` by `perm` moves no byte (only size-1 dims move).
bool perm_is_reshape(const Shape &s, const std::vector<int64_t> &perm) {
  int64_t last = -1;
  for (int64_t p : perm) {
    if (s[(size_t)p] == 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

class LayoutChannelsLast : public Pass {
public:
  const char *name() const override { return "layout-channels-last"; }

  bool run(ir::Graph &g) override {
    opset_ = g.opsets.count("") ? g.opsets.at("") : 13;
    // The driver re-runs ONNX shape inference over the IR (and the pipeline)
    // while some shape is unknown; NHWC nodes would not pass that inference,
    // so convert only once every shape is static.
    for (auto &v : g.values())
      if (!v->shape_known || v->dtype == DType::Undefined) return false;
    std::vector<Node *> order;
    bool any_conv = false;
    for (auto &n : g.nodes()) {
      order.push_back(n.get());
      any_conv = any_conv || conv_ok(n.get());
    }
    if (!any_conv) return false;

    // 1. Choose the nodes that run in NHWC (forward propagation).
    std::map<Node *, Kind> chosen;
    std::set<const Value *> nhwc_values; // NCHW values whose producer is converted
    for (Node *n : order) {
      Kind k = kind_of(n);
      if (k == Kind::None) continue;
      if (k != Kind::Conv) {
        int fed = 0, unfed = 0;
        for (size_t i : data_slots(n, k)) {
          const Value *v = n->input(i);
          if (!v || v->is_constant() || v->numel() == 1) continue;
          if (nhwc_values.count(v)) ++fed;
          else ++unfed;
        }
        if (fed == 0 || unfed > fed) continue;
      }
      chosen[n] = k;
      if (output_is_nhwc(n, k)) nhwc_values.insert(n->output(0));
    }

    // 2. Rewrite them in schedule order.
    std::map<Value *, Value *> nhwc_of; // NCHW value -> its NHWC twin
    std::vector<std::pair<Value *, Value *>> outs;
    for (Node *n : order) {
      auto it = chosen.find(n);
      if (it == chosen.end()) continue;
      Kind k = it->second;
      for (size_t i : data_slots(n, k)) {
        Value *v = n->inputs[i];
        if (!v) continue;
        if (v->is_constant()) {
          if (v->numel() != 1 || v->rank() == 4) n->inputs[i] = permute_constant(g, v);
          continue;
        }
        if (v->rank() < 4) continue; // a single element broadcasts in any layout
        auto f = nhwc_of.find(v);
        if (f != nhwc_of.end()) {
          n->inputs[i] = f->second;
          continue;
        }
        Value *t = g.add_value(g.unique_name(v->name + "_nhwc"), v->dtype, to_nhwc(v->shape));
        add_transpose(g, n, v, t, kToNhwc);
        nhwc_of[v] = t;
        n->inputs[i] = t;
      }
      switch (k) {
      case Kind::Conv:
        n->inputs[1] = permute_conv_weights(g, n, n->input(1));
        n->attrs["tmc_layout"] = std::string("NHWC");
        break;
      case Kind::Pool: n->attrs["tmc_layout"] = std::string("NHWC"); break;
      case Kind::Concat: {
        int64_t a = n->attr_int("axis", 1);
        if (a < 0) a += 4;
        n->attrs["axis"] = nhwc_axis(a);
        break;
      }
      case Kind::Reduce: {
        std::vector<int64_t> axes;
        reduce_axes(n, axes);
        std::vector<int64_t> na;
        for (int64_t a : axes) na.push_back(nhwc_axis(a));
        std::sort(na.begin(), na.end());
        if (n->has_attr("axes")) {
          n->attrs["axes"] = na;
        } else if (n->input(1)) {
          n->inputs[1] = g.add_constant_of<int64_t>(g.unique_name(n->input(1)->name + "_nhwc"), DType::I64,
                                                    {(int64_t)na.size()}, na);
        }
        break;
      }
      default: break;
      }
      if (output_is_nhwc(n, k)) {
        Value *y = n->outputs[0];
        Value *yn = g.add_value(g.unique_name(y->name + "_nhwc"), y->dtype, to_nhwc(y->shape));
        n->outputs[0] = yn;
        yn->producer = n;
        y->producer = nullptr;
        nhwc_of[y] = yn;
        outs.push_back({y, yn});
      }
    }

    // 3. NCHW readers (unconverted nodes, graph outputs) of converted outputs.
    for (auto &[y, yn] : outs) {
      if (g.users(y).empty() && !g.is_graph_output(y)) continue;
      Node *p = yn->producer;
      size_t at = g.index_of(p) + 1;
      Node *before = at < g.num_nodes() ? g.nodes()[at].get() : nullptr;
      add_transpose(g, before, yn, y, kToNchw);
    }
    g.rebuild_producers();
    g.remove_unused_values();
    return true;
  }

private:
  int opset_ = 13;

  /// Inserts before `before` a node making `out` = `in` permuted by `perm`
  /// (a Reshape when no byte moves).
  void add_transpose(ir::Graph &g, Node *before, Value *in, Value *out, const std::vector<int64_t> &perm) {
    Node *t;
    if (perm_is_reshape(in->shape, perm)) {
      if (opset_ < 5) {
        t = g.insert_node(before, "Reshape", {in}, {out}, g.unique_name(out->name + "_reshape"));
        t->attrs["shape"] = std::vector<int64_t>(out->shape.begin(), out->shape.end());
      } else {
        Value *s = g.add_constant_of<int64_t>(g.unique_name(out->name + "_shape"), DType::I64, {4},
                                              std::vector<int64_t>(out->shape.begin(), out->shape.end()));
        t = g.insert_node(before, "Reshape", {in, s}, {out}, g.unique_name(out->name + "_reshape"));
      }
    } else {
      t = g.insert_node(before, "Transpose", {in}, {out}, g.unique_name(out->name + "_transpose"));
      t->attrs["perm"] = perm;
    }
    t->opset = opset_;
    out->producer = t;
  }
};

} // namespace
std::unique_ptr<Pass> create_layout_channels_last_pass() { return std::make_unique<LayoutChannelsLast>(); }
} // namespace tmc::passes
