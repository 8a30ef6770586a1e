// Kernel family: resize (Resize 10/11/13/18/19, Upsample 7/9).
//
// Every axis is resampled through a per-axis table: for each output
// coordinate, `taps` source indices (already clamped, which is the reference's
// edge padding) and their weights (1 tap for nearest, 2 for linear, 4 for
// cubic), plus an "extrapolate" flag for tf_crop_and_resize. The n-d result is
// the separable product of the per-axis weights, so the kernel loops over the
// output and sums taps over the interpolated axes.
//
// When an axis's scale (and roi) are compile-time values, its table is computed
// here and emitted as static const arrays; axes whose table is the identity are
// plain copies. When the scales (or roi) are run-time tensors, the table is
// computed at run time into scratch by a shared helper that mirrors
// axis_table() below (ONNX reference semantics, computed in double).
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "codegen/helpers.h"
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;
using ir::Node;
using ir::Value;

enum Ctm { HALF_PIXEL, ASYMMETRIC, PYTORCH_HALF_PIXEL, TF_HALF_PIXEL_FOR_NN, ALIGN_CORNERS, TF_CROP_AND_RESIZE,
           HALF_PIXEL_SYMMETRIC };
enum Mode { NEAREST, LINEAR, CUBIC };
enum NMode { ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, FLOOR, CEIL, SIMPLE };

struct Config {
  Mode mode = NEAREST;
  Ctm ctm = HALF_PIXEL;
  NMode nm = ROUND_PREFER_FLOOR;
  double A = -0.75;
  bool exclude = false;
  float extrapolation = 0.0f;
  int taps = 1;
};

/// How one axis's scale / roi are known.
struct AxisParam {
  int64_t in = 1, out = 1;
  bool static_scale = true;
  double scale = 1.0;       // static scale
  double ow = 1.0;          // static "output width" (scale * in) as the reference computes it
  std::string scale_expr;   // run-time scale (C double expression)
  bool scale_is_f32 = false; // the run-time scale comes from a float32 tensor
  bool static_roi = true;
  float r0 = 0.0f, r1 = 1.0f;
  std::string r0_expr, r1_expr;
};

struct Plan {
  Config cfg;
  std::vector<AxisParam> axes;
};

std::string lit(int64_t v) {
  if (v > 2147483647LL || v < -2147483647LL) return fmt::format("INT64_C({})", v);
  return std::to_string(v);
}

bool old_style(const Node &n) { return n.op == "Upsample" || n.opset < 11; }

/// Scales/sizes/roi inputs by role (nullptr when absent or empty).
const Value *present(const Node &n, size_t i) {
  const Value *v = n.input(i);
  return v && v->numel() > 0 ? v : nullptr;
}

std::string parse_config(const Node &n, Config &c) {
  std::string mode = n.attr_string("mode", "nearest");
  if (mode == "nearest") c.mode = NEAREST;
  else if (mode == "linear" || mode == "bilinear" || mode == "trilinear") c.mode = LINEAR;
  else if (mode == "cubic" || mode == "bicubic") c.mode = CUBIC;
  else return "mode '" + mode + "' is not supported";
  c.taps = c.mode == NEAREST ? 1 : c.mode == LINEAR ? 2 : 4;
  if (old_style(n)) {
    if (c.mode == CUBIC) return "cubic mode needs Resize-11 or later";
    c.ctm = ASYMMETRIC;
    c.nm = SIMPLE;
    return "";
  }
  std::string ctm = n.attr_string("coordinate_transformation_mode", "half_pixel");
  if (ctm == "half_pixel") c.ctm = HALF_PIXEL;
  else if (ctm == "asymmetric") c.ctm = ASYMMETRIC;
  else if (ctm == "pytorch_half_pixel") c.ctm = PYTORCH_HALF_PIXEL;
  else if (ctm == "tf_half_pixel_for_nn") c.ctm = TF_HALF_PIXEL_FOR_NN;
  else if (ctm == "align_corners") c.ctm = ALIGN_CORNERS;
  else if (ctm == "tf_crop_and_resize") c.ctm = TF_CROP_AND_RESIZE;
  else if (ctm == "half_pixel_symmetric") c.ctm = HALF_PIXEL_SYMMETRIC;
  else return "coordinate_transformation_mode '" + ctm + "' is not supported";
  std::string nm = n.attr_string("nearest_mode", "round_prefer_floor");
  if (nm == "round_prefer_floor") c.nm = ROUND_PREFER_FLOOR;
  else if (nm == "round_prefer_ceil") c.nm = ROUND_PREFER_CEIL;
  else if (nm == "floor") c.nm = FLOOR;
  else if (nm == "ceil") c.nm = CEIL;
  else return "nearest_mode '" + nm + "' is not supported";
  c.A = n.attr_float("cubic_coeff_a", -0.75f);
  c.exclude = n.attr_int("exclude_outside", 0) != 0;
  c.extrapolation = n.attr_float("extrapolation_value", 0.0f);
  if (n.attr_int("antialias", 0) != 0) return "antialias is not supported";
  return "";
}

