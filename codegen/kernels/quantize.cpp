// Kernel family: linear quantization. QuantizeLinear and DequantizeLinear
// (per-tensor and per-axis scale/zero point, which may be runtime tensors) and
// DynamicQuantizeLinear (uint8, scale and zero point computed from the data).
// Rounding is half to even (nearbyintf in the default rounding mode) and
// results saturate to the output type's range.
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool is_quant_int(DType dt) {
  return dt == DType::U8 || dt == DType::I8 || dt == DType::U16 || dt == DType::I16;
}

bool is_float_storage(DType dt) { return dt == DType::F32 || dt == DType::F16 || dt == DType::BF16; }

int64_t qmin(DType dt) { return dt == DType::I8 ? -128 : dt == DType::I16 ? -32768 : 0; }
int64_t qmax(DType dt) { return dt == DType::I8 ? 127 : dt == DType::I16 ? 32767 : dt == DType::U16 ? 65535 : 255; }

/// Broadcast shape of a scale / zero-point input against x: a scalar or
/// one-element tensor is per-tensor; a 1-D tensor of C elements is per-axis.
ir::Shape param_shape(const ir::Node &n, const ir::Value &x, const ir::Value &p) {
  if (p.numel() == 1) return {};
  if (p.rank() != 1)
    throw ir::CompileError(n, fmt::format("scale/zero point of shape {} is not supported (block quantization?)",
                                          ir::shape_str(p.shape)));
  int64_t axis = normalize_axis(n, n.attr_int("axis", 1), (int64_t)x.rank());
  if (x.shape[(size_t)axis] != p.shape[0])
    throw ir::CompileError(n, fmt::format("per-axis parameter has {} elements but axis {} of the input has {}",
                                          p.shape[0], axis, x.shape[(size_t)axis]));
  ir::Shape s(x.rank(), 1);
  s[(size_t)axis] = p.shape[0];
  return s;
}

std::string check_common(const ir::Node &n) {
  if (!n.input(0) || !n.input(1) || !n.output(0)) return "x, scale and output are required";
  if (n.attr_int("block_size", 0) != 0) return "blocked quantization is not supported";
  const ir::Value &x = *n.input(0);
  param_shape(n, x, *n.input(1));
  if (n.input(2)) {
    if (n.input(2)->numel() != n.input(1)->numel()) return "scale and zero point sizes differ";
    param_shape(n, x, *n.input(2));
  }
  if (!is_float_storage(n.input(1)->dtype)) return std::string("scale dtype ") + ir::dtype_name(n.input(1)->dtype) + " is not supported";
  return "";
}

std::string check_quantize(const ir::Node &n) {
  std::string why = check_common(n);
  if (!why.empty()) return why;
  DType x = n.input(0)->dtype, y = n.output(0)->dtype;
  if (!is_float_storage(x) && x != DType::I32) return std::string("input dtype ") + ir::dtype_name(x) + " is not supported";
  if (!is_quant_int(y)) return std::string("output dtype ") + ir::dtype_name(y) + " is not supported";
  if (n.input(2) && n.input(2)->dtype != y) return "zero point and output dtypes differ";
  return "";
}

void emit_quantize(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  std::vector<ir::Shape> shapes{x.shape, param_shape(n, x, k.vin(1))};
  if (k.has_in(2)) shapes.push_back(param_shape(n, x, k.vin(2)));
  DType yt = y.dtype;
  emit_broadcast_loop(k, y.shape, shapes, [&](const std::vector<std::string> &ix, const std::string &oi) {
    std::string zp = k.has_in(2) ? fmt::format("(float)x2[{}]", ix[2]) : "0.0f";
    k.line("const float q = nearbyintf({} / {}) + {};", load_as_float(k, x.dtype, "x0", ix[0]),
           load_as_float(k, k.vin(1).dtype, "x1", ix[1]), zp);
    k.line("y0[{}] = q != q ? 0 : (q <= {} ? {} : (q >= {} ? {} : ({})q));", oi, c_float_literal((float)qmin(yt)),
           qmin(yt), c_float_literal((float)qmax(yt)), qmax(yt), ir::dtype_ctype(yt));
  });
}

std::string check_dequantize(const ir::Node &n) {
  std::string why = check_common(n);
  if (!why.empty()) return why;
  DType x = n.input(0)->dtype, y = n.output(0)->dtype;
  if (!is_quant_int(x) && x != DType::I32) return std::string("input dtype ") + ir::dtype_name(x) + " is not supported";
  if (!is_float_storage(y)) return std::string("output dtype ") + ir::dtype_name(y) + " is not supported";
  if (n.input(2) && n.input(2)->dtype != x) return "zero point and input dtypes differ";
  return "";
}

void emit_dequantize(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  std::vector<ir::Shape> shapes{x.shape, param_shape(n, x, k.vin(1))};
  if (k.has_in(2)) shapes.push_back(param_shape(n, x, k.vin(2)));
  emit_broadcast_loop(k, y.shape, shapes, [&](const std::vector<std::string> &ix, const std::string &oi) {
    std::string diff = k.has_in(2) ? fmt::format("(float)((int64_t)x0[{}] - (int64_t)x2[{}])", ix[0], ix[2])
                                   : fmt::format("(float)x0[{}]", ix[0]);
    std::string val = fmt::format("{} * {}", diff, load_as_float(k, k.vin(1).dtype, "x1", ix[1]));
    k.line("y0[{}] = {};", oi, store_from_float(k, y.dtype, val));
  });
}

std::string check_dynamic(const ir::Node &n) {
  if (!n.input(0) || n.input(0)->dtype != DType::F32) return "input must be float32";
  for (size_t i = 0; i < 3; ++i)
    if (!n.output(i)) return "all three outputs are required";
  if (n.output(0)->dtype != DType::U8 || n.output(2)->dtype != DType::U8 || n.output(1)->dtype != DType::F32)
    return "unexpected output dtypes";
  return "";
}

void emit_dynamic(KernelContext &k) {
  int64_t count = k.vin(0).numel();
  // The range always includes 0 so that 0 is exactly representable.
  k.line("float lo = 0.0f, hi = 0.0f, scale, zp;");
  k.open("for (size_t i = 0; i < {}; ++i) {{", count);
  k.line("if (x0[i] < lo) lo = x0[i];");
  k.line("if (x0[i] > hi) hi = x0[i];");
  k.close();
  k.line("scale = (hi - lo) / 255.0f;");
  k.line("zp = scale > 0.0f ? nearbyintf(fminf(fmaxf(0.0f - lo / scale, 0.0f), 255.0f)) : 0.0f;");
  k.line("y1[0] = scale;");
  k.line("y2[0] = (uint8_t)zp;");
  k.open("for (size_t i = 0; i < {}; ++i) {{", count);
  k.line("const float q = scale > 0.0f ? nearbyintf(x0[i] / scale) + zp : zp;");
  k.line("y0[i] = q != q ? 0 : (q <= 0.0f ? 0 : (q >= 255.0f ? 255 : (uint8_t)q));");
  k.close();
}

} // namespace

void register_quantize_kernels(KernelRegistry &r) {
  r.add({"QuantizeLinear", check_quantize, emit_quantize, nullptr});
  r.add({"DequantizeLinear", check_dequantize, emit_dequantize, nullptr});
  r.add({"DynamicQuantizeLinear", check_dynamic, emit_dynamic, nullptr});
}

} // namespace tmc::codegen
