#include "compiler/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>
#include <unistd.h>
#include <unordered_map>

#include "compiler/tensor_io.h"
#include "passes/eval/evaluator.h"

namespace fs = std::filesystem;

namespace tmc::driver::calib {

using ir::CompileError;
using ir::DType;

// ------------------------------------------------------------ ranges
ActQuant activation_quant(Range r) {
  double lo = std::min(r.lo, 0.0), hi = std::max(r.hi, 0.0);
  ActQuant q;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return q;
  float s = (float)((hi - lo) / 255.0);
  if (!(s > 0.0f) || !std::isfinite(s)) return q;
  double z = std::nearbyint(-128.0 - lo / (double)s);
  q.scale = s;
  q.zero_point = (int32_t)std::clamp(z, -128.0, 127.0);
  return q;
}

float fake_quant(float x, const ActQuant &q) {
  double v = std::nearbyint((double)(x / q.scale)) + (double)q.zero_point;
  if (std::isnan(v)) v = 0;
  v = std::clamp(v, -128.0, 127.0);
  return (float)(v - (double)q.zero_point) * q.scale;
}

WeightQuant quantize_weights(const float *w, const ir::Shape &shape, int64_t axis) {
  WeightQuant r;
  r.axis = axis;
  int64_t n = ir::shape_numel(shape);
  int64_t dim = 1, inner = n;
  if (axis >= 0) {
    if (axis >= (int64_t)shape.size()) throw CompileError(fmt::format("quantize: axis {} out of range", axis));
    dim = shape[(size_t)axis];
    inner = ir::shape_numel(ir::Shape(shape.begin() + axis + 1, shape.end()));
  }
  std::vector<double> maxabs((size_t)std::max<int64_t>(dim, 1), 0.0);
  auto ch = [&](int64_t i) { return axis < 0 ? 0 : (i / inner) % dim; };
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(w[i])) maxabs[(size_t)ch(i)] = std::max(maxabs[(size_t)ch(i)], std::fabs((double)w[i]));
  r.scales.resize(maxabs.size());
  for (size_t c = 0; c < maxabs.size(); ++c) {
    float s = (float)(maxabs[c] / 127.0);
    r.scales[c] = s > 0.0f ? s : 1.0f;
  }
  r.q.resize((size_t)n);
  for (int64_t i = 0; i < n; ++i) {
    double v = std::nearbyint((double)(w[i] / r.scales[(size_t)ch(i)]));
    if (std::isnan(v)) v = 0;
    r.q[(size_t)i] = (int8_t)std::clamp(v, -127.0, 127.0);
  }
  return r;
}

int fit_bias_in_int32(WeightQuant &wq, const float *w, const ir::Shape &shape, const std::vector<float> &bias,
                      float x_scale) {
  constexpr double kLimit = 1073741824.0; // 2^30
  int64_t n = ir::shape_numel(shape), dim = 1, inner = n;
  if (wq.axis >= 0) {
    dim = shape[(size_t)wq.axis];
    inner = ir::shape_numel(ir::Shape(shape.begin() + wq.axis + 1, shape.end()));
  }
  int changed = 0;
  std::vector<bool> redo(wq.scales.size(), false);
  for (size_t c = 0; c < bias.size(); ++c) {
    size_t k = wq.scales.size() == 1 ? 0 : c;
    if (k >= wq.scales.size()) break;
    double need = std::fabs((double)bias[c]) / ((double)x_scale * kLimit);
    if ((double)x_scale * (double)wq.scales[k] >= need * (1 + 1e-6) || !std::isfinite(need)) continue;
    float s = (float)(need * (1 + 1e-5));
    if (s > wq.scales[k]) {
      wq.scales[k] = s;
      redo[k] = true;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    size_t k = wq.axis < 0 ? 0 : (size_t)((i / inner) % dim);
    if (!redo[k]) continue;
    double v = std::nearbyint((double)(w[i] / wq.scales[k]));
    wq.q[(size_t)i] = (int8_t)std::clamp(std::isnan(v) ? 0.0 : v, -127.0, 127.0);
  }
  for (bool r : redo) changed += r ? 1 : 0;
  return changed;
}

Histogram::Histogram(double lo_, double hi_, size_t bins) : lo(lo_), hi(hi_), counts(bins, 0.0) {
  if (!(hi > lo)) hi = lo + 1e-30;
}

void Histogram::add(const float *x, int64_t n) {
  if (counts.empty()) return;
  double inv = (double)counts.size() / (hi - lo);
  int64_t last = (int64_t)counts.size() - 1;
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    if (std::isnan(v)) continue;
    double f = std::floor((v - lo) * inv);
    int64_t b = f < 0 ? 0 : f > (double)last ? last : (int64_t)f;
    counts[(size_t)b] += 1.0;
  }
}

