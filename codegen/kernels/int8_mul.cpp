// Kernel family: 8-bit elementwise multiplication (tmc::QMul), produced by
// quantize-folding (DQ -> Mul -> Q) and lower-qoperator (QLinearMul):
//   QMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp) -> y (broadcast)
// Arithmetic (see docs/quantization.md):
//   default ("qdq", ONNX Runtime's DQ -> Mul -> Q in float32):
//     y = sat(rne(((a_scale * (a - a_zp)) * (b_scale * (b - b_zp))) / y_scale) + y_zp)
//   tmc_int8_arith = "qlinear" (ONNX Runtime's QLinearMul kernel, MLAS):
//     y = sat(rne((float)((a - a_zp) * (b - b_zp)) * r + (float)y_zp)),
//     r = a_scale * b_scale / y_scale in float32
//   tmc_int8_semantics = "tflite" (TFLite MUL): Q31 multiplier of
//     a_scale * b_scale / y_scale (double), MultiplyByQuantizedMultiplier of
//     the int32 product, + y_zp, saturated.
// rne = round half to even.
#include <fmt/format.h>

#include "codegen/kernel.h"
#include "codegen/kernels/common.h"
#include "codegen/kernels/int8_emit.h"
#include "codegen/kernels/int8_round.h"

namespace tmc::codegen {
namespace {



void emit_qmul(KernelContext &k) {
  const ir::Node &n = k.node;
  const ir::Value &y = k.vout(0);
  const bool tfl = tflite_semantics(n), ql = qlinear_arith(n);
  if (tfl || ql) {
    int64_t za = n.input(2)->int_values()[0], zb = n.input(5)->int_values()[0], zy = n.input(7)->int_values()[0];
    float sa = (float)n.input(1)->float_values()[0], sb = (float)n.input(4)->float_values()[0],
          sy = (float)n.input(6)->float_values()[0];
    if (tfl) {
      int32_t m;
      int s;
      tflite_quantize_multiplier((double)sa * (double)sb / (double)sy, m, s);
      emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                          [&](const std::vector<std::string> &ix, const std::string &oi) {
                            k.line("const int32_t p = ((int32_t)x0[{}] - {}) * ((int32_t)x3[{}] - {});", ix[0], za,
                                   ix[1], zb);
                            emit_q8_requant_tflite(k, "p", std::to_string(m), std::to_string(s), zy, y.dtype,
                                                   fmt::format("y0[{}]", oi));
                          });
      return;
    }
    volatile float prod = sa * sb; // float32, as MLAS computes ScaleA * ScaleB / ScaleC
    float ratio = prod / sy;
    k.line("const float r = {};", c_float_literal(ratio));
    emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                        [&](const std::vector<std::string> &ix, const std::string &oi) {
                          k.line("const int32_t p = ((int32_t)x0[{}] - {}) * ((int32_t)x3[{}] - {});", ix[0], za,
                                 ix[1], zb);
                          emit_round_store(k, "(float)p * r", c_float_literal((float)zy), 0, y.dtype,
                                           fmt::format("y0[{}]", oi));
                        });
    return;
  }
  k.line("const float sa = x1[0], sb = x4[0], sy = x6[0];");
  k.line("const int32_t za = (int32_t)x2[0], zb = (int32_t)x5[0], zy = (int32_t)x7[0];");
  emit_broadcast_loop(k, y.shape, {k.vin(0).shape, k.vin(3).shape},
                      [&](const std::vector<std::string> &ix, const std::string &oi) {
                        k.line("const float va = sa * (float)((int32_t)x0[{}] - za);", ix[0]);
                        k.line("const float vb = sb * (float)((int32_t)x3[{}] - zb);", ix[1]);
                        // The zero point is a runtime value here: round, then add it.
                        k.open("{{");
                        k.line("float v = (va * vb) / sy;");
                        k.line("uint32_t u;");
                        k.line("int32_t q;");
                        k.line("v = v < -1024.0f ? -1024.0f : (v > 1024.0f ? 1024.0f : v);");
                        k.line("v += 12582912.0f;");
                        k.line("memcpy(&u, &v, 4);");
                        k.line("q = (int32_t)(u & 0x7FFFFFu) - 0x400000 + zy;");
                        k.line("y0[{}] = ({})(q < {} ? {} : (q > {} ? {} : q));", oi, k.ctype_out(0), qlo(y.dtype),
                               qlo(y.dtype), qhi(y.dtype), qhi(y.dtype));
                        k.close();
                      });
}

} // namespace

void register_int8_mul_kernels(KernelRegistry &r) {
  KernelDef d{"QMul", check_q8_binary, emit_qmul, nullptr, "tmc"};
  r.add(d);
}

} // namespace tmc::codegen
