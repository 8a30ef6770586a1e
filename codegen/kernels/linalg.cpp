// Kernel family: linear algebra (Gemm, MatMul, MatMulInteger, QLinearMatMul,
// Einsum). Matrix sizes, strides and batch broadcasting are literals.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool is_float_type(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16;
}

bool is_int_type(DType t) {
  return t == DType::I32 || t == DType::I64 || t == DType::U32 || t == DType::U64;
}

/// Accumulator C type for arithmetic on elements of type t.
std::string acc_type(DType t) {
  if (t == DType::F64) return "double";
  if (is_float_type(t)) return "float";
  // 32-bit integers accumulate in 64 bits (no signed overflow); the result
  // is converted back like numpy's wrap-around.
  if (t == DType::I32) return "int64_t";
  if (t == DType::U32) return "uint64_t";
  return ir::dtype_ctype(t);
}

std::string ld(KernelContext &k, DType t, const std::string &p, const std::string &i) {
  if (t == DType::F64 || !is_float_type(t)) return fmt::format("{}[{}]", p, i);
  return load_as_float(k, t, p, i);
}

std::string st(KernelContext &k, DType t, const std::string &e) {
  if (t == DType::F64) return e;
  if (!is_float_type(t)) return fmt::format("({})({})", ir::dtype_ctype(t), e);
  return store_from_float(k, t, e);
}

std::string zero_of(DType t) {
  if (t == DType::F64) return "0.0";
  if (is_float_type(t)) return "0.0f";
  return "0";
}

std::string mul_idx(const std::string &v, int64_t s) {
  if (s == 0) return "";
  if (s == 1) return v;
  return fmt::format("{} * {}", v, s);
}

std::string sum_terms(const std::vector<std::string> &t) {
  std::string r;
  for (auto &s : t)
    if (!s.empty()) r += (r.empty() ? "" : " + ") + s;
  return r.empty() ? "0" : r;
}

// ---------------------------------------------------------------- Gemm
std::string check_gemm(const ir::Node &n) {
  DType t = n.input(0)->dtype;
  if (!is_float_type(t) && !is_int_type(t)) return std::string("dtype ") + ir::dtype_name(t) + " is not supported";
  if (n.input(0)->rank() != 2 || n.input(1)->rank() != 2) return "A and B must be 2-D";
  if (is_int_type(t)) {
    float a = n.attr_float("alpha", 1.0f), b = n.attr_float("beta", 1.0f);
    if (a != std::floor(a) || b != std::floor(b)) return "non-integer alpha/beta with an integer dtype";
  }
  if (n.input(2) && n.input(2)->rank() > 2) return "C must have rank <= 2";
  return "";
}

