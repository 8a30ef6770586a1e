#include "codegen/kernels/int8_emit.h"

#include <cctype>
#include <fmt/format.h>

namespace tmc::codegen {

std::string upper(std::string s) {
  for (auto &c : s) c = (char)std::toupper((unsigned char)c);
  return s;
}

/// Emits the requantization of int32 expression `acc` with float scale `sc`
/// and stores it to `dst`.
void emit_q8_requant(KernelContext &k, const std::string &acc, const std::string &sc, int64_t zp, ir::DType yt,
                     const std::string &dst) {
  int lo = yt == ir::DType::U8 ? 0 : -128, hi = yt == ir::DType::U8 ? 255 : 127;
  k.open("{{");
  k.line("float v = (float)({}) * {};", acc, sc);
  k.line("uint32_t u;");
  k.line("int32_t r;");
  k.line("v = v < -512.0f ? -512.0f : (v > 512.0f ? 512.0f : v);");
  k.line("v += 12582912.0f;");
  k.line("memcpy(&u, &v, 4);");
  k.line("r = (int32_t)(u & 0x7FFFFFu) - {};", 0x400000 - zp);
  k.line("{} = ({})(r < {} ? {} : (r > {} ? {} : r));", dst, ir::dtype_ctype(yt), lo, lo, hi, hi);
  k.close();
}

std::string int_array(const std::vector<int64_t> &v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s;
}

/// Emits accumulation of dot products of length K: int16 columns xs[i] (laid
/// out by emit_q8_col_store: in each full quad of 4 the order is 0, 2, 1, 3,
/// so that one 32-bit word pairs with SXTB16 of 4 weight bytes) with int8
/// weight rows ws[j] (natural order) into int32 accumulators acc[i][j].
void emit_q8_dot(KernelContext &k, int64_t K, const std::vector<std::string> &xs, const std::vector<std::string> &ws,
                 const std::vector<std::vector<std::string>> &acc) {
  int64_t K4 = K / 4;
  std::string P = k.prefix;
  auto tail = [&](int64_t from) {
    if (from >= K) return;
    k.open("for (size_t i = {}; i < {}; ++i) {{", from, K);
    for (size_t i = 0; i < xs.size(); ++i) k.line("const int32_t xv{} = (int32_t){}[i];", i, xs[i]);
    for (size_t i = 0; i < xs.size(); ++i)
      for (size_t j = 0; j < ws.size(); ++j) k.line("{} += xv{} * (int32_t){}[i];", acc[i][j], i, ws[j]);
    k.close();
  };
  if (K4 > 0) {
    k.line("#if {}_HAS_DSP", upper(P));
    k.open("for (size_t i = 0; i < {}; i += 4) {{", K4 * 4);
    for (size_t i = 0; i < xs.size(); ++i) {
      k.line("uint32_t xa{0}, xb{0};", i);
      k.line("memcpy(&xa{}, {} + i, 4);", i, xs[i]);
      k.line("memcpy(&xb{}, {} + i + 2, 4);", i, xs[i]);
    }
    for (size_t j = 0; j < ws.size(); ++j) {
      k.open("{{");
      k.line("uint32_t w, wa, wb;");
      k.line("memcpy(&w, {} + i, 4);", ws[j]);
      k.line("wa = {}_sxtb16(w);", P);
      k.line("wb = {}_sxtb16_ror8(w);", P);
      for (size_t i = 0; i < xs.size(); ++i) {
        k.line("{0} = {1}_smlad(xa{2}, wa, {0});", acc[i][j], P, i);
        k.line("{0} = {1}_smlad(xb{2}, wb, {0});", acc[i][j], P, i);
      }
      k.close();
    }
    k.close();
    k.line("#else");
    k.open("for (size_t i = 0; i < {}; i += 4) {{", K4 * 4);
    for (size_t i = 0; i < xs.size(); ++i)
      k.line("const int32_t xa{0} = {1}[i], xb{0} = {1}[i + 1], xc{0} = {1}[i + 2], xd{0} = {1}[i + 3];", i, xs[i]);
    for (size_t j = 0; j < ws.size(); ++j) {
      k.open("{{");
      k.line("const int32_t wa = {0}[i], wb = {0}[i + 1], wc = {0}[i + 2], wd = {0}[i + 3];", ws[j]);
      for (size_t i = 0; i < xs.size(); ++i)
        k.line("{0} += xa{1} * wa + xb{1} * wc + xc{1} * wb + xd{1} * wd;", acc[i][j], i);
      k.close();
    }
    k.close();
    k.line("#endif");
  }
  tail(K4 * 4);
}

} // namespace tmc::codegen
