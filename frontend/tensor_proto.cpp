#include "frontend/tensor_proto.h"

#include <cstring>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "frontend/tensor_proto_impl.h"

namespace tmc::frontend {

using ir::CompileError;
using ir::DType;

template <typename Dst, typename Src>
static void pack(ir::Bytes &out, const Src &field) {
  out.resize((size_t)field.size() * sizeof(Dst));
  for (int i = 0; i < field.size(); ++i) {
    Dst v = (Dst)field.Get(i);
    std::memcpy(out.data() + (size_t)i * sizeof(Dst), &v, sizeof(Dst));
  }
}

ir::BytesPtr tensor_proto_data(const onnx::TensorProto &t, const std::string &what) {
  DType dt = ir::dtype_from_onnx(t.data_type());
  if (dt == DType::Undefined)
    throw CompileError(fmt::format("{}: tensor '{}' has unsupported data type {}", what,
                                   t.name(), t.data_type()));
  if (dt == DType::String)
    throw CompileError(fmt::format("{}: tensor '{}' is a string tensor; string tensors are not supported",
                                   what, t.name()));
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw CompileError(fmt::format("{}: tensor '{}' uses external data that was not resolved",
                                   what, t.name()));
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) throw CompileError(fmt::format("{}: tensor '{}' has a negative dimension", what, t.name()));
    n *= d;
  }
  auto out = std::make_shared<ir::Bytes>();
  if (t.has_raw_data()) {
    out->assign(t.raw_data().begin(), t.raw_data().end());
  } else {
    switch (dt) {
    case DType::F32: pack<float>(*out, t.float_data()); break;
    case DType::F64: pack<double>(*out, t.double_data()); break;
    case DType::I64: pack<int64_t>(*out, t.int64_data()); break;
    case DType::U32: pack<uint32_t>(*out, t.uint64_data()); break;
    case DType::U64: pack<uint64_t>(*out, t.uint64_data()); break;
    case DType::I32: pack<int32_t>(*out, t.int32_data()); break;
    case DType::I16: pack<int16_t>(*out, t.int32_data()); break;
    case DType::U16: case DType::F16: case DType::BF16: pack<uint16_t>(*out, t.int32_data()); break;
    case DType::I8: pack<int8_t>(*out, t.int32_data()); break;
    case DType::U8: case DType::Bool: pack<uint8_t>(*out, t.int32_data()); break;
    default: break;
    }
  }
  int64_t want = n * (int64_t)ir::dtype_size(dt);
  if ((int64_t)out->size() != want)
    throw CompileError(fmt::format("{}: tensor '{}' holds {} bytes but its shape needs {}", what,
                                   t.name(), out->size(), want));
  return out;
}

LoadedTensor parse_tensor_proto_bytes(const std::string &bytes, const std::string &what) {
  onnx::TensorProto t;
  if (!t.ParseFromString(bytes))
    throw CompileError(fmt::format("{}: not a valid serialized ONNX TensorProto", what));
  LoadedTensor r;
  r.name = t.name();
  r.dtype = ir::dtype_from_onnx(t.data_type());
  r.shape.assign(t.dims().begin(), t.dims().end());
  r.data = tensor_proto_data(t, what);
  return r;
}

std::string serialize_tensor_proto(const LoadedTensor &lt) {
  onnx::TensorProto t;
  t.set_name(lt.name);
  t.set_data_type(ir::dtype_to_onnx(lt.dtype));
  for (int64_t d : lt.shape) t.add_dims(d);
  t.set_raw_data(std::string(lt.data->begin(), lt.data->end()));
  return t.SerializeAsString();
}

} // namespace tmc::frontend
