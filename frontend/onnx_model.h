// Reading ONNX model files as protobuf, for the importer and for tools that
// rewrite models (tmc quantize, tmc verify --per-layer): one place for the
// file errors and for the external-data rules.
#pragma once
#include <string>

#include <onnx/onnx_pb.h>

namespace tmc::frontend {

/// The bytes of a model file; CompileError "PATH: no such file" / "is a
/// directory" / "cannot open the file".
std::string read_model_file(const std::string &path);

/// Parses a model file; CompileError "PATH: not a valid ONNX model" too.
onnx::ModelProto load_model_proto(const std::string &path);

/// Replaces the external data of tensor `t` with its bytes. The location must
/// be relative and stay inside `model_dir`; offsets and lengths are checked.
/// Throws CompileError("tensor 'NAME': ...").
void inline_external_tensor(onnx::TensorProto &t, const std::string &model_dir);

/// inline_external_tensor on every initializer and tensor attribute of `g`,
/// subgraphs included.
void inline_external_data(onnx::GraphProto &g, const std::string &model_dir);

} // namespace tmc::frontend