void emit_gemm(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &a = k.vin(0), &b = k.vin(1), &y = k.vout(0);
  DType t = a.dtype;
  bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
  float alpha = n.attr_float("alpha", 1.0f), beta = n.attr_float("beta", 1.0f);
  int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  int64_t N = tb ? b.shape[0] : b.shape[1];
  if (y.numel() == 0) return;
  std::string acc = acc_type(t);
  auto lit = [&](float v) {
    if (t == DType::F64) return c_double_literal((double)v);
    if (is_float_type(t)) return c_float_literal(v);
    return c_int_literal(t, (int64_t)v);
  };
  bool has_c = k.has_in(2) && k.vin(2).numel() > 0;
  std::vector<int64_t> cst;
  if (has_c) cst = broadcast_strides(k.vin(2).shape, {M, N});
  bool act = !n.attr_string("tmc_activation", "").empty() && t == DType::F32;
  // Result expression for accumulator `sv` at column `jv` (row i).
  auto result = [&](const std::string &sv, const std::string &jv) {
    std::string e = alpha == 1.0f ? sv : fmt::format("{} * {}", lit(alpha), sv);
    if (has_c) {
      std::string ci = sum_terms({mul_idx("i", cst[0]), mul_idx("(" + jv + ")", cst[1])});
      std::string cv = ld(k, k.vin(2).dtype, "x2", ci);
      if (k.vin(2).dtype != t) cv = fmt::format("({}){}", acc, cv);
      e += beta == 1.0f ? fmt::format(" + {}", cv) : fmt::format(" + {} * {}", lit(beta), cv);
    }
    return act ? fused_activation_expr(n, "(" + e + ")") : st(k, t, e);
  };
  if (t == DType::F32 && !ta && tb && K > 0 && N >= 4) {
    // B rows are contiguous (weights pre-transposed at compile time by the
    // prepack-gemm-weights pass): four output columns share each A load.
    k.open("for (size_t i = 0; i < {}; ++i) {{", M);
    k.line("const float *ar = x0 + i * {};", K);
    k.line("float *yr = y0 + i * {};", N);
    k.line("size_t j = 0;");
    k.open("for (; j + 4 <= {}; j += 4) {{", N);
    k.line("const float *b0 = x1 + j * {0}, *b1 = b0 + {0}, *b2 = b1 + {0}, *b3 = b2 + {0};", K);
    k.line("float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;");
    k.open("for (size_t p = 0; p < {}; ++p) {{", K);
    k.line("const float av = ar[p];");
    k.line("s0 += av * b0[p];");
    k.line("s1 += av * b1[p];");
    k.line("s2 += av * b2[p];");
    k.line("s3 += av * b3[p];");
    k.close();
    for (int q = 0; q < 4; ++q)
      k.line("yr[j + {}] = {};", q, result("s" + std::to_string(q), fmt::format("j + {}", q)));
    k.close();
    k.open("for (; j < {}; ++j) {{", N);
    k.line("const float *bc = x1 + j * {};", K);
    k.line("float s = 0.0f;");
    k.line("for (size_t p = 0; p < {}; ++p) s += ar[p] * bc[p];", K);
    k.line("yr[j] = {};", result("s", "j"));
    k.close();
    k.close();
    return;
  }
  k.open("for (size_t i = 0; i < {}; ++i) {{", M);
  // Row/column base pointers.
  if (!ta && K > 0) k.line("const {} *ar = x0 + i * {};", k.ctype_in(0), K);
  k.line("{} *yr = y0 + i * {};", k.ctype_out(0), N);
  k.open("for (size_t j = 0; j < {}; ++j) {{", N);
  if (tb && K > 0) k.line("const {} *bc = x1 + j * {};", k.ctype_in(1), K);
  k.line("{} s = {};", acc, zero_of(t));
  if (K > 0) {
    std::string ae = ta ? ld(k, t, "x0", fmt::format("p * {} + i", M)) : ld(k, t, "ar", "p");
    std::string be = tb ? ld(k, t, "bc", "p") : ld(k, t, "x1", fmt::format("p * {} + j", N));
    k.line("for (size_t p = 0; p < {}; ++p) s += {} * {};", K, ae, be);
  }
  std::string e = alpha == 1.0f ? "s" : fmt::format("{} * s", lit(alpha));
  if (has_c) {
    std::string ci = sum_terms({mul_idx("i", cst[0]), mul_idx("j", cst[1])});
    std::string cv = ld(k, k.vin(2).dtype, "x2", ci);
    if (k.vin(2).dtype != t) cv = fmt::format("({}){}", acc, cv);
    e += beta == 1.0f ? fmt::format(" + {}", cv) : fmt::format(" + {} * {}", lit(beta), cv);
  }
  if (!k.node.attr_string("tmc_activation", "").empty() && t == DType::F32) {
    // Fused activation applied in register, before the store.
    k.line("const float v = {};", e);
    e = fused_activation_expr(k.node, "v");
  }
  k.line("yr[j] = {};", st(k, t, e));
  k.close();
  k.close();
}

// ---------------------------------------------------------------- MatMul family
/// Shapes of a (batched, broadcast) matrix product.
struct MatMulDims {
  int64_t M = 1, K = 1, N = 1;
  ir::Shape batch;                      ///< output batch shape
  std::vector<int64_t> astr, bstr;      ///< batch strides in elements (0 = broadcast)
};

