// Float32 reference evaluation of the neural-network ops Conv, MaxPool,
// AveragePool, GlobalAveragePool, GlobalMaxPool and BatchNormalization
// (1 to 3 spatial dimensions, auto_pad, dilations, groups, ceil_mode,
// count_include_pad), accumulating in double. Part of the host evaluator:
// calibration (tmc quantize) runs whole float models with it; constant
// folding leaves these compute-heavy ops to the generated code.
#include "passes/eval/nn.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace tmc::passes::eval {
namespace {

using ir::DType;
using ir::Value;

HostTensor make_f32(const ir::Shape &s) {
  HostTensor t;
  t.dtype = DType::F32;
  t.shape = s;
  t.data.assign((size_t)ir::shape_numel(s) * 4, 0);
  return t;
}
float *mut_f32(HostTensor &t) { return reinterpret_cast<float *>(t.data.data()); }

/// Sliding-window geometry over up to three spatial dimensions (missing
/// leading dimensions have size 1).
struct Geo {
  int64_t nsp = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
};

Geo geometry(const ir::Node &n, const ir::Shape &x, const std::vector<int64_t> &kernel, bool pool) {
  Geo g;
  g.nsp = (int64_t)x.size() - 2;
  if (g.nsp < 1 || g.nsp > 3) throw ir::CompileError(n, "1 to 3 spatial dimensions are supported");
  if ((int64_t)kernel.size() != g.nsp) throw ir::CompileError(n, "kernel rank does not match the input");
  auto strides = n.attr_ints("strides"), dil = n.attr_ints("dilations"), pads = n.attr_ints("pads");
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  bool ceil_mode = pool && n.attr_int("ceil_mode", 0) != 0;
  int64_t off = 3 - g.nsp;
  for (int64_t i = 0; i < g.nsp; ++i) {
    int64_t j = off + i;
    g.in[j] = x[(size_t)(2 + i)];
    g.k[j] = kernel[(size_t)i];
    g.s[j] = strides.empty() ? 1 : strides.at((size_t)i);
    g.d[j] = dil.empty() ? 1 : dil.at((size_t)i);
    if (g.s[j] < 1 || g.d[j] < 1 || g.k[j] < 1) throw ir::CompileError(n, "bad strides, dilations or kernel shape");
    int64_t ek = (g.k[j] - 1) * g.d[j] + 1;
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      g.out[j] = (g.in[j] + g.s[j] - 1) / g.s[j];
      int64_t total = std::max<int64_t>(0, (g.out[j] - 1) * g.s[j] + ek - g.in[j]);
      g.pb[j] = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pe[j] = total - g.pb[j];
      continue;
    }
    if (ap == "NOTSET" && !pads.empty()) {
      if ((int64_t)pads.size() != 2 * g.nsp) throw ir::CompileError(n, "pads has the wrong length");
      g.pb[j] = pads[(size_t)i];
      g.pe[j] = pads[(size_t)(i + g.nsp)];
    }
    int64_t span = g.in[j] + g.pb[j] + g.pe[j] - ek;
    if (span < 0) throw ir::CompileError(n, "the kernel is larger than the padded input");
    g.out[j] = (ceil_mode ? (span + g.s[j] - 1) / g.s[j] : span / g.s[j]) + 1;
    // A window must start inside the input or the begin padding.
    if (ceil_mode && (g.out[j] - 1) * g.s[j] >= g.in[j] + g.pb[j]) --g.out[j];
  }
  return g;
}

ir::Shape out_shape(const ir::Shape &x, int64_t channels, const Geo &g) {
  ir::Shape s{x[0], channels};
  for (int64_t i = 0; i < g.nsp; ++i) s.push_back(g.out[3 - g.nsp + i]);
  return s;
}

void need_f32(const ir::Node &n, const Value *t, const char *what) {
  if (!t || !t->data) throw ir::CompileError(n, fmt::format("{} is missing", what));
  if (t->dtype != DType::F32) throw ir::CompileError(n, fmt::format("only float32 {} are evaluated", what));
}

