// Kernel family: vision and text ops: GridSample (opset 16), RoiAlign (opsets 10
// and 16), MaxRoiPool, TfIdfVectorizer (integer inputs).
//
// Float16/bfloat16 tensors are computed in float, float64 in double. The
// semantics follow the ONNX reference implementation and onnxruntime (e.g.
// GridSample applies the padding mode to the sampling coordinate, then to each
// interpolation tap; RoiAlign 'max' takes the maximum of the weighted corner
// values).
#include <algorithm>
#include <fmt/format.h>

#include "codegen/helpers.h"
#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool float_dtype_ok(DType dt) {
  return dt == DType::F32 || dt == DType::F64 || dt == DType::F16 || dt == DType::BF16;
}

/// Compute type of a float storage type: "double" for float64, else "float".
struct FType {
  std::string T, f; // C type and math function suffix
  explicit FType(DType dt) : T(dt == DType::F64 ? "double" : "float"), f(dt == DType::F64 ? "" : "f") {}
  std::string lit(double v) const {
    std::string s = T == "double" ? c_double_literal(v) : c_float_literal((float)v);
    return s[0] == '-' ? "(" + s + ")" : s;
  }
};

std::string load_t(KernelContext &k, DType dt, const FType &ft, const std::string &ptr, const std::string &idx) {
  if (dt == DType::F64) {
    return ft.T == "double" ? fmt::format("{}[{}]", ptr, idx) : fmt::format("(float){}[{}]", ptr, idx);
  }
  std::string e = load_as_float(k, dt, ptr, idx);
  return ft.T == "double" ? "(double)" + e : e;
}

std::string store_t(KernelContext &k, DType dt, const FType &ft, const std::string &e) {
  if (dt == DType::F64) return ft.T == "double" ? e : "(double)(" + e + ")";
  if (ft.T == "double") return store_from_float(k, dt, "(float)(" + e + ")");
  return store_from_float(k, dt, e);
}

