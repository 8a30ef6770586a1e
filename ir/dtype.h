// Element types of the tmc IR.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tmc::ir {

enum class DType : uint8_t {
  Undefined = 0,
  F32,
  F64,
  F16,
  BF16,
  I8,
  I16,
  I32,
  I64,
  U8,
  U16,
  U32,
  U64,
  Bool,
  String,
};

/// Bytes per element (Bool is stored as one byte).
size_t dtype_size(DType t);
/// Short name used in IR dumps: "f32", "i64", "bool".
const char *dtype_name(DType t);
/// The C type used in generated code: "float", "int64_t", "uint8_t" for bool.
const char *dtype_ctype(DType t);
/// Upper-case identifier used in the generated header: "FLOAT32", "INT64".
const char *dtype_enum_name(DType t);
bool dtype_is_float(DType t);   // F32, F64, F16, BF16
bool dtype_is_integer(DType t); // signed or unsigned integers (not bool)
bool dtype_is_signed(DType t);

/// IEEE half and bfloat16 bit patterns to/from float32: exact widening;
/// narrowing rounds to nearest even (overflow to infinity, NaN kept).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);

/// Conversion from/to ONNX TensorProto::DataType numbers, kept here so the IR
/// does not depend on the ONNX headers.
DType dtype_from_onnx(int onnx_type);
int dtype_to_onnx(DType t);

} // namespace tmc::ir
