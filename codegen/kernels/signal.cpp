// Kernel family: signal processing (opset 17): DFT, STFT, the Hann, Hamming and
// Blackman windows, and MelWeightMatrix.
//
// Transforms are computed in double (inputs converted on load, outputs rounded
// on store): the reference outputs are computed in double, and single-precision
// sums of many terms drift beyond the conformance tolerance on outputs close
// to zero. One signal at a time is gathered into a scratch buffer of N complex
// values; then either a radix-2 FFT runs in place (N a compile-time power of
// two) or a direct DFT computes the requested bins. Twiddle factors are
// static const tables when N is known at compile time and small, otherwise
// they are computed into scratch on each call (N read from an input at run
// time, e.g. STFT's frame_length given as a graph input).
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;

constexpr double kTwoPi = 6.283185307179586476925286766559;
/// Largest N whose twiddle factors are emitted as static const tables.
constexpr int64_t kMaxStaticTable = 1024;

bool float_dtype_ok(DType dt) {
  return dt == DType::F32 || dt == DType::F64 || dt == DType::F16 || dt == DType::BF16;
}

bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

/// A double C expression for element `idx` of input `ptr` of type dt.
std::string load_double(KernelContext &k, DType dt, const std::string &ptr, const std::string &idx) {
  if (dt == DType::F64) return fmt::format("{}[{}]", ptr, idx);
  if (ir::dtype_is_float(dt)) return "(double)" + load_as_float(k, dt, ptr, idx);
  return fmt::format("(double){}[{}]", ptr, idx);
}

/// Stores a double expression into storage type dt.
std::string store_double(KernelContext &k, DType dt, const std::string &e) {
  if (dt == DType::F64) return e;
  if (dt == DType::F32) return fmt::format("(float)({})", e);
  if (dt == DType::F16 || dt == DType::BF16) return store_from_float(k, dt, fmt::format("(float)({})", e));
  return fmt::format("({})({})", ir::dtype_ctype(dt), e);
}

void emit_double_table(KernelContext &k, const std::string &name, const std::vector<double> &v) {
  k.line("static const double {}[{}] = {{", name, std::max<size_t>(v.size(), 1));
  if (v.empty()) k.line("  0.0");
  for (size_t i = 0; i < v.size(); i += 4) {
    std::string row;
    for (size_t j = i; j < std::min(v.size(), i + 4); ++j) row += c_double_literal(v[j]) + ",";
    k.line("  {}", row);
  }
  k.line("}};");
}

// ---------------------------------------------------------------------------
// The transform core shared by DFT and STFT.

struct DftCore {
  int64_t n_static = -1; ///< N at compile time, or -1 when read at run time
  int64_t nmax = 0;      ///< upper bound of N (scratch sizing)
  int64_t K = 0;         ///< bins written
  bool inverse = false;

  bool fft() const { return n_static >= 2 && is_pow2(n_static); }
  bool static_tables() const { return n_static > 0 && n_static <= kMaxStaticTable; }
  /// Entries per twiddle table.
  int64_t table_len() const { return fft() ? n_static / 2 : (n_static > 0 ? n_static : nmax); }

  /// Scratch bytes: the complex buffer plus run-time twiddle tables.
  int64_t scratch_bytes() const {
    int64_t n = n_static > 0 ? n_static : nmax;
    int64_t doubles = 2 * std::max<int64_t>(n, 1);
    if (!static_tables()) doubles += 2 * std::max<int64_t>(table_len(), 1);
    return doubles * 8;
  }

  std::string N() const { return n_static > 0 ? std::to_string(n_static) : "N"; }

  /// Declares `buf` (2*N doubles) and the twiddle tables twr/twi:
  /// twr[j] = cos(2 pi j / N), twi[j] = sin(2 pi j / N). Must come after the
  /// declaration of the run-time `N` when n_static < 0.
  void prologue(KernelContext &k) const {
    int64_t nb = n_static > 0 ? n_static : nmax;
    k.line("double *buf = (double *)(void *)scratch;");
    if (static_tables()) {
      std::vector<double> c, s;
      for (int64_t j = 0; j < table_len(); ++j) {
        // Exact values at the quarter points keep symmetric outputs exact.
        int64_t q = (4 * j) % n_static == 0 ? (4 * j) / n_static : -1;
        double a = kTwoPi * (double)j / (double)n_static;
        c.push_back(q == 0 ? 1.0 : q == 1 ? 0.0 : q == 2 ? -1.0 : q == 3 ? 0.0 : std::cos(a));
        s.push_back(q == 0 ? 0.0 : q == 1 ? 1.0 : q == 2 ? 0.0 : q == 3 ? -1.0 : std::sin(a));
      }
      emit_double_table(k, "twr", c);
      emit_double_table(k, "twi", s);
    } else {
      k.line("double *twr = buf + {};", 2 * std::max<int64_t>(nb, 1));
      k.line("double *twi = twr + {};", std::max<int64_t>(table_len(), 1));
      std::string len = fft() ? std::to_string(table_len()) : N();
      k.open("for (size_t j = 0; j < {}; ++j) {{", len);
      k.line("const double a = {} * (double)j / (double){};", c_double_literal(kTwoPi), N());
      k.line("twr[j] = cos(a);");
      k.line("twi[j] = sin(a);");
      k.close();
    }
  }

