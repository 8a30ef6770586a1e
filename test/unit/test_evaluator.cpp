// Unit tests for the host reference evaluator used by constant folding.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "passes/eval/evaluator.h"

using namespace tmc;
using ir::DType;
using ir::Shape;
using passes::eval::HostTensor;

namespace {

/// A graph holding one node under test, with constant inputs.
struct EvalFixture {
  ir::Graph g;
  ir::Node *node = nullptr;
  explicit EvalFixture(int opset = 17) { g.opsets[""] = opset; }

  template <typename T> ir::Value *c(DType dt, const Shape &s, const std::vector<T> &v) {
    return g.add_constant_of<T>("", dt, s, v);
  }
  ir::Value *f32(const Shape &s, const std::vector<float> &v) { return c<float>(DType::F32, s, v); }
  ir::Value *i64(const Shape &s, const std::vector<int64_t> &v) { return c<int64_t>(DType::I64, s, v); }
  ir::Value *i32(const Shape &s, const std::vector<int32_t> &v) { return c<int32_t>(DType::I32, s, v); }
  ir::Value *b8(const Shape &s, const std::vector<uint8_t> &v) { return c<uint8_t>(DType::Bool, s, v); }

  /// Adds the node (outputs of unknown dtype/shape unless given).
  ir::Node *add(const std::string &op, std::vector<ir::Value *> ins, size_t nouts = 1,
                std::map<std::string, ir::AttrValue> attrs = {}) {
    std::vector<ir::Value *> outs;
    for (size_t i = 0; i < nouts; ++i) {
      auto *v = g.add_value("", DType::Undefined, {});
      v->shape_known = false;
      outs.push_back(v);
    }
    node = g.add_node(op, std::move(ins), outs);
    node->attrs = std::move(attrs);
    return node;
  }
  bool can() const { return passes::eval::can_evaluate(*node); }
  std::vector<HostTensor> eval() const {
    std::vector<const ir::Value *> ins(node->inputs.begin(), node->inputs.end());
    return passes::eval::evaluate(*node, ins);
  }
  /// can_evaluate must accept the node; returns output `i`.
  HostTensor run(size_t i = 0) const {
    REQUIRE(can());
    auto outs = eval();
    REQUIRE(outs.size() > i);
    return outs[i];
  }
};

template <typename T> std::vector<T> vals(const HostTensor &t) {
  REQUIRE(t.data.size() % sizeof(T) == 0);
  std::vector<T> r(t.data.size() / sizeof(T));
  if (!r.empty()) std::memcpy(r.data(), t.data.data(), t.data.size());
  return r;
}

using I64s = std::vector<int64_t>;
using F32s = std::vector<float>;
using U8s = std::vector<uint8_t>;
using Attrs = std::map<std::string, ir::AttrValue>;

ir::TensorAttr tensor_attr_i64(int64_t v) {
  ir::TensorAttr t;
  t.dtype = DType::I64;
  t.shape = {1};
  auto b = std::make_shared<ir::Bytes>(8);
  std::memcpy(b->data(), &v, 8);
  t.data = b;
  return t;
}

} // namespace

// ------------------------------------------------------------ shapes
TEST_CASE("eval: Shape with start/end and Size") {
  EvalFixture f(15);
  auto *x = f.f32({2, 3, 4, 5}, F32s(120, 0.f));
  f.add("Shape", {x});
  auto t = f.run();
  CHECK(t.dtype == DType::I64);
  CHECK(t.shape == Shape{4});
  CHECK(vals<int64_t>(t) == I64s{2, 3, 4, 5});
  f.add("Shape", {x}, 1, {{"start", int64_t(1)}, {"end", int64_t(-1)}});
  CHECK(vals<int64_t>(f.run()) == I64s{3, 4});
  f.add("Shape", {x}, 1, {{"start", int64_t(-10)}, {"end", int64_t(100)}});
  CHECK(vals<int64_t>(f.run()) == I64s{2, 3, 4, 5});
  f.add("Size", {x});
  t = f.run();
  CHECK(t.shape.empty());
  CHECK(vals<int64_t>(t) == I64s{120});
}

TEST_CASE("eval: Gather along axes, negative and scalar indices") {
  EvalFixture f;
  auto *x = f.i64({3, 2}, {1, 2, 3, 4, 5, 6});
  f.add("Gather", {x, f.i64({2}, {-1, 0})});
  auto t = f.run();
  CHECK(t.shape == Shape{2, 2});
  CHECK(vals<int64_t>(t) == I64s{5, 6, 1, 2});
  f.add("Gather", {x, f.i32({}, {1})}, 1, {{"axis", int64_t(1)}});
  t = f.run();
  CHECK(t.shape == Shape{3});
  CHECK(vals<int64_t>(t) == I64s{2, 4, 6});
  f.add("Gather", {x, f.i64({2, 2}, {0, 1, 1, 0})}, 1, {{"axis", int64_t(-1)}});
  t = f.run();
  CHECK(t.shape == Shape{3, 2, 2});
  CHECK(vals<int64_t>(t) == I64s{1, 2, 2, 1, 3, 4, 4, 3, 5, 6, 6, 5});
  // Shape-vector idiom: Gather(Shape, scalar) gives a scalar.
  auto *s = f.i64({4}, {1, 3, 8, 9});
  f.add("Gather", {s, f.i64({}, {2})});
  t = f.run();
  CHECK(t.shape.empty());
  CHECK(vals<int64_t>(t) == I64s{8});
  // Out-of-range index: malformed model.
  f.add("Gather", {x, f.i64({1}, {3})});
  CHECK_THROWS_AS(f.eval(), ir::CompileError);
}