HostTensor run_conv(const ir::Node &n, const Value &X, const Value &W, const Value *B) {
  need_f32(n, &X, "input");
  need_f32(n, &W, "weights");
  if (B) need_f32(n, B, "bias");
  if (X.shape.size() != W.shape.size() || X.shape.size() < 3) throw ir::CompileError(n, "input and weight ranks differ");
  int64_t N = X.shape[0], C = X.shape[1], M = W.shape[0], G = n.attr_int("group", 1);
  if (G < 1 || C % G || M % G || W.shape[1] != C / G) throw ir::CompileError(n, "channels do not match the group count");
  std::vector<int64_t> kernel(W.shape.begin() + 2, W.shape.end());
  Geo g = geometry(n, X.shape, kernel, false);
  HostTensor Y = make_f32(out_shape(X.shape, M, g));
  const float *x = X.as<float>(), *w = W.as<float>(), *b = B ? B->as<float>() : nullptr;
  if (B && B->numel() != M) throw ir::CompileError(n, "bias size does not match the output channels");
  float *y = mut_f32(Y);
  int64_t Cg = C / G, Mg = M / G;
  int64_t isz = g.in[0] * g.in[1] * g.in[2], osz = g.out[0] * g.out[1] * g.out[2], ksz = g.k[0] * g.k[1] * g.k[2];
  for (int64_t nb = 0; nb < N; ++nb)
    for (int64_t m = 0; m < M; ++m) {
      int64_t grp = m / Mg;
      float *yo = y + (nb * M + m) * osz;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            double acc = b ? (double)b[m] : 0.0;
            for (int64_t c = 0; c < Cg; ++c) {
              const float *xc = x + (nb * C + grp * Cg + c) * isz;
              const float *wc = w + (m * Cg + c) * ksz;
              for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
                int64_t i0 = o0 * g.s[0] - g.pb[0] + k0 * g.d[0];
                if (i0 < 0 || i0 >= g.in[0]) continue;
                for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
                  int64_t i1 = o1 * g.s[1] - g.pb[1] + k1 * g.d[1];
                  if (i1 < 0 || i1 >= g.in[1]) continue;
                  for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                    int64_t i2 = o2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                    if (i2 < 0 || i2 >= g.in[2]) continue;
                    acc +=
                        (double)xc[(i0 * g.in[1] + i1) * g.in[2] + i2] * (double)wc[(k0 * g.k[1] + k1) * g.k[2] + k2];
                  }
                }
              }
            }
            yo[(o0 * g.out[1] + o1) * g.out[2] + o2] = (float)acc;
          }
    }
  return Y;
}

HostTensor run_pool(const ir::Node &n, const Value &X) {
  need_f32(n, &X, "input");
  if (X.shape.size() < 3) throw ir::CompileError(n, "input rank must be at least 3");
  bool global = n.op.rfind("Global", 0) == 0;
  bool is_max = n.op == "MaxPool" || n.op == "GlobalMaxPool";
  std::vector<int64_t> kernel =
      global ? std::vector<int64_t>(X.shape.begin() + 2, X.shape.end()) : n.attr_ints("kernel_shape");
  if (n.op == "MaxPool" && n.attr_int("storage_order", 0) != 0) throw ir::CompileError(n, "storage_order is not supported");
  ir::Node plain = n;
  if (global) plain.attrs.clear();
  Geo g = geometry(plain, X.shape, kernel, true);
  bool include_pad = !is_max && n.attr_int("count_include_pad", 0) != 0;
  int64_t N = X.shape[0], C = X.shape[1];
  HostTensor Y = make_f32(out_shape(X.shape, C, g));
  const float *x = X.as<float>();
  float *y = mut_f32(Y);
  int64_t isz = g.in[0] * g.in[1] * g.in[2], osz = g.out[0] * g.out[1] * g.out[2];
  for (int64_t nc = 0; nc < N * C; ++nc) {
    const float *xc = x + nc * isz;
    float *yc = y + nc * osz;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t cnt = 0, cnt_pad = 0;
          for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
            int64_t i0 = o0 * g.s[0] - g.pb[0] + k0 * g.d[0];
            for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
              int64_t i1 = o1 * g.s[1] - g.pb[1] + k1 * g.d[1];
              for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                int64_t i2 = o2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                bool in_pad = i0 < g.in[0] + g.pe[0] && i1 < g.in[1] + g.pe[1] && i2 < g.in[2] + g.pe[2];
                if (in_pad) ++cnt_pad;
                if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                double v = xc[(i0 * g.in[1] + i1) * g.in[2] + i2];
                if (is_max)
                  acc = std::max(acc, v);
                else
                  acc += v;
                ++cnt;
              }
            }
          }
          double r = is_max ? acc : (include_pad ? cnt_pad : cnt) ? acc / (double)(include_pad ? cnt_pad : cnt) : 0.0;
          yc[(o0 * g.out[1] + o1) * g.out[2] + o2] = (float)r;
        }
  }
  return Y;
}

