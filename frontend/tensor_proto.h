// Conversion between serialized ONNX TensorProto and IR constant data.
#pragma once
#include <string>

#include "ir/graph.h"

namespace tmc::frontend {

struct LoadedTensor {
  std::string name;
  ir::DType dtype = ir::DType::Undefined;
  ir::Shape shape;
  ir::BytesPtr data;
};

/// Parses a serialized TensorProto (a test_data_set_*/*.pb file). Throws
/// ir::CompileError on malformed input. External data is not allowed here.
LoadedTensor parse_tensor_proto_bytes(const std::string &bytes, const std::string &what);

/// Serializes a tensor as a TensorProto (raw_data form).
std::string serialize_tensor_proto(const LoadedTensor &t);

} // namespace tmc::frontend
