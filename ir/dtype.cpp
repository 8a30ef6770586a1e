#include "ir/dtype.h"

#include <cmath>
#include <cstring>

namespace tmc::ir {

size_t dtype_size(DType t) {
  switch (t) {
  case DType::F32: case DType::I32: case DType::U32: return 4;
  case DType::F64: case DType::I64: case DType::U64: return 8;
  case DType::F16: case DType::BF16: case DType::I16: case DType::U16: return 2;
  case DType::I8: case DType::U8: case DType::Bool: return 1;
  case DType::String: case DType::Undefined: return 0;
  }
  return 0;
}

const char *dtype_name(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F64: return "f64";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::I8: return "i8";
  case DType::I16: return "i16";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::U8: return "u8";
  case DType::U16: return "u16";
  case DType::U32: return "u32";
  case DType::U64: return "u64";
  case DType::Bool: return "bool";
  case DType::String: return "string";
  case DType::Undefined: return "undef";
  }
  return "undef";
}

const char *dtype_ctype(DType t) {
  switch (t) {
  case DType::F32: return "float";
  case DType::F64: return "double";
  case DType::F16: return "uint16_t";
  case DType::BF16: return "uint16_t";
  case DType::I8: return "int8_t";
  case DType::I16: return "int16_t";
  case DType::I32: return "int32_t";
  case DType::I64: return "int64_t";
  case DType::U8: return "uint8_t";
  case DType::U16: return "uint16_t";
  case DType::U32: return "uint32_t";
  case DType::U64: return "uint64_t";
  case DType::Bool: return "uint8_t";
  default: return "void";
  }
}

const char *dtype_enum_name(DType t) {
  switch (t) {
  case DType::F32: return "FLOAT32";
  case DType::F64: return "FLOAT64";
  case DType::F16: return "FLOAT16";
  case DType::BF16: return "BFLOAT16";
  case DType::I8: return "INT8";
  case DType::I16: return "INT16";
  case DType::I32: return "INT32";
  case DType::I64: return "INT64";
  case DType::U8: return "UINT8";
  case DType::U16: return "UINT16";
  case DType::U32: return "UINT32";
  case DType::U64: return "UINT64";
  case DType::Bool: return "BOOL";
  case DType::String: return "STRING";
  default: return "UNDEFINED";
  }
}

bool dtype_is_float(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16;
}
bool dtype_is_integer(DType t) {
  switch (t) {
  case DType::I8: case DType::I16: case DType::I32: case DType::I64:
  case DType::U8: case DType::U16: case DType::U32: case DType::U64: return true;
  default: return false;
  }
}
bool dtype_is_signed(DType t) {
  switch (t) {
  case DType::I8: case DType::I16: case DType::I32: case DType::I64:
  case DType::F32: case DType::F64: case DType::F16: case DType::BF16: return true;
  default: return false;
  }
}

// Numbers from onnx.proto's TensorProto.DataType.
DType dtype_from_onnx(int v) {
  switch (v) {
  case 1: return DType::F32;
  case 2: return DType::U8;
  case 3: return DType::I8;
  case 4: return DType::U16;
  case 5: return DType::I16;
  case 6: return DType::I32;
  case 7: return DType::I64;
  case 8: return DType::String;
  case 9: return DType::Bool;
  case 10: return DType::F16;
  case 11: return DType::F64;
  case 12: return DType::U32;
  case 13: return DType::U64;
  case 16: return DType::BF16;
  default: return DType::Undefined;
  }
}

int dtype_to_onnx(DType t) {
  switch (t) {
  case DType::F32: return 1;
  case DType::U8: return 2;
  case DType::I8: return 3;
  case DType::U16: return 4;
  case DType::I16: return 5;
  case DType::I32: return 6;
  case DType::I64: return 7;
  case DType::String: return 8;
  case DType::Bool: return 9;
  case DType::F16: return 10;
  case DType::F64: return 11;
  case DType::U32: return 12;
  case DType::U64: return 13;
  case DType::BF16: return 16;
  default: return 0;
  }
}

float f16_to_f32(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  uint32_t bits;
  if (e == 0) {
    if (m == 0) {
      bits = s;
    } else {
      float f = std::ldexp((float)m, -24);
      return s ? -f : f;
    }
  } else if (e == 31) {
    bits = s | 0x7f800000u | (m << 13);
  } else {
    bits = s | ((e + 112u) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t s = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(s | 0x7e00u | ((ax >> 13) & 0x3ffu)); // NaN
  if (ax >= 0x477ff000u) return (uint16_t)(s | 0x7c00u); // overflow (or inf)
  if (ax < 0x38800000u) { // below the smallest normal half: subnormal or zero
    float a;
    std::memcpy(&a, &ax, 4);
    float r = std::nearbyint(a * 16777216.0f); // exact scaling by 2^24; ties to even
    return (uint16_t)(s | (uint16_t)r);
  }
  uint32_t mant = ax & 0x7fffffu;
  uint32_t e = (ax >> 23) - 112u;
  uint32_t h = (e << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h; // carry may bump the exponent: correct
  return (uint16_t)(s | h);
}

float bf16_to_f32(uint16_t b) {
  uint32_t x = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  uint32_t r = 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)((x + r) >> 16);
}

} // namespace tmc::ir
