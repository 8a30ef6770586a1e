// Internal to the frontend: TensorProto -> bytes.
#pragma once
#include <onnx/onnx_pb.h>

#include "ir/graph.h"

namespace tmc::frontend {
ir::BytesPtr tensor_proto_data(const onnx::TensorProto &t, const std::string &what);
}
