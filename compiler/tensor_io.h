// Reading and writing tensors for `tmc verify`: NumPy .npy files and
// serialized ONNX TensorProto .pb files.
#pragma once
#include <string>

#include "frontend/tensor_proto.h"

namespace tmc::driver {

using Tensor = frontend::LoadedTensor;

/// Loads a .npy or .pb file (by extension; other extensions are sniffed).
Tensor load_tensor_file(const std::string &path);
Tensor parse_npy(const std::string &bytes, const std::string &what);
std::string write_npy(const Tensor &t);

} // namespace tmc::driver
