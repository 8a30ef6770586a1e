// Schemas (for type and shape inference) of ONNX Runtime's com.microsoft
// QOperator ops, opset 1. Input order (ONNX Runtime's contrib op reference):
//   QLinearAdd, QLinearMul: A, A_scale, A_zero_point?, B, B_scale,
//       B_zero_point?, C_scale, C_zero_point? -> C (broadcast)
//   QLinearAveragePool: X, x_scale, x_zero_point?, y_scale, y_zero_point?
//       attrs as AveragePool + channels_last
//   QLinearGlobalAveragePool: X, x_scale, x_zero_point, y_scale, y_zero_point
//       attr channels_last
//   QLinearConcat: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point)
//       per input; attr axis
//   QLinearLeakyRelu (attr alpha), QLinearSigmoid: X, X_scale,
//       X_zero_point?, Y_scale, Y_zero_point? -> Y of X's shape
#include "frontend/contrib_schemas.h"

#include <map>
#include <string>

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>

namespace tmc::frontend {
namespace {

using onnx::AttributeProto;
using onnx::InferenceContext;
using onnx::OpSchema;

const char *kDomain = "com.microsoft";
const std::vector<std::string> kQ8 = {"tensor(uint8)", "tensor(int8)"};

/// Delegates shape inference to a standard op whose input 0 and attributes
/// mean the same (AveragePool, GlobalAveragePool). NHWC (channels_last) is
/// left uninferred.
void infer_like(InferenceContext &ctx, const char *op, int opset) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  const AttributeProto *cl = ctx.getAttribute("channels_last");
  if (cl && cl->i() != 0) return;
  const OpSchema *s = onnx::OpSchemaRegistry::Schema(op, opset, "");
  if (s && s->has_type_and_shape_inference_function()) s->GetTypeAndShapeInferenceFunction()(ctx);
}

void infer_binary(InferenceContext &ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (ctx.getNumInputs() > 3 && onnx::hasInputShape(ctx, 0) && onnx::hasInputShape(ctx, 3))
    onnx::bidirectionalBroadcastShapeInference(ctx.getInputType(0)->tensor_type().shape(),
                                               ctx.getInputType(3)->tensor_type().shape(),
                                               *ctx.getOutputType(0)->mutable_tensor_type()->mutable_shape());
}

void infer_concat(InferenceContext &ctx) {
  size_t n = ctx.getNumInputs();
  if (n < 5 || (n - 2) % 3 != 0)
    fail_shape_inference("QLinearConcat needs Y_scale, Y_zero_point and (X, scale, zero point) triples");
  onnx::propagateElemTypeFromInputToOutput(ctx, 2, 0);
  for (size_t i = 2; i < n; i += 3)
    if (!onnx::hasInputShape(ctx, i)) return;
  const AttributeProto *ax = ctx.getAttribute("axis");
  if (!ax) fail_shape_inference("QLinearConcat: attribute axis is required");
  const auto &first = ctx.getInputType(2)->tensor_type().shape();
  int rank = first.dim_size();
  int64_t axis = ax->i() < 0 ? ax->i() + rank : ax->i();
  if (axis < 0 || axis >= rank) fail_shape_inference("QLinearConcat: axis out of range");
  int64_t total = 0;
  for (size_t i = 2; i < n; i += 3) {
    const auto &s = ctx.getInputType(i)->tensor_type().shape();
    if (s.dim_size() != rank) fail_shape_inference("QLinearConcat: inputs have different ranks");
    for (int d = 0; d < rank; ++d) {
      if (!s.dim(d).has_dim_value()) return;
      if (d == axis) total += s.dim(d).dim_value();
      else if (s.dim(d).dim_value() != first.dim(d).dim_value())
        fail_shape_inference("QLinearConcat: input shapes differ outside the axis");
    }
  }
  auto *out = ctx.getOutputType(0)->mutable_tensor_type()->mutable_shape();
  out->clear_dim();
  for (int d = 0; d < rank; ++d) out->add_dim()->set_dim_value(d == axis ? total : first.dim(d).dim_value());
}

OpSchema base(const char *name) {
  OpSchema s;
  s.SetName(name).SetDomain(kDomain).SinceVersion(1);
  return s;
}

/// X, X_scale, X_zero_point?, Y_scale, Y_zero_point? -> Y
OpSchema unary(const char *name) {
  OpSchema s = base(name);
  s.Input(0, "X", "", "T")
      .Input(1, "X_scale", "", "tensor(float)")
      .Input(2, "X_zero_point", "", "T", OpSchema::Optional)
      .Input(3, "Y_scale", "", "tensor(float)")
      .Input(4, "Y_zero_point", "", "T", OpSchema::Optional)
      .Output(0, "Y", "", "T")
      .TypeConstraint("T", kQ8, "");
  return s;
}

OpSchema binary(const char *name) {
  OpSchema s = base(name);
  s.Input(0, "A", "", "T")
      .Input(1, "A_scale", "", "tensor(float)")
      .Input(2, "A_zero_point", "", "T", OpSchema::Optional)
      .Input(3, "B", "", "T")
      .Input(4, "B_scale", "", "tensor(float)")
      .Input(5, "B_zero_point", "", "T", OpSchema::Optional)
      .Input(6, "C_scale", "", "tensor(float)")
      .Input(7, "C_zero_point", "", "T", OpSchema::Optional)
      .Output(0, "C", "", "T")
      .TypeConstraint("T", kQ8, "")
      .TypeAndShapeInferenceFunction(infer_binary);
  return s;
}

class Registry final : public onnx::ISchemaRegistry {
public:
  Registry() {
    add(binary("QLinearAdd"));
    add(binary("QLinearMul"));
    {
      OpSchema s = unary("QLinearAveragePool");
      s.Attr("auto_pad", "", AttributeProto::STRING, std::string("NOTSET"))
          .Attr("ceil_mode", "", AttributeProto::INT, int64_t(0))
          .Attr("channels_last", "", AttributeProto::INT, int64_t(0))
          .Attr("count_include_pad", "", AttributeProto::INT, int64_t(0))
          .Attr("kernel_shape", "", AttributeProto::INTS)
          .Attr("pads", "", AttributeProto::INTS, false)
          .Attr("strides", "", AttributeProto::INTS, false)
          .TypeAndShapeInferenceFunction([](InferenceContext &ctx) { infer_like(ctx, "AveragePool", 11); });
      add(std::move(s));
    }
    {
      OpSchema s = unary("QLinearGlobalAveragePool");
      s.Attr("channels_last", "", AttributeProto::INT, int64_t(0))
          .TypeAndShapeInferenceFunction([](InferenceContext &ctx) { infer_like(ctx, "GlobalAveragePool", 1); });
      add(std::move(s));
    }
    {
      OpSchema s = unary("QLinearLeakyRelu");
      s.Attr("alpha", "", AttributeProto::FLOAT, 0.01f)
          .TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
      add(std::move(s));
    }
    {
      OpSchema s = unary("QLinearSigmoid");
      s.TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
      add(std::move(s));
    }
    {
      OpSchema s = base("QLinearConcat");
      s.Attr("axis", "", AttributeProto::INT)
          .Input(0, "Y_scale", "", "TF")
          .Input(1, "Y_zero_point", "", "T8")
          .Input(2, "inputs", "", "TV", OpSchema::Variadic, false)
          .Output(0, "Y", "", "T8")
          .TypeConstraint("T8", kQ8, "")
          .TypeConstraint("TF", {"tensor(float)"}, "")
          .TypeConstraint("TV", {"tensor(uint8)", "tensor(int8)", "tensor(float)"}, "")
          .TypeAndShapeInferenceFunction(infer_concat);
      add(std::move(s));
    }
  }

  const OpSchema *GetSchema(const std::string &key, const int maxInclusiveVersion,
                            const std::string &domain) const override {
    if (domain == kDomain) {
      auto it = schemas_.find(key);
      return it != schemas_.end() && maxInclusiveVersion >= 1 ? &it->second : nullptr;
    }
    return onnx::OpSchemaRegistry::Instance()->GetSchema(key, maxInclusiveVersion, domain);
  }

private:
  void add(OpSchema s) {
    s.Finalize();
    std::string name = s.Name();
    schemas_.emplace(name, std::move(s));
  }
  std::map<std::string, OpSchema> schemas_;
};

} // namespace

const onnx::ISchemaRegistry *schema_registry() {
  static const Registry r;
  return &r;
}

} // namespace tmc::frontend