double Histogram::total() const {
  double t = 0;
  for (double c : counts) t += c;
  return t;
}

Method parse_method(const std::string &s) {
  if (s == "minmax") return Method::MinMax;
  if (s == "percentile") return Method::Percentile;
  if (s == "mse") return Method::Mse;
  throw CompileError("--calibrate expects minmax, percentile or mse; got '" + s + "'");
}

const char *method_name(Method m) {
  switch (m) {
  case Method::MinMax: return "minmax";
  case Method::Percentile: return "percentile";
  case Method::Mse: return "mse";
  }
  return "?";
}

Range percentile_range(const Histogram &h, double pct) {
  if (!(pct > 0.0 && pct <= 100.0)) throw CompileError(fmt::format("--percentile {} is not in (0, 100]", pct));
  Range r{std::min(h.lo, 0.0), std::max(h.hi, 0.0)};
  double total = h.total();
  if (total <= 0 || h.counts.empty()) return r;
  double tail = total * (100.0 - pct) / 100.0, w = h.bin_width();
  size_t nb = h.counts.size();
  double acc = 0;
  size_t i = 0;
  for (; i < nb; ++i) {
    if (acc + h.counts[i] > tail) break;
    acc += h.counts[i];
  }
  double lo = h.lo + (double)std::min(i, nb - 1) * w;
  acc = 0;
  size_t j = nb;
  for (; j > 0; --j) {
    if (acc + h.counts[j - 1] > tail) break;
    acc += h.counts[j - 1];
  }
  double hi = h.lo + (double)std::max<size_t>(j, 1) * w;
  if (hi < lo) std::swap(lo, hi);
  return {std::min(lo, 0.0), std::max(hi, 0.0)};
}

double quant_mse(const Histogram &h, Range r) {
  ActQuant q = activation_quant(r);
  double s = q.scale;
  double rlo = (-128.0 - q.zero_point) * s, rhi = (127.0 - q.zero_point) * s;
  double w = h.bin_width(), total = 0, err = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    double c = h.counts[i];
    if (c == 0) continue;
    double x = h.lo + ((double)i + 0.5) * w;
    double e = x < rlo ? (rlo - x) * (rlo - x) : x > rhi ? (x - rhi) * (x - rhi) : s * s / 12.0;
    err += c * e;
    total += c;
  }
  return total > 0 ? err / total : 0.0;
}

Range mse_range(const Histogram &h) {
  double lo0 = std::min(h.lo, 0.0), hi0 = std::max(h.hi, 0.0);
  Range best{lo0, hi0};
  double best_e = quant_mse(h, best);
  constexpr int kSteps = 128;
  auto consider = [&](Range r) {
    if (!(r.hi > r.lo)) return;
    double e = quant_mse(h, r);
    if (e < best_e) {
      best_e = e;
      best = r;
    }
  };
  for (int k = kSteps; k >= 1; --k) {
    double a = (double)k / kSteps;
    consider({a * lo0, a * hi0});
  }
  // Each end on its own over its whole span (the ends may want different
  // shrinking), twice; then refine around the best on finer and finer grids.
  for (int round = 0; round < 2; ++round) {
    for (int k = kSteps; k >= 1 && hi0 > 0; --k) consider({best.lo, hi0 * k / kSteps});
    for (int k = kSteps; k >= 1 && lo0 < 0; --k) consider({lo0 * k / kSteps, best.hi});
  }
  double gh = hi0 / kSteps, gl = -lo0 / kSteps;
  for (int round = 0; round < 4; ++round) {
    double c = best.hi;
    for (int j = -32; j <= 32 && gh > 0; ++j) {
      double h = c + gh * j / 32.0;
      if (h > 0 && h <= hi0) consider({best.lo, h});
    }
    c = best.lo;
    for (int j = -32; j <= 32 && gl > 0; ++j) {
      double l = c + gl * j / 32.0;
      if (l < 0 && l >= lo0) consider({l, best.hi});
    }
    gh /= 16;
    gl /= 16;
  }
  return best;
}