HostTensor run_batchnorm(const ir::Node &n, const std::vector<const Value *> &in) {
  for (size_t i = 0; i < 5; ++i) need_f32(n, i < in.size() ? in[i] : nullptr, i == 0 ? "input" : "parameters");
  if (n.attr_int("training_mode", 0) != 0) throw ir::CompileError(n, "training_mode is not supported");
  const Value &X = *in[0];
  if (X.shape.size() < 2) throw ir::CompileError(n, "input rank must be at least 2");
  int64_t N = X.shape[0], C = X.shape[1], inner = X.numel() / std::max<int64_t>(1, N * C);
  for (size_t i = 1; i < 5; ++i)
    if (in[i]->numel() != C) throw ir::CompileError(n, "parameter size does not match the channels");
  double eps = n.attr_float("epsilon", 1e-5f);
  HostTensor Y = make_f32(X.shape);
  const float *x = X.as<float>(), *sc = in[1]->as<float>(), *bi = in[2]->as<float>(), *mu = in[3]->as<float>(),
              *var = in[4]->as<float>();
  float *y = mut_f32(Y);
  for (int64_t nb = 0; nb < N; ++nb)
    for (int64_t c = 0; c < C; ++c) {
      double a = (double)sc[c] / std::sqrt((double)var[c] + eps), b = (double)bi[c] - a * (double)mu[c];
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = (nb * C + c) * inner + i;
        y[k] = (float)(a * (double)x[k] + b);
      }
    }
  return Y;
}

} // namespace

bool is_nn_op(const ir::Node &n) {
  static const char *ops[] = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                              "BatchNormalization"};
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  for (const char *o : ops)
    if (n.op == o) return true;
  return false;
}

bool nn_can_evaluate(const ir::Node &n) {
  if (!is_nn_op(n)) return false;
  if (n.op == "MaxPool" && n.output(1)) return false; // indices
  if (n.op == "MaxPool" && n.attr_int("storage_order", 0) != 0) return false;
  if (n.op == "BatchNormalization" && (n.attr_int("training_mode", 0) != 0 || n.outputs.size() > 1)) return false;
  size_t need = n.op == "Conv" ? 2 : n.op == "BatchNormalization" ? 5 : 1;
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.input(i) && n.input(i)->dtype != DType::F32) return false;
  for (size_t i = 0; i < need; ++i)
    if (!n.input(i)) return false;
  if (n.input(0)->rank() < 3 && n.op != "BatchNormalization") return false;
  return n.input(0)->rank() <= 5;
}

std::vector<HostTensor> nn_evaluate(const ir::Node &n, const std::vector<const ir::Value *> &in) {
  auto at = [&](size_t i) { return i < in.size() ? in[i] : nullptr; };
  if (!at(0)) throw ir::CompileError(n, "input 0 is missing");
  if (n.op == "Conv") {
    if (!at(1)) throw ir::CompileError(n, "weights are missing");
    return {run_conv(n, *at(0), *at(1), at(2))};
  }
  if (n.op == "BatchNormalization") return {run_batchnorm(n, in)};
  if (n.op == "MaxPool" && n.output(1)) throw ir::CompileError(n, "MaxPool indices are not evaluated");
  return {run_pool(n, *at(0))};
}

} // namespace tmc::passes::eval
