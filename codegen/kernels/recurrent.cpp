// Kernel family: recurrent (LSTM, GRU, RNN) and Det.
//
// Recurrent ops are emitted as one block per direction: a loop over time
// steps, and inside it a loop over the batch (so per-batch sequence lengths,
// including reversed directions, are handled exactly). For one (step, batch)
// the gate pre-activations are computed into a scratch buffer of G*H values,
// then the hidden (and cell) state of that batch entry is updated in place.
// State and gate buffers live in the kernel scratch, in the compute type
// (float, or double for float64 tensors).
#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"

namespace tmc::codegen {
namespace {

using ir::DType;

bool float_dtype_ok(DType dt) {
  return dt == DType::F32 || dt == DType::F64 || dt == DType::F16 || dt == DType::BF16;
}

std::string lower(std::string s) {
  for (auto &c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

// ---------------------------------------------------------------- activations

struct Act {
  std::string name; // lower case
  double alpha = 0, beta = 0;
};

bool act_known(const std::string &n) {
  static const char *names[] = {"sigmoid", "tanh", "relu", "hardsigmoid", "affine", "leakyrelu",
                                "thresholdedrelu", "scaledtanh", "elu", "softsign", "softplus"};
  for (auto *k : names)
    if (n == k) return true;
  return false;
}
bool act_needs_alpha(const std::string &n) {
  return n == "hardsigmoid" || n == "affine" || n == "leakyrelu" || n == "thresholdedrelu" ||
         n == "scaledtanh" || n == "elu";
}
bool act_needs_beta(const std::string &n) {
  return n == "hardsigmoid" || n == "affine" || n == "scaledtanh";
}
double act_default_alpha(const std::string &n) {
  if (n == "hardsigmoid") return 0.2;
  if (n == "leakyrelu") return 0.01;
  return 1.0; // affine, thresholdedrelu, scaledtanh, elu
}
double act_default_beta(const std::string &n) {
  if (n == "hardsigmoid") return 0.5;
  if (n == "scaledtanh") return 1.0;
  return 0.0; // affine
}

/// Number of activation functions per direction.
size_t acts_per_dir(const std::string &op) { return op == "LSTM" ? 3 : op == "GRU" ? 2 : 1; }

/// The activations of every direction (num_dir * acts_per_dir entries). The
/// alpha/beta lists are consumed in order by the functions that take them.
std::vector<Act> resolve_acts(const ir::Node &n, int64_t num_dir) {
  size_t per = acts_per_dir(n.op);
  std::vector<std::string> names;
  if (n.has_attr("activations")) {
    auto it = n.attrs.find("activations");
    if (auto *v = std::get_if<std::vector<std::string>>(&it->second)) names = *v;
    else if (auto *s = std::get_if<std::string>(&it->second)) names = {*s};
  }
  if (names.empty()) {
    if (n.op == "LSTM") names = {"Sigmoid", "Tanh", "Tanh"};
    else if (n.op == "GRU") names = {"Sigmoid", "Tanh"};
    else names = {"Tanh"};
  }
  if (names.size() == per && num_dir == 2) {
    std::vector<std::string> twice = names;
    twice.insert(twice.end(), names.begin(), names.end());
    names = twice;
  }
  std::vector<float> alphas = n.attr_floats("activation_alpha");
  std::vector<float> betas = n.attr_floats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<Act> r;
  for (auto &nm : names) {
    Act a;
    a.name = lower(nm);
    if (act_needs_alpha(a.name)) a.alpha = ai < alphas.size() ? alphas[ai++] : act_default_alpha(a.name);
    if (act_needs_beta(a.name)) a.beta = bi < betas.size() ? betas[bi++] : act_default_beta(a.name);
    r.push_back(a);
  }
  return r;
}

// ---------------------------------------------------------------- node checks

struct RnnInfo {
  std::string op;
  int64_t G = 1;   // gates
  int64_t ND = 1;  // directions
  int64_t S = 0, B = 0, I = 0, H = 0;
  int64_t layout = 0;
  bool reverse_only = false;
};

int64_t gates_of(const std::string &op) { return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1; }

std::string rnn_info(const ir::Node &n, RnnInfo &ri) {
  ri.op = n.op;
  ri.G = gates_of(n.op);
  const ir::Value *X = n.input(0), *W = n.input(1), *R = n.input(2);
  if (!X || !W || !R) return "X, W and R are required";
  if (!float_dtype_ok(X->dtype))
    return std::string("dtype ") + ir::dtype_name(X->dtype) + " is not supported";
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const ir::Value *v = n.input(i);
    if (!v || i == 4) continue;
    if (v->dtype != X->dtype) return "all float inputs must share X's dtype";
  }
  for (auto *o : n.outputs)
    if (o && o->dtype != X->dtype) return "outputs must have X's dtype";
  if (const ir::Value *sl = n.input(4))
    if (!ir::dtype_is_integer(sl->dtype)) return "sequence_lens must be an integer tensor";
  if (X->rank() != 3 || W->rank() != 3 || R->rank() != 3) return "X, W and R must have rank 3";
  ri.layout = n.opset >= 14 ? n.attr_int("layout", 0) : 0;
  if (ri.layout != 0 && ri.layout != 1) return "layout must be 0 or 1";
  std::string dir = n.attr_string("direction", "forward");
  if (dir == "forward") ri.ND = 1;
  else if (dir == "reverse") ri.ND = 1, ri.reverse_only = true;
  else if (dir == "bidirectional") ri.ND = 2;
  else return "direction '" + dir + "' is not supported";
  ri.S = ri.layout ? X->shape[1] : X->shape[0];
  ri.B = ri.layout ? X->shape[0] : X->shape[1];
  ri.I = X->shape[2];
  ri.H = n.attr_int("hidden_size", R->shape[2]);
  if (R->shape[2] != ri.H) return "hidden_size does not match R";
  if (W->shape != ir::Shape{ri.ND, ri.G * ri.H, ri.I}) return "W has an unexpected shape";
  if (R->shape != ir::Shape{ri.ND, ri.G * ri.H, ri.H}) return "R has an unexpected shape";
  if (const ir::Value *Bv = n.input(3))
    if (Bv->shape != ir::Shape{ri.ND, 2 * ri.G * ri.H}) return "B has an unexpected shape";
  if (const ir::Value *sl = n.input(4))
    if (sl->numel() != ri.B) return "sequence_lens has an unexpected shape";
  if (const ir::Value *h0 = n.input(5))
    if (h0->numel() != ri.ND * ri.B * ri.H) return "initial_h has an unexpected shape";
  if (n.op == "LSTM") {
    if (const ir::Value *c0 = n.input(6))
      if (c0->numel() != ri.ND * ri.B * ri.H) return "initial_c has an unexpected shape";
    if (const ir::Value *P = n.input(7))
      if (P->numel() != ri.ND * 3 * ri.H) return "P has an unexpected shape";
  }
  if (const ir::Value *Y = n.output(0))
    if (Y->numel() != ri.S * ri.ND * ri.B * ri.H) return "Y has an unexpected shape";
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (const ir::Value *o = n.output(i))
      if (o->numel() != ri.ND * ri.B * ri.H) return "Y_h/Y_c has an unexpected shape";
  // Activations.
  auto it = n.attrs.find("activations");
  size_t cnt = acts_per_dir(n.op);
  if (it != n.attrs.end()) {
    std::vector<std::string> names;
    if (auto *v = std::get_if<std::vector<std::string>>(&it->second)) names = *v;
    else if (auto *s = std::get_if<std::string>(&it->second)) names = {*s};
    else return "activations attribute must be a list of strings";
    if (!names.empty() && names.size() != cnt && names.size() != cnt * (size_t)ri.ND)
      return fmt::format("expected {} activations, got {}", cnt * ri.ND, names.size());
    for (auto &nm : names)
      if (!act_known(lower(nm))) return "activation '" + nm + "' is not supported";
  }
  return "";
}

std::string check_rnn(const ir::Node &n) {
  RnnInfo ri;
  return rnn_info(n, ri);
}

int64_t rnn_scratch(const ir::Node &n) {
  RnnInfo ri;
  if (!rnn_info(n, ri).empty()) return 0;
  int64_t elem = n.input(0)->dtype == DType::F64 ? 8 : 4;
  int64_t count = ri.B * ri.H + ri.G * ri.H;
  if (n.op == "LSTM") count += ri.B * ri.H;
  return std::max<int64_t>(count, 1) * elem;
}

// ---------------------------------------------------------------- emission

struct RnnEmitter {
  KernelContext &k;
  const ir::Node &n;
  RnnInfo ri;
  DType dt;
  bool dbl;
  std::string T;   // compute C type
  std::string sfx; // math function suffix: "f" or ""
  std::vector<Act> acts;
  bool has_clip = false;
  double clip = 0;

  RnnEmitter(KernelContext &kc) : k(kc), n(kc.node) {
    std::string err = rnn_info(n, ri);
    if (!err.empty()) throw ir::CompileError(n, err);
    dt = n.input(0)->dtype;
    dbl = dt == DType::F64;
    T = dbl ? "double" : "float";
    sfx = dbl ? "" : "f";
    acts = resolve_acts(n, ri.ND);
    if (n.has_attr("clip")) {
      has_clip = true;
      clip = n.attr_float("clip", 0.0f);
    }
  }

  std::string lit(double v) const { return dbl ? c_double_literal(v) : c_float_literal((float)v); }
  std::string fn(const char *f) const { return std::string(f) + sfx; }

  /// Element `idx` of input i as a compute-type expression.
  std::string ld(size_t i, const std::string &idx) {
    if (dbl) return fmt::format("x{}[{}]", i, idx);
    return load_as_float(k, dt, "x" + std::to_string(i), idx);
  }
  std::string st(const std::string &expr) {
    if (dbl) return expr;
    return store_from_float(k, dt, expr);
  }

  /// C expression of activation `a` applied to identifier `x`.
  std::string act_expr(const Act &a, const std::string &x) const {
    const std::string zero = lit(0), one = lit(1);
    const std::string al = lit(a.alpha), be = lit(a.beta);
    const std::string &m = a.name;
    if (m == "sigmoid") return fmt::format("({1} / ({1} + {2}(-{0})))", x, one, fn("exp"));
    if (m == "tanh") return fmt::format("{}({})", fn("tanh"), x);
    if (m == "relu") return fmt::format("({0} > {1} ? {0} : {1})", x, zero);
    if (m == "hardsigmoid")
      return fmt::format("{0}({1}, {2}({3}, {4} * {5} + {6}))", fn("fmax"), zero, fn("fmin"), one, al, x, be);
    if (m == "affine") return fmt::format("({} * {} + {})", al, x, be);
    if (m == "leakyrelu") return fmt::format("({0} >= {1} ? {0} : {2} * {0})", x, zero, al);
    if (m == "thresholdedrelu") return fmt::format("({0} > {1} ? {0} : {2})", x, al, zero);
    if (m == "scaledtanh") return fmt::format("({} * {}({} * {}))", al, fn("tanh"), be, x);
    if (m == "elu") return fmt::format("({0} >= {1} ? {0} : {2} * ({3}({0}) - {4}))", x, zero, al, fn("exp"), one);
    if (m == "softsign") return fmt::format("({0} / ({1} + {2}({0})))", x, one, fn("fabs"));
    if (m == "softplus")
      return fmt::format("({0} > {1} ? {0} + {2}({3}(-{0})) : {2}({3}({0})))", x, zero, fn("log1p"), fn("exp"));
    throw ir::CompileError(n, "activation '" + m + "' is not supported");
  }

  /// Emits "v = clip(v)" when the clip attribute is set.
  void emit_clip(const std::string &v) {
    if (!has_clip) return;
    std::string c = lit(clip), mc = lit(-clip);
    k.line("{0} = {0} < {1} ? {1} : ({0} > {2} ? {2} : {0});", v, mc, c);
  }

  // Index expressions (C strings) for the layout-dependent tensors.
  std::string x_off(const std::string &t, const std::string &b) const {
    return ri.layout ? fmt::format("(({} * {} + {}) * {})", b, ri.S, t, ri.I)
                     : fmt::format("(({} * {} + {}) * {})", t, ri.B, b, ri.I);
  }
  std::string y_off(const std::string &t, const std::string &b, int64_t d) const {
    return ri.layout ? fmt::format("((({} * {} + {}) * {} + {}) * {})", b, ri.S, t, ri.ND, d, ri.H)
                     : fmt::format("((({} * {} + {}) * {} + {}) * {})", t, ri.ND, d, ri.B, b, ri.H);
  }
  std::string state_off(const std::string &b, int64_t d) const {
    return ri.layout ? fmt::format("(({} * {} + {}) * {})", b, ri.ND, d, ri.H)
                     : fmt::format("({} + {} * {})", d * ri.B * ri.H, b, ri.H);
  }

  /// Emits the expression for the length of batch entry `b` into `L`.
  void emit_seq_len(const std::string &b) {
    const ir::Value *sl = n.input(4);
    if (!sl) {
      k.line("const long L = {};", ri.S);
      return;
    }
    if (sl->is_constant()) {
      std::vector<int64_t> v = sl->int_values();
      bool same = std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; });
      auto clampv = [&](int64_t x) { return std::max<int64_t>(0, std::min<int64_t>(x, ri.S)); };
      if (same) {
        k.line("const long L = {};", v.empty() ? ri.S : clampv(v[0]));
      } else {
        std::string init;
        for (size_t i = 0; i < v.size(); ++i) init += (i ? ", " : "") + std::to_string(clampv(v[i]));
        k.line("static const long lens[{}] = {{{}}};", v.size(), init);
        k.line("const long L = lens[{}];", b);
      }
      return;
    }
    k.line("long L = (long)x4[{}];", b);
    k.line("if (L < 0) L = 0;");
    k.line("if (L > {0}) L = {0};", ri.S);
  }