TEST_CASE("eval: Slice with inputs, negative steps and extreme bounds") {
  EvalFixture f(13);
  auto *x = f.i64({6}, {0, 1, 2, 3, 4, 5});
  const int64_t big = std::numeric_limits<int64_t>::max();
  // torch flip: starts -1, ends -INT64_MAX, steps -1.
  f.add("Slice", {x, f.i64({1}, {-1}), f.i64({1}, {-big}), f.i64({1}, {0}), f.i64({1}, {-1})});
  CHECK(vals<int64_t>(f.run()) == I64s{5, 4, 3, 2, 1, 0});
  f.add("Slice", {x, f.i64({1}, {1}), f.i64({1}, {big})});
  CHECK(vals<int64_t>(f.run()) == I64s{1, 2, 3, 4, 5});
  f.add("Slice", {x, f.i64({1}, {1}), f.i64({1}, {-1}), f.i64({1}, {-1}), f.i64({1}, {2})});
  CHECK(vals<int64_t>(f.run()) == I64s{1, 3});
  f.add("Slice", {x, f.i64({1}, {4}), f.i64({1}, {0}), nullptr, f.i64({1}, {-3})});
  CHECK(vals<int64_t>(f.run()) == I64s{4, 1});
  f.add("Slice", {x, f.i64({1}, {4}), f.i64({1}, {2})});
  auto t = f.run();
  CHECK(t.shape == Shape{0});
  f.add("Slice", {x, f.i64({1}, {0}), f.i64({1}, {big}), f.i64({1}, {0}), f.i64({1}, {-big - 1})});
  CHECK(vals<int64_t>(f.run()).empty());
  // 2-D, one axis.
  auto *m = f.f32({2, 3}, {1, 2, 3, 4, 5, 6});
  f.add("Slice", {m, f.i32({1}, {1}), f.i32({1}, {3}), f.i32({1}, {-1})});
  t = f.run();
  CHECK(t.shape == Shape{2, 2});
  CHECK(vals<float>(t) == F32s{2, 3, 5, 6});
}

TEST_CASE("eval: Slice with attributes (opset 9)") {
  EvalFixture f(9);
  auto *m = f.f32({2, 3}, {1, 2, 3, 4, 5, 6});
  f.add("Slice", {m}, 1, {{"starts", I64s{1, 0}}, {"ends", I64s{2, 2}}});
  auto t = f.run();
  CHECK(t.shape == Shape{1, 2});
  CHECK(vals<float>(t) == F32s{4, 5});
  f.add("Slice", {m}, 1, {{"starts", I64s{-2}}, {"ends", I64s{1000}}, {"axes", I64s{1}}});
  CHECK(vals<float>(f.run()) == F32s{2, 3, 5, 6});
}

TEST_CASE("eval: Concat, Split") {
  EvalFixture f(13);
  auto *a = f.i64({1, 2}, {1, 2});
  auto *b = f.i64({2, 2}, {3, 4, 5, 6});
  f.add("Concat", {a, b}, 1, {{"axis", int64_t(0)}});
  auto t = f.run();
  CHECK(t.shape == Shape{3, 2});
  CHECK(vals<int64_t>(t) == I64s{1, 2, 3, 4, 5, 6});
  auto *e = f.i64({0}, {});
  f.add("Concat", {f.i64({1}, {7}), e, f.i64({2}, {8, 9})}, 1, {{"axis", int64_t(-1)}});
  CHECK(vals<int64_t>(f.run()) == I64s{7, 8, 9});
  f.add("Concat", {f.i64({2, 1}, {1, 2}), f.i64({2, 2}, {3, 4, 5, 6})}, 1, {{"axis", int64_t(1)}});
  CHECK(vals<int64_t>(f.run()) == I64s{1, 3, 4, 2, 5, 6});

  auto *x = f.f32({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  f.add("Split", {x}, 2, {{"axis", int64_t(1)}});
  REQUIRE(f.can());
  auto outs = f.eval();
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].shape == Shape{2, 2});
  CHECK(vals<float>(outs[0]) == F32s{0, 1, 4, 5});
  CHECK(vals<float>(outs[1]) == F32s{2, 3, 6, 7});
  f.add("Split", {x, f.i64({2}, {1, 3})}, 2, {{"axis", int64_t(-1)}});
  outs = f.eval();
  CHECK(vals<float>(outs[0]) == F32s{0, 4});
  CHECK(vals<float>(outs[1]) == F32s{1, 2, 3, 5, 6, 7});
}

TEST_CASE("eval: Split with attribute (opset 11) and num_outputs (opset 18)") {
  EvalFixture f(11);
  auto *x = f.i32({5}, {1, 2, 3, 4, 5});
  f.add("Split", {x}, 2, {{"split", I64s{2, 3}}});
  REQUIRE(f.can());
  auto outs = f.eval();
  CHECK(vals<int32_t>(outs[0]) == std::vector<int32_t>{1, 2});
  CHECK(vals<int32_t>(outs[1]) == std::vector<int32_t>{3, 4, 5});
  EvalFixture g(18);
  auto *y = g.i32({5}, {1, 2, 3, 4, 5});
  g.add("Split", {y}, 3, {{"num_outputs", int64_t(3)}});
  REQUIRE(g.can());
  outs = g.eval();
  CHECK(vals<int32_t>(outs[0]) == std::vector<int32_t>{1, 2});
  CHECK(vals<int32_t>(outs[1]) == std::vector<int32_t>{3, 4});
  CHECK(vals<int32_t>(outs[2]) == std::vector<int32_t>{5});
}

TEST_CASE("eval: Unsqueeze and Squeeze by opset") {
  EvalFixture f11(11);
  auto *x = f11.f32({3}, {1, 2, 3});
  f11.add("Unsqueeze", {x}, 1, {{"axes", I64s{0, -1}}});
  auto t = f11.run();
  CHECK(t.shape == Shape{1, 3, 1});
  CHECK(vals<float>(t) == F32s{1, 2, 3});
  f11.add("Squeeze", {f11.f32({1, 3, 1}, {1, 2, 3})});
  CHECK(f11.run().shape == Shape{3});
  f11.add("Squeeze", {f11.f32({1, 3, 1}, {1, 2, 3})}, 1, {{"axes", I64s{-1}}});
  CHECK(f11.run().shape == Shape{1, 3});

  EvalFixture f13(13);
  auto *s = f13.i64({}, {7});
  f13.add("Unsqueeze", {s, f13.i64({1}, {0})});
  t = f13.run();
  CHECK(t.shape == Shape{1});
  CHECK(vals<int64_t>(t) == I64s{7});
  f13.add("Squeeze", {f13.i64({1, 1}, {7}), f13.i64({1}, {1})});
  CHECK(f13.run().shape == Shape{1});
  f13.add("Squeeze", {f13.i64({2}, {7, 8}), f13.i64({1}, {0})});
  CHECK_THROWS_AS(f13.eval(), ir::CompileError);
}

