// Shared by the windowed kernels (convolutions and pooling): the spatial
// geometry of a sliding window (strides, dilations, explicit or auto_pad
// pads), and the emission of the valid tap range of one output position so
// that inner loops carry no bounds checks.
#pragma once
#include <string>
#include <vector>

#include "codegen/kernel.h"

namespace tmc::codegen {

/// Spatial geometry of a convolution-like op over the dimensions after N, C.
/// For ConvTranspose, `in` is the (smaller) data input and `out` the result.
struct WindowGeometry {
  size_t nd = 0;
  std::vector<int64_t> in, out, kernel, stride, dil, pad_begin, pad_end;
};

/// Reads strides and dilations (default 1) into `g`; checks them.
void window_strides_dilations(const ir::Node &n, WindowGeometry &g);
/// Reads explicit pads or resolves auto_pad (SAME_UPPER, SAME_LOWER, VALID)
/// into g.pad_begin/pad_end; needs g.in, g.out, g.kernel, g.stride, g.dil.
void window_pads(const ir::Node &n, WindowGeometry &g);

/// Spatial sizes of data input `xi`, weight input `wi` and the output, plus
/// strides and dilations (pads not set); checks the ranks.
WindowGeometry window_shapes(const ir::Node &n, size_t xi, size_t wi);
/// ConvTranspose geometry (data input `xi`, weights `wi`): pads from the
/// attributes, or derived from output_shape / SAME_* auto_pad (SAME_UPPER
/// puts the odd one at the end).
WindowGeometry convtranspose_window(const ir::Node &n, size_t xi, size_t wi);

/// The window of taps valid for one outer position along one dimension:
/// coordinate(k) = base + k * dil lies in [0, size) for k in [lo, hi).
struct WindowRange {
  std::string base, lo, hi;
  int64_t dil = 1;
  std::string coord(const std::string &kv) const;
};

/// Emits base/lo/hi for dimension `d` and outer position variable `ov` in
/// [0, count): base = ov * stride - pad. Bounds that are always satisfied
/// become literals.
WindowRange emit_window_range(KernelContext &k, size_t d, const std::string &ov, int64_t count, int64_t stride,
                              int64_t pad, int64_t dil, int64_t K, int64_t size);

// Float compute helpers shared by these kernels: float16/bfloat16 are
// computed in float, float64 in double, integers in their own type.
bool is_float_type(ir::DType t);
/// Load element `i` of `p` as the compute type.
std::string load_compute(KernelContext &k, ir::DType t, const std::string &p, const std::string &i);
/// Convert compute-type expression `e` to storage type `t`.
std::string store_compute(KernelContext &k, ir::DType t, const std::string &e);

} // namespace tmc::codegen