MatMulDims matmul_dims(const ir::Node &n, size_t ai, size_t bi) {
  const ir::Value *a = n.input(ai), *b = n.input(bi);
  if (a->rank() < 1 || b->rank() < 1) throw ir::CompileError(n, "MatMul inputs must have rank >= 1");
  MatMulDims d;
  bool a1 = a->rank() == 1, b1 = b->rank() == 1;
  d.M = a1 ? 1 : a->shape[a->rank() - 2];
  d.K = a->shape.back();
  d.N = b1 ? 1 : b->shape.back();
  int64_t kb = b1 ? b->shape[0] : b->shape[b->rank() - 2];
  if (kb != d.K) throw ir::CompileError(n, "inner dimensions do not match");
  ir::Shape ab = a1 ? ir::Shape{} : ir::Shape(a->shape.begin(), a->shape.end() - 2);
  ir::Shape bb = b1 ? ir::Shape{} : ir::Shape(b->shape.begin(), b->shape.end() - 2);
  d.batch = broadcast_shapes(n, {ab, bb});
  d.astr = broadcast_strides(ab, d.batch);
  d.bstr = broadcast_strides(bb, d.batch);
  for (auto &s : d.astr) s *= d.M * d.K;
  for (auto &s : d.bstr) s *= d.K * d.N;
  if (ir::shape_numel(d.batch) * d.M * d.N != n.output(0)->numel())
    throw ir::CompileError(n, "output shape does not match the matrix product");
  return d;
}

/// Emits the loops of a batched product. `body` writes the statements for one
/// output element given the A row pointer "ar" (element p at ar[p]), the B
/// column base "bc" (element p at bc[p * N]), and the output slot "yr[j]";
/// loop variables i (row), j (column) and batch index are available.
void emit_matmul_loops(KernelContext &k, const MatMulDims &d, size_t ai, size_t bi,
                       const std::function<void()> &per_batch, const std::function<void()> &body) {
  std::vector<std::string> at, bt;
  for (size_t i = 0; i < d.batch.size(); ++i) {
    std::string v = fmt::format("q{}", i);
    k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v, d.batch[i]);
    at.push_back(mul_idx(v, d.astr[i]));
    bt.push_back(mul_idx(v, d.bstr[i]));
  }
  std::vector<int64_t> ost = strides_of(d.batch);
  std::vector<std::string> ot;
  for (size_t i = 0; i < d.batch.size(); ++i) ot.push_back(mul_idx(fmt::format("q{}", i), ost[i] * d.M * d.N));
  k.line("const {} *xa = x{} + {};", k.ctype_in(ai), ai, sum_terms(at));
  k.line("const {} *xb = x{} + {};", k.ctype_in(bi), bi, sum_terms(bt));
  k.line("{} *yb = y0 + {};", k.ctype_out(0), sum_terms(ot));
  if (per_batch) per_batch();
  k.open("for (size_t i = 0; i < {}; ++i) {{", d.M);
  k.line("const {} *ar = xa + i * {};", k.ctype_in(ai), d.K);
  k.line("{} *yr = yb + i * {};", k.ctype_out(0), d.N);
  k.open("for (size_t j = 0; j < {}; ++j) {{", d.N);
  k.line("const {} *bc = xb + j;", k.ctype_in(bi));
  if (d.K == 0) k.line("(void)ar;\n(void)bc;");
  body();
  k.close();
  k.close();
  for (size_t i = 0; i < d.batch.size(); ++i) k.close();
}

std::string check_matmul(const ir::Node &n) {
  DType t = n.input(0)->dtype;
  if (!is_float_type(t) && !is_int_type(t)) return std::string("dtype ") + ir::dtype_name(t) + " is not supported";
  matmul_dims(n, 0, 1);
  return "";
}

void emit_matmul(KernelContext &k) {
  MatMulDims d = matmul_dims(k.node, 0, 1);
  if (k.vout(0).numel() == 0) return;
  DType t = k.vin(0).dtype;
  emit_matmul_loops(k, d, 0, 1, nullptr, [&]() {
    k.line("{} s = {};", acc_type(t), zero_of(t));
    if (d.K > 0)
      k.line("for (size_t p = 0; p < {}; ++p) s += {} * {};", d.K, ld(k, t, "ar", "p"),
             ld(k, t, "bc", d.N == 1 ? std::string("p") : fmt::format("p * {}", d.N)));
    if (!k.node.attr_string("tmc_activation", "").empty() && t == DType::F32)
      k.line("yr[j] = {};", fused_activation_expr(k.node, "s"));
    else
      k.line("yr[j] = {};", st(k, t, "s"));
  });
}