TEST_CASE("eval: Reshape (0, -1, allowzero), Flatten, Transpose") {
  EvalFixture f(14);
  auto *x = f.i64({2, 3, 4}, I64s(24, 1));
  f.add("Reshape", {x, f.i64({3}, {0, -1, 2})});
  CHECK(f.run().shape == Shape{2, 6, 2});
  f.add("Reshape", {x, f.i64({2}, {-1, 4})});
  CHECK(f.run().shape == Shape{6, 4});
  auto *e = f.i64({0, 3}, {});
  f.add("Reshape", {e, f.i64({2}, {3, 0})}, 1, {{"allowzero", int64_t(1)}});
  CHECK(f.run().shape == Shape{3, 0});
  f.add("Reshape", {x, f.i64({1}, {5})});
  CHECK_THROWS_AS(f.eval(), ir::CompileError);

  f.add("Flatten", {x});
  CHECK(f.run().shape == Shape{2, 12});
  f.add("Flatten", {x}, 1, {{"axis", int64_t(-1)}});
  CHECK(f.run().shape == Shape{6, 4});
  f.add("Flatten", {x}, 1, {{"axis", int64_t(0)}});
  CHECK(f.run().shape == Shape{1, 24});

  auto *m = f.f32({2, 3}, {1, 2, 3, 4, 5, 6});
  f.add("Transpose", {m});
  auto t = f.run();
  CHECK(t.shape == Shape{3, 2});
  CHECK(vals<float>(t) == F32s{1, 4, 2, 5, 3, 6});
  auto *c = f.i64({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  f.add("Transpose", {c}, 1, {{"perm", I64s{2, 0, 1}}});
  t = f.run();
  CHECK(t.shape == Shape{3, 2, 1});
  CHECK(vals<int64_t>(t) == I64s{1, 4, 2, 5, 3, 6});
}

TEST_CASE("eval: ConstantOfShape, Range, Expand, Tile") {
  EvalFixture f;
  f.add("ConstantOfShape", {f.i64({2}, {2, 3})});
  auto t = f.run();
  CHECK(t.dtype == DType::F32);
  CHECK(vals<float>(t) == F32s(6, 0.f));
  f.add("ConstantOfShape", {f.i64({1}, {3})}, 1, {{"value", tensor_attr_i64(7)}});
  t = f.run();
  CHECK(t.dtype == DType::I64);
  CHECK(vals<int64_t>(t) == I64s{7, 7, 7});
  f.add("ConstantOfShape", {f.i64({0}, {})}, 1, {{"value", tensor_attr_i64(5)}});
  t = f.run();
  CHECK(t.shape.empty());
  CHECK(vals<int64_t>(t) == I64s{5});

  f.add("Range", {f.i64({}, {10}), f.i64({}, {4}), f.i64({}, {-3})});
  t = f.run();
  CHECK(t.dtype == DType::I64);
  CHECK(vals<int64_t>(t) == I64s{10, 7});
  f.add("Range", {f.i32({}, {0}), f.i32({}, {5}), f.i32({}, {2})});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{0, 2, 4});
  f.add("Range", {f.f32({}, {1.f}), f.f32({}, {2.f}), f.f32({}, {0.25f})});
  CHECK(vals<float>(f.run()) == F32s{1.f, 1.25f, 1.5f, 1.75f});
  f.add("Range", {f.i64({}, {5}), f.i64({}, {1}), f.i64({}, {1})});
  CHECK(f.run().shape == Shape{0});

  auto *x = f.i64({3, 1}, {1, 2, 3});
  f.add("Expand", {x, f.i64({3}, {2, 1, 2})});
  t = f.run();
  CHECK(t.shape == Shape{2, 3, 2});
  CHECK(vals<int64_t>(t) == I64s{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  f.add("Expand", {x, f.i64({1}, {1})}); // bidirectional: keeps [3,1]
  CHECK(f.run().shape == Shape{3, 1});

  auto *m = f.i32({2, 2}, {1, 2, 3, 4});
  f.add("Tile", {m, f.i64({2}, {2, 3})});
  t = f.run();
  CHECK(t.shape == Shape{4, 6});
  CHECK(vals<int32_t>(t) == std::vector<int32_t>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                                 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
}

// ------------------------------------------------------------ type conversion
TEST_CASE("eval: Cast between dtypes") {
  EvalFixture f;
  auto *x = f.f32({5}, {-1.5f, 2.7f, 0.f, 300.f, -0.f});
  f.add("Cast", {x}, 1, {{"to", int64_t(7)}}); // int64
  auto t = f.run();
  CHECK(t.dtype == DType::I64);
  CHECK(vals<int64_t>(t) == I64s{-1, 2, 0, 300, 0});
  f.add("Cast", {x}, 1, {{"to", int64_t(2)}}); // uint8 wraps like numpy
  CHECK(vals<uint8_t>(f.run()) == U8s{255, 2, 0, 44, 0});
  f.add("Cast", {x}, 1, {{"to", int64_t(9)}}); // bool
  CHECK(vals<uint8_t>(f.run()) == U8s{1, 1, 0, 1, 0});
  f.add("Cast", {x}, 1, {{"to", int64_t(11)}}); // double
  CHECK(vals<double>(f.run()) == std::vector<double>{-1.5, (double)2.7f, 0, 300, 0});
  f.add("Cast", {f.i64({2}, {-3, 1 << 20})}, 1, {{"to", int64_t(1)}});
  CHECK(vals<float>(f.run()) == F32s{-3.f, 1048576.f});
  // float16 round trip: 1.0 = 0x3c00, 65504 max, 1e5 -> inf, 1e-7 -> subnormal 2.
  f.add("Cast", {f.f32({5}, {1.f, -2.f, 65504.f, 1e5f, 1.1920929e-7f})}, 1, {{"to", int64_t(10)}});
  t = f.run();
  CHECK(t.dtype == DType::F16);
  CHECK(vals<uint16_t>(t) == std::vector<uint16_t>{0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0002});
  auto *h = f.c<uint16_t>(DType::F16, {3}, {0x3c00, 0x3555, 0x0001});
  f.add("Cast", {h}, 1, {{"to", int64_t(1)}});
  auto fv = vals<float>(f.run());
  CHECK(fv[0] == 1.f);
  CHECK(fv[1] == Approx(0.333251953125f));
  CHECK(fv[2] == std::ldexp(1.f, -24));
  f.add("Cast", {f.f32({1}, {1.f})}, 1, {{"to", int64_t(16)}}); // bfloat16
  CHECK(vals<uint16_t>(f.run()) == std::vector<uint16_t>{0x3f80});
  // CastLike takes the target type from its second input.
  f.add("CastLike", {f.i32({2}, {1, 2}), f.f32({1}, {0.f})});
  CHECK(vals<float>(f.run()) == F32s{1.f, 2.f});
  // Strings are not supported.
  f.add("Cast", {x}, 1, {{"to", int64_t(8)}});
  CHECK_FALSE(f.can());
}

TEST_CASE("eval: DequantizeLinear and QuantizeLinear") {
  EvalFixture f(13);
  auto *q = f.c<uint8_t>(DType::U8, {4}, {0, 128, 255, 10});
  f.add("DequantizeLinear", {q, f.f32({}, {0.5f}), f.c<uint8_t>(DType::U8, {}, {128})});
  auto t = f.run();
  CHECK(t.dtype == DType::F32);
  CHECK(vals<float>(t) == F32s{-64.f, 0.f, 63.5f, -59.f});
  auto *w = f.c<int8_t>(DType::I8, {2, 2}, {-1, 2, 3, -4});
  f.add("DequantizeLinear", {w, f.f32({2}, {0.5f, 2.f})}, 1, {{"axis", int64_t(0)}});
  CHECK(vals<float>(f.run()) == F32s{-0.5f, 1.f, 6.f, -8.f});
  f.add("DequantizeLinear", {w, f.f32({2}, {0.5f, 2.f})}, 1, {{"axis", int64_t(1)}});
  CHECK(vals<float>(f.run()) == F32s{-0.5f, 4.f, 1.5f, -8.f});

  auto *x = f.f32({6}, {0.f, 2.5f, 3.5f, -1000.f, 1000.f, -2.5f});
  f.add("QuantizeLinear", {x, f.f32({}, {1.f}), f.c<uint8_t>(DType::U8, {}, {10})});
  t = f.run();
  CHECK(t.dtype == DType::U8);
  CHECK(vals<uint8_t>(t) == U8s{10, 12, 14, 0, 255, 8}); // ties to even, saturate
  f.add("QuantizeLinear", {x, f.f32({}, {0.5f})});
  CHECK(f.run().dtype == DType::U8);
  f.add("QuantizeLinear", {x, f.f32({}, {2.f}), f.c<int8_t>(DType::I8, {}, {0})});
  t = f.run();
  CHECK(t.dtype == DType::I8);
  CHECK(vals<int8_t>(t) == std::vector<int8_t>{0, 1, 2, -128, 127, -1});
}

// ------------------------------------------------------------ elementwise
TEST_CASE("eval: binary arithmetic with broadcasting") {
  EvalFixture f;
  auto *a = f.f32({2, 1}, {1.f, 2.f});
  auto *b = f.f32({3}, {10.f, 20.f, 30.f});
  f.add("Add", {a, b});
  auto t = f.run();
  CHECK(t.shape == Shape{2, 3});
  CHECK(vals<float>(t) == F32s{11, 21, 31, 12, 22, 32});
  f.add("Sub", {a, b});
  CHECK(vals<float>(f.run()) == F32s{-9, -19, -29, -8, -18, -28});
  f.add("Mul", {a, b});
  CHECK(vals<float>(f.run()) == F32s{10, 20, 30, 20, 40, 60});
  f.add("Div", {f.f32({2}, {1.f, 1.f}), f.f32({2}, {3.f, 0.f})});
  auto dv = vals<float>(f.run());
  CHECK(dv[0] == 1.f / 3.f);
  CHECK(std::isinf(dv[1]));
  // Integer division truncates toward zero; division by zero gives 0 here.
  f.add("Div", {f.i64({4}, {7, -7, 7, 5}), f.i64({4}, {2, 2, -2, 0})});
  CHECK(vals<int64_t>(f.run()) == I64s{3, -3, -3, 0});
  f.add("Div", {f.i32({1}, {INT32_MIN}), f.i32({1}, {-1})});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{INT32_MIN});
  // Narrow integers wrap.
  f.add("Add", {f.c<int8_t>(DType::I8, {2}, {127, -128}), f.c<int8_t>(DType::I8, {1}, {1})});
  CHECK(vals<int8_t>(f.run()) == std::vector<int8_t>{-128, -127});
  f.add("Mul", {f.c<uint8_t>(DType::U8, {1}, {200}), f.c<uint8_t>(DType::U8, {1}, {2})});
  CHECK(vals<uint8_t>(f.run()) == U8s{144});
  f.add("Sub", {f.c<uint64_t>(DType::U64, {1}, {0}), f.c<uint64_t>(DType::U64, {1}, {1})});
  CHECK(vals<uint64_t>(f.run()) == std::vector<uint64_t>{UINT64_MAX});
  // double stays double.
  f.add("Add", {f.c<double>(DType::F64, {1}, {0.1}), f.c<double>(DType::F64, {1}, {0.2})});
  CHECK(vals<double>(f.run()) == std::vector<double>{0.1 + 0.2});
  // Incompatible shapes are a model error.
  f.add("Add", {f.f32({2}, {1, 2}), f.f32({3}, {1, 2, 3})});
  CHECK_THROWS_AS(f.eval(), ir::CompileError);
}

TEST_CASE("eval: Pow, Mod") {
  EvalFixture f(15);
  f.add("Pow", {f.f32({3}, {2.f, 4.f, -2.f}), f.f32({3}, {3.f, 0.5f, 2.f})});
  CHECK(vals<float>(f.run()) == F32s{8.f, 2.f, 4.f});
  f.add("Pow", {f.i64({3}, {2, 3, -2}), f.i64({1}, {3})});
  CHECK(vals<int64_t>(f.run()) == I64s{8, 27, -8});
  f.add("Pow", {f.f32({2}, {2.f, 3.f}), f.i64({1}, {2})}); // opset 12+: exponent of another type
  auto t = f.run();
  CHECK(t.dtype == DType::F32);
  CHECK(vals<float>(t) == F32s{4.f, 9.f});
  f.add("Pow", {f.i32({2}, {4, 9}), f.f32({1}, {0.5f})});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{2, 3});

  auto *a = f.i64({4}, {7, -7, 7, -7});
  auto *b = f.i64({4}, {3, 3, -3, -3});
  f.add("Mod", {a, b}); // sign of the divisor
  CHECK(vals<int64_t>(f.run()) == I64s{1, 2, -2, -1});
  f.add("Mod", {a, b}, 1, {{"fmod", int64_t(1)}}); // sign of the dividend
  CHECK(vals<int64_t>(f.run()) == I64s{1, -1, 1, -1});
  f.add("Mod", {f.f32({2}, {5.5f, -5.5f}), f.f32({1}, {2.f})}, 1, {{"fmod", int64_t(1)}});
  CHECK(vals<float>(f.run()) == F32s{1.5f, -1.5f});
  f.add("Mod", {f.i32({1}, {5}), f.i32({1}, {0})});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{0});
}

TEST_CASE("eval: unary ops") {
  EvalFixture f(14);
  auto *x = f.f32({4}, {-2.5f, -0.5f, 0.f, 4.f});
  f.add("Neg", {x});
  CHECK(vals<float>(f.run()) == F32s{2.5f, 0.5f, -0.f, -4.f});
  f.add("Abs", {x});
  CHECK(vals<float>(f.run()) == F32s{2.5f, 0.5f, 0.f, 4.f});
  f.add("Floor", {x});
  CHECK(vals<float>(f.run()) == F32s{-3.f, -1.f, 0.f, 4.f});
  f.add("Ceil", {x});
  CHECK(vals<float>(f.run()) == F32s{-2.f, -0.f, 0.f, 4.f});
  f.add("Relu", {x});
  CHECK(vals<float>(f.run()) == F32s{0.f, 0.f, 0.f, 4.f});
  f.add("Sign", {x});
  CHECK(vals<float>(f.run()) == F32s{-1.f, -1.f, 0.f, 1.f});
  f.add("Sqrt", {f.f32({2}, {4.f, 2.f})});
  CHECK(vals<float>(f.run()) == F32s{2.f, std::sqrt(2.f)});
  f.add("Reciprocal", {f.f32({2}, {4.f, 3.f})});
  CHECK(vals<float>(f.run()) == F32s{0.25f, 1.f / 3.f});
  f.add("Round", {f.f32({4}, {0.5f, 1.5f, 2.5f, -0.5f})});
  CHECK(vals<float>(f.run()) == F32s{0.f, 2.f, 2.f, -0.f});
  auto *i = f.i32({3}, {-3, 0, 5});
  f.add("Neg", {i});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{3, 0, -5});
  f.add("Abs", {i});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{3, 0, 5});
  f.add("Relu", {i});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{0, 0, 5});
  f.add("Sign", {i});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{-1, 0, 1});
  // Float-only ops are refused on integers.
  f.add("Sqrt", {i});
  CHECK_FALSE(f.can());
  f.add("Floor", {i});
  CHECK_FALSE(f.can());
  f.add("Identity", {i});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{-3, 0, 5});
}