  bool seq_lens_may_be_short() const {
    const ir::Value *sl = n.input(4);
    if (!sl) return false;
    if (!sl->is_constant()) return true;
    for (int64_t v : sl->int_values())
      if (v < ri.S) return true;
    return false;
  }

  /// Bias of gate row `row` (an expression), for direction d.
  std::string bias(int64_t d, const std::string &row, bool w_part, bool r_part) {
    if (!n.input(3)) return lit(0);
    int64_t GH = ri.G * ri.H;
    std::string e;
    if (w_part) e = ld(3, fmt::format("{} + {}", d * 2 * GH, row));
    if (r_part) e += (e.empty() ? "" : " + ") + ld(3, fmt::format("{} + {}", d * 2 * GH + GH, row));
    return e.empty() ? lit(0) : e;
  }

  /// Emits acc += sum_k X[xo + k] * W[d, row, k].
  void emit_x_dot(int64_t d, const std::string &row, const std::string &acc) {
    if (ri.I == 0) return;
    k.open("for (long q = 0; q < {}; ++q) {{", ri.I);
    k.line("{} += {} * {};", acc, ld(0, "xo + q"),
           ld(1, fmt::format("({} + {}) * {} + q", d * ri.G * ri.H, row, ri.I)));
    k.close();
  }
  /// Emits acc += sum_j hv(j) * R[d, row, j].
  void emit_h_dot(int64_t d, const std::string &row, const std::string &acc, const std::string &hv) {
    k.open("for (long j = 0; j < {}; ++j) {{", ri.H);
    k.line("{} += {} * {};", acc, hv, ld(2, fmt::format("({} + {}) * {} + j", d * ri.G * ri.H, row, ri.H)));
    k.close();
  }

