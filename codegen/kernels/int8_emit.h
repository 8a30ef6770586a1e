// Emission helpers shared by the int8 kernels (QLinearConv in conv.cpp,
// QGemm in int8_fc.cpp, the others in int8.cpp): ONNX Runtime-exact requantization without rintf, and
// int8 dot products that use the target header's SMLAD/SXTB16 wrappers on DSP
// cores with a portable C fallback.
#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include "codegen/kernel.h"
#include "ir/quant_math.h"

namespace tmc::codegen {

std::string upper(std::string s);

inline bool is_q8(ir::DType t) { return t == ir::DType::U8 || t == ir::DType::I8; }
inline int qlo(ir::DType t) { return t == ir::DType::U8 ? 0 : -128; }
inline int qhi(ir::DType t) { return t == ir::DType::U8 ? 255 : 127; }

/// "" if inputs `scales` are present float32 tensors and inputs `zps` are
/// present, else the reason.
std::string check_q8_scalars(const ir::Node &n, std::initializer_list<size_t> scales, std::initializer_list<size_t> zps);

/// True when the node follows ONNX Runtime's QLinear* kernel arithmetic
/// (attribute tmc_int8_arith = "qlinear", set by lower-qoperator).
bool qlinear_arith(const ir::Node &n);

/// Check of the binary int8 ops tmc::QAdd / tmc::QMul:
/// (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp), per-tensor, broadcast.
std::string check_q8_binary(const ir::Node &n);

/// Saturating store of float `q` (already offset by the zero point) to `dst`
/// of 8-bit type `t`.
void emit_q8_saturate(KernelContext &k, const std::string &dst, const std::string &q, ir::DType t);

/// Emits the requantization of int32 expression `acc` with float scale `sc`
/// and stores it to `dst`: bit-identical to rintf(acc * sc) + zp, saturated.
void emit_q8_requant(KernelContext &k, const std::string &acc, const std::string &sc, int64_t zp, ir::DType yt,
                     const std::string &dst);

/// Variants of emit_q8_requant / emit_q8_requant_tflite for code under
/// `#if <P>_HAS_DSP`: same results, the final saturation is one SSAT/USAT
/// (the target header's <p>_ssat/<p>_usat wrappers with constant bits).
void emit_q8_requant_dsp(KernelContext &k, const std::string &acc, const std::string &sc, int64_t zp, ir::DType yt,
                         const std::string &dst);
void emit_q8_requant_tflite_dsp(KernelContext &k, const std::string &acc, const std::string &mult,
                                const std::string &shift, int64_t zp, ir::DType yt, const std::string &dst);

/// Either semantics (`tfl`: mult/shift arrays, else float scale `sc`), as
/// `#if <P>_HAS_DSP` (SSAT/USAT saturation) `#else` (portable) `#endif`.
void emit_q8_requant_any(KernelContext &k, bool tfl, const std::string &acc, const std::string &sc_or_mult,
                         const std::string &shift, int64_t zp, ir::DType yt, const std::string &dst);

// ---- TFLite semantics (--int8-semantics tflite)
/// True when the quantize-folding pass tagged `n` with tmc_int8_semantics=tflite.
bool tflite_semantics(const ir::Node &n);

/// TFLite's QuantizeMultiplier (ir/quant_math.h).
using ir::tflite_quantize_multiplier;

/// Per-channel TFLite multipliers of a conv/FC: M[c] = in_s * w_s[c] / out_s
/// in double (w_s has 1 or `channels` entries). Emits the constant arrays
/// `static const int32_t <name>_m[channels]` and `static const int8_t <name>_s[channels]`.
void emit_tflite_multipliers(KernelContext &k, const std::string &name, double in_s, const std::vector<double> &w_s,
                             double out_s, int64_t channels);

/// Registers the C helpers of the TFLite arithmetic (called from
/// register_int8_kernels): tfl_mbqm (MultiplyByQuantizedMultiplier),
/// tfl_srdhm, tfl_rdpot, tfl_exp_neg, tfl_recip.
void register_tflite_helpers();

/// Emits dst = clamp(MultiplyByQuantizedMultiplier(acc, mult, shift) + zp):
/// TFLite's integer requantization (double rounding).
void emit_q8_requant_tflite(KernelContext &k, const std::string &acc, const std::string &mult,
                            const std::string &shift, int64_t zp, ir::DType yt, const std::string &dst);

/// One element of tmc::QAdd with constant parameters: `dst` = QAdd(`a`, `b`)
/// (int32 expressions of 8-bit values), TFLite's ADD when `tflite`, else
/// ONNX Runtime's QDQ float path (dequantize, add, divide, round half to even).
void emit_q8_add_element(KernelContext &k, bool tflite, double sa, int64_t za, double sb, int64_t zb, double sy,
                         int64_t zy, ir::DType yt, const std::string &a, const std::string &b, const std::string &dst);

/// The element operation of tmc::QAdd for one pair, with the parameters of
/// tmc::QLinearConvAdd (conv value side: inputs 6/7, skip: 10/11, output:
/// 12/13): `dst` = QAdd(`qv` (int32 expression of an int8 value), `skip`),
/// bit-identical to the QAdd kernel in either int8 semantics.
void emit_q8_residual_add(KernelContext &k, const ir::Node &n, const std::string &qv, const std::string &skip,
                          const std::string &dst);

/// "1, 2, 3"
std::string int_array(const std::vector<int64_t> &v);

/// Emits accumulation of dot products of length K: int16 columns xs[i] (in
/// each full quad of 4 the order is 0, 2, 1, 3, so one 32-bit word pairs with
/// SXTB16 of 4 weight bytes) with int8 weight rows ws[j] (natural order) into
/// int32 accumulators acc[i][j].
void emit_q8_dot(KernelContext &k, int64_t K, const std::vector<std::string> &xs, const std::vector<std::string> &ws,
                 const std::vector<std::vector<std::string>> &acc);

} // namespace tmc::codegen