TEST_CASE("eval: Clip by opset") {
  EvalFixture f6(6);
  f6.add("Clip", {f6.f32({4}, {-2.f, 0.5f, 3.f, -0.1f})}, 1, {{"min", 0.f}, {"max", 1.f}});
  CHECK(vals<float>(f6.run()) == F32s{0.f, 0.5f, 1.f, 0.f});
  f6.add("Clip", {f6.f32({2}, {-1e30f, 1e30f})});
  CHECK(vals<float>(f6.run()) == F32s{-1e30f, 1e30f});
  EvalFixture f13(13);
  auto *x = f13.f32({3}, {-2.f, 0.5f, 3.f});
  f13.add("Clip", {x, f13.f32({}, {0.f}), nullptr});
  CHECK(vals<float>(f13.run()) == F32s{0.f, 0.5f, 3.f});
  f13.add("Clip", {x, nullptr, f13.f32({}, {1.f})});
  CHECK(vals<float>(f13.run()) == F32s{-2.f, 0.5f, 1.f});
  f13.add("Clip", {f13.i64({3}, {-5, 3, 9}), f13.i64({}, {0}), f13.i64({}, {6})});
  CHECK(vals<int64_t>(f13.run()) == I64s{0, 3, 6});
}

TEST_CASE("eval: comparisons, logic, Where") {
  EvalFixture f;
  auto *a = f.i64({3}, {1, 2, 3});
  auto *b = f.i64({}, {2});
  f.add("Equal", {a, b});
  auto t = f.run();
  CHECK(t.dtype == DType::Bool);
  CHECK(vals<uint8_t>(t) == U8s{0, 1, 0});
  f.add("Less", {a, b});
  CHECK(vals<uint8_t>(f.run()) == U8s{1, 0, 0});
  f.add("Greater", {a, b});
  CHECK(vals<uint8_t>(f.run()) == U8s{0, 0, 1});
  f.add("LessOrEqual", {a, b});
  CHECK(vals<uint8_t>(f.run()) == U8s{1, 1, 0});
  f.add("GreaterOrEqual", {a, b});
  CHECK(vals<uint8_t>(f.run()) == U8s{0, 1, 1});
  f.add("Less", {f.f32({2}, {-1.f, NAN}), f.f32({1}, {0.f})});
  CHECK(vals<uint8_t>(f.run()) == U8s{1, 0});
  auto *p = f.b8({4}, {0, 0, 1, 1});
  auto *q = f.b8({4}, {0, 1, 0, 1});
  f.add("And", {p, q});
  CHECK(vals<uint8_t>(f.run()) == U8s{0, 0, 0, 1});
  f.add("Or", {p, q});
  CHECK(vals<uint8_t>(f.run()) == U8s{0, 1, 1, 1});
  f.add("Xor", {p, q});
  CHECK(vals<uint8_t>(f.run()) == U8s{0, 1, 1, 0});
  f.add("Not", {p});
  CHECK(vals<uint8_t>(f.run()) == U8s{1, 1, 0, 0});
  f.add("Where", {f.b8({2, 1}, {1, 0}), f.i64({2}, {1, 2}), f.i64({}, {-1})});
  t = f.run();
  CHECK(t.shape == Shape{2, 2});
  CHECK(vals<int64_t>(t) == I64s{1, 2, -1, -1});
}

