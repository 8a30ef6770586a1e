// The neural-network ops of the host evaluator (passes/eval/nn.cpp).
#pragma once
#include <vector>

#include "passes/eval/evaluator.h"

namespace tmc::passes::eval {

/// Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool or
/// BatchNormalization of domain ai.onnx.
bool is_nn_op(const ir::Node &n);
/// True if nn_evaluate implements this node (float32, supported attributes).
bool nn_can_evaluate(const ir::Node &n);
/// Float32 outputs of the node on constant inputs.
std::vector<HostTensor> nn_evaluate(const ir::Node &n, const std::vector<const ir::Value *> &inputs);

} // namespace tmc::passes::eval
