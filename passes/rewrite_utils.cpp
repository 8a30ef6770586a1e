#include "passes/rewrite_utils.h"

#include <cstring>

namespace tmc::passes::rw {

using ir::DType;

bool is_op(const ir::Node *n, const char *op) {
  return n && n->domain.empty() && n->op == op;
}

int use_count(const ir::Graph &g, const ir::Value *v) {
  int c = 0;
  for (auto &n : g.nodes())
    for (const ir::Value *in : n->inputs)
      if (in == v) ++c;
  return c;
}

bool single_use(const ir::Graph &g, const ir::Value *v) {
  if (!v || v->is_constant() || g.is_graph_output(v) || g.is_graph_input(v)) return false;
  return use_count(g, v) == 1;
}

ir::Node *single_user(const ir::Graph &g, const ir::Value *v) {
  if (!single_use(g, v)) return nullptr;
  auto u = g.users(v);
  return u.size() == 1 ? u[0] : nullptr;
}

ir::Shape operand_shape(const ir::Node &n, size_t i) {
  const ir::Value *v = n.input(i);
  if (i == 1 && n.opset < 7 && n.attr_int("broadcast", 0) == 1 && n.has_attr("axis") && n.input(0)) {
    size_t rank = n.input(0)->rank();
    int64_t axis = n.attr_int("axis");
    if (axis < 0) axis += (int64_t)rank;
    ir::Shape s(rank, 1);
    for (size_t d = 0; d < v->rank(); ++d) {
      size_t at = (size_t)axis + d;
      if (axis < 0 || at >= rank) return v->shape; // malformed: callers then see a mismatch
      s[at] = v->shape[d];
    }
    return s;
  }
  return v->shape;
}

bool is_f32_constant(const ir::Value *v) {
  return v && v->is_constant() && v->dtype == DType::F32;
}

std::vector<double> f32_values(const ir::Value *v) {
  std::vector<double> r((size_t)v->numel());
  const float *p = v->as<float>();
  for (size_t i = 0; i < r.size(); ++i) r[i] = (double)p[i];
  return r;
}

ir::Value *add_f32_constant(ir::Graph &g, const std::string &base, const ir::Shape &shape,
                            const std::vector<double> &vals) {
  std::vector<float> f(vals.size());
  for (size_t i = 0; i < vals.size(); ++i) f[i] = (float)vals[i];
  return g.add_constant_of<float>(g.unique_name(base), DType::F32, shape, f);
}

bool has_no_activation(const ir::Node *n) { return !n->has_attr("tmc_activation"); }

void absorb_consumer(ir::Graph &g, ir::Node *producer, ir::Value *from, ir::Node *n, ir::Value *to) {
  g.remove_node(n); // clears to->producer
  for (auto &o : producer->outputs)
    if (o == from) o = to;
  to->producer = producer;
}

bool bypass_node(ir::Graph &g, ir::Node *n) {
  ir::Value *in = n->input(0), *out = n->output(0);
  if (!in || !out || in->dtype != out->dtype || in->numel() != out->numel()) return false;
  for (size_t i = 1; i < n->outputs.size(); ++i)
    if (n->outputs[i] && (g.is_graph_output(n->outputs[i]) || !g.users(n->outputs[i]).empty())) return false;
  if (!g.is_graph_output(out)) {
    g.replace_all_uses(out, in);
    g.remove_node(n);
    return true;
  }
  // The output keeps its name: the input's producer must write it directly,
  // which needs the input to be a plain intermediate read only here.
  // The producer's kernel writes its own output shape, so only take over an
  // output of identical shape.
  ir::Node *p = in->producer;
  if (!p || !single_use(g, in) || in->shape != out->shape) return false;
  absorb_consumer(g, p, in, n, out);
  return true;
}

// ---------------------------------------------------------------- channel affine

namespace {

bool f32_const_or_absent(const ir::Value *v) { return !v || is_f32_constant(v); }

} // namespace

int64_t output_channels(const ir::Node *n) {
  const ir::Value *y = n->output(0);
  return y && y->rank() >= 2 ? y->shape[1] : -1;
}

bool can_apply_channel_affine(const ir::Node *n) {
  if (!n || !n->domain.empty() || !has_no_activation(n)) return false;
  const ir::Value *y = n->output(0);
  if (!y || y->dtype != DType::F32 || !y->shape_known || y->rank() < 2) return false;
  for (size_t i = 1; i < n->outputs.size(); ++i)
    if (n->outputs[i]) return false;
  const ir::Value *w = n->input(1), *b = n->input(2);
  if (!n->input(0) || !is_f32_constant(w) || !f32_const_or_absent(b)) return false;
  int64_t M = y->shape[1];
  if (n->op == "Conv") {
    if (w->rank() != y->rank() || w->shape[0] != M) return false;
    if (b && b->numel() != M) return false;
    return n->inputs.size() <= 3;
  }
  if (n->op == "ConvTranspose") {
    int64_t G = n->attr_int("group", 1);
    if (G < 1 || w->rank() != y->rank() || w->shape[0] % G != 0 || w->shape[1] * G != M) return false;
    if (b && b->numel() != M) return false;
    return n->inputs.size() <= 3;
  }
  if (n->op == "Gemm") {
    if (y->rank() != 2 || w->rank() != 2) return false;
    bool tb = n->attr_int("transB", 0) != 0;
    if ((tb ? w->shape[0] : w->shape[1]) != M) return false;
    if (b) {
      if (b->rank() > 2) return false;
      int64_t rows = b->rank() == 2 ? b->shape[0] : 1, cols = b->rank() >= 1 ? b->shape.back() : 1;
      if ((rows != 1 && rows != y->shape[0]) || (cols != 1 && cols != M)) return false;
    }
    return n->inputs.size() <= 3;
  }
  return false;
}

void apply_channel_affine(ir::Graph &g, ir::Node *n, const std::vector<double> &scale,
                          const std::vector<double> &shift) {
  const ir::Value *y = n->output(0);
  const ir::Value *w = n->input(1), *b = n->input(2);
  int64_t M = y->shape[1];
  bool any_shift = false;
  for (double s : shift) any_shift = any_shift || s != 0.0;
  std::vector<double> wv = f32_values(w);
  const std::string base = n->name.empty() ? std::string("fused") : n->name;

  if (n->op == "Conv" || n->op == "ConvTranspose") {
    if (n->op == "Conv") {
      int64_t per = w->numel() / M;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t i = 0; i < per; ++i) wv[(size_t)(m * per + i)] *= scale[(size_t)m];
    } else {
      int64_t G = n->attr_int("group", 1), Cin = w->shape[0], Mg = w->shape[1];
      int64_t Cg = Cin / G, per = w->numel() / (Cin * Mg);
      for (int64_t c = 0; c < Cin; ++c)
        for (int64_t m = 0; m < Mg; ++m) {
          double s = scale[(size_t)((c / Cg) * Mg + m)];
          for (int64_t i = 0; i < per; ++i) wv[(size_t)((c * Mg + m) * per + i)] *= s;
        }
    }
    n->inputs[1] = add_f32_constant(g, base + "_w", w->shape, wv);
    if (b || any_shift) {
      std::vector<double> bv = b ? f32_values(b) : std::vector<double>((size_t)M, 0.0);
      for (int64_t m = 0; m < M; ++m) bv[(size_t)m] = bv[(size_t)m] * scale[(size_t)m] + shift[(size_t)m];
      ir::Value *nb = add_f32_constant(g, base + "_b", {M}, bv);
      if (n->inputs.size() < 3) n->inputs.resize(3, nullptr);
      n->inputs[2] = nb;
    }
    return;
  }