bool is_8bit(DType t) { return t == DType::U8 || t == DType::I8; }

/// Index expression of a quantization parameter that is a scalar, per-row
/// (size M, index i) or per-column (size N, index j).
std::string qparam_index(const ir::Value *v, int64_t rows_or_cols, const char *var) {
  if (!v || v->numel() == 1) return "0";
  (void)rows_or_cols;
  return var;
}

std::string check_qparam(const ir::Value *v, int64_t per, const char *what) {
  if (!v) return "";
  if (v->numel() != 1 && v->numel() != per) return std::string(what) + " must be a scalar or per-row/column";
  return "";
}

// MatMulInteger: A, B, a_zero_point (opt), b_zero_point (opt) -> int32.
std::string check_matmul_integer(const ir::Node &n) {
  if (!is_8bit(n.input(0)->dtype) || !is_8bit(n.input(1)->dtype)) return "only int8/uint8 inputs are supported";
  MatMulDims d = matmul_dims(n, 0, 1);
  std::string r = check_qparam(n.input(2), d.M, "a_zero_point");
  if (r.empty()) r = check_qparam(n.input(3), d.N, "b_zero_point");
  return r;
}

void emit_matmul_integer(KernelContext &k) {
  MatMulDims d = matmul_dims(k.node, 0, 1);
  if (k.vout(0).numel() == 0) return;
  bool az = k.has_in(2), bz = k.has_in(3);
  std::string ai = qparam_index(k.node.input(2), d.M, "i"), bi = qparam_index(k.node.input(3), d.N, "j");
  std::string bidx = d.N == 1 ? std::string("p") : fmt::format("p * {}", d.N);
  emit_matmul_loops(k, d, 0, 1, nullptr, [&]() {
    if (az) k.line("const int32_t za = (int32_t)x2[{}];", ai);
    if (bz) k.line("const int32_t zb = (int32_t)x3[{}];", bi);
    k.line("int32_t s = 0;");
    if (d.K > 0)
      k.line("for (size_t p = 0; p < {}; ++p) s += ((int32_t)ar[p]{}) * ((int32_t)bc[{}]{});", d.K,
             az ? " - za" : "", bidx, bz ? " - zb" : "");
    k.line("yr[j] = s;");
  });
}

// QLinearMatMul: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp.
std::string check_qlinear_matmul(const ir::Node &n) {
  for (size_t i = 0; i < 8; ++i)
    if (!n.input(i)) return "input " + std::to_string(i) + " is missing";
  if (!is_8bit(n.input(0)->dtype) || !is_8bit(n.input(3)->dtype) || !is_8bit(n.output(0)->dtype))
    return "only int8/uint8 tensors are supported";
  MatMulDims d = matmul_dims(n, 0, 3);
  std::string r = check_qparam(n.input(1), d.M, "a_scale");
  if (r.empty()) r = check_qparam(n.input(2), d.M, "a_zero_point");
  if (r.empty()) r = check_qparam(n.input(4), d.N, "b_scale");
  if (r.empty()) r = check_qparam(n.input(5), d.N, "b_zero_point");
  if (r.empty() && (n.input(6)->numel() != 1 || n.input(7)->numel() != 1)) r = "y scale/zero point must be scalars";
  if (r.empty() && (n.input(1)->dtype != DType::F32 || n.input(4)->dtype != DType::F32 ||
                    n.input(6)->dtype != DType::F32))
    r = "scales must be float32";
  return r;
}