/// Builds the plan, or returns a reason why the node cannot be emitted.
std::string make_plan(const Node &n, Plan &p) {
  std::string why = parse_config(n, p.cfg);
  if (!why.empty()) return why;
  const Value *x = n.input(0), *y = n.output(0);
  size_t r = x->rank();
  if (y->rank() != r) return "output rank differs from the input rank";
  if (r == 0) return "rank-0 input is not supported";
  if (p.cfg.mode != NEAREST && (x->dtype == DType::Bool || x->dtype == DType::String))
    return std::string("dtype ") + ir::dtype_name(x->dtype) + " needs nearest mode";
  p.axes.assign(r, AxisParam());
  for (size_t d = 0; d < r; ++d) {
    auto &a = p.axes[d];
    a.in = x->shape[d];
    a.out = y->shape[d];
    a.scale = a.in ? (double)a.out / (double)a.in : 1.0;
    a.ow = a.scale * (double)a.in;
  }
  // Axes the scales / sizes / roi entries refer to.
  std::vector<int64_t> axes;
  if (!old_style(n) && n.has_attr("axes")) {
    for (int64_t a : n.attr_ints("axes")) axes.push_back(normalize_axis(n, a, (int64_t)r));
  } else {
    for (size_t d = 0; d < r; ++d) axes.push_back((int64_t)d);
  }
  size_t na = axes.size();
  const Value *scales = nullptr, *sizes = nullptr, *roi = nullptr;
  size_t scales_in = 0, roi_in = 1;
  std::vector<float> attr_scales;
  if (n.op == "Upsample" && n.opset < 9) {
    attr_scales = n.attr_floats("scales");
    if (attr_scales.size() != r) return "scales must have one entry per axis";
  } else if (old_style(n)) {
    scales = present(n, 1);
    scales_in = 1;
  } else {
    roi = present(n, 1);
    scales = present(n, 2);
    scales_in = 2;
    sizes = present(n, 3);
  }
  if (scales && scales->numel() != (int64_t)na) return "scales has the wrong length";
  if (sizes && sizes->numel() != (int64_t)na) return "sizes has the wrong length";
  if (scales && scales->dtype != DType::F32) return "scales must be float32";
  for (size_t d = 0; d < r; ++d)
    if (attr_scales.size() == r) {
      p.axes[d].scale = attr_scales[d];
      p.axes[d].ow = (double)(attr_scales[d] * (float)p.axes[d].in);
    }
  if (scales) {
    for (size_t j = 0; j < na; ++j) {
      auto &a = p.axes[(size_t)axes[j]];
      if (scales->is_constant()) {
        float s = scales->as<float>()[j];
        if (!(s > 0.0f)) return "scales must be positive";
        a.scale = s;
        a.ow = (double)(s * (float)a.in);
      } else {
        a.static_scale = false;
        a.scale_expr = fmt::format("(double)x{}[{}]", scales_in, j);
        a.scale_is_f32 = true;
      }
    }
  } else if (sizes) {
    std::string policy = n.attr_string("keep_aspect_ratio_policy", "stretch");
    if (policy != "stretch") {
      if (policy != "not_larger" && policy != "not_smaller") return "keep_aspect_ratio_policy '" + policy + "' is not supported";
      if (!sizes->is_constant()) return "keep_aspect_ratio_policy needs constant sizes";
      auto sz = sizes->int_values();
      double s = policy == "not_larger" ? 1e300 : 0.0;
      for (size_t j = 0; j < na; ++j) {
        double v = (double)sz[j] / (double)p.axes[(size_t)axes[j]].in;
        s = policy == "not_larger" ? std::min(s, v) : std::max(s, v);
      }
      for (size_t j = 0; j < na; ++j) {
        auto &a = p.axes[(size_t)axes[j]];
        a.scale = s;
        a.ow = s * (double)a.in;
      }
    }
  }
  if (p.cfg.ctm == TF_CROP_AND_RESIZE) {
    if (!roi) return "tf_crop_and_resize needs a roi input";
    if (roi->numel() != 2 * (int64_t)na) return "roi has the wrong length";
    for (size_t j = 0; j < na; ++j) {
      auto &a = p.axes[(size_t)axes[j]];
      if (roi->is_constant()) {
        a.r0 = (float)roi->float_at((int64_t)j);
        a.r1 = (float)roi->float_at((int64_t)(na + j));
      } else {
        if (roi->dtype != DType::F32 && roi->dtype != DType::F64) return "run-time roi must be float or double";
        a.static_roi = false;
        a.r0_expr = fmt::format("(float)x{}[{}]", roi_in, j);
        a.r1_expr = fmt::format("(float)x{}[{}]", roi_in, na + j);
      }
    }
  }
  for (auto &a : p.axes)
    if (a.in == 0 && a.out > 0) return "cannot resize an empty axis";
  return "";
}

