// Test helpers for the fusion passes: a tiny float32 graph interpreter that
// runs a graph on host inputs (the constant evaluator for most ops, plus
// naive 2-D Conv, ConvTranspose, AveragePool and BatchNormalization here) and
// applies fused activations ("tmc_activation") like codegen does, so tests
// can compare a graph before and after a pass numerically.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include "passes/eval/evaluator.h"
#include "passes/pass.h"

namespace fusion_test {

using namespace tmc;
using ir::DType;
using ir::Shape;

inline std::vector<float> floats_of(const ir::Value *v) {
  std::vector<float> r((size_t)v->numel());
  if (!r.empty()) std::memcpy(r.data(), v->data->data(), r.size() * sizeof(float));
  return r;
}

inline ir::Value *f32c(ir::Graph &g, const std::string &name, const Shape &s, const std::vector<float> &v) {
  return g.add_constant_of<float>(name, DType::F32, s, v);
}

inline ir::Value *i64c(ir::Graph &g, const std::string &name, const Shape &s, const std::vector<int64_t> &v) {
  return g.add_constant_of<int64_t>(name, DType::I64, s, v);
}

inline ir::Value *input(ir::Graph &g, const std::string &name, const Shape &s) {
  auto *v = g.add_value(name, DType::F32, s);
  g.inputs.push_back(v);
  return v;
}

inline ir::Value *val(ir::Graph &g, const std::string &name, const Shape &s) {
  return g.add_value(name, DType::F32, s);
}

/// Deterministic pseudo-random values in [lo, hi).
inline std::vector<float> rand_vals(size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> r(n);
  for (auto &x : r) x = d(rng);
  return r;
}

inline float apply_activation(const ir::Node &n, float v) {
  std::string act = n.attr_string("tmc_activation", "");
  float a = n.attr_float("tmc_activation_alpha", 0.0f), b = n.attr_float("tmc_activation_beta", 0.0f);
  if (act == "Relu") return v > 0.0f ? v : 0.0f;
  if (act == "Clip") return v < a ? a : (v > b ? b : v);
  if (act == "LeakyRelu") return v >= 0.0f ? v : v * a;
  if (act == "HardSigmoid") return std::fmax(0.0f, std::fmin(1.0f, a * v + b));
  if (act == "HardSwish") return v * std::fmax(0.0f, std::fmin(1.0f, v / 6.0f + 0.5f));
  if (act == "Sigmoid") return 1.0f / (1.0f + std::exp(-v));
  if (act == "Tanh") return std::tanh(v);
  if (act == "Elu") return v >= 0.0f ? v : a * (std::exp(v) - 1.0f);
  if (act == "Selu") return v > 0.0f ? b * v : b * (a * std::exp(v) - a);
  if (act == "Softplus") return std::log(1.0f + std::exp(v));
  FAIL("unknown fused activation " << act);
  return v;
}

/// Pads of a conv/pool node (begin..., end...) for 2 spatial dims.
inline std::vector<int64_t> pads2(const ir::Node &n) {
  auto p = n.attr_ints("pads");
  if (p.empty()) p.assign(4, 0);
  return p;
}

inline std::vector<float> ref_conv(const ir::Node &n, const std::vector<float> &x, const Shape &xs,
                                   const std::vector<float> &w, const Shape &ws, const std::vector<float> *b,
                                   const Shape &ys) {
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], M = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  int64_t G = n.attr_int("group", 1), Mg = M / G;
  auto st = n.attr_ints("strides", {1, 1}), dl = n.attr_ints("dilations", {1, 1});
  auto p = pads2(n);
  int64_t OH = ys[2], OW = ys[3];
  (void)C;
  std::vector<float> y((size_t)ir::shape_numel(ys), 0.0f);
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double s = b ? (*b)[(size_t)m] : 0.0;
          int64_t gidx = m / Mg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * st[0] - p[0] + kh * dl[0], iw = ow * st[1] - p[1] + kw * dl[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += (double)x[(size_t)(((nn * xs[1] + gidx * Cg + c) * H + ih) * W + iw)] *
                     w[(size_t)(((m * Cg + c) * KH + kh) * KW + kw)];
              }
          y[(size_t)(((nn * M + m) * OH + oh) * OW + ow)] = (float)s;
        }
  return y;
}