  /// Transforms buf (N complex values, filled; `nl` = number of leading values
  /// that may be nonzero) and calls `store(kk, re, im)` for each bin kk < K.
  void transform(KernelContext &k, const std::string &nl,
                 const std::function<void(const std::string &, const std::string &)> &store) const {
    std::string scale = inverse ? fmt::format(" / (double){}", N()) : "";
    if (fft()) {
      int64_t n = n_static;
      k.open("{{");
      k.line("size_t j = 0;");
      k.open("for (size_t i = 1; i < {}; ++i) {{", n);
      k.line("size_t bit = {};", n >> 1);
      k.line("for (; j & bit; bit >>= 1) j ^= bit;");
      k.line("j ^= bit;");
      k.open("if (i < j) {{");
      k.line("const double tr = buf[2 * i], ti = buf[2 * i + 1];");
      k.line("buf[2 * i] = buf[2 * j];");
      k.line("buf[2 * i + 1] = buf[2 * j + 1];");
      k.line("buf[2 * j] = tr;");
      k.line("buf[2 * j + 1] = ti;");
      k.close();
      k.close();
      k.close();
      k.open("for (size_t len = 2; len <= {}; len <<= 1) {{", n);
      k.line("const size_t half = len >> 1, step = {} / len;", n);
      k.open("for (size_t i = 0; i < {}; i += len) {{", n);
      k.open("for (size_t j = 0; j < half; ++j) {{");
      k.line("const double wr = twr[j * step], wi = {}twi[j * step];", inverse ? "" : "-");
      k.line("double *u = buf + 2 * (i + j), *v = u + 2 * half;");
      k.line("const double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;");
      k.line("v[0] = u[0] - vr;");
      k.line("v[1] = u[1] - vi;");
      k.line("u[0] += vr;");
      k.line("u[1] += vi;");
      k.close();
      k.close();
      k.close();
      k.open("for (size_t kk = 0; kk < {}; ++kk) {{", K);
      store(fmt::format("buf[2 * kk]{}", scale), fmt::format("buf[2 * kk + 1]{}", scale));
      k.close();
      return;
    }
    // Direct DFT: X[kk] = sum_n x[n] * exp(-+ 2 pi i kk n / N).
    k.open("for (size_t kk = 0; kk < {}; ++kk) {{", K);
    k.line("double sr = 0.0, si = 0.0;");
    k.line("size_t t = 0;");
    k.open("for (size_t n = 0; n < {}; ++n) {{", nl);
    k.line("const double ar = buf[2 * n], ai = buf[2 * n + 1], c = twr[t], s = twi[t];");
    if (inverse) {
      k.line("sr += ar * c - ai * s;");
      k.line("si += ai * c + ar * s;");
    } else {
      k.line("sr += ar * c + ai * s;");
      k.line("si += ai * c - ar * s;");
    }
    k.line("t += kk;");
    k.line("if (t >= {}) t -= {};", N(), N());
    k.close();
    store("sr" + scale, "si" + scale);
    k.close();
  }
};

// ---------------------------------------------------------------------------
// DFT (opset 17)

struct DftInfo {
  int64_t axis = 1;
  int64_t cin = 1; ///< 1 (real) or 2 (complex)
  int64_t P = 1, L = 0, Q = 1; ///< outer, signal length, inner (excluding the complex dim)
  DftCore core;
};

