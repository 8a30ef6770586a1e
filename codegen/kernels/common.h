// Shared helpers for kernel emitters: strides, broadcasting loops, and reading
// static parameters that may come from an attribute or a constant input.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "codegen/kernel.h"

namespace tmc::codegen {

/// Row-major strides of `shape` (in elements).
std::vector<int64_t> strides_of(const ir::Shape &shape);

/// Strides of `in` broadcast (numpy rules) to rank/shape `out`: 0 on broadcast dims.
std::vector<int64_t> broadcast_strides(const ir::Shape &in, const ir::Shape &out);

/// Numpy broadcast of shapes; throws CompileError on mismatch.
ir::Shape broadcast_shapes(const ir::Node &n, const std::vector<ir::Shape> &shapes);

/// Emits loops over every element of `out_shape`. `body` receives the C
/// index expression of each operand (broadcast per `in_shapes`) and of the
/// output, and writes the statement(s) for one element.
void emit_broadcast_loop(KernelContext &k, const ir::Shape &out_shape,
                         const std::vector<ir::Shape> &in_shapes,
                         const std::function<void(const std::vector<std::string> &in_idx,
                                                  const std::string &out_idx)> &body);

/// Normalises a possibly negative axis against `rank`; throws on out-of-range.
int64_t normalize_axis(const ir::Node &n, int64_t axis, int64_t rank);

/// Integer list that is an attribute in older opsets and a constant input in
/// newer ones (Reduce axes, Squeeze axes, Split sizes, Pad pads, ...).
/// Returns nullopt when neither is given. Throws if the input is not constant.
std::optional<std::vector<int64_t>> ints_attr_or_input(const ir::Node &n, const std::string &attr,
                                                       size_t input_index);

/// "" if input i is absent or constant, else a reason string for check().
std::string require_constant_input(const ir::Node &n, size_t i, const std::string &what);

/// Element read converted to float for arithmetic in float (handles f16/bf16).
/// Returns a C expression for element `idx` of operand `ptr` of type `dt`.
std::string load_as_float(KernelContext &k, ir::DType dt, const std::string &ptr, const std::string &idx);
/// C expression converting float expression `expr` to storage type `dt`.
std::string store_from_float(KernelContext &k, ir::DType dt, const std::string &expr);

} // namespace tmc::codegen