inline std::vector<float> ref_conv_transpose(const ir::Node &n, const std::vector<float> &x, const Shape &xs,
                                             const std::vector<float> &w, const Shape &ws,
                                             const std::vector<float> *b, const Shape &ys) {
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], Mg = ws[1], KH = ws[2], KW = ws[3];
  int64_t G = n.attr_int("group", 1), Cg = C / G, M = Mg * G;
  auto st = n.attr_ints("strides", {1, 1});
  auto p = pads2(n);
  int64_t OH = ys[2], OW = ys[3];
  std::vector<double> acc((size_t)ir::shape_numel(ys), 0.0);
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ih = 0; ih < H; ++ih)
        for (int64_t iw = 0; iw < W; ++iw)
          for (int64_t m = 0; m < Mg; ++m)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t oh = ih * st[0] - p[0] + kh, ow = iw * st[1] - p[1] + kw;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                int64_t o = (c / Cg) * Mg + m;
                acc[(size_t)(((nn * M + o) * OH + oh) * OW + ow)] +=
                    (double)x[(size_t)(((nn * C + c) * H + ih) * W + iw)] *
                    w[(size_t)(((c * Mg + m) * KH + kh) * KW + kw)];
              }
  std::vector<float> y(acc.size());
  for (size_t i = 0; i < y.size(); ++i) {
    size_t o = (i / (size_t)(OH * OW)) % (size_t)M;
    y[i] = (float)(acc[i] + (b ? (*b)[o] : 0.0));
  }
  return y;
}

inline std::vector<float> ref_avgpool(const ir::Node &n, const std::vector<float> &x, const Shape &xs,
                                      const Shape &ys) {
  int64_t NC = xs[0] * xs[1], H = xs[2], W = xs[3];
  auto k = n.attr_ints("kernel_shape");
  auto st = n.attr_ints("strides", {1, 1});
  auto p = pads2(n);
  bool inc = n.attr_int("count_include_pad", 0) != 0;
  int64_t OH = ys[2], OW = ys[3];
  std::vector<float> y((size_t)ir::shape_numel(ys));
  for (int64_t c = 0; c < NC; ++c)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double s = 0;
        int64_t cnt = 0;
        for (int64_t kh = 0; kh < k[0]; ++kh)
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            int64_t ih = oh * st[0] - p[0] + kh, iw = ow * st[1] - p[1] + kw;
            bool in_pad = ih >= -p[0] && ih < H + p[2] && iw >= -p[1] && iw < W + p[3];
            bool in = ih >= 0 && ih < H && iw >= 0 && iw < W;
            if (in) s += x[(size_t)((c * H + ih) * W + iw)];
            if (in || (inc && in_pad)) ++cnt;
          }
        y[(size_t)((c * OH + oh) * OW + ow)] = (float)(s / (double)cnt);
      }
  return y;
}

inline std::vector<float> ref_batchnorm(const ir::Node &n, const std::vector<float> &x, const Shape &xs,
                                        const std::vector<std::vector<float>> &p) {
  float eps = n.attr_float("epsilon", 1e-5f);
  int64_t C = xs[1], inner = 1;
  for (size_t d = 2; d < xs.size(); ++d) inner *= xs[d];
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    size_t c = (i / (size_t)inner) % (size_t)C;
    y[i] = (x[i] - p[2][c]) / std::sqrt(p[3][c] + eps) * p[0][c] + p[1][c];
  }
  return y;
}