std::string dft_info(const ir::Node &n, DftInfo &d) {
  const ir::Value *x = n.input(0), *y = n.output(0);
  if (!x || !y) return "input and output are required";
  if (!float_dtype_ok(x->dtype)) return std::string("dtype ") + ir::dtype_name(x->dtype) + " is not supported";
  if (y->dtype != x->dtype) return "output dtype must match the input";
  int64_t r = (int64_t)x->rank();
  if (r < 2) return "input must have rank >= 2";
  d.cin = x->shape.back();
  if (d.cin != 1 && d.cin != 2) return "the last input dimension must be 1 (real) or 2 (complex)";
  int64_t a = n.attr_int("axis", 1);
  if (a < 0) a += r;
  if (a < 0 || a > r - 2) return fmt::format("axis {} is out of range", n.attr_int("axis", 1));
  d.axis = a;
  bool onesided = n.attr_int("onesided", 0) != 0;
  d.core.inverse = n.attr_int("inverse", 0) != 0;
  if (onesided && d.cin == 2) return "onesided output is not defined for complex input";
  d.L = x->shape[(size_t)a];
  for (int64_t i = 0; i < a; ++i) d.P *= x->shape[(size_t)i];
  for (int64_t i = a + 1; i < r - 1; ++i) d.Q *= x->shape[(size_t)i];
  if (y->rank() != (size_t)r || y->shape.back() != 2) return "unexpected output shape";
  for (int64_t i = 0; i < r - 1; ++i)
    if (i != a && y->shape[(size_t)i] != x->shape[(size_t)i]) return "unexpected output shape";
  d.core.K = y->shape[(size_t)a];
  const ir::Value *len = n.input(1);
  if (len && !ir::dtype_is_integer(len->dtype)) return "dft_length must be an integer";
  if (len && len->is_constant()) {
    if (len->numel() != 1) return "dft_length must be a scalar";
    d.core.n_static = len->int_at(0);
    if (d.core.n_static < 1) return "dft_length must be positive";
  } else if (!len) {
    d.core.n_static = d.L;
  } else if (!onesided) {
    d.core.n_static = d.core.K; // the output length is the DFT length
  } else {
    d.core.nmax = 2 * d.core.K; // N is 2K-2 or 2K-1, read at run time
  }
  if (d.core.n_static > 0) {
    int64_t want = onesided ? d.core.n_static / 2 + 1 : d.core.n_static;
    if (d.core.K != want) return "output shape does not match dft_length";
    d.core.nmax = d.core.n_static;
  }
  if (d.core.K < 1 || d.L < 1) return "empty signal";
  return "";
}

/// check() and scratch() of a kernel planned by `Plan` (dft_info, stft_info):
/// the plan's error, and the scratch of its DFT core when it plans.
template <typename Info, std::string (*Plan)(const ir::Node &, Info &)> std::string check_planned(const ir::Node &n) {
  Info i;
  return Plan(n, i);
}
template <typename Info, std::string (*Plan)(const ir::Node &, Info &)> int64_t planned_scratch(const ir::Node &n) {
  Info i;
  return Plan(n, i).empty() ? i.core.scratch_bytes() : 0;
}

void emit_dft(KernelContext &k) {
  DftInfo d;
  std::string err = dft_info(k.node, d);
  if (!err.empty()) throw ir::CompileError(k.node, err);
  DType dt = k.vin(0).dtype;
  const DftCore &c = d.core;
  if (c.n_static < 0) {
    k.line("long nrt = (long){}[0];", KernelContext::in(1));
    k.line("if (nrt < 1) nrt = 1;");
    k.line("if (nrt > {0}) nrt = {0};", c.nmax);
    k.line("const size_t N = (size_t)nrt;");
  }
  c.prologue(k);
  std::string N = c.N();
  std::string nl = c.n_static > 0 ? std::to_string(std::min(c.n_static, d.L))
                                   : fmt::format("(N < {0} ? N : {0})", d.L);
  k.open("for (size_t p = 0; p < {}; ++p) {{", d.P);
  k.open("for (size_t q = 0; q < {}; ++q) {{", d.Q);
  k.line("const size_t ib = p * {} + q * {};", d.L * d.Q * d.cin, d.cin);
  k.line("const size_t ob = p * {} + q * 2;", c.K * d.Q * 2);
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.open("if (n < {}) {{", nl);
  k.line("buf[2 * n] = {};", load_double(k, dt, "x0", fmt::format("ib + n * {}", d.Q * d.cin)));
  if (d.cin == 2)
    k.line("buf[2 * n + 1] = {};", load_double(k, dt, "x0", fmt::format("ib + n * {} + 1", d.Q * d.cin)));
  else
    k.line("buf[2 * n + 1] = 0.0;");
  k.close("} else {");
  k.indent();
  k.line("buf[2 * n] = 0.0;");
  k.line("buf[2 * n + 1] = 0.0;");
  k.close();
  k.close();
  c.transform(k, nl, [&](const std::string &re, const std::string &im) {
    k.line("y0[ob + kk * {}] = {};", d.Q * 2, store_double(k, dt, re));
    k.line("y0[ob + kk * {} + 1] = {};", d.Q * 2, store_double(k, dt, im));
  });
  k.close();
  k.close();
}