  void emit() {
    const int64_t S = ri.S, B = ri.B, H = ri.H, G = ri.G;
    if (k.has_out(0) && k.vout(0).numel() > 0 && seq_lens_may_be_short())
      k.line("memset(y0, 0, {});", k.vout(0).nbytes());
    if (B * H == 0) {
      return;
    }
    bool lstm = n.op == "LSTM", gru = n.op == "GRU";
    k.line("{0} *hs = ({0} *)(void *)scratch;", T);
    k.line("{} *gs = hs + {};", T, B * H);
    if (lstm) k.line("{} *cs = gs + {};", T, G * H);
    size_t per = acts_per_dir(n.op);
    for (int64_t d = 0; d < ri.ND; ++d) {
      bool rev = ri.reverse_only || d == 1;
      const Act *A = &acts[(size_t)d * per];
      k.open("{{ /* direction {} ({}) */", d, rev ? "reverse" : "forward");
      // Initial state.
      k.open("for (long b = 0; b < {}; ++b) {{", B);
      k.open("for (long i = 0; i < {}; ++i) {{", H);
      k.line("hs[b * {} + i] = {};", H, k.has_in(5) ? ld(5, state_off("b", d) + " + i") : lit(0));
      if (lstm) k.line("cs[b * {} + i] = {};", H, k.has_in(6) ? ld(6, state_off("b", d) + " + i") : lit(0));
      k.close();
      k.close();
      if (S > 0) {
        k.open("for (long step = 0; step < {}; ++step) {{", S);
        k.open("for (long b = 0; b < {}; ++b) {{", B);
        emit_seq_len("b");
        k.line("if (step >= L) continue;");
        k.open("{{");
        k.line("const long t = {};", rev ? "L - 1 - step" : "step");
        k.line("const long xo = {};", x_off("t", "b"));
        k.line("{} *h = hs + b * {};", T, H);
        if (lstm) k.line("{} *c = cs + b * {};", T, H);
        if (lstm) emit_lstm_step(d, A);
        else if (gru) emit_gru_step(d, A);
        else emit_rnn_step(d, A);
        if (k.has_out(0)) {
          k.line("const long yo = {};", y_off("t", "b", d));
          k.open("for (long i = 0; i < {}; ++i) {{", H);
          k.line("y0[yo + i] = {};", st("h[i]"));
          k.close();
        }
        k.close();
        k.close();
        k.close();
      }
      // Final states.
      if (k.has_out(1) || (lstm && k.has_out(2))) {
        k.open("for (long b = 0; b < {}; ++b) {{", B);
        k.open("for (long i = 0; i < {}; ++i) {{", H);
        if (k.has_out(1)) k.line("y1[{} + i] = {};", state_off("b", d), st(fmt::format("hs[b * {} + i]", H)));
        if (lstm && k.has_out(2))
          k.line("y2[{} + i] = {};", state_off("b", d), st(fmt::format("cs[b * {} + i]", H)));
        k.close();
        k.close();
      }
      k.close();
    }
  }

