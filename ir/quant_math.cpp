#include "ir/quant_math.h"

#include <cmath>
#include <limits>

namespace tmc::ir {

void tflite_quantize_multiplier(double m, int32_t &mult, int &shift) {
  shift = 0;
  mult = 0;
  if (m == 0.0) return;
  double q = std::frexp(m, &shift);
  int64_t qf = (int64_t)std::round(q * 2147483648.0);
  if (qf == INT64_C(2147483648)) {
    qf /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    qf = 0;
  }
  mult = (int32_t)qf;
}

int32_t tflite_srdhm(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  int64_t ab = (int64_t)a * (int64_t)b;
  int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
  return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

int32_t tflite_rdpot(int32_t x, int e) {
  int32_t mask = (int32_t)((INT64_C(1) << e) - 1);
  int32_t rem = x & mask, thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > thr ? 1 : 0);
}

int32_t tflite_mbqm(int32_t x, int32_t mult, int shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int32_t xs = (int32_t)((uint32_t)x << left);
  return tflite_rdpot(tflite_srdhm(xs, mult), right);
}

} // namespace tmc::ir
