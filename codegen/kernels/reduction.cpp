#include "codegen/kernels/reduction.h"

#include <fmt/format.h>

#include "codegen/kernels/common.h"

namespace tmc::codegen {

std::string FloatCompute::lit(double v) const { return dbl ? c_double_literal(v) : c_float_literal((float)v); }

FloatCompute compute_type_of(ir::DType dt) { return FloatCompute{dt == ir::DType::F64 || !ir::dtype_is_float(dt)}; }

std::string load_fc(KernelContext &k, ir::DType dt, const std::string &ptr, const std::string &idx) {
  if (dt == ir::DType::F64) return fmt::format("{}[{}]", ptr, idx);
  if (ir::dtype_is_float(dt)) return load_as_float(k, dt, ptr, idx);
  return fmt::format("(double){}[{}]", ptr, idx);
}

std::string store_fc(KernelContext &k, ir::DType dt, const std::string &expr) {
  if (dt == ir::DType::F64) return expr;
  if (ir::dtype_is_float(dt)) return store_from_float(k, dt, expr);
  return fmt::format("({})({})", ir::dtype_ctype(dt), expr);
}

OuterNInner outer_n_inner(const ir::Shape &s, int64_t axis, bool to_end) {
  OuterNInner r;
  for (int64_t d = 0; d < (int64_t)s.size(); ++d) {
    if (d < axis) r.outer *= s[(size_t)d];
    else if (d == axis || to_end) r.n *= s[(size_t)d];
    else r.inner *= s[(size_t)d];
  }
  return r;
}

ReductionPlan plan_reduction(const ir::Shape &shape, const std::vector<bool> &mask) {
  ReductionPlan p;
  auto st = strides_of(shape);
  int last_kind = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    (mask[d] ? p.n_red : p.n_out) *= shape[d];
    if (shape[d] == 1) continue;
    int kind = mask[d] ? 1 : 0;
    auto &v = kind ? p.red : p.kept;
    if (last_kind == kind && !v.empty() && v.back().stride == shape[d] * st[d]) {
      v.back().size *= shape[d];
      v.back().stride = st[d];
    } else {
      v.push_back({shape[d], st[d]});
    }
    last_kind = kind;
  }
  return p;
}

} // namespace tmc::codegen