/// Runs `g` on float32 inputs; returns every graph output as floats.
inline std::vector<std::vector<float>> run(const ir::Graph &g, const std::vector<std::vector<float>> &inputs) {
  std::map<const ir::Value *, std::unique_ptr<ir::Value>> vals;
  auto hold = [&](const ir::Value *v, DType dt, const Shape &s, ir::Bytes bytes) {
    auto t = std::make_unique<ir::Value>();
    t->name = v->name;
    t->dtype = dt;
    t->shape = s;
    t->shape_known = true;
    t->data = std::make_shared<ir::Bytes>(std::move(bytes));
    vals[v] = std::move(t);
  };
  auto f2b = [](const std::vector<float> &f) {
    ir::Bytes b(f.size() * sizeof(float));
    if (!f.empty()) std::memcpy(b.data(), f.data(), b.size());
    return b;
  };
  REQUIRE(inputs.size() == g.inputs.size());
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    REQUIRE((int64_t)inputs[i].size() == g.inputs[i]->numel());
    hold(g.inputs[i], DType::F32, g.inputs[i]->shape, f2b(inputs[i]));
  }
  auto get = [&](const ir::Value *v) -> const ir::Value * {
    if (!v) return nullptr;
    if (v->is_constant()) return v;
    auto it = vals.find(v);
    REQUIRE(it != vals.end());
    return it->second.get();
  };
  for (auto &np : g.nodes()) {
    const ir::Node &n = *np;
    std::vector<const ir::Value *> ins;
    for (const ir::Value *v : n.inputs) ins.push_back(get(v));
    std::vector<std::vector<float>> outs; // float32 results of own reference ops
    if (n.op == "Conv" || n.op == "ConvTranspose") {
      auto x = floats_of(ins[0]), w = floats_of(ins[1]);
      std::vector<float> b;
      if (n.input(2)) b = floats_of(ins[2]);
      auto f = n.op == "Conv" ? ref_conv : ref_conv_transpose;
      outs.push_back(f(n, x, ins[0]->shape, w, ins[1]->shape, n.input(2) ? &b : nullptr, n.output(0)->shape));
    } else if (n.op == "AveragePool") {
      outs.push_back(ref_avgpool(n, floats_of(ins[0]), ins[0]->shape, n.output(0)->shape));
    } else if (n.op == "BatchNormalization") {
      std::vector<std::vector<float>> p;
      for (size_t i = 1; i < 5; ++i) p.push_back(floats_of(ins[i]));
      outs.push_back(ref_batchnorm(n, floats_of(ins[0]), ins[0]->shape, p));
    }
    if (!outs.empty()) {
      hold(n.output(0), DType::F32, n.output(0)->shape, f2b(outs[0]));
    } else {
      auto res = passes::eval::evaluate(n, ins);
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (n.outputs[i]) hold(n.outputs[i], res[i].dtype, res[i].shape, std::move(res[i].data));
    }
    if (n.has_attr("tmc_activation")) {
      ir::Value *o = vals[n.output(0)].get();
      auto f = floats_of(o);
      for (auto &v : f) v = apply_activation(n, v);
      o->data = std::make_shared<ir::Bytes>(f2b(f));
    }
  }
  std::vector<std::vector<float>> r;
  for (const ir::Value *o : g.outputs) {
    const ir::Value *v = get(o);
    REQUIRE(v->dtype == DType::F32);
    REQUIRE(v->shape == o->shape);
    r.push_back(floats_of(v));
  }
  return r;
}

/// Builds the graph twice, runs `pass` on the second copy, checks it reports
/// `expect_change`, that the IR verifies, that graph output names are kept,
/// and that both graphs compute the same outputs on random inputs.
inline void check_equivalent(const std::function<void(ir::Graph &)> &build, passes::Pass &pass,
                             bool expect_change, ir::Graph *after = nullptr, double tol = 1e-4) {
  ir::Graph g0, g1local;
  ir::Graph &g1 = after ? *after : g1local;
  build(g0);
  build(g1);
  CHECK(pass.run(g1) == expect_change);
  REQUIRE_NOTHROW(ir::verify(g1));
  REQUIRE(g0.outputs.size() == g1.outputs.size());
  for (size_t i = 0; i < g0.outputs.size(); ++i) CHECK(g0.outputs[i]->name == g1.outputs[i]->name);
  std::vector<std::vector<float>> ins;
  for (size_t i = 0; i < g0.inputs.size(); ++i)
    ins.push_back(rand_vals((size_t)g0.inputs[i]->numel(), 17u + (unsigned)i, -2.0f, 2.0f));
  auto r0 = run(g0, ins), r1 = run(g1, ins);
  REQUIRE(r0.size() == r1.size());
  for (size_t o = 0; o < r0.size(); ++o) {
    REQUIRE(r0[o].size() == r1[o].size());
    for (size_t i = 0; i < r0[o].size(); ++i) {
      INFO("output " << o << " element " << i);
      CHECK(std::fabs(r0[o][i] - r1[o][i]) <= tol * (1.0 + std::fabs(r0[o][i])));
    }
  }
}

inline size_t count_op(const ir::Graph &g, const std::string &op) {
  size_t c = 0;
  for (auto &n : g.nodes())
    if (n->op == op) ++c;
  return c;
}

inline const ir::Node *find_op(const ir::Graph &g, const std::string &op) {
  for (auto &n : g.nodes())
    if (n->op == op) return n.get();
  return nullptr;
}

} // namespace fusion_test
