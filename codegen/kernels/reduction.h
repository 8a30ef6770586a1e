// Shared by the reduction-shaped kernels (Reduce*, softmax family, ArgMax,
// normalizations): the floating compute type, loads/stores into it, and the
// split of a shape into kept and reduced loop segments.
#pragma once
#include <string>
#include <vector>

#include "codegen/kernel.h"

namespace tmc::codegen {

/// Floating compute type: double for F64 (and integers), float otherwise.
struct FloatCompute {
  bool dbl = false;
  std::string t() const { return dbl ? "double" : "float"; }
  /// math.h function name in this type: f("exp") -> "expf" or "exp".
  std::string f(const char *name) const { return dbl ? std::string(name) : std::string(name) + "f"; }
  std::string lit(double v) const;
};
FloatCompute compute_type_of(ir::DType dt);

/// Element `idx` of `ptr` (dtype `dt`) in its floating compute type.
std::string load_fc(KernelContext &k, ir::DType dt, const std::string &ptr, const std::string &idx);
/// Converts a compute-type expression to the storage type `dt`.
std::string store_fc(KernelContext &k, ir::DType dt, const std::string &expr);

/// outer x n x inner decomposition of a shape around `axis` (to_end: the
/// axis and everything after it form n).
struct OuterNInner {
  int64_t outer = 1, n = 1, inner = 1;
};
OuterNInner outer_n_inner(const ir::Shape &s, int64_t axis, bool to_end = false);

/// A run of dimensions iterated as one loop: `size` steps of `stride` elements.
struct LoopSegment {
  int64_t size, stride;
};
struct ReductionPlan {
  std::vector<LoopSegment> kept, red;
  int64_t n_out = 1, n_red = 1;
};
/// Splits `shape` into kept and reduced (mask[d] = true) segments, dropping
/// size-1 dims and merging adjacent dims of the same kind.
ReductionPlan plan_reduction(const ir::Shape &shape, const std::vector<bool> &mask);

} // namespace tmc::codegen