TEST_CASE("eval: variadic Min, Max, Sum, Mean") {
  EvalFixture f;
  auto *a = f.f32({3}, {1.f, 5.f, NAN});
  auto *b = f.f32({3}, {4.f, 2.f, 0.f});
  auto *c = f.f32({}, {3.f});
  f.add("Min", {a, b, c});
  auto mv = vals<float>(f.run());
  CHECK(mv[0] == 1.f);
  CHECK(mv[1] == 2.f);
  CHECK(std::isnan(mv[2]));
  f.add("Max", {a, b, c});
  mv = vals<float>(f.run());
  CHECK(mv[0] == 4.f);
  CHECK(mv[1] == 5.f);
  f.add("Sum", {b, c});
  CHECK(vals<float>(f.run()) == F32s{7.f, 5.f, 3.f});
  f.add("Mean", {b, c});
  CHECK(vals<float>(f.run()) == F32s{3.5f, 2.5f, 1.5f});
  f.add("Max", {f.i64({2}, {-1, 7})});
  CHECK(vals<int64_t>(f.run()) == I64s{-1, 7});
  f.add("Max", {f.i64({2}, {-1, 7}), f.i64({1}, {0})});
  CHECK(vals<int64_t>(f.run()) == I64s{0, 7});
  f.add("Min", {f.c<uint32_t>(DType::U32, {2}, {4000000000u, 3}), f.c<uint32_t>(DType::U32, {1}, {5})});
  CHECK(vals<uint32_t>(f.run()) == std::vector<uint32_t>{5, 3});
}

