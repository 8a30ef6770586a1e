#include "codegen/kernels/common.h"

#include <fmt/format.h>

namespace tmc::codegen {

std::vector<int64_t> strides_of(const ir::Shape &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

std::vector<int64_t> broadcast_strides(const ir::Shape &in, const ir::Shape &out) {
  std::vector<int64_t> r(out.size(), 0);
  std::vector<int64_t> st = strides_of(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) r[off + i] = in[i] == 1 ? 0 : st[i];
  return r;
}

ir::Shape broadcast_shapes(const ir::Node &n, const std::vector<ir::Shape> &shapes) {
  size_t rank = 0;
  for (auto &s : shapes) rank = std::max(rank, s.size());
  ir::Shape out(rank, 1);
  for (auto &s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t d = s[i], &o = out[off + i];
      if (d == o || d == 1) continue;
      if (o == 1) o = d;
      else throw ir::CompileError(n, fmt::format("shapes cannot be broadcast together ({} vs {})",
                                                 ir::shape_str(s), ir::shape_str(out)));
    }
  }
  return out;
}

void emit_broadcast_loop(KernelContext &k, const ir::Shape &out_shape,
                         const std::vector<ir::Shape> &in_shapes,
                         const std::function<void(const std::vector<std::string> &,
                                                  const std::string &)> &body) {
  int64_t total = ir::shape_numel(out_shape);
  if (total == 0) return;
  bool all_same = true;
  for (auto &s : in_shapes)
    if (ir::shape_numel(s) != total && ir::shape_numel(s) != 1) all_same = false;
    else if (ir::shape_numel(s) == total && s != out_shape) {
      // Same element count but different shape only happens with leading 1s.
      ir::Shape a = s, b = out_shape;
      a.erase(std::remove(a.begin(), a.end(), 1), a.end());
      b.erase(std::remove(b.begin(), b.end(), 1), b.end());
      if (a != b) all_same = false;
    }
  if (all_same) {
    std::vector<std::string> idx;
    for (auto &s : in_shapes) idx.push_back(ir::shape_numel(s) == 1 ? "0" : "i");
    if (total == 1) {
      k.open("{{");
      k.line("const size_t i = 0;");
      k.line("(void)i;");
    } else {
      k.open("for (size_t i = 0; i < {}; ++i) {{", total);
    }
    body(idx, "i");
    k.close();
    return;
  }
  size_t rank = out_shape.size();
  std::vector<std::vector<int64_t>> st;
  for (auto &s : in_shapes) st.push_back(broadcast_strides(s, out_shape));
  k.open("{{");
  k.line("size_t o = 0;");
  for (size_t d = 0; d < rank; ++d) k.open("for (size_t i{0} = 0; i{0} < {1}; ++i{0}) {{", d, out_shape[d]);
  std::vector<std::string> idx;
  for (size_t j = 0; j < in_shapes.size(); ++j) {
    std::string e;
    for (size_t d = 0; d < rank; ++d)
      if (st[j][d]) e += fmt::format("{}i{} * {}", e.empty() ? "" : " + ", d, st[j][d]);
    if (e.empty()) e = "0";
    std::string var = fmt::format("j{}", j);
    k.line("const size_t {} = {};", var, e);
    idx.push_back(var);
  }
  body(idx, "o");
  k.line("++o;");
  for (size_t d = 0; d < rank; ++d) k.close();
  k.close();
}

int64_t normalize_axis(const ir::Node &n, int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1))
    throw ir::CompileError(n, fmt::format("axis {} is out of range for rank {}", axis, rank));
  return a;
}

std::optional<std::vector<int64_t>> ints_attr_or_input(const ir::Node &n, const std::string &attr,
                                                       size_t input_index) {
  if (n.has_attr(attr)) return n.attr_ints(attr);
  const ir::Value *v = n.input(input_index);
  if (!v) return std::nullopt;
  if (!v->is_constant())
    throw ir::CompileError(n, fmt::format("input {} ('{}') must be a constant", input_index, v->name));
  return v->int_values();
}

std::string require_constant_input(const ir::Node &n, size_t i, const std::string &what) {
  const ir::Value *v = n.input(i);
  if (!v || v->is_constant()) return "";
  return what + " (input " + std::to_string(i) + ") must be a compile-time constant";
}

std::string load_as_float(KernelContext &k, ir::DType dt, const std::string &ptr, const std::string &idx) {
  switch (dt) {
  case ir::DType::F16: return fmt::format("{}({}[{}])", k.helper("f16_to_f32"), ptr, idx);
  case ir::DType::BF16: return fmt::format("{}({}[{}])", k.helper("bf16_to_f32"), ptr, idx);
  case ir::DType::F32: return fmt::format("{}[{}]", ptr, idx);
  default: return fmt::format("(float){}[{}]", ptr, idx);
  }
}

std::string store_from_float(KernelContext &k, ir::DType dt, const std::string &expr) {
  switch (dt) {
  case ir::DType::F16: return fmt::format("{}({})", k.helper("f32_to_f16"), expr);
  case ir::DType::BF16: return fmt::format("{}({})", k.helper("f32_to_bf16"), expr);
  case ir::DType::F32: return expr;
  default: return fmt::format("({})({})", ir::dtype_ctype(dt), expr);
  }
}

} // namespace tmc::codegen