// ------------------------------------------------------------ calibration data
namespace {

std::string shape_with_symbols(const ir::Shape &s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  return r.empty() ? "scalar" : r;
}

Tensor load_one(const fs::path &p, const InputSpec &in) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw CompileError(fmt::format("--calibration: {}: cannot open the file", p.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  auto t = parse_npy(ss.str(), "--calibration: " + p.string());
  if (t.dtype != in.dtype)
    throw CompileError(fmt::format("--calibration: {}: dtype {}, but the model input '{}' is {}", p.string(),
                                   ir::dtype_name(t.dtype), in.name, ir::dtype_name(in.dtype)));
  bool ok = t.shape.size() == in.shape.size();
  for (size_t i = 0; ok && i < t.shape.size(); ++i)
    if (in.shape[i] >= 0 && in.shape[i] != t.shape[i]) ok = false;
  if (!ok)
    throw CompileError(fmt::format("--calibration: {}: shape {} does not match the model input '{}' ({})", p.string(),
                                   ir::shape_str(t.shape), in.name, shape_with_symbols(in.shape)));
  return Tensor{t.dtype, t.shape, t.data};
}

} // namespace

std::vector<std::vector<Tensor>> load_calibration_dir(const std::string &dir, const std::vector<InputSpec> &inputs) {
  std::error_code ec;
  if (dir.empty()) throw CompileError("--calibration DIR is required");
  if (!fs::exists(dir, ec)) throw CompileError(fmt::format("--calibration: '{}' does not exist", dir));
  if (!fs::is_directory(dir, ec)) throw CompileError(fmt::format("--calibration: '{}' is not a folder", dir));
  if (inputs.empty()) throw CompileError("--calibration: the model has no inputs");
  std::vector<fs::path> files;
  for (auto &e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".npy") files.push_back(e.path());
  if (ec) throw CompileError(fmt::format("--calibration: cannot list '{}': {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) throw CompileError(fmt::format("--calibration: '{}' holds no .npy files", dir));

  std::vector<std::vector<fs::path>> samples;
  if (inputs.size() == 1) {
    for (auto &f : files) samples.push_back({f});
  } else {
    std::map<std::string, std::vector<fs::path>> by_sample;
    for (auto &f : files) {
      std::string stem = f.stem().string(); // SAMPLE.K
      auto dot = stem.rfind('.');
      std::string k = dot == std::string::npos ? "" : stem.substr(dot + 1);
      bool num =
          !k.empty() && k.size() < 6 && std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!num || std::stoi(k) >= (int)inputs.size())
        throw CompileError(fmt::format("--calibration: {}: the model has {} inputs, so files must be named "
                                       "SAMPLE.K.npy with K in 0..{} (the graph input index)",
                                       f.string(), inputs.size(), inputs.size() - 1));
      auto &v = by_sample[stem.substr(0, dot)];
      v.resize(inputs.size());
      v[(size_t)std::stoi(k)] = f;
    }
    for (auto &[name, v] : by_sample) {
      for (size_t k = 0; k < v.size(); ++k)
        if (v[k].empty())
          throw CompileError(fmt::format("--calibration: sample '{}' in '{}' lacks {}.{}.npy (input '{}')", name, dir,
                                         name, k, inputs[k].name));
      samples.push_back(v);
    }
  }
  std::vector<std::vector<Tensor>> out;
  for (auto &s : samples) {
    std::vector<Tensor> ts;
    for (size_t k = 0; k < s.size(); ++k) {
      ts.push_back(load_one(s[k], inputs[k]));
      if (!out.empty() && out[0][k].shape != ts.back().shape)
        throw CompileError(fmt::format("--calibration: {}: shape {} differs from the first sample's {} (input '{}')",
                                       s[k].string(), ir::shape_str(ts.back().shape), ir::shape_str(out[0][k].shape),
                                       inputs[k].name));
    }
    out.push_back(std::move(ts));
  }
  return out;
}

// ------------------------------------------------------------ host execution

bool can_run(const ir::Node &n) { return passes::eval::can_evaluate(n); }

void run_graph(const ir::Graph &g, const std::vector<Tensor> &inputs, const Visitor &visit) {
  if (inputs.size() != g.inputs.size())
    throw CompileError(
        fmt::format("calibration: the model has {} inputs, got {} tensors", g.inputs.size(), inputs.size()));
  std::unordered_map<const ir::Value *, Tensor> env;
  std::unordered_map<const ir::Value *, size_t> last_use;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    for (auto *v : g.nodes()[i]->inputs)
      if (v) last_use[v] = i;
  for (auto *v : g.outputs) last_use[v] = SIZE_MAX;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value *v = g.inputs[i];
    if (inputs[i].dtype != v->dtype || inputs[i].shape != v->shape)
      throw CompileError(fmt::format("calibration: input '{}' is {} {}, the model expects {} {}", v->name,
                                     ir::dtype_name(inputs[i].dtype), ir::shape_str(inputs[i].shape),
                                     ir::dtype_name(v->dtype), ir::shape_str(v->shape)));
    env[v] = inputs[i];
    visit(*v, inputs[i]);
  }
  for (size_t idx = 0; idx < g.nodes().size(); ++idx) {
    const ir::Node &n = *g.nodes()[idx];
    // A copy of the node whose inputs carry their data, so the evaluator sees constants.
    std::vector<ir::Value> tmp(n.inputs.size());
    ir::Node c = n;
    std::vector<const ir::Value *> ins(n.inputs.size(), nullptr);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      ir::Value *v = n.inputs[i];
      if (!v) continue;
      if (v->is_constant()) {
        ins[i] = v;
        continue;
      }
      auto it = env.find(v);
      if (it == env.end()) throw CompileError(n, fmt::format("calibration: input '{}' was not computed", v->name));
      tmp[i].name = v->name;
      tmp[i].dtype = it->second.dtype;
      tmp[i].shape = it->second.shape;
      tmp[i].shape_known = true;
      tmp[i].data = it->second.data;
      c.inputs[i] = &tmp[i];
      ins[i] = &tmp[i];
    }
    std::vector<Tensor> outs;
    if (!can_run(c))
      throw CompileError(n, "the host evaluator used for calibration cannot run this op (with these types and "
                            "attributes)");
    for (auto &h : passes::eval::evaluate(c, ins))
      outs.push_back(Tensor{h.dtype, h.shape, std::make_shared<ir::Bytes>(std::move(h.data))});
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const ir::Value *o = n.outputs[k];
      if (!o) continue;
      if (k >= outs.size() || !outs[k].data)
        throw CompileError(n, fmt::format("calibration: output {} was not computed", k));
      visit(*o, outs[k]);
      if (last_use.count(o)) env[o] = std::move(outs[k]);
    }
    for (auto *v : n.inputs)
      if (v && !v->is_constant() && last_use.count(v) && last_use[v] == idx) env.erase(v);
  }
}

