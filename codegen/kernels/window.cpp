#include "codegen/kernels/window.h"

#include <fmt/format.h>

#include "codegen/kernels/common.h"

namespace tmc::codegen {

void window_strides_dilations(const ir::Node &n, WindowGeometry &g) {
  g.stride = n.attr_ints("strides", std::vector<int64_t>(g.nd, 1));
  g.dil = n.attr_ints("dilations", std::vector<int64_t>(g.nd, 1));
  if (g.stride.size() != g.nd || g.dil.size() != g.nd)
    throw ir::CompileError(n, "strides/dilations have the wrong length");
  for (size_t d = 0; d < g.nd; ++d)
    if (g.stride[d] < 1 || g.dil[d] < 1) throw ir::CompileError(n, "strides and dilations must be positive");
}

void window_pads(const ir::Node &n, WindowGeometry &g) {
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  g.pad_begin.assign(g.nd, 0);
  g.pad_end.assign(g.nd, 0);
  if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    for (size_t d = 0; d < g.nd; ++d) {
      int64_t eff = (g.kernel[d] - 1) * g.dil[d] + 1;
      int64_t total = (g.out[d] - 1) * g.stride[d] + eff - g.in[d];
      if (total < 0) total = 0;
      int64_t small = total / 2, big = total - small;
      g.pad_begin[d] = ap == "SAME_UPPER" ? small : big;
      g.pad_end[d] = ap == "SAME_UPPER" ? big : small;
    }
  } else if (ap == "NOTSET" || ap.empty()) {
    auto p = n.attr_ints("pads");
    if (!p.empty()) {
      if (p.size() != 2 * g.nd) throw ir::CompileError(n, "attribute 'pads' has the wrong length");
      for (size_t d = 0; d < g.nd; ++d) {
        g.pad_begin[d] = p[d];
        g.pad_end[d] = p[d + g.nd];
      }
    }
  } else if (ap != "VALID") {
    throw ir::CompileError(n, "auto_pad '" + ap + "' is not supported");
  }
}

std::string WindowRange::coord(const std::string &kv) const {
  return dil == 1 ? fmt::format("{} + {}", base, kv) : fmt::format("{} + {} * {}", base, kv, dil);
}

WindowRange emit_window_range(KernelContext &k, size_t d, const std::string &ov, int64_t count, int64_t stride,
                              int64_t pad, int64_t dil, int64_t K, int64_t size) {
  WindowRange w;
  w.dil = dil;
  w.base = fmt::format("b{}", d);
  std::string e = stride == 1 ? ov : fmt::format("{} * {}", ov, stride);
  if (pad) e += fmt::format(" - {}", pad);
  k.line("const long {} = {};", w.base, e);
  bool low_ok = pad == 0;
  bool high_ok = (count - 1) * stride - pad + (K - 1) * dil <= size - 1;
  if (low_ok) {
    w.lo = "0";
  } else {
    w.lo = fmt::format("lo{}", d);
    if (dil == 1) k.line("const long {} = {} < 0 ? -{} : 0;", w.lo, w.base, w.base);
    else k.line("const long {0} = {1} < 0 ? (-{1} + {2}) / {3} : 0;", w.lo, w.base, dil - 1, dil);
  }
  if (high_ok) {
    w.hi = std::to_string(K);
  } else {
    w.hi = fmt::format("hi{}", d);
    if (dil == 1) k.line("const long {0} = {1} - {2} < {3} ? {1} - {2} : {3};", w.hi, size, w.base, K);
    else
      k.line("const long {0} = ({1} - {2} + {3}) / {4} < {5} ? ({1} - {2} + {3}) / {4} : {5};", w.hi, size,
             w.base, dil - 1, dil, K);
  }
  return w;
}

bool is_float_type(ir::DType t) {
  return t == ir::DType::F32 || t == ir::DType::F64 || t == ir::DType::F16 || t == ir::DType::BF16;
}

std::string load_compute(KernelContext &k, ir::DType t, const std::string &p, const std::string &i) {
  if (t == ir::DType::F64 || !is_float_type(t)) return fmt::format("{}[{}]", p, i);
  return load_as_float(k, t, p, i);
}

std::string store_compute(KernelContext &k, ir::DType t, const std::string &e) {
  if (t == ir::DType::F64 || !is_float_type(t)) return e;
  return store_from_float(k, t, e);
}

WindowGeometry window_shapes(const ir::Node &n, size_t xi, size_t wi) {
  const ir::Value *x = n.input(xi), *w = n.input(wi), *y = n.output(0);
  if (x->rank() < 3) throw ir::CompileError(n, "input rank must be at least 3");
  WindowGeometry g;
  g.nd = x->rank() - 2;
  if (w->rank() != x->rank() || y->rank() != x->rank())
    throw ir::CompileError(n, "weight/output rank does not match the input rank");
  g.in.assign(x->shape.begin() + 2, x->shape.end());
  g.out.assign(y->shape.begin() + 2, y->shape.end());
  g.kernel.assign(w->shape.begin() + 2, w->shape.end());
  window_strides_dilations(n, g);
  return g;
}


WindowGeometry convtranspose_window(const ir::Node &n, size_t xi, size_t wi) {
  WindowGeometry g = window_shapes(n, xi, wi);
  auto opad = n.attr_ints("output_padding", std::vector<int64_t>(g.nd, 0));
  if (opad.size() != g.nd) throw ir::CompileError(n, "output_padding has the wrong length");
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  g.pad_begin.assign(g.nd, 0);
  g.pad_end.assign(g.nd, 0);
  auto pads = n.attr_ints("pads");
  bool derive = n.has_attr("output_shape") || ap == "SAME_UPPER" || ap == "SAME_LOWER";
  if (!derive && ap != "VALID" && !pads.empty()) {
    if (pads.size() != 2 * g.nd) throw ir::CompileError(n, "attribute 'pads' has the wrong length");
    for (size_t d = 0; d < g.nd; ++d) {
      g.pad_begin[d] = pads[d];
      g.pad_end[d] = pads[d + g.nd];
    }
  } else if (derive) {
    for (size_t d = 0; d < g.nd; ++d) {
      int64_t total = g.stride[d] * (g.in[d] - 1) + opad[d] + (g.kernel[d] - 1) * g.dil[d] + 1 - g.out[d];
      if (total < 0) total = 0;
      int64_t small = total / 2, big = total - small;
      g.pad_begin[d] = ap == "SAME_UPPER" ? small : big;
      g.pad_end[d] = ap == "SAME_UPPER" ? big : small;
    }
  }
  return g;
}

} // namespace tmc::codegen