  /// Full pre-activations of gate rows [r0, r1) into gs.
  void emit_full_gates(int64_t d, int64_t r0, int64_t r1) {
    k.open("for (long g = {}; g < {}; ++g) {{", r0, r1);
    k.line("{} acc = {};", T, bias(d, "g", true, true));
    emit_x_dot(d, "g", "acc");
    emit_h_dot(d, "g", "acc", "h[j]");
    k.line("gs[g] = acc;");
    k.close();
  }

  void emit_rnn_step(int64_t d, const Act *A) {
    emit_full_gates(d, 0, ri.H);
    k.open("for (long i = 0; i < {}; ++i) {{", ri.H);
    k.line("{} v = gs[i];", T);
    emit_clip("v");
    k.line("h[i] = {};", act_expr(A[0], "v"));
    k.close();
  }

  void emit_gru_step(int64_t d, const Act *A) {
    const int64_t H = ri.H;
    bool lbr = n.attr_int("linear_before_reset", 0) != 0;
    // z and r gates.
    emit_full_gates(d, 0, 2 * H);
    k.open("for (long g = 0; g < {}; ++g) {{", 2 * H);
    k.line("{} v = gs[g];", T);
    emit_clip("v");
    k.line("gs[g] = {};", act_expr(A[0], "v"));
    k.close();
    // Candidate gate.
    k.open("for (long i = 0; i < {}; ++i) {{", H);
    std::string row = fmt::format("{} + i", 2 * H);
    if (lbr) {
      k.line("{} xa = {};", T, bias(d, row, true, false));
      emit_x_dot(d, row, "xa");
      k.line("{} ra = {};", T, bias(d, row, false, true));
      emit_h_dot(d, row, "ra", "h[j]");
      k.line("{} v = xa + gs[{} + i] * ra;", T, H);
    } else {
      k.line("{} v = {};", T, bias(d, row, true, true));
      emit_x_dot(d, row, "v");
      emit_h_dot(d, row, "v", fmt::format("gs[{} + j] * h[j]", H));
    }
    emit_clip("v");
    k.line("gs[{} + i] = {};", 2 * H, act_expr(A[1], "v"));
    k.close();
    // State update.
    k.open("for (long i = 0; i < {}; ++i) {{", H);
    k.line("const {} z = gs[i];", T);
    k.line("h[i] = ({} - z) * gs[{} + i] + z * h[i];", lit(1), 2 * H);
    k.close();
  }