// ------------------------------------------------------------ accuracy
double snr_db(const float *x, const float *y, int64_t n) {
  double sig = 0, noise = 0;
  for (int64_t i = 0; i < n; ++i) {
    double a = x[i], d = (double)x[i] - (double)y[i];
    sig += a * a;
    noise += d * d;
  }
  if (noise == 0) return kMaxSnrDb;
  if (sig == 0) return -kMaxSnrDb;
  return std::clamp(10.0 * std::log10(sig / noise), -kMaxSnrDb, kMaxSnrDb);
}

double cosine(const float *x, const float *y, int64_t n) {
  double xy = 0, xx = 0, yy = 0;
  for (int64_t i = 0; i < n; ++i) {
    xy += (double)x[i] * y[i];
    xx += (double)x[i] * x[i];
    yy += (double)y[i] * y[i];
  }
  if (xx == 0 && yy == 0) return 1.0;
  if (xx == 0 || yy == 0) return 0.0;
  return xy / std::sqrt(xx * yy);
}

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), tty_(isatty(2) != 0) {
  draw();
}

void Progress::step() {
  ++k_;
  draw();
}

void Progress::draw() {
  if (!enabled_ || finished_) return;
  constexpr int kWidth = 24;
  int cols = total_ > 0 ? (int)(kWidth * std::min(k_, total_) / total_) : kWidth;
  // A terminal gets the bar redrawn in place whenever it moves; a log gets
  // one line per quarter.
  int mark = tty_ ? cols : total_ > 0 ? (int)(4 * std::min(k_, total_) / total_) : 4;
  if (mark == last_mark_) return;
  last_mark_ = mark;
  std::cerr << fmt::format("{}{} [{}{}] {}/{}{}", tty_ ? "\r" : "", label_, std::string((size_t)cols, '#'),
                           std::string((size_t)(kWidth - cols), '-'), k_, total_, tty_ ? "" : "\n")
            << std::flush;
}

void Progress::done() {
  if (!enabled_ || finished_) return;
  k_ = total_;
  draw();
  if (tty_) std::cerr << "\n";
  finished_ = true;
}

} // namespace tmc::driver::calib