// ---------------------------------------------------------------- tables

struct Table {
  std::vector<int32_t> ix;
  std::vector<float> w;
  std::vector<uint8_t> ex;
  bool any_ex = false;
};

/// Compile-time version of the run-time helper (keep both in sync).
Table axis_table(const Config &c, int64_t in, int64_t out, double scale, double ow, float r0, float r1) {
  Table t;
  int T = c.taps;
  t.ix.resize((size_t)(out * T));
  t.w.resize((size_t)(out * T));
  t.ex.assign((size_t)out, 0);
  for (int64_t o = 0; o < out; ++o) {
    double x = (double)o, xo;
    switch (c.ctm) {
    case HALF_PIXEL: xo = (x + 0.5) / scale - 0.5; break;
    case ASYMMETRIC: xo = x / scale; break;
    case PYTORCH_HALF_PIXEL: xo = ow == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5; break;
    case TF_HALF_PIXEL_FOR_NN: xo = (x + 0.5) / scale; break;
    case ALIGN_CORNERS: xo = ow == 1.0 ? 0.0 : x * (double)(in - 1) / (ow - 1.0); break;
    case TF_CROP_AND_RESIZE:
      if (ow == 1.0) xo = (double)((r1 - r0) * (float)(in - 1) / 2.0f);
      else xo = x * (double)(r1 - r0) * (double)(in - 1) / (ow - 1.0);
      xo += (double)(r0 * (float)(in - 1));
      if (xo < 0.0 || xo > (double)(in - 1)) {
        t.ex[(size_t)o] = 1;
        t.any_ex = true;
      }
      break;
    default: {
      double adj = (double)out / ow;
      double off = (double)in / 2.0 * (1.0 - adj);
      xo = off + (x + 0.5) / scale - 0.5;
    }
    }
    double fl = std::floor(xo), r;
    int64_t base;
    if (fl == xo) {
      base = (int64_t)fl - 1;
      r = 1.0;
    } else {
      base = (int64_t)fl;
      r = xo - fl;
    }
    double cf[4];
    int64_t first;
    if (c.mode == NEAREST) {
      int up;
      if (r == 1.0) up = 1;
      else if (c.nm == ROUND_PREFER_FLOOR) up = r > 0.5;
      else if (c.nm == ROUND_PREFER_CEIL) up = r >= 0.5;
      else if (c.nm == FLOOR) up = 0;
      else if (c.nm == CEIL) up = 1;
      else up = scale < 1.0 ? 1 : 0;
      first = base + up;
      cf[0] = 1.0;
    } else if (c.mode == LINEAR) {
      first = base;
      cf[0] = 1.0 - r;
      cf[1] = r;
    } else {
      double A = c.A, s = 1.0 - r;
      first = base - 1;
      cf[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
      cf[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
      cf[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
      cf[3] = ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A;
    }
    if (c.exclude && c.mode != NEAREST) {
      double sum = 0.0;
      for (int j = 0; j < T; ++j) {
        int64_t i = first + j;
        if (i < 0 || i >= in) cf[j] = 0.0;
        sum += cf[j];
      }
      if (sum != 0.0)
        for (int j = 0; j < T; ++j) cf[j] /= sum;
    }
    for (int j = 0; j < T; ++j) {
      int64_t i = std::clamp<int64_t>(first + j, 0, in - 1);
      t.ix[(size_t)(o * T + j)] = (int32_t)i;
      t.w[(size_t)(o * T + j)] = (float)cf[j];
    }
  }
  return t;
}

bool is_identity(const Table &t, int64_t in, int64_t out, int T) {
  if (in != out || t.any_ex) return false;
  for (int64_t o = 0; o < out; ++o) {
    double on = 0.0, off = 0.0;
    for (int j = 0; j < T; ++j) {
      float w = t.w[(size_t)(o * T + j)];
      if (t.ix[(size_t)(o * T + j)] == o) on += w;
      else off += std::fabs(w);
    }
    if (on != 1.0 || off != 0.0) return false;
  }
  return true;
}

const char *kAxisHelper = R"(static void @P@_h_resize_axis(ptrdiff_t in, ptrdiff_t out, double scale, double ow, float r0,
                                float r1, int ctm, int mode, int nm, double A, int excl, int32_t *ix, float *w,
                                unsigned char *ex) {
  /* Mirrors axis_table() in codegen/kernels/resize.cpp. */
  const int T = mode == 0 ? 1 : (mode == 1 ? 2 : 4);
  ptrdiff_t o;
  for (o = 0; o < out; ++o) {
    double x = (double)o, xo, fl, r, cf[4];
    ptrdiff_t base, first;
    int j;
    ex[o] = 0;
    switch (ctm) {
    case 0: xo = (x + 0.5) / scale - 0.5; break;
    case 1: xo = x / scale; break;
    case 2: xo = ow == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5; break;
    case 3: xo = (x + 0.5) / scale; break;
    case 4: xo = ow == 1.0 ? 0.0 : x * (double)(in - 1) / (ow - 1.0); break;
    case 5:
      if (ow == 1.0) xo = (double)((r1 - r0) * (float)(in - 1) / 2.0f);
      else xo = x * (double)(r1 - r0) * (double)(in - 1) / (ow - 1.0);
      xo += (double)(r0 * (float)(in - 1));
      if (xo < 0.0 || xo > (double)(in - 1)) ex[o] = 1;
      break;
    default: {
      double adj = (double)out / ow;
      double off = (double)in / 2.0 * (1.0 - adj);
      xo = off + (x + 0.5) / scale - 0.5;
    }
    }
    fl = floor(xo);
    if (fl == xo) {
      base = (ptrdiff_t)fl - 1;
      r = 1.0;
    } else {
      base = (ptrdiff_t)fl;
      r = xo - fl;
    }
    if (mode == 0) {
      int up;
      if (r == 1.0) up = 1;
      else if (nm == 0) up = r > 0.5;
      else if (nm == 1) up = r >= 0.5;
      else if (nm == 2) up = 0;
      else if (nm == 3) up = 1;
      else up = scale < 1.0 ? 1 : 0;
      first = base + up;
      cf[0] = 1.0;
    } else if (mode == 1) {
      first = base;
      cf[0] = 1.0 - r;
      cf[1] = r;
    } else {
      double s = 1.0 - r;
      first = base - 1;
      cf[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
      cf[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
      cf[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
      cf[3] = ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A;
    }
    if (excl && mode != 0) {
      double sum = 0.0;
      for (j = 0; j < T; ++j) {
        ptrdiff_t i = first + j;
        if (i < 0 || i >= in) cf[j] = 0.0;
        sum += cf[j];
      }
      if (sum != 0.0)
        for (j = 0; j < T; ++j) cf[j] /= sum;
    }
    for (j = 0; j < T; ++j) {
      ptrdiff_t i = first + j;
      if (i < 0) i = 0;
      if (i > in - 1) i = in - 1;
      ix[o * T + j] = (int32_t)i;
      w[o * T + j] = (float)cf[j];
    }
  }
}
)";

void register_axis_helper() {
  static bool done = false;
  if (done) return;
  done = true;
  register_helper({"resize_axis", kAxisHelper, {}});
}

bool axis_is_static(const AxisParam &a) { return a.static_scale && a.static_roi; }

int64_t align4(int64_t v) { return (v + 3) & ~int64_t(3); }

/// Scratch layout of the run-time axes: per axis ix (int32), w (float), ex (bytes).
int64_t runtime_axis_bytes(const AxisParam &a, int T) {
  return a.out * T * 4 + a.out * T * 4 + align4(a.out);
}

int64_t resize_scratch(const Node &n) {
  Plan p;
  if (!make_plan(n, p).empty()) return 0;
  int64_t total = 0;
  for (auto &a : p.axes)
    if (!axis_is_static(a)) total += runtime_axis_bytes(a, p.cfg.taps);
  return total;
}

std::string resize_check(const Node &n) {
  Plan p;
  return make_plan(n, p);
}

std::string join_ints(const std::vector<int32_t> &v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s;
}

void emit_resize(KernelContext &k) {
  const Node &n = k.node;
  Plan p;
  std::string why = make_plan(n, p);
  if (!why.empty()) throw ir::CompileError(n, why);
  const Value &x = k.vin(0), &y = k.vout(0);
  if (y.numel() == 0) return;
  const Config &c = p.cfg;
  int T = c.taps;
  size_t r = x.rank();
  auto xs = strides_of(x.shape);
  std::string ct = ir::dtype_ctype(x.dtype);

  // Per-axis tables.
  enum Kind { PLAIN, TABLE };
  std::vector<Kind> kind(r, PLAIN);
  std::vector<bool> has_ex(r, false);
  int64_t soff = 0;
  for (size_t d = 0; d < r; ++d) {
    const AxisParam &a = p.axes[d];
    if (axis_is_static(a)) {
      Table t = axis_table(c, a.in, a.out, a.scale, a.ow, a.r0, a.r1);
      if (is_identity(t, a.in, a.out, T)) continue;
      kind[d] = TABLE;
      k.line("static const int32_t ix{}[{}] = {{{}}};", d, t.ix.size(), join_ints(t.ix));
      if (c.mode != NEAREST) {
        std::string ws;
        for (size_t i = 0; i < t.w.size(); ++i) ws += (i ? ", " : "") + c_float_literal(t.w[i]);
        k.line("static const float w{}[{}] = {{{}}};", d, t.w.size(), ws);
      }
      if (t.any_ex) {
        has_ex[d] = true;
        std::string es;
        for (size_t i = 0; i < t.ex.size(); ++i) es += (i ? ", " : "") + std::to_string(t.ex[i]);
        k.line("static const unsigned char ex{}[{}] = {{{}}};", d, t.ex.size(), es);
      }
    } else {
      register_axis_helper();
      kind[d] = TABLE;
      has_ex[d] = c.ctm == TF_CROP_AND_RESIZE;
      int64_t o0 = soff, o1 = o0 + a.out * T * 4, o2 = o1 + a.out * T * 4;
      soff += runtime_axis_bytes(a, T);
      k.line("int32_t *ix{} = (int32_t *)(void *)(scratch + {});", d, lit(o0));
      k.line("float *w{} = (float *)(void *)(scratch + {});", d, lit(o1));
      k.line("unsigned char *ex{} = scratch + {};", d, lit(o2));
      if (c.mode == NEAREST) k.line("(void)w{};", d);
      if (!has_ex[d]) k.line("(void)ex{};", d);
      std::string scale = a.static_scale ? c_double_literal(a.scale) : a.scale_expr;
      std::string ow = a.static_scale ? c_double_literal(a.ow)
                                      : fmt::format("(double)((float){} * {}.0f)", a.scale_expr, a.in);
      std::string r0 = a.static_roi ? c_float_literal(a.r0) : a.r0_expr;
      std::string r1 = a.static_roi ? c_float_literal(a.r1) : a.r1_expr;
      k.line("{}({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, ix{}, w{}, ex{});", k.helper("resize_axis"), lit(a.in),
             lit(a.out), scale, ow, r0, r1, (int)c.ctm, (int)c.mode, (int)c.nm, c_double_literal(c.A),
             c.exclude ? 1 : 0, d, d, d);
    }
  }

  bool any_ex = false;
  for (size_t d = 0; d < r; ++d) any_ex = any_ex || has_ex[d];
  if (any_ex) k.line("const {} ev = {};", ct, store_from_float(k, x.dtype, c_float_literal(c.extrapolation)));

  // Walk the output. Plain axes and nearest tables advance a source pointer;
  // linear/cubic tables contribute taps at the innermost level.
  k.line("{} *yp = y0;", ct);
  std::string cur = "x0";
  std::vector<size_t> tap_axes;
  for (size_t d = 0; d < r; ++d) {
    k.open("for (ptrdiff_t o{0} = 0; o{0} < {1}; ++o{0}) {{", d, lit(y.shape[d]));
    std::string pd = fmt::format("p{}", d);
    if (kind[d] == PLAIN) {
      k.line("const {} *{} = {} + o{} * {};", ct, pd, cur, d, lit(xs[d]));
      cur = pd;
    } else if (c.mode == NEAREST) {
      k.line("const {} *{} = {} + ix{}[o{}] * {};", ct, pd, cur, d, d, lit(xs[d]));
      cur = pd;
    } else {
      tap_axes.push_back(d);
      k.line("const int32_t *i{0} = ix{0} + o{0} * {1};", d, T);
      k.line("const float *v{0} = w{0} + o{0} * {1};", d, T);
    }
  }
  if (any_ex) {
    std::string cond;
    for (size_t d = 0; d < r; ++d)
      if (has_ex[d]) cond += fmt::format("{}ex{}[o{}]", cond.empty() ? "" : " || ", d, d);
    k.open("if ({}) {{", cond);
    k.line("*yp++ = ev;");
    k.line("continue;");
    k.close();
  }
  if (tap_axes.empty()) {
    k.line("*yp++ = *{};", cur);
  } else {
    k.line("float acc = 0.0f;");
    std::string wprod, off;
    for (size_t a = 0; a < tap_axes.size(); ++a) {
      size_t d = tap_axes[a];
      k.open("for (int t{0} = 0; t{0} < {1}; ++t{0}) {{", d, T);
      std::string wd = fmt::format("v{}[t{}]", d, d);
      std::string wv = fmt::format("wt{}", d);
      k.line("const float {} = {}{};", wv, a ? fmt::format("wt{} * ", tap_axes[a - 1]) : "", wd);
      off += fmt::format("{}i{}[t{}] * {}", off.empty() ? "" : " + ", d, d, lit(xs[d]));
    }
    size_t last = tap_axes.back();
    k.line("acc += wt{} * {};", last, load_as_float(k, x.dtype, cur, off));
    for (size_t a = 0; a < tap_axes.size(); ++a) k.close();
    k.line("*yp++ = {};", store_from_float(k, x.dtype, "acc"));
  }
  for (size_t d = 0; d < r; ++d) k.close();
}

} // namespace

void register_resize_kernels(KernelRegistry &r) {
  r.add({"Resize", resize_check, emit_resize, resize_scratch});
  r.add({"Upsample", resize_check, emit_resize, resize_scratch});
}

} // namespace tmc::codegen
