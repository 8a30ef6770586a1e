// Reference evaluator used by constant folding and by calibration (tmc
// quantize): computes a node's outputs from constant inputs on the host. It
// covers the ops that appear in shape computations and weight preprocessing,
// plus Conv, pooling and BatchNormalization in float32 (eval/nn.cpp, which
// constant folding leaves to the generated code); other ops are not folded.
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes::eval {

/// A host tensor: dtype, shape and row-major little-endian bytes.
struct HostTensor {
  ir::DType dtype = ir::DType::Undefined;
  ir::Shape shape;
  ir::Bytes data;
};

/// True if `evaluate` implements `n.op` for the node's dtypes and attributes.
bool can_evaluate(const ir::Node &n);

/// Evaluates `n` on constant inputs (nullptr for omitted optional inputs).
/// Returns one HostTensor per node output (empty dtype for omitted outputs).
/// Throws ir::CompileError if the node is malformed.
std::vector<HostTensor> evaluate(const ir::Node &n, const std::vector<const ir::Value *> &inputs);

} // namespace tmc::passes::eval