// ------------------------------------------------------------ reductions
TEST_CASE("eval: reductions with attribute axes (opset 11)") {
  EvalFixture f(11);
  auto *x = f.f32({2, 3}, {1, 2, 3, 4, 5, 6});
  f.add("ReduceSum", {x}, 1, {{"axes", I64s{1}}});
  auto t = f.run();
  CHECK(t.shape == Shape{2, 1});
  CHECK(vals<float>(t) == F32s{6, 15});
  f.add("ReduceSum", {x}, 1, {{"keepdims", int64_t(0)}});
  t = f.run();
  CHECK(t.shape.empty());
  CHECK(vals<float>(t) == F32s{21});
  f.add("ReduceProd", {x}, 1, {{"axes", I64s{0}}, {"keepdims", int64_t(0)}});
  CHECK(vals<float>(f.run()) == F32s{4, 10, 18});
  f.add("ReduceMax", {x}, 1, {{"axes", I64s{-1}}, {"keepdims", int64_t(0)}});
  CHECK(vals<float>(f.run()) == F32s{3, 6});
  f.add("ReduceMin", {x}, 1, {{"axes", I64s{0, 1}}});
  t = f.run();
  CHECK(t.shape == Shape{1, 1});
  CHECK(vals<float>(t) == F32s{1});
  f.add("ReduceMean", {x}, 1, {{"axes", I64s{1}}, {"keepdims", int64_t(0)}});
  CHECK(vals<float>(f.run()) == F32s{2, 5});
  f.add("ReduceProd", {f.i64({3}, {2, 3, 4})}, 1, {{"keepdims", int64_t(0)}});
  CHECK(vals<int64_t>(f.run()) == I64s{24});
}

TEST_CASE("eval: ReduceSum with axes input and noop_with_empty_axes (opset 13)") {
  EvalFixture f(13);
  auto *x = f.i32({2, 3}, {1, 2, 3, 4, 5, 6});
  f.add("ReduceSum", {x, f.i64({1}, {0})}, 1, {{"keepdims", int64_t(0)}});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{5, 7, 9});
  f.add("ReduceSum", {x});
  auto t = f.run();
  CHECK(t.shape == Shape{1, 1});
  CHECK(vals<int32_t>(t) == std::vector<int32_t>{21});
  f.add("ReduceSum", {x, f.i64({0}, {})}, 1, {{"noop_with_empty_axes", int64_t(1)}});
  t = f.run();
  CHECK(t.shape == Shape{2, 3});
  CHECK(vals<int32_t>(t) == std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  // ReduceMax still takes attribute axes at opset 13.
  f.add("ReduceMax", {x}, 1, {{"axes", I64s{1}}, {"keepdims", int64_t(0)}});
  CHECK(vals<int32_t>(f.run()) == std::vector<int32_t>{3, 6});
  EvalFixture g(18);
  auto *y = g.i32({2, 3}, {1, 2, 3, 4, 5, 6});
  g.add("ReduceMax", {y, g.i64({1}, {1})}, 1, {{"keepdims", int64_t(0)}});
  CHECK(vals<int32_t>(g.run()) == std::vector<int32_t>{3, 6});
}

