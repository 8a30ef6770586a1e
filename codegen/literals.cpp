#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "codegen/kernel.h"

namespace tmc::codegen {

std::string c_float_literal(float v) {
  if (std::isnan(v)) return "NAN";
  if (std::isinf(v)) return v > 0 ? "INFINITY" : "(-INFINITY)";
  char buf[64];
  for (int prec = 6; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
    if (std::strtof(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  if (s.find('e') != std::string::npos && s.find('.') == std::string::npos) {
    // "1e+10" is fine in C, keep it.
  }
  return s + "f";
}

std::string c_double_literal(double v) {
  if (std::isnan(v)) return "((double)NAN)";
  if (std::isinf(v)) return v > 0 ? "((double)INFINITY)" : "(-(double)INFINITY)";
  char buf[64];
  for (int prec = 15; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string c_int_literal(ir::DType dt, int64_t v) {
  using ir::DType;
  switch (dt) {
  case DType::I64:
    if (v == INT64_MIN) return "(-INT64_C(9223372036854775807) - 1)";
    return "INT64_C(" + std::to_string(v) + ")";
  case DType::U64: return "UINT64_C(" + std::to_string((uint64_t)v) + ")";
  case DType::U32: return std::to_string((uint32_t)v) + "u";
  case DType::I32:
    if (v == INT32_MIN) return "(-2147483647 - 1)";
    return std::to_string(v);
  default: return std::to_string(v);
  }
}

std::string c_literal(ir::DType dt, double v) {
  switch (dt) {
  case ir::DType::F32: return c_float_literal((float)v);
  case ir::DType::F64: return c_double_literal(v);
  default: return c_int_literal(dt, (int64_t)v);
  }
}

} // namespace tmc::codegen
