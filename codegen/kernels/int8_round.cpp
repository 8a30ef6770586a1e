#include "codegen/kernels/int8_round.h"

#include "codegen/kernels/int8_emit.h"

namespace tmc::codegen {

void emit_round_store(KernelContext &k, const std::string &v, const std::string &add, int64_t zp_after, ir::DType yt,
                      const std::string &dst) {
  k.open("{{");
  k.line("float v = {};", v);
  k.line("uint32_t u;");
  k.line("int32_t r;");
  k.line("v = v < -1024.0f ? -1024.0f : (v > 1024.0f ? 1024.0f : v);");
  if (!add.empty()) k.line("v += {};", add);
  // 1.5 * 2^23: the sum's mantissa holds v rounded half to even (|v| < 2^22).
  k.line("v += 12582912.0f;");
  k.line("memcpy(&u, &v, 4);");
  k.line("r = (int32_t)(u & 0x7FFFFFu) - {};", 0x400000 - zp_after);
  k.line("{} = ({})(r < {} ? {} : (r > {} ? {} : r));", dst, ir::dtype_ctype(yt), qlo(yt), qlo(yt), qhi(yt), qhi(yt));
  k.close();
}

} // namespace tmc::codegen