// ------------------------------------------------------------ Pad, NonZero, MatMul
TEST_CASE("eval: Pad modes and opsets") {
  EvalFixture f(13);
  auto *x = f.i64({2, 3}, {1, 2, 3, 4, 5, 6});
  f.add("Pad", {x, f.i64({4}, {0, 1, 1, 0}), f.i64({}, {9})});
  auto t = f.run();
  CHECK(t.shape == Shape{3, 4});
  CHECK(vals<int64_t>(t) == I64s{9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9});
  f.add("Pad", {x, f.i64({4}, {0, -1, 0, 0})}); // negative pad crops
  CHECK(vals<int64_t>(f.run()) == I64s{2, 3, 5, 6});
  f.add("Pad", {x, f.i64({4}, {0, 2, 0, 2})}, 1, {{"mode", std::string("reflect")}});
  CHECK(vals<int64_t>(f.run()) == I64s{3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4});
  f.add("Pad", {x, f.i64({4}, {1, 1, 0, 0})}, 1, {{"mode", std::string("edge")}});
  CHECK(vals<int64_t>(f.run()) == I64s{1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6});
  f.add("Pad", {x, f.i64({4}, {0, 1, 0, 0})}, 1, {{"mode", std::string("wrap")}});
  CHECK_FALSE(f.can());

  EvalFixture f2(2);
  f2.add("Pad", {f2.f32({2}, {1.f, 2.f})}, 1, {{"pads", I64s{1, 2}}, {"value", 0.5f}});
  CHECK(vals<float>(f2.run()) == F32s{0.5f, 1.f, 2.f, 0.5f, 0.5f});

  EvalFixture f18(18);
  auto *y = f18.f32({2, 2}, {1, 2, 3, 4});
  f18.add("Pad", {y, f18.i64({2}, {1, 0}), nullptr, f18.i64({1}, {-1})});
  t = f18.run();
  CHECK(t.shape == Shape{2, 3});
  CHECK(vals<float>(t) == F32s{0, 1, 2, 0, 3, 4});
}

TEST_CASE("eval: NonZero") {
  EvalFixture f;
  f.add("NonZero", {f.f32({2, 2}, {1.f, 0.f, 0.f, 3.f})});
  auto t = f.run();
  CHECK(t.dtype == DType::I64);
  CHECK(t.shape == Shape{2, 2});
  CHECK(vals<int64_t>(t) == I64s{0, 1, 0, 1});
  f.add("NonZero", {f.b8({3}, {0, 0, 0})});
  CHECK(f.run().shape == Shape{1, 0});
}

TEST_CASE("eval: MatMul and Gemm") {
  EvalFixture f;
  auto *a = f.f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto *b = f.f32({3, 2}, {1, 0, 0, 1, 1, 1});
  f.add("MatMul", {a, b});
  auto t = f.run();
  CHECK(t.shape == Shape{2, 2});
  CHECK(vals<float>(t) == F32s{4, 5, 10, 11});
  f.add("MatMul", {f.f32({3}, {1, 1, 1}), b});
  t = f.run();
  CHECK(t.shape == Shape{2});
  CHECK(vals<float>(t) == F32s{2, 2});
  f.add("MatMul", {f.i32({2, 1, 2}, {1, 2, 3, 4}), f.i32({2, 1}, {1, 1})});
  t = f.run();
  CHECK(t.shape == Shape{2, 1, 1});
  CHECK(vals<int32_t>(t) == std::vector<int32_t>{3, 7});
  f.add("Gemm", {a, f.f32({2, 3}, {1, 0, 1, 0, 1, 0}), f.f32({2}, {100, 200})}, 1,
        {{"transB", int64_t(1)}, {"alpha", 2.f}, {"beta", 0.5f}});
  CHECK(vals<float>(f.run()) == F32s{58, 104, 70, 110});
}

// ------------------------------------------------------------ can_evaluate
TEST_CASE("eval: can_evaluate refuses what it does not implement") {
  EvalFixture f;
  auto *x = f.f32({2}, {1, 2});
  f.add("Conv", {x, x});
  CHECK_FALSE(f.can());
  f.add("Relu", {x});
  f.node->domain = "com.microsoft";
  CHECK_FALSE(f.can());
  // String tensors.
  auto *s = f.g.add_constant("s", DType::String, {1}, std::make_shared<ir::Bytes>());
  f.add("Identity", {s});
  CHECK_FALSE(f.can());
  // Missing required input.
  f.add("Add", {x, nullptr});
  CHECK_FALSE(f.can());
  // Malformed attribute type: refused, not thrown.
  f.add("Gather", {x, f.i64({1}, {0})}, 1, {{"axis", std::string("zero")}});
  CHECK_FALSE(f.can());
  // Outputs that would need gigabytes are refused before any allocation.
  f.add("ConstantOfShape", {f.i64({2}, {100000, 100000})});
  CHECK_FALSE(f.can());
  f.add("Expand", {x, f.i64({3}, {100000, 100000, 1})});
  CHECK_FALSE(f.can());
  f.add("Range", {f.i64({}, {0}), f.i64({}, {INT64_MAX}), f.i64({}, {1})});
  CHECK_FALSE(f.can());
  f.add("Range", {f.i64({}, {0}), f.i64({}, {5}), f.i64({}, {0})});
  CHECK_FALSE(f.can());
}

TEST_CASE("eval: float16 and bfloat16 arithmetic rounds to the dtype") {
  EvalFixture f;
  auto *h = f.c<uint16_t>(DType::F16, {2}, {0x3c00, 0x4000}); // 1, 2
  auto *k = f.c<uint16_t>(DType::F16, {1}, {0x1400});          // 2^-10
  f.add("Add", {h, k});
  auto t = f.run();
  CHECK(t.dtype == DType::F16);
  // 1 + 2^-10 = 0x3c01; 2 + 2^-10 is a tie that rounds to even: 2 = 0x4000.
  CHECK(vals<uint16_t>(t) == std::vector<uint16_t>{0x3c01, 0x4000});
  auto *bf = f.c<uint16_t>(DType::BF16, {1}, {0x3f80}); // 1
  f.add("Mul", {bf, bf});
  CHECK(vals<uint16_t>(f.run()) == std::vector<uint16_t>{0x3f80});
}

