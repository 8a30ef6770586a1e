// Kernel family: 8-bit transposed convolution (tmc::QConvTranspose), produced
// by quantize-folding from DQ -> ConvTranspose -> Q:
//   QConvTranspose(x, x_scale, x_zp, w [C, M/group, k...], w_scale (1 or M/group),
//                  w_zp (1 or M/group), y_scale, y_zp, bias int32[M] (optional))
//   attributes as ConvTranspose.
// Int32 accumulation in scratch (scatter form: every input element adds its
// products to the output window it touches), then per output channel m the
// requantization of QLinearConv: float32 scale x_scale * w_scale[m % (M/group)]
// / y_scale, rounded half to even (ONNX Runtime's rule), or with
// tmc_int8_semantics = tflite a Q31 multiplier of the same ratio in double.
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/int8_emit.h"
#include "codegen/kernels/window.h"

namespace tmc::codegen {
namespace {

using ir::DType;

WindowGeometry qct_geometry(const ir::Node &n) { return convtranspose_window(n, 0, 3); }

std::string check_qconvtranspose(const ir::Node &n) {
  std::string r = check_q8_scalars(n, {1, 4, 6}, {2, 5, 7});
  if (!r.empty()) return r;
  const ir::Value *x = n.input(0), *w = n.input(3), *y = n.output(0);
  if (!is_q8(x->dtype) || !is_q8(w->dtype) || !is_q8(y->dtype)) return "only int8/uint8 tensors are supported";
  if (x->rank() < 3 || w->rank() != x->rank() || y->rank() != x->rank()) return "input/weight/output ranks differ";
  int64_t G = n.attr_int("group", 1);
  if (G < 1 || x->shape[1] % G || w->shape[0] != x->shape[1]) return "channel counts do not match 'group'";
  int64_t Mg = w->shape[1];
  if (y->shape[1] != Mg * G || y->shape[0] != x->shape[0]) return "output channels do not match the weight shape";
  for (size_t i : {1, 2, 6, 7})
    if (n.input(i)->numel() != 1) return "x/y scales and zero points must be scalars";
  for (size_t i : {4, 5})
    if (n.input(i)->numel() != 1 && n.input(i)->numel() != Mg) return "w_scale/w_zero_point size mismatch";
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (!n.input(i)->is_constant()) return "scales and zero points must be constant";
  if (n.input(8) && (n.input(8)->dtype != DType::I32 || n.input(8)->numel() != Mg * G)) return "bias must be int32[M]";
  qct_geometry(n);
  return "";
}

int64_t scratch_qconvtranspose(const ir::Node &n) { return n.output(0)->numel() * 4; }

void emit_qconvtranspose(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &x = k.vin(0), &w = k.vin(3), &y = k.vout(0);
  WindowGeometry g = qct_geometry(n);
  int64_t N = x.shape[0], C = x.shape[1], G = n.attr_int("group", 1);
  int64_t Cg = C / G, Mg = w.shape[1], M = Mg * G;
  if (y.numel() == 0) return;
  std::vector<int64_t> istr = strides_of(g.in), ostr = strides_of(g.out), kstr = strides_of(g.kernel);
  int64_t XS = ir::shape_numel(g.in), YS = ir::shape_numel(g.out), KS = ir::shape_numel(g.kernel);
  const bool tfl = tflite_semantics(n);
  int64_t xz = n.input(2)->int_values()[0], yz = n.input(7)->int_values()[0];
  float xs = (float)n.input(1)->float_values()[0], ys = (float)n.input(6)->float_values()[0];
  std::vector<double> wsv = n.input(4)->float_values();
  std::vector<int64_t> wzv = n.input(5)->int_values();
  bool wz_zero = true;
  for (int64_t z : wzv) wz_zero = wz_zero && z == 0;
  // Per output channel m: weight parameters of slot m % Mg.
  std::vector<double> ws_m(M);
  std::string scl;
  for (int64_t m = 0; m < M; ++m) {
    ws_m[m] = wsv[wsv.size() > 1 ? m % Mg : 0];
    float s = xs * (float)ws_m[m];
    s = s / ys;
    scl += (m ? ", " : "") + c_float_literal(s);
  }
  if (tfl) emit_tflite_multipliers(k, "tq", xs, ws_m, ys, M);
  else k.line("static const float scl[{}] = {{{}}};", M, scl);
  if (!wz_zero) {
    std::vector<int64_t> wz_m(Mg);
    for (int64_t mo = 0; mo < Mg; ++mo) wz_m[mo] = wzv[wzv.size() > 1 ? mo : 0];
    k.line("static const int32_t wzp[{}] = {{{}}};", Mg, int_array(wz_m));
  }
  k.line("int32_t *acc = (int32_t *)(void *)scratch;");
  // Initialise with the bias (or zero).
  k.open("for (size_t nm = 0; nm < {}; ++nm) {{", N * M);
  k.line("const int32_t bv = {};", k.has_in(8) ? fmt::format("x8[nm % {}]", M) : "0");
  k.line("int32_t *ap = acc + nm * {};", YS);
  k.line("for (size_t i = 0; i < {}; ++i) ap[i] = bv;", YS);
  k.close();
  k.open("for (size_t n = 0; n < {}; ++n) {{", N);
  k.open("for (size_t ci = 0; ci < {}; ++ci) {{", C);
  k.line("const {} *xc = x0 + (n * {} + ci) * {};", k.ctype_in(0), C, XS);
  k.open("for (size_t mo = 0; mo < {}; ++mo) {{", Mg);
  k.line("const {} *wc = x3 + (ci * {} + mo) * {};", k.ctype_in(3), Mg, KS);
  std::string mexpr = G == 1 ? "mo" : fmt::format("(ci / {}) * {} + mo", Cg, Mg);
  k.line("int32_t *yc = acc + (n * {} + {}) * {};", M, mexpr, YS);
  if (!wz_zero) k.line("const int32_t wz = wzp[mo];");
  std::string xidx;
  std::vector<WindowRange> wins;
  for (size_t d = 0; d < g.nd; ++d) {
    std::string iv = fmt::format("i{}", d);
    k.open("for (long {0} = 0; {0} < {1}; ++{0}) {{", iv, g.in[d]);
    wins.push_back(emit_window_range(k, d, iv, g.in[d], g.stride[d], g.pad_begin[d], g.dil[d], g.kernel[d], g.out[d]));
    xidx += (d ? " + " : "") + (istr[d] == 1 ? iv : fmt::format("{} * {}", iv, istr[d]));
  }
  k.line("const int32_t xv = (int32_t)xc[{}] - {};", xidx, xz);
  std::string yp = "yc", wp = "wc";
  for (size_t d = 0; d < g.nd; ++d) {
    std::string kv = fmt::format("k{}", d);
    k.open("for (long {0} = {1}; {0} < {2}; ++{0}) {{", kv, wins[d].lo, wins[d].hi);
    if (d + 1 < g.nd) {
      std::string ny = fmt::format("yr{}", d), nw = fmt::format("wr{}", d);
      k.line("int32_t *{} = {} + ({}) * {};", ny, yp, wins[d].coord(kv), ostr[d]);
      k.line("const {} *{} = {} + {} * {};", k.ctype_in(3), nw, wp, kv, kstr[d]);
      yp = ny;
      wp = nw;
    } else {
      k.line("{}[{}] += xv * {};", yp, wins[d].coord(kv),
             wz_zero ? fmt::format("(int32_t){}[{}]", wp, kv) : fmt::format("((int32_t){}[{}] - wz)", wp, kv));
    }
  }
  for (size_t d = 0; d < 2 * g.nd; ++d) k.close();
  k.close(); // mo
  k.close(); // ci
  k.close(); // n
  // Requantize per output channel.
  k.open("for (size_t nm = 0; nm < {}; ++nm) {{", N * M);
  k.line("const size_t m = nm % {};", M);
  k.line("const int32_t *ap = acc + nm * {};", YS);
  k.line("{} *yp = y0 + nm * {};", k.ctype_out(0), YS);
  k.open("for (size_t i = 0; i < {}; ++i) {{", YS);
  if (tfl) emit_q8_requant_tflite(k, "ap[i]", "tq_m[m]", "tq_s[m]", yz, y.dtype, "yp[i]");
  else emit_q8_requant(k, "ap[i]", "scl[m]", yz, y.dtype, "yp[i]");
  k.close();
  k.close();
}

} // namespace

void register_int8_convtranspose_kernels(KernelRegistry &r) {
  KernelDef d{"QConvTranspose", check_qconvtranspose, emit_qconvtranspose, scratch_qconvtranspose, "tmc"};
  r.add(d);
}

} // namespace tmc::codegen