// ---------------------------------------------------------------------------
// STFT (opset 17)

struct StftInfo {
  int64_t B = 0, L = 0, cin = 1, F = 0;
  int64_t step = -1; ///< -1: read at run time
  bool window = false;
  DftCore core;
};

std::string stft_info(const ir::Node &n, StftInfo &s) {
  const ir::Value *x = n.input(0), *step = n.input(1), *win = n.input(2), *flen = n.input(3), *y = n.output(0);
  if (!x || !step || !y) return "signal, frame_step and the output are required";
  if (!float_dtype_ok(x->dtype)) return std::string("dtype ") + ir::dtype_name(x->dtype) + " is not supported";
  if (y->dtype != x->dtype) return "output dtype must match the signal";
  if (x->rank() != 3) return "signal must have shape [batch, length, 1 or 2]";
  s.B = x->shape[0];
  s.L = x->shape[1];
  s.cin = x->shape[2];
  if (s.cin != 1 && s.cin != 2) return "the last signal dimension must be 1 (real) or 2 (complex)";
  bool onesided = n.attr_int("onesided", 1) != 0;
  if (onesided && s.cin == 2) return "onesided output is not defined for complex signals";
  if (!ir::dtype_is_integer(step->dtype) || step->numel() != 1) return "frame_step must be an integer scalar";
  if (step->is_constant()) {
    s.step = step->int_at(0);
    if (s.step < 1) return "frame_step must be positive";
  }
  if (y->rank() != 4 || y->shape[0] != s.B || y->shape[3] != 2) return "unexpected output shape";
  s.F = y->shape[1];
  s.core.K = y->shape[2];
  if (win) {
    if (!float_dtype_ok(win->dtype) || win->rank() != 1) return "window must be a 1-D float tensor";
    s.window = true;
    s.core.n_static = win->shape[0];
  } else if (flen) {
    if (!ir::dtype_is_integer(flen->dtype) || flen->numel() != 1) return "frame_length must be an integer scalar";
    if (flen->is_constant()) s.core.n_static = flen->int_at(0);
  } else {
    return "either window or frame_length is required";
  }
  if (s.core.n_static == 0 || s.core.n_static < -1) return "frame length must be positive";
  if (s.core.n_static > 0) {
    if (s.core.n_static > s.L) return "frame length exceeds the signal length";
    int64_t want = onesided ? s.core.n_static / 2 + 1 : s.core.n_static;
    if (s.core.K != want) return "output shape does not match the frame length";
    s.core.nmax = s.core.n_static;
    if (s.step > 0 && s.F != (s.L - s.core.n_static) / s.step + 1) return "output shape does not match frame_step";
  } else {
    s.core.nmax = std::max<int64_t>(s.L, 1);
  }
  if (s.core.K < 1) return "empty output";
  return "";
}

void emit_stft(KernelContext &k) {
  StftInfo s;
  std::string err = stft_info(k.node, s);
  if (!err.empty()) throw ir::CompileError(k.node, err);
  DType dt = k.vin(0).dtype;
  const DftCore &c = s.core;
  if (c.n_static < 0) {
    k.line("long nrt = (long)x3[0];");
    k.line("if (nrt < 1) nrt = 1;");
    k.line("if (nrt > {0}) nrt = {0};", s.L);
    k.line("const size_t N = (size_t)nrt;");
  }
  std::string step = s.step > 0 ? std::to_string(s.step) : "step";
  if (s.step <= 0) k.line("const long step = (long)x1[0];");
  c.prologue(k);
  std::string N = c.N();
  k.open("for (size_t b = 0; b < {}; ++b) {{", s.B);
  k.open("for (size_t f = 0; f < {}; ++f) {{", s.F);
  k.line("const long start = (long)f * {};", step);
  k.line("const size_t ob = (b * {} + f) * {};", s.F, c.K * 2);
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.line("const long at = start + (long)n;");
  k.open("if (at >= 0 && at < {}) {{", s.L);
  std::string idx = fmt::format("(b * {} + (size_t)at) * {}", s.L, s.cin);
  std::string w = s.window ? " * " + load_double(k, k.vin(2).dtype, "x2", "n") : "";
  k.line("buf[2 * n] = {}{};", load_double(k, dt, "x0", idx), w);
  if (s.cin == 2)
    k.line("buf[2 * n + 1] = {}{};", load_double(k, dt, "x0", idx + " + 1"), w);
  else
    k.line("buf[2 * n + 1] = 0.0;");
  k.close("} else {");
  k.indent();
  k.line("buf[2 * n] = 0.0;");
  k.line("buf[2 * n + 1] = 0.0;");
  k.close();
  k.close();
  c.transform(k, N, [&](const std::string &re, const std::string &im) {
    k.line("y0[ob + kk * 2] = {};", store_double(k, dt, re));
    k.line("y0[ob + kk * 2 + 1] = {};", store_double(k, dt, im));
  });
  k.close();
  k.close();
}

