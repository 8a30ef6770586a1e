// The schema registry used for ONNX shape inference: ONNX's own, plus the
// com.microsoft QOperator ops that ONNX Runtime's quantizer writes
// (QLinearAdd, QLinearMul, QLinearAveragePool, QLinearGlobalAveragePool,
// QLinearConcat, QLinearLeakyRelu, QLinearSigmoid), so that their outputs
// and everything downstream get static types and shapes at import. The pass
// lower-qoperator (passes/lower_qoperator.cpp) turns those nodes into tmc
// integer ops.
#pragma once

namespace onnx {
class ISchemaRegistry;
}

namespace tmc::frontend {

/// ONNX's registry extended with the com.microsoft QOperator schemas (type
/// and shape inference only; the ONNX checker still treats them as custom ops).
const onnx::ISchemaRegistry *schema_registry();

} // namespace tmc::frontend