TEST_CASE("eval: extra ops seen in exported graphs (Trilu, CumSum, ScatterND, GatherND, ArgMax, OneHot, Softmax)") {
  EvalFixture f(13);
  auto *m = f.i64({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  f.add("Trilu", {m}, 1, {{"upper", int64_t(0)}});
  CHECK(vals<int64_t>(f.run()) == I64s{1, 0, 0, 4, 5, 0, 7, 8, 9});
  f.add("Trilu", {m, f.i64({}, {1})});
  CHECK(vals<int64_t>(f.run()) == I64s{0, 2, 3, 0, 0, 6, 0, 0, 0});
  f.add("CumSum", {f.i64({4}, {1, 2, 3, 4}), f.i32({}, {0})});
  CHECK(vals<int64_t>(f.run()) == I64s{1, 3, 6, 10});
  f.add("CumSum", {f.i64({4}, {1, 2, 3, 4}), f.i32({}, {0})}, 1, {{"exclusive", int64_t(1)}, {"reverse", int64_t(1)}});
  CHECK(vals<int64_t>(f.run()) == I64s{9, 7, 4, 0});
  f.add("ScatterND", {f.f32({4}, {1, 2, 3, 4}), f.i64({2, 1}, {3, 0}), f.f32({2}, {9, 8})});
  CHECK(vals<float>(f.run()) == F32s{8, 2, 3, 9});
  f.add("GatherND", {m, f.i64({2, 2}, {0, 1, 2, 2})});
  CHECK(vals<int64_t>(f.run()) == I64s{2, 9});
  f.add("GatherND", {m, f.i64({1, 1}, {1})});
  auto t = f.run();
  CHECK(t.shape == Shape{1, 3});
  CHECK(vals<int64_t>(t) == I64s{4, 5, 6});
  f.add("ArgMax", {f.f32({2, 3}, {1, 5, 5, 7, 0, 7})}, 1, {{"axis", int64_t(1)}, {"keepdims", int64_t(0)}});
  t = f.run();
  CHECK(t.dtype == DType::I64);
  CHECK(vals<int64_t>(t) == I64s{1, 0});
  f.add("OneHot", {f.i64({3}, {0, 2, -1}), f.i64({}, {3}), f.f32({2}, {0.f, 1.f})});
  t = f.run();
  CHECK(t.shape == Shape{3, 3});
  CHECK(vals<float>(t) == F32s{1, 0, 0, 0, 0, 1, 0, 0, 1});
  // Softmax: opset 13 along the axis, opset 11 over the flattened trailing dims.
  auto *x = f.f32({1, 2}, {0.f, 0.f});
  f.add("Softmax", {x}, 1, {{"axis", int64_t(0)}});
  CHECK(vals<float>(f.run()) == F32s{1.f, 1.f});
  EvalFixture g(11);
  g.add("Softmax", {g.f32({1, 2}, {0.f, 0.f})}, 1, {{"axis", int64_t(0)}});
  CHECK(vals<float>(g.run()) == F32s{0.5f, 0.5f});
}

// ------------------------------------------------------------ neural-network ops (eval/nn.cpp)
TEST_CASE("eval: Conv with pads, stride, groups and bias") {
  // x: 1x2x3x3 (channel 0: 1..9, channel 1: all 1); depthwise 2x2 kernels.
  EvalFixture f;
  auto *x = f.f32({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  auto *w = f.f32({2, 1, 2, 2}, {1, 0, 0, 1, 1, 1, 1, 1});
  auto *b = f.f32({2}, {0.5f, -1});
  f.add("Conv", {x, w, b}, 1, Attrs{{"group", int64_t(2)}, {"pads", I64s{1, 1, 0, 0}}, {"strides", I64s{2, 2}}});
  HostTensor y = f.run();
  CHECK(y.dtype == DType::F32);
  CHECK(y.shape == Shape{1, 2, 2, 2});
  // Windows start at (-1,-1), (-1,1), (1,-1), (1,1); taps in the padding read 0.
  CHECK(vals<float>(y) == F32s{1.5f, 3.5f, 7.5f, 14.5f, 0, 1, 1, 3});
}

TEST_CASE("eval: pooling (count_include_pad, ceil_mode, global) and BatchNormalization") {
  {
    EvalFixture f;
    auto *x = f.f32({1, 1, 2, 2}, {1, 2, 3, 4});
    f.add("AveragePool", {x}, 1, Attrs{{"kernel_shape", I64s{2, 2}}, {"pads", I64s{1, 1, 0, 0}},
                                       {"count_include_pad", int64_t(1)}});
    CHECK(vals<float>(f.run()) == F32s{0.25f, 0.75f, 1.0f, 2.5f});
  }
  {
    EvalFixture f;
    auto *x = f.f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    f.add("MaxPool", {x}, 1, Attrs{{"kernel_shape", I64s{2, 2}}, {"strides", I64s{2, 2}}, {"ceil_mode", int64_t(1)}});
    HostTensor y = f.run();
    CHECK(y.shape == Shape{1, 1, 2, 2});
    CHECK(vals<float>(y) == F32s{5, 6, 8, 9});
  }
  {
    EvalFixture f;
    auto *x = f.f32({1, 2, 1, 2}, {1, 3, -2, 4});
    f.add("GlobalAveragePool", {x});
    CHECK(vals<float>(f.run()) == F32s{2, 1});
  }
  {
    EvalFixture f;
    auto *x = f.f32({1, 2, 1, 1}, {2, 3});
    f.add("BatchNormalization", {x, f.f32({2}, {2, 1}), f.f32({2}, {1, 0}), f.f32({2}, {1, 3}), f.f32({2}, {4, 1})},
          1, Attrs{{"epsilon", 0.0f}});
    CHECK(vals<float>(f.run()) == F32s{2.0f, 0.0f}); // 2*(2-1)/2+1, 1*(3-3)/1+0
  }
}

TEST_CASE("eval: neural-network ops refuse what they do not implement") {
  EvalFixture f;
  auto *x = f.c<int8_t>(DType::I8, {1, 1, 2, 2}, {1, 2, 3, 4});
  auto *w = f.c<int8_t>(DType::I8, {1, 1, 1, 1}, {2});
  f.add("Conv", {x, w});
  CHECK_FALSE(f.can()); // float32 only
  EvalFixture g;
  auto *y = g.f32({1, 1, 2, 2}, {1, 2, 3, 4});
  g.add("MaxPool", {y}, 2, Attrs{{"kernel_shape", I64s{2, 2}}});
  CHECK_FALSE(g.can()); // indices output
}