void register_vision_helpers() {
  // Reflects x into [lo, hi] (GridSample 'reflection' padding).
  register_helper({"vision_gs_reflect", R"(static double @P@_h_vision_gs_reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  double d, r;
  long n;
  if (!(range > 0.0)) return lo;
  if (x < lo) {
    d = lo - x;
    n = (long)(d / range);
    r = d - (double)n * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    d = x - hi;
    n = (long)(d / range);
    r = d - (double)n * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}
)", {}});
  // Flat index of pixel (r, c) of an H x W image under a GridSample padding
  // mode (0 zeros, 1 border, 2 reflection); -1 for a zero (outside) pixel.
  register_helper({"vision_gs_tap", R"(static long @P@_h_vision_gs_tap(long r, long c, long h, long w, int mode,
                                  double xlo, double xhi, double ylo, double yhi) {
  if (mode == 0) {
    if (c < 0 || c >= w || r < 0 || r >= h) return -1;
    return r * w + c;
  }
  if (mode == 2) {
    c = (long)@P@_h_vision_gs_reflect((double)c, xlo, xhi);
    r = (long)@P@_h_vision_gs_reflect((double)r, ylo, yhi);
  }
  if (c < 0) c = 0;
  if (c > w - 1) c = w - 1;
  if (r < 0) r = 0;
  if (r > h - 1) r = h - 1;
  return r * w + c;
}
)", {"vision_gs_reflect"}});
}

// ---------------------------------------------------------------------------
// GridSample (opset 16, 4-D)

std::string check_gridsample(const ir::Node &n) {
  const ir::Value *x = n.input(0), *g = n.input(1), *y = n.output(0);
  if (!x || !g || !y) return "X, grid and the output are required";
  if (!float_dtype_ok(x->dtype) || !float_dtype_ok(g->dtype)) return "only float tensors are supported";
  if (y->dtype != x->dtype) return "output dtype must match X";
  if (x->rank() != 4 || g->rank() != 4) return "only 4-D inputs (N, C, H, W) are supported";
  if (g->shape[0] != x->shape[0] || g->shape[3] != 2) return "grid must have shape [N, H_out, W_out, 2]";
  if (y->shape != ir::Shape{x->shape[0], x->shape[1], g->shape[1], g->shape[2]}) return "unexpected output shape";
  std::string mode = n.attr_string("mode", "bilinear");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic" && mode != "linear" && mode != "cubic")
    return "mode '" + mode + "' is not supported";
  std::string pad = n.attr_string("padding_mode", "zeros");
  if (pad != "zeros" && pad != "border" && pad != "reflection") return "padding_mode '" + pad + "' is not supported";
  return "";
}

void emit_gridsample(KernelContext &k) {
  const ir::Value &X = k.vin(0), &G = k.vin(1);
  const int64_t N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
  const int64_t Ho = G.shape[1], Wo = G.shape[2];
  if (N * C * Ho * Wo == 0) return;
  std::string mode = k.node.attr_string("mode", "bilinear");
  if (mode == "linear") mode = "bilinear";
  if (mode == "cubic") mode = "bicubic";
  const std::string pad = k.node.attr_string("padding_mode", "zeros");
  const int pm = pad == "zeros" ? 0 : pad == "border" ? 1 : 2;
  const bool align = k.node.attr_int("align_corners", 0) != 0;
  FType ft(X.dtype);
  const std::string &T = ft.T, &f = ft.f;
  const double xlo = align ? 0.0 : -0.5, xhi = align ? (double)W - 1 : (double)W - 0.5;
  const double ylo = align ? 0.0 : -0.5, yhi = align ? (double)H - 1 : (double)H - 0.5;
  std::string tap = k.helper("vision_gs_tap");
  std::string bounds = fmt::format("{}, {}, {}, {}", c_double_literal(xlo), c_double_literal(xhi),
                                   c_double_literal(ylo), c_double_literal(yhi));
  auto tapc = [&](const std::string &r, const std::string &c) {
    return fmt::format("{}({}, {}, {}, {}, {}, {})", tap, r, c, H, W, pm, bounds);
  };
  auto denorm = [&](const std::string &g, int64_t len) {
    if (align) return fmt::format("({} + {}) / {} * {}", g, ft.lit(1), ft.lit(2), ft.lit((double)(len - 1)));
    return fmt::format("(({} + {}) * {} - {}) / {}", g, ft.lit(1), ft.lit((double)len), ft.lit(1), ft.lit(2));
  };
  auto px = [&](const std::string &idx) {
    return fmt::format("({0} >= 0 ? {1} : {2})", idx, load_t(k, X.dtype, ft, "xc", idx), ft.lit(0));
  };
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.open("for (size_t oy = 0; oy < {}; ++oy) {{", Ho);
  k.open("for (size_t ox = 0; ox < {}; ++ox) {{", Wo);
  k.line("const size_t gi = ((n * {} + oy) * {} + ox) * 2;", Ho, Wo);
  k.line("const size_t ob = n * {} + oy * {} + ox;", C * Ho * Wo, Wo);
  k.line("const {} gx = {};", T, load_t(k, G.dtype, ft, "x1", "gi"));
  k.line("const {} gy = {};", T, load_t(k, G.dtype, ft, "x1", "gi + 1"));
  k.line("{} sx = {};", T, denorm("gx", W));
  k.line("{} sy = {};", T, denorm("gy", H));
  if (mode == "nearest") {
    k.line("sx = nearbyint{}(sx);", f);
    k.line("sy = nearbyint{}(sy);", f);
  }
  if (pm == 1) {
    k.open("if (sx < {} || sx > {} || sy < {} || sy > {}) {{", ft.lit(xlo), ft.lit(xhi), ft.lit(ylo), ft.lit(yhi));
    k.line("sx = sx < {0} ? {0} : sx > {1} ? {1} : sx;", ft.lit(0), ft.lit((double)W - 1));
    k.line("sy = sy < {0} ? {0} : sy > {1} ? {1} : sy;", ft.lit(0), ft.lit((double)H - 1));
    k.close();
  } else if (pm == 2) {
    std::string refl = k.helper("vision_gs_reflect");
    k.open("if (sx < {} || sx > {} || sy < {} || sy > {}) {{", ft.lit(xlo), ft.lit(xhi), ft.lit(ylo), ft.lit(yhi));
    k.line("sx = ({}){}((double)sx, {}, {});", T, refl, c_double_literal(xlo), c_double_literal(xhi));
    k.line("sy = ({}){}((double)sy, {}, {});", T, refl, c_double_literal(ylo), c_double_literal(yhi));
    k.close();
  }
  // Keep coordinates in a range where integer conversion is defined; taps
  // outside the image stay outside (NaN maps to the low end).
  k.line("if (!(sx >= {0})) sx = {0};", ft.lit(-4.0));
  k.line("if (!(sx <= {0})) sx = {0};", ft.lit((double)W + 3));
  k.line("if (!(sy >= {0})) sy = {0};", ft.lit(-4.0));
  k.line("if (!(sy <= {0})) sy = {0};", ft.lit((double)H + 3));
  if (mode == "nearest") {
    k.line("const long t0 = {};", tapc("(long)sy", "(long)sx"));
    k.open("for (size_t c = 0; c < {}; ++c) {{", C);
    k.line("const {} *xc = x0 + (n * {} + c) * {};", ir::dtype_ctype(X.dtype), C, H * W);
    k.line("y0[ob + c * {}] = {};", Ho * Wo, store_t(k, X.dtype, ft, px("t0")));
    k.close();
  } else if (mode == "bilinear") {
    k.line("const {0} fx = floor{1}(sx), fy = floor{1}(sy);", T, f);
    k.line("const long cx = (long)fx, cy = (long)fy;");
    k.line("const {} dx1 = sx - fx, dx2 = fx + {} - sx;", T, ft.lit(1));
    k.line("const {} dy1 = sy - fy, dy2 = fy + {} - sy;", T, ft.lit(1));
    k.line("const long t11 = {}, t12 = {};", tapc("cy", "cx"), tapc("cy", "cx + 1"));
    k.line("const long t21 = {}, t22 = {};", tapc("cy + 1", "cx"), tapc("cy + 1", "cx + 1"));
    k.open("for (size_t c = 0; c < {}; ++c) {{", C);
    k.line("const {} *xc = x0 + (n * {} + c) * {};", ir::dtype_ctype(X.dtype), C, H * W);
    k.line("const {} p11 = {}, p12 = {};", T, px("t11"), px("t12"));
    k.line("const {} p21 = {}, p22 = {};", T, px("t21"), px("t22"));
    k.line("y0[ob + c * {}] = {};", Ho * Wo,
           store_t(k, X.dtype, ft, "dy2 * (dx2 * p11 + dx1 * p12) + dy1 * (dx2 * p21 + dx1 * p22)"));
    k.close();
  } else { // bicubic, A = -0.75
    k.line("const long bx = (long)floor{}(sx) - 1, by = (long)floor{}(sy) - 1;", f, f);
    k.line("long t[16];");
    k.line("{} wx[4], wy[4];", T);
    k.line("size_t i, j;");
    k.open("for (i = 0; i < 4; ++i) {{");
    k.line("for (j = 0; j < 4; ++j) t[i * 4 + j] = {};", tapc("by + (long)i", "bx + (long)j"));
    k.close();
    k.open("for (i = 0; i < 2; ++i) {{");
    k.line("{0} *cf = i ? wy : wx;", T);
    k.line("{} v = i ? sy - ({})by - {} : sx - ({})bx - {};", T, T, ft.lit(1), T, ft.lit(1));
    k.line("if (v < {0}) v = -v;", ft.lit(0));
    k.line("cf[0] = (({0} * (v + {1}) - {2}) * (v + {1}) + {3}) * (v + {1}) - {4};", ft.lit(-0.75), ft.lit(1),
           ft.lit(5 * -0.75), ft.lit(8 * -0.75), ft.lit(4 * -0.75));
    k.line("cf[1] = (({0} * v - {1}) * v) * v + {2};", ft.lit(-0.75 + 2), ft.lit(-0.75 + 3), ft.lit(1));
    k.line("cf[2] = (({0} * ({2} - v) - {1}) * ({2} - v)) * ({2} - v) + {2};", ft.lit(-0.75 + 2),
           ft.lit(-0.75 + 3), ft.lit(1));
    k.line("cf[3] = (({0} * ({1} - v) - {2}) * ({1} - v) + {3}) * ({1} - v) - {4};", ft.lit(-0.75), ft.lit(2),
           ft.lit(5 * -0.75), ft.lit(8 * -0.75), ft.lit(4 * -0.75));
    k.close();
    k.open("for (size_t c = 0; c < {}; ++c) {{", C);
    k.line("const {} *xc = x0 + (n * {} + c) * {};", ir::dtype_ctype(X.dtype), C, H * W);
    k.line("{} acc = {};", T, ft.lit(0));
    k.open("for (i = 0; i < 4; ++i) {{");
    k.line("{} v = {};", T, ft.lit(0));
    k.line("for (j = 0; j < 4; ++j) v += wx[j] * {};", px("t[i * 4 + j]"));
    k.line("acc += wy[i] * v;");
    k.close();
    k.line("y0[ob + c * {}] = {};", Ho * Wo, store_t(k, X.dtype, ft, "acc"));
    k.close();
  }
  k.close();
  k.close();
  k.close();
}

// ---------------------------------------------------------------------------
// RoiAlign (opsets 10 and 16)

std::string check_roialign(const ir::Node &n) {
  const ir::Value *x = n.input(0), *rois = n.input(1), *bi = n.input(2), *y = n.output(0);
  if (!x || !rois || !bi || !y) return "X, rois, batch_indices and the output are required";
  if (!float_dtype_ok(x->dtype) || rois->dtype != x->dtype) return "X and rois must be float tensors of one dtype";
  if (!ir::dtype_is_integer(bi->dtype)) return "batch_indices must be integers";
  if (y->dtype != x->dtype) return "output dtype must match X";
  if (x->rank() != 4) return "X must be 4-D";
  if (rois->rank() != 2 || rois->shape[1] != 4) return "rois must have shape [num_rois, 4]";
  if (bi->numel() != rois->shape[0]) return "batch_indices must have num_rois entries";
  int64_t ph = n.attr_int("output_height", 1), pw = n.attr_int("output_width", 1);
  if (ph < 1 || pw < 1) return "output_height/output_width must be positive";
  if (y->shape != ir::Shape{rois->shape[0], x->shape[1], ph, pw}) return "unexpected output shape";
  std::string mode = n.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") return "mode '" + mode + "' is not supported";
  std::string ctm = n.attr_string("coordinate_transformation_mode", "half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return "coordinate_transformation_mode '" + ctm + "' is not supported";
  return "";
}

int64_t roialign_scratch(const ir::Node &n) {
  const ir::Value *x = n.input(0);
  if (!x || x->rank() != 4) return 0;
  return std::max<int64_t>(x->shape[1], 1) * (x->dtype == DType::F64 ? 8 : 4);
}

void emit_roialign(KernelContext &k) {
  const ir::Value &X = k.vin(0), &Rv = k.vin(1);
  const int64_t N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
  const int64_t R = Rv.shape[0];
  const int64_t PH = k.node.attr_int("output_height", 1), PW = k.node.attr_int("output_width", 1);
  const int64_t sr = k.node.attr_int("sampling_ratio", 0);
  const double scale = k.node.attr_float("spatial_scale", 1.0f);
  const bool is_max = k.node.attr_string("mode", "avg") == "max";
  const bool half_pixel =
      k.node.opset >= 16 &&
      k.node.attr_string("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  if (R * C == 0) return;
  FType ft(X.dtype);
  const std::string &T = ft.T, &f = ft.f;
  const std::string xt = ir::dtype_ctype(X.dtype);
  k.line("{0} *acc = ({0} *)(void *)scratch;", T);
  k.open("for (size_t r = 0; r < {}; ++r) {{", R);
  k.line("const long b = (long)x2[r];");
  k.open("if (b < 0 || b >= {}) {{", N);
  k.line("for (size_t i = 0; i < {}; ++i) y0[r * {} + i] = {};", C * PH * PW, C * PH * PW,
         store_t(k, X.dtype, ft, ft.lit(0)));
  k.line("continue;");
  k.close();
  std::string off = half_pixel ? " - " + ft.lit(0.5) : "";
  k.line("const {} sw = {} * {}{};", T, load_t(k, X.dtype, ft, "x1", "r * 4"), ft.lit(scale), off);
  k.line("const {} sh = {} * {}{};", T, load_t(k, X.dtype, ft, "x1", "r * 4 + 1"), ft.lit(scale), off);
  k.line("const {} ew = {} * {}{};", T, load_t(k, X.dtype, ft, "x1", "r * 4 + 2"), ft.lit(scale), off);
  k.line("const {} eh = {} * {}{};", T, load_t(k, X.dtype, ft, "x1", "r * 4 + 3"), ft.lit(scale), off);
  k.line("{} rw = ew - sw, rh = eh - sh;", T);
  if (!half_pixel) {
    k.line("if (rw < {0}) rw = {0};", ft.lit(1));
    k.line("if (rh < {0}) rh = {0};", ft.lit(1));
  }
  k.line("const {} bw = rw / {}, bh = rh / {};", T, ft.lit((double)PW), ft.lit((double)PH));
  if (sr > 0) {
    k.line("const long gw = {0}, gh = {0};", sr);
  } else {
    k.line("const long gw = (long)ceil{}(rw / {}), gh = (long)ceil{}(rh / {});", f, ft.lit((double)PW), f,
           ft.lit((double)PH));
  }
  if (!is_max) k.line("const {} cnt = ({})(gw * gh > 1 ? gw * gh : 1);", T, T);
  k.line("const {} *xb = x0 + (size_t)b * {};", xt, C * H * W);
  k.open("for (size_t ph = 0; ph < {}; ++ph) {{", PH);
  k.open("for (size_t pw = 0; pw < {}; ++pw) {{", PW);
  k.line("long iy, ix;");
  if (is_max) k.line("int first = 1;");
  k.line("for (size_t c = 0; c < {}; ++c) acc[c] = {};", C, ft.lit(0));
  k.open("for (iy = 0; iy < gh; ++iy) {{");
  k.line("{0} yy = sh + ({0})ph * bh + (({0})iy + {1}) * bh / ({0})gh;", T, ft.lit(0.5));
  k.open("for (ix = 0; ix < gw; ++ix) {{");
  k.line("{0} xx = sw + ({0})pw * bw + (({0})ix + {1}) * bw / ({0})gw;", T, ft.lit(0.5));
  k.line("{} w1 = {}, w2 = {}, w3 = {}, w4 = {};", T, ft.lit(0), ft.lit(0), ft.lit(0), ft.lit(0));
  k.line("long p1 = 0, p2 = 0, p3 = 0, p4 = 0;");
  k.open("if (!(yy < {} || yy > {} || xx < {} || xx > {})) {{", ft.lit(-1), ft.lit((double)H), ft.lit(-1),
         ft.lit((double)W));
  k.line("long yl, xl, yh, xh;");
  k.line("{} ly, lx;", T);
  k.line("if (yy <= {0}) yy = {0};", ft.lit(0));
  k.line("if (xx <= {0}) xx = {0};", ft.lit(0));
  k.line("yl = (long)yy;");
  k.line("xl = (long)xx;");
  k.open("if (yl >= {}) {{", H - 1);
  k.line("yl = yh = {};", H - 1);
  k.line("yy = ({})yl;", T);
  k.close("} else {");
  k.indent();
  k.line("yh = yl + 1;");
  k.close();
  k.open("if (xl >= {}) {{", W - 1);
  k.line("xl = xh = {};", W - 1);
  k.line("xx = ({})xl;", T);
  k.close("} else {");
  k.indent();
  k.line("xh = xl + 1;");
  k.close();
  k.line("ly = yy - ({})yl;", T);
  k.line("lx = xx - ({})xl;", T);
  k.line("w1 = ({0} - ly) * ({0} - lx);", ft.lit(1));
  k.line("w2 = ({} - ly) * lx;", ft.lit(1));
  k.line("w3 = ly * ({} - lx);", ft.lit(1));
  k.line("w4 = ly * lx;");
  k.line("p1 = yl * {0} + xl;", W);
  k.line("p2 = yl * {0} + xh;", W);
  k.line("p3 = yh * {0} + xl;", W);
  k.line("p4 = yh * {0} + xh;", W);
  k.close();
  k.open("for (size_t c = 0; c < {}; ++c) {{", C);
  k.line("const {} *xc = xb + c * {};", xt, H * W);
  std::string v1 = "w1 * " + load_t(k, X.dtype, ft, "xc", "p1"), v2 = "w2 * " + load_t(k, X.dtype, ft, "xc", "p2"),
              v3 = "w3 * " + load_t(k, X.dtype, ft, "xc", "p3"), v4 = "w4 * " + load_t(k, X.dtype, ft, "xc", "p4");
  if (is_max) {
    k.line("{} v = {};", T, v1);
    k.line("const {} v2 = {}, v3 = {}, v4 = {};", T, v2, v3, v4);
    k.line("if (v2 > v) v = v2;");
    k.line("if (v3 > v) v = v3;");
    k.line("if (v4 > v) v = v4;");
    k.line("if (first || v > acc[c]) acc[c] = v;");
  } else {
    k.line("acc[c] += {} + {} + {} + {};", v1, v2, v3, v4);
  }
  k.close();
  if (is_max) k.line("first = 0;");
  k.close();
  k.close();
  k.open("for (size_t c = 0; c < {}; ++c) {{", C);
  k.line("y0[((r * {} + c) * {} + ph) * {} + pw] = {};", C, PH, PW,
         store_t(k, X.dtype, ft, is_max ? "acc[c]" : "acc[c] / cnt"));
  k.close();
  k.close();
  k.close();
  k.close();
}

// ---------------------------------------------------------------------------
// MaxRoiPool (opset 1)

std::string check_maxroipool(const ir::Node &n) {
  const ir::Value *x = n.input(0), *rois = n.input(1), *y = n.output(0);
  if (!x || !rois || !y) return "X, rois and the output are required";
  if (!float_dtype_ok(x->dtype) || rois->dtype != x->dtype) return "X and rois must be float tensors of one dtype";
  if (y->dtype != x->dtype) return "output dtype must match X";
  if (x->rank() != 4) return "X must be 4-D";
  if (rois->rank() != 2 || rois->shape[1] != 5) return "rois must have shape [num_rois, 5]";
  auto ps = n.attr_ints("pooled_shape");
  if (ps.size() != 2 || ps[0] < 1 || ps[1] < 1) return "pooled_shape must hold two positive values";
  if (y->shape != ir::Shape{rois->shape[0], x->shape[1], ps[0], ps[1]}) return "unexpected output shape";
  return "";
}

void emit_maxroipool(KernelContext &k) {
  const ir::Value &X = k.vin(0), &Rv = k.vin(1);
  const int64_t N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
  const int64_t R = Rv.shape[0];
  auto ps = k.node.attr_ints("pooled_shape");
  const int64_t PH = ps[0], PW = ps[1];
  const double scale = k.node.attr_float("spatial_scale", 1.0f);
  if (R * C == 0) return;
  FType ft(X.dtype);
  const std::string &T = ft.T, &f = ft.f;
  const std::string xt = ir::dtype_ctype(X.dtype);
  auto roi = [&](int i) { return load_t(k, X.dtype, ft, "x1", fmt::format("r * 5 + {}", i)); };
  k.open("for (size_t r = 0; r < {}; ++r) {{", R);
  k.line("const long b = (long){};", roi(0));
  k.open("if (b < 0 || b >= {}) {{", N);
  k.line("for (size_t i = 0; i < {}; ++i) y0[r * {} + i] = {};", C * PH * PW, C * PH * PW,
         store_t(k, X.dtype, ft, ft.lit(0)));
  k.line("continue;");
  k.close();
  k.line("const long sw = (long)round{}({} * {});", f, roi(1), ft.lit(scale));
  k.line("const long sh = (long)round{}({} * {});", f, roi(2), ft.lit(scale));
  k.line("const long ew = (long)round{}({} * {});", f, roi(3), ft.lit(scale));
  k.line("const long eh = (long)round{}({} * {});", f, roi(4), ft.lit(scale));
  k.line("const long rh = eh - sh + 1 > 1 ? eh - sh + 1 : 1, rw = ew - sw + 1 > 1 ? ew - sw + 1 : 1;");
  k.line("const {0} bh = ({0})rh / {1}, bw = ({0})rw / {2};", T, ft.lit((double)PH), ft.lit((double)PW));
  k.open("for (size_t c = 0; c < {}; ++c) {{", C);
  k.line("const {} *xc = x0 + ((size_t)b * {} + c) * {};", xt, C, H * W);
  k.open("for (size_t ph = 0; ph < {}; ++ph) {{", PH);
  k.open("for (size_t pw = 0; pw < {}; ++pw) {{", PW);
  k.line("long hs = (long)floor{0}(({1})ph * bh) + sh, he = (long)ceil{0}(({1})(ph + 1) * bh) + sh;", f, T);
  k.line("long ws = (long)floor{0}(({1})pw * bw) + sw, we = (long)ceil{0}(({1})(pw + 1) * bw) + sw;", f, T);
  k.line("{} m = {};", T, ft.lit(0));
  k.line("long h, w;");
  k.line("hs = hs < 0 ? 0 : hs > {0} ? {0} : hs;", H);
  k.line("he = he < 0 ? 0 : he > {0} ? {0} : he;", H);
  k.line("ws = ws < 0 ? 0 : ws > {0} ? {0} : ws;", W);
  k.line("we = we < 0 ? 0 : we > {0} ? {0} : we;", W);
  k.open("if (he > hs && we > ws) {{");
  k.line("m = {};", load_t(k, X.dtype, ft, "xc", "hs * " + std::to_string(W) + " + ws"));
  k.open("for (h = hs; h < he; ++h) {{");
  k.open("for (w = ws; w < we; ++w) {{");
  k.line("const {} v = {};", T, load_t(k, X.dtype, ft, "xc", "h * " + std::to_string(W) + " + w"));
  k.line("if (v > m) m = v;");
  k.close();
  k.close();
  k.close();
  k.line("y0[((r * {} + c) * {} + ph) * {} + pw] = {};", C, PH, PW, store_t(k, X.dtype, ft, "m"));
  k.close();
  k.close();
  k.close();
  k.close();
}

// ---------------------------------------------------------------------------
// TfIdfVectorizer (opset 9; integer inputs)
//
// The pool is known at compile time: one table per n-gram length, searched
// linearly for each (start position, skip distance). Unigrams are counted
// once per position; longer n-grams once per skip distance 1..max_skip+1.

struct TfIdfInfo {
  int64_t B = 1, L = 0, Cout = 0;
  int64_t min_n = 1, max_n = 1, max_skip = 0;
  std::string mode;
  /// Per n-gram length n (index n-1): the pool entries (n values each) and their output indexes.
  std::vector<std::vector<int64_t>> grams;
  std::vector<std::vector<int64_t>> outs;
  std::vector<float> weights;
};

std::string tfidf_info(const ir::Node &n, TfIdfInfo &t) {
  const ir::Value *x = n.input(0), *y = n.output(0);
  if (!x || !y) return "input and output are required";
  if (x->dtype != DType::I32 && x->dtype != DType::I64) return "only int32/int64 inputs are supported";
  if (y->dtype != DType::F32) return "output must be float";
  if (x->rank() == 1) {
    t.L = x->shape[0];
  } else if (x->rank() == 2) {
    t.B = x->shape[0];
    t.L = x->shape[1];
  } else {
    return "input must be 1-D or 2-D";
  }
  if (y->rank() != x->rank() || (x->rank() == 2 && y->shape[0] != t.B)) return "unexpected output shape";
  t.Cout = y->shape.back();
  t.min_n = n.attr_int("min_gram_length", 1);
  t.max_n = n.attr_int("max_gram_length", 1);
  t.max_skip = n.attr_int("max_skip_count", 0);
  if (t.min_n < 1 || t.max_n < t.min_n) return "invalid min/max_gram_length";
  if (t.max_skip < 0) return "invalid max_skip_count";
  t.mode = n.attr_string("mode", "TF");
  if (t.mode != "TF" && t.mode != "IDF" && t.mode != "TFIDF") return "mode '" + t.mode + "' is not supported";
  if (n.has_attr("pool_strings")) return "string pools are not supported";
  auto pool = n.attr_ints("pool_int64s");
  auto counts = n.attr_ints("ngram_counts");
  auto idx = n.attr_ints("ngram_indexes");
  t.weights = n.attr_floats("weights");
  if (counts.empty()) return "ngram_counts is required";
  size_t gi = 0;
  for (size_t lvl = 0; lvl < counts.size(); ++lvl) {
    int64_t len = (int64_t)lvl + 1;
    int64_t start = counts[lvl];
    int64_t end = lvl + 1 < counts.size() ? counts[lvl + 1] : (int64_t)pool.size();
    if (start < 0 || end < start || end > (int64_t)pool.size() || (end - start) % len != 0)
      return "ngram_counts does not match pool_int64s";
    std::vector<int64_t> g(pool.begin() + start, pool.begin() + end), o;
    for (int64_t j = 0; j < (end - start) / len; ++j) {
      if (gi >= idx.size()) return "ngram_indexes is shorter than the pool";
      int64_t oi = idx[gi++];
      if (oi < 0 || oi >= t.Cout) return "ngram_indexes entry out of the output range";
      o.push_back(oi);
    }
    t.grams.push_back(g);
    t.outs.push_back(o);
  }
  if (!t.weights.empty() && (int64_t)t.weights.size() < t.Cout) return "weights is shorter than the output";
  return "";
}

std::string check_tfidf(const ir::Node &n) {
  TfIdfInfo t;
  return tfidf_info(n, t);
}

void emit_tfidf(KernelContext &k) {
  TfIdfInfo t;
  std::string err = tfidf_info(k.node, t);
  if (!err.empty()) throw ir::CompileError(k.node, err);
  if (t.B * t.Cout == 0) return;
  const std::string xt = ir::dtype_ctype(k.vin(0).dtype);
  // Tables.
  std::vector<int64_t> levels;
  for (int64_t len = t.min_n; len <= std::min<int64_t>(t.max_n, (int64_t)t.grams.size()); ++len)
    if (!t.outs[(size_t)len - 1].empty() && len <= t.L) levels.push_back(len);
  auto emit_ints = [&](const std::string &name, const std::vector<int64_t> &v, DType dt) {
    k.line("static const {} {}[{}] = {{", ir::dtype_ctype(dt), name, v.size());
    for (size_t i = 0; i < v.size(); i += 8) {
      std::string row;
      for (size_t j = i; j < std::min(v.size(), i + 8); ++j) row += c_int_literal(dt, v[j]) + ",";
      k.line("  {}", row);
    }
    k.line("}};");
  };
  for (int64_t len : levels) {
    emit_ints(fmt::format("pool{}", len), t.grams[(size_t)len - 1], DType::I64);
    emit_ints(fmt::format("oidx{}", len), t.outs[(size_t)len - 1], DType::I32);
  }
  k.open("for (size_t b = 0; b < {}; ++b) {{", t.B);
  k.line("const {} *x = x0 + b * {};", xt, t.L);
  k.line("float *y = y0 + b * {};", t.Cout);
  k.line("for (size_t o = 0; o < {}; ++o) y[o] = 0.0f;", t.Cout);
  if (!levels.empty()) {
    k.open("for (size_t i = 0; i < {}; ++i) {{", t.L);
    for (int64_t len : levels) {
      int64_t G = (int64_t)t.outs[(size_t)len - 1].size();
      int64_t maxd = len == 1 ? 1 : t.max_skip + 1;
      k.open("{{");
      k.line("size_t d;");
      k.open("for (d = 1; d <= {}; ++d) {{", maxd);
      if (len > 1) k.line("if (i + {} * d >= {}) break;", len - 1, t.L);
      k.open("for (size_t g = 0; g < {}; ++g) {{", G);
      std::string cond;
      for (int64_t m = 0; m < len; ++m) {
        std::string pos = m == 0 ? "i" : m == 1 ? "i + d" : fmt::format("i + {} * d", m);
        cond += fmt::format("{}(int64_t)x[{}] == pool{}[g * {} + {}]", m ? " && " : "", pos, len, len, m);
      }
      k.open("if ({}) {{", cond);
      k.line("y[oidx{}[g]] += 1.0f;", len);
      k.line("break;");
      k.close();
      k.close();
      k.close();
      k.close();
    }
    k.close();
  }
  if (t.mode == "IDF" || (t.mode == "TFIDF" && !t.weights.empty())) {
    if (!t.weights.empty()) {
      k.line("static const float wts[{}] = {{", t.Cout);
      for (int64_t i = 0; i < t.Cout; i += 8) {
        std::string row;
        for (int64_t j = i; j < std::min(t.Cout, i + 8); ++j) row += c_float_literal(t.weights[(size_t)j]) + ",";
        k.line("  {}", row);
      }
      k.line("}};");
    }
    std::string w = t.weights.empty() ? "1.0f" : "wts[o]";
    k.open("for (size_t o = 0; o < {}; ++o) {{", t.Cout);
    if (t.mode == "IDF") k.line("y[o] = y[o] > 0.0f ? {} : 0.0f;", w);
    else if (!t.weights.empty()) k.line("y[o] *= {};", w);
    k.close();
  }
  k.close();
}

} // namespace

void register_vision_kernels(KernelRegistry &r) {
  register_vision_helpers();
  r.add({"GridSample", check_gridsample, emit_gridsample, nullptr});
  r.add({"RoiAlign", check_roialign, emit_roialign, roialign_scratch});
  r.add({"MaxRoiPool", check_maxroipool, emit_maxroipool, nullptr});
  r.add({"TfIdfVectorizer", check_tfidf, emit_tfidf, nullptr});
}

} // namespace tmc::codegen