void emit_qlinear_matmul(KernelContext &k) {
  MatMulDims d = matmul_dims(k.node, 0, 3);
  if (k.vout(0).numel() == 0) return;
  const ir::Node &n = k.node;
  std::string asi = qparam_index(n.input(1), d.M, "i"), azi = qparam_index(n.input(2), d.M, "i");
  std::string bsi = qparam_index(n.input(4), d.N, "j"), bzi = qparam_index(n.input(5), d.N, "j");
  DType yt = k.vout(0).dtype;
  int lo = yt == DType::U8 ? 0 : -128, hi = yt == DType::U8 ? 255 : 127;
  std::string bidx = d.N == 1 ? std::string("p") : fmt::format("p * {}", d.N);
  emit_matmul_loops(k, d, 0, 3, nullptr, [&]() {
    k.line("const int32_t za = (int32_t)x2[{}];", azi);
    k.line("const int32_t zb = (int32_t)x5[{}];", bzi);
    k.line("int32_t s = 0;");
    if (d.K > 0)
      k.line("for (size_t p = 0; p < {}; ++p) s += ((int32_t)ar[p] - za) * ((int32_t)bc[{}] - zb);", d.K, bidx);
    k.line("float q = rintf((float)s * (x1[{}] * x4[{}] / x6[0])) + (float)x7[0];", asi, bsi);
    k.line("q = q < {0}.0f ? {0}.0f : (q > {1}.0f ? {1}.0f : q);", lo, hi);
    k.line("yr[j] = ({})q;", k.ctype_out(0));
  });
}

// ---------------------------------------------------------------- Einsum
/// A parsed einsum: per input and for the output, the label of each dim.
/// Letters are their character code; ellipsis dims are 256 + position.
struct Einsum {
  std::vector<std::vector<int>> in;
  std::vector<int> out;
  std::map<int, int64_t> size;
};

Einsum parse_einsum(const ir::Node &n) {
  std::string eq;
  for (char c : n.attr_string("equation", ""))
    if (c != ' ' && c != '\t') eq += c;
  std::string lhs = eq, rhs;
  bool explicit_out = false;
  size_t arrow = eq.find("->");
  if (arrow != std::string::npos) {
    lhs = eq.substr(0, arrow);
    rhs = eq.substr(arrow + 2);
    explicit_out = true;
  }
  std::vector<std::string> terms;
  {
    size_t s = 0;
    for (;;) {
      size_t c = lhs.find(',', s);
      terms.push_back(lhs.substr(s, c == std::string::npos ? std::string::npos : c - s));
      if (c == std::string::npos) break;
      s = c + 1;
    }
  }
  size_t nin = 0;
  for (auto *v : n.inputs)
    if (v) ++nin;
  if (terms.size() != nin) throw ir::CompileError(n, "equation does not match the number of inputs");
  Einsum e;
  int64_t ell_rank = 0;
  // First pass: ellipsis rank.
  auto split = [&](const std::string &t, std::vector<int> &letters, int &ell_pos) {
    ell_pos = -1;
    for (size_t i = 0; i < t.size();) {
      if (t.compare(i, 3, "...") == 0) {
        if (ell_pos >= 0) throw ir::CompileError(n, "equation has two ellipses in one term");
        ell_pos = (int)letters.size();
        i += 3;
      } else if (std::isalpha((unsigned char)t[i])) {
        letters.push_back((unsigned char)t[i]);
        ++i;
      } else {
        throw ir::CompileError(n, "bad character in the equation");
      }
    }
  };
  std::vector<std::vector<int>> letters(terms.size());
  std::vector<int> ellpos(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    split(terms[i], letters[i], ellpos[i]);
    int64_t r = (int64_t)n.input(i)->rank();
    int64_t er = r - (int64_t)letters[i].size();
    if (er < 0 || (er > 0 && ellpos[i] < 0)) throw ir::CompileError(n, "equation does not match the input rank");
    ell_rank = std::max(ell_rank, er);
  }
  std::map<int, int> count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const ir::Value *v = n.input(i);
    int64_t er = (int64_t)v->rank() - (int64_t)letters[i].size();
    std::vector<int> labels;
    for (size_t j = 0; j < letters[i].size(); ++j) {
      if ((int)j == ellpos[i])
        for (int64_t q = 0; q < er; ++q) labels.push_back(256 + (int)(ell_rank - er + q));
      labels.push_back(letters[i][j]);
    }
    if (ellpos[i] == (int)letters[i].size())
      for (int64_t q = 0; q < er; ++q) labels.push_back(256 + (int)(ell_rank - er + q));
    for (size_t j = 0; j < labels.size(); ++j) {
      int64_t dsz = v->shape[j];
      auto it = e.size.find(labels[j]);
      if (it == e.size.end() || it->second == 1) e.size[labels[j]] = dsz;
      else if (dsz != 1 && dsz != it->second) throw ir::CompileError(n, "inconsistent sizes for an einsum label");
      if (labels[j] < 256) count[labels[j]]++;
    }
    e.in.push_back(labels);
  }
  if (explicit_out) {
    std::vector<int> ol;
    int op;
    split(rhs, ol, op);
    for (size_t j = 0; j <= ol.size(); ++j) {
      if ((int)j == op)
        for (int64_t q = 0; q < ell_rank; ++q) e.out.push_back(256 + (int)q);
      if (j < ol.size()) {
        if (!e.size.count(ol[j])) throw ir::CompileError(n, "output label not found in the inputs");
        e.out.push_back(ol[j]);
      }
    }
  } else {
    for (int64_t q = 0; q < ell_rank; ++q) e.out.push_back(256 + (int)q);
    for (auto &[l, c] : count)
      if (c == 1) e.out.push_back(l);
  }
  const ir::Value *y = n.output(0);
  if (y->rank() != e.out.size()) throw ir::CompileError(n, "einsum output rank mismatch");
  for (size_t j = 0; j < e.out.size(); ++j)
    if (y->shape[j] != e.size[e.out[j]]) throw ir::CompileError(n, "einsum output shape mismatch");
  return e;
}