  void emit_lstm_step(int64_t d, const Act *A) {
    const int64_t H = ri.H;
    bool input_forget = n.attr_int("input_forget", 0) != 0;
    bool peep = k.has_in(7);
    emit_full_gates(d, 0, 4 * H);
    // Gate rows: i [0,H), o [H,2H), f [2H,3H), c [3H,4H). P: i, o, f.
    auto P = [&](int64_t which) { return ld(7, fmt::format("{} + i", d * 3 * H + which * H)); };
    k.open("for (long i = 0; i < {}; ++i) {{", H);
    k.line("{} vi = gs[i];", T);
    if (peep) k.line("vi += {} * c[i];", P(0));
    emit_clip("vi");
    k.line("const {} it = {};", T, act_expr(A[0], "vi"));
    if (input_forget) {
      k.line("const {} ft = {} - it;", T, lit(1));
    } else {
      k.line("{} vf = gs[{} + i];", T, 2 * H);
      if (peep) k.line("vf += {} * c[i];", P(2));
      emit_clip("vf");
      k.line("const {} ft = {};", T, act_expr(A[0], "vf"));
    }
    k.line("{} vc = gs[{} + i];", T, 3 * H);
    emit_clip("vc");
    k.line("const {} ct = {};", T, act_expr(A[1], "vc"));
    k.line("const {} cn = ft * c[i] + it * ct;", T);
    k.line("{} vo = gs[{} + i];", T, H);
    if (peep) k.line("vo += {} * cn;", P(1));
    emit_clip("vo");
    k.line("const {} ot = {};", T, act_expr(A[0], "vo"));
    k.line("c[i] = cn;");
    k.line("h[i] = ot * {};", act_expr(A[2], "cn"));
    k.close();
  }
};

// ---------------------------------------------------------------- Det

std::string check_det(const ir::Node &n) {
  const ir::Value *x = n.input(0);
  if (!x) return "input is required";
  if (!float_dtype_ok(x->dtype)) return std::string("dtype ") + ir::dtype_name(x->dtype) + " is not supported";
  if (x->rank() < 2) return "input must have rank >= 2";
  if (x->shape[x->rank() - 1] != x->shape[x->rank() - 2]) return "input matrices must be square";
  return "";
}

int64_t det_scratch(const ir::Node &n) {
  if (!check_det(n).empty()) return 0;
  int64_t m = n.input(0)->shape.back();
  return std::max<int64_t>(m * m, 1) * 8;
}

void emit_det(KernelContext &k) {
  const ir::Value &x = k.vin(0), &y = k.vout(0);
  const int64_t M = x.shape.back();
  const int64_t batch = y.numel();
  DType dt = x.dtype;
  auto ld = [&](const std::string &idx) {
    return dt == DType::F64 ? fmt::format("x0[{}]", idx) : "(double)" + load_as_float(k, dt, "x0", idx);
  };
  auto st = [&](const std::string &e) {
    return dt == DType::F64 ? e : store_from_float(k, dt, "(float)(" + e + ")");
  };
  if (batch == 0) return;
  if (M == 0) {
    k.open("for (long n = 0; n < {}; ++n) {{", batch);
    k.line("y0[n] = {};", st("1.0"));
    k.close();
    return;
  }
  // LU decomposition with partial pivoting, in double.
  k.line("double *a = (double *)(void *)scratch;");
  k.open("for (long n = 0; n < {}; ++n) {{", batch);
  k.line("double det = 1.0;");
  k.open("for (long i = 0; i < {}; ++i) {{", M * M);
  k.line("a[i] = {};", ld(fmt::format("n * {} + i", M * M)));
  k.close();
  k.open("for (long col = 0; col < {}; ++col) {{", M);
  k.line("long p = col;");
  k.line("double best = fabs(a[col * {} + col]);", M);
  k.open("for (long r = col + 1; r < {}; ++r) {{", M);
  k.line("const double v = fabs(a[r * {} + col]);", M);
  k.open("if (v > best) {{");
  k.line("best = v;");
  k.line("p = r;");
  k.close();
  k.close();
  k.open("if (best == 0.0) {{");
  k.line("det = 0.0;");
  k.line("break;");
  k.close();
  k.open("if (p != col) {{");
  k.open("for (long j = 0; j < {}; ++j) {{", M);
  k.line("const double tmp = a[col * {0} + j];", M);
  k.line("a[col * {0} + j] = a[p * {0} + j];", M);
  k.line("a[p * {} + j] = tmp;", M);
  k.close();
  k.line("det = -det;");
  k.close();
  k.line("det *= a[col * {} + col];", M);
  k.open("for (long r = col + 1; r < {}; ++r) {{", M);
  k.line("const double f = a[r * {0} + col] / a[col * {0} + col];", M);
  k.open("for (long j = col + 1; j < {}; ++j) {{", M);
  k.line("a[r * {0} + j] -= f * a[col * {0} + j];", M);
  k.close();
  k.close();
  k.close();
  k.line("y0[n] = {};", st("det"));
  k.close();
}

} // namespace

void register_recurrent_kernels(KernelRegistry &r) {
  for (const char *op : {"LSTM", "GRU", "RNN"})
    r.add({op, check_rnn, [](KernelContext &k) { RnnEmitter(k).emit(); }, rnn_scratch});
  r.add({"Det", check_det, emit_det, det_scratch});
}

} // namespace tmc::codegen