// ---------------------------------------------------------------------------
// Window functions: w[n] = a0 - a1 cos(2 pi n / M) + a2 cos(4 pi n / M), with
// M = size (periodic) or size - 1 (symmetric). The size is the output length
// (static), so the values are known at compile time even when the size input
// is a graph input.

struct WindowCoeffs {
  double a0, a1, a2;
};

WindowCoeffs window_coeffs(const std::string &op) {
  if (op == "HannWindow") return {0.5, 0.5, 0.0};
  if (op == "HammingWindow") return {25.0 / 46.0, 21.0 / 46.0, 0.0};
  return {0.42, 0.5, 0.08}; // BlackmanWindow
}

std::string check_window(const ir::Node &n) {
  const ir::Value *sz = n.input(0), *y = n.output(0);
  if (!sz || !y) return "size and the output are required";
  if (!ir::dtype_is_integer(sz->dtype) || sz->numel() != 1) return "size must be an integer scalar";
  if (y->rank() != 1) return "output must be 1-D";
  if (y->dtype == DType::Bool) return "bool output is not supported";
  if (sz->is_constant() && sz->int_at(0) != y->shape[0]) return "output length does not match size";
  return "";
}

void emit_window(KernelContext &k) {
  const ir::Value &y = k.vout(0);
  const int64_t N = y.shape[0];
  if (N == 0) return;
  const bool periodic = k.node.attr_int("periodic", 1) != 0;
  const WindowCoeffs w = window_coeffs(k.node.op);
  const double M = periodic ? (double)N : (double)(N - 1);
  DType dt = y.dtype;
  if (N <= 4096) {
    std::vector<double> v;
    for (int64_t i = 0; i < N; ++i) {
      // Same evaluation order as the ONNX function body: angle = n * (2 pi / M).
      double inc = kTwoPi / M;
      double a = (double)i * inc;
      double val = w.a0 - w.a1 * std::cos(a);
      if (w.a2 != 0.0) val += w.a2 * std::cos(2.0 * a);
      v.push_back(val);
    }
    if (dt == DType::F32) {
      k.line("static const float w[{}] = {{", N);
      for (int64_t i = 0; i < N; i += 6) {
        std::string row;
        for (int64_t j = i; j < std::min(N, i + 6); ++j) row += c_float_literal((float)v[(size_t)j]) + ",";
        k.line("  {}", row);
      }
      k.line("}};");
      k.line("memcpy(y0, w, sizeof w);");
      return;
    }
    emit_double_table(k, "w", v);
    k.open("for (size_t i = 0; i < {}; ++i) {{", N);
    k.line("y0[i] = {};", store_double(k, dt, "w[i]"));
    k.close();
    return;
  }
  k.open("for (size_t i = 0; i < {}; ++i) {{", N);
  k.line("const double a = (double)i * ({} / {});", c_double_literal(kTwoPi), c_double_literal(M));
  std::string e = fmt::format("{} - {} * cos(a)", c_double_literal(w.a0), c_double_literal(w.a1));
  if (w.a2 != 0.0) e += fmt::format(" + {} * cos(2.0 * a)", c_double_literal(w.a2));
  k.line("y0[i] = {};", store_double(k, dt, e));
  k.close();
}

// ---------------------------------------------------------------------------
// MelWeightMatrix (opset 17): triangular filters on the mel scale. The
// frequencies come from inputs that may be graph inputs, so the matrix is
// computed at run time (cheap: one pass over the output).