  // Gemm: Y = alpha * A' B' + beta * C, channel = column of Y.
  bool tb = n->attr_int("transB", 0) != 0;
  int64_t K = tb ? w->shape[1] : w->shape[0];
  for (int64_t kk = 0; kk < K; ++kk)
    for (int64_t j = 0; j < M; ++j) {
      size_t idx = tb ? (size_t)(j * K + kk) : (size_t)(kk * M + j);
      wv[idx] *= scale[(size_t)j];
    }
  n->inputs[1] = add_f32_constant(g, base + "_w", w->shape, wv);
  if (b || any_shift) {
    double beta = n->attr_float("beta", 1.0f);
    int64_t rows = 1, cols = 1;
    std::vector<double> cv{0.0};
    if (b) {
      rows = b->rank() == 2 ? b->shape[0] : 1;
      cols = b->rank() >= 1 ? b->shape.back() : 1;
      cv = f32_values(b);
    }
    std::vector<double> nv((size_t)(rows * M));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < M; ++j) {
        double c = b ? beta * cv[(size_t)(i * cols + (cols == 1 ? 0 : j))] : 0.0;
        nv[(size_t)(i * M + j)] = c * scale[(size_t)j] + shift[(size_t)j];
      }
    ir::Shape cs = rows == 1 ? ir::Shape{M} : ir::Shape{rows, M};
    ir::Value *nc = add_f32_constant(g, base + "_c", cs, nv);
    if (n->inputs.size() < 3) n->inputs.resize(3, nullptr);
    n->inputs[2] = nc;
    n->attrs["beta"] = 1.0f;
    if (n->opset > 0 && n->opset < 7) n->attrs["broadcast"] = int64_t(1);
  }
}

} // namespace tmc::passes::rw