std::string check_einsum(const ir::Node &n) {
  DType t = n.output(0)->dtype;
  if (!is_float_type(t) && !is_int_type(t)) return std::string("dtype ") + ir::dtype_name(t) + " is not supported";
  parse_einsum(n);
  return "";
}

void emit_einsum(KernelContext &k) {
  Einsum e = parse_einsum(k.node);
  DType t = k.vout(0).dtype;
  if (k.vout(0).numel() == 0) return;
  std::map<int, std::string> var;
  int cnt = 0;
  auto v_of = [&](int l) {
    if (!var.count(l)) var[l] = fmt::format("e{}", cnt++);
    return var[l];
  };
  std::vector<int> summed;
  for (auto &[l, s] : e.size)
    if (std::find(e.out.begin(), e.out.end(), l) == e.out.end()) summed.push_back(l);
  k.line("size_t o = 0;");
  for (int l : e.out) k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v_of(l), e.size[l]);
  k.line("{} s = {};", acc_type(t), zero_of(t));
  for (int l : summed) k.open("for (size_t {0} = 0; {0} < {1}; ++{0}) {{", v_of(l), e.size[l]);
  std::string prod;
  size_t ii = 0;
  for (size_t i = 0; i < k.num_in(); ++i) {
    if (!k.has_in(i)) continue;
    const ir::Value &v = k.vin(i);
    std::vector<int64_t> str = strides_of(v.shape);
    std::map<int, int64_t> acc;
    for (size_t j = 0; j < v.rank(); ++j)
      if (v.shape[j] != 1) acc[e.in[ii][j]] += str[j];
    std::vector<std::string> terms;
    for (auto &[l, s] : acc) terms.push_back(mul_idx(v_of(l), s));
    std::string el = ld(k, v.dtype, fmt::format("x{}", i), sum_terms(terms));
    prod += (prod.empty() ? "" : " * ") + el;
    ++ii;
  }
  k.line("s += {};", prod);
  for (size_t q = 0; q < summed.size(); ++q) k.close();
  k.line("y0[o++] = {};", st(k, t, "s"));
  for (size_t q = 0; q < e.out.size(); ++q) k.close();
}

} // namespace

void register_linalg_kernels(KernelRegistry &r) {
  KernelDef gemm{"Gemm", check_gemm, emit_gemm, nullptr};
  gemm.handles_activation = true;
  r.add(gemm);
  KernelDef matmul{"MatMul", check_matmul, emit_matmul, nullptr};
  matmul.handles_activation = true;
  r.add(matmul);
  r.add({"MatMulInteger", check_matmul_integer, emit_matmul_integer, nullptr});
  r.add({"QLinearMatMul", check_qlinear_matmul, emit_qlinear_matmul, nullptr});
  r.add({"Einsum", check_einsum, emit_einsum, nullptr});
}

} // namespace tmc::codegen