std::string check_mel(const ir::Node &n) {
  for (size_t i = 0; i < 5; ++i) {
    const ir::Value *v = n.input(i);
    if (!v) return "all five inputs are required";
    if (v->numel() != 1) return "inputs must be scalars";
    if (i < 3 && !ir::dtype_is_integer(v->dtype)) return "num_mel_bins, dft_length and sample_rate must be integers";
    if (i >= 3 && !float_dtype_ok(v->dtype) && !ir::dtype_is_integer(v->dtype))
      return "lower/upper_edge_hertz must be numbers";
  }
  const ir::Value *y = n.output(0);
  if (!y || y->rank() != 2) return "output must be 2-D";
  if (y->dtype == DType::Bool) return "bool output is not supported";
  const ir::Value *nm = n.input(0), *dl = n.input(1);
  if (nm->is_constant() && nm->int_at(0) != y->shape[1]) return "output shape does not match num_mel_bins";
  if (dl->is_constant() && dl->int_at(0) / 2 + 1 != y->shape[0]) return "output shape does not match dft_length";
  return "";
}

int64_t mel_scratch(const ir::Node &n) {
  const ir::Value *y = n.output(0);
  if (!y || y->rank() != 2) return 0;
  return (y->shape[1] + 2) * 8;
}

void emit_mel(KernelContext &k) {
  const ir::Value &y = k.vout(0);
  const int64_t rows = y.shape[0], nmel = y.shape[1];
  DType dt = y.dtype;
  if (rows * nmel == 0) return;
  k.line("long *bins = (long *)(void *)scratch;");
  k.line("const double dft_len = (double){}[0];", "x1");
  k.line("const double sample_rate = (double){}[0];", "x2");
  k.line("const double lo = {};", load_double(k, k.vin(3).dtype, "x3", "0"));
  k.line("const double hi = {};", load_double(k, k.vin(4).dtype, "x4", "0"));
  k.line("const double lo_mel = 2595.0 * log10(1.0 + lo / 700.0);");
  k.line("const double hi_mel = 2595.0 * log10(1.0 + hi / 700.0);");
  // As in the ONNX reference (and onnxruntime): the mel range is divided by
  // the number of band edges (num_mel_bins + 2), not by the number of gaps.
  k.line("const double mel_step = (hi_mel - lo_mel) / {}.0;", nmel + 2);
  k.open("for (size_t i = 0; i < {}; ++i) {{", nmel + 2);
  k.line("const double hz = 700.0 * (pow(10.0, ((double)i * mel_step + lo_mel) / 2595.0) - 1.0);");
  k.line("bins[i] = (long)floor((dft_len + 1.0) * hz / sample_rate);");
  k.close();
  k.open("for (size_t i = 0; i < {}; ++i) {{", rows * nmel);
  k.line("y0[i] = {};", store_double(k, dt, "0.0"));
  k.close();
  k.open("for (long m = 0; m < {}; ++m) {{", nmel);
  k.line("const long left = bins[m], center = bins[m + 1], right = bins[m + 2];");
  k.line("long j;");
  k.open("if (center == left) {{");
  k.line("if (center >= 0 && center < {}) y0[center * {} + m] = {};", rows, nmel, store_double(k, dt, "1.0"));
  k.close("} else {");
  k.indent();
  k.open("for (j = left; j <= center; ++j) {{");
  k.line("if (j < 0 || j >= {}) continue;", rows);
  k.line("y0[j * {} + m] = {};", nmel, store_double(k, dt, "(double)(j - left) / (double)(center - left)"));
  k.close();
  k.close();
  k.open("if (right > center) {{");
  k.open("for (j = center; j < right; ++j) {{");
  k.line("if (j < 0 || j >= {}) continue;", rows);
  k.line("y0[j * {} + m] = {};", nmel, store_double(k, dt, "(double)(right - j) / (double)(right - center)"));
  k.close();
  k.close();
  k.close();
}

} // namespace

void register_signal_kernels(KernelRegistry &r) {
  r.add({"DFT", check_planned<DftInfo, dft_info>, emit_dft, planned_scratch<DftInfo, dft_info>});
  r.add({"STFT", check_planned<StftInfo, stft_info>, emit_stft, planned_scratch<StftInfo, stft_info>});
  for (const char *op : {"HannWindow", "HammingWindow", "BlackmanWindow"})
    r.add({op, check_window, emit_window, nullptr});
  r.add({"MelWeightMatrix", check_mel, emit_mel, mel_scratch});
}

} // namespace tmc::codegen
