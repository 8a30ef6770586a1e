// Reading and writing tensors for `tmc verify`: NumPy .npy files, NumPy
// .npz archives (a zip of .npy, stored or deflate-compressed) and serialized
// ONNX TensorProto .pb files.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "frontend/tensor_proto.h"

namespace tmc::driver {

using Tensor = frontend::LoadedTensor;

/// Loads a .npy or .pb file (by extension; other extensions are sniffed).
Tensor load_tensor_file(const std::string &path);
Tensor parse_npy(const std::string &bytes, const std::string &what);
std::string write_npy(const Tensor &t);

/// Reads every array of a NumPy .npz archive (numpy.savez or
/// numpy.savez_compressed), in archive order, keyed by the member name
/// without its ".npy" suffix. Throws ir::CompileError naming the file and the
/// member on any problem (not a zip, unsupported compression, bad CRC,
/// malformed .npy).
std::vector<std::pair<std::string, Tensor>> load_npz(const std::string &path);
std::vector<std::pair<std::string, Tensor>> parse_npz(const std::string &bytes, const std::string &what);

} // namespace tmc::driver
