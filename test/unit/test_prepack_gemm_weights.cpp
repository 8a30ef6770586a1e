// prepack-gemm-weights: constant B of a float Gemm is stored transposed.
#include <catch2/catch.hpp>

#include "passes/pass.h"

using namespace tmc;
using ir::DType;

static ir::Graph *gemm_graph(ir::Graph &g, bool const_b, int64_t transB, DType dt = DType::F32) {
  g.opsets[""] = 13;
  auto *a = g.add_value("a", dt, {1, 2});
  g.inputs.push_back(a);
  ir::Value *b;
  if (const_b) {
    b = dt == DType::F32 ? g.add_constant_of<float>("b", dt, {2, 3}, {1, 2, 3, 4, 5, 6})
                         : g.add_constant_of<double>("b", dt, {2, 3}, {1, 2, 3, 4, 5, 6});
  } else {
    b = g.add_value("b", dt, {2, 3});
    g.inputs.push_back(b);
  }
  auto *y = g.add_value("y", dt, {1, 3});
  auto *n = g.add_node("Gemm", {a, b}, {y}, "gemm");
  if (transB) n->attrs["transB"] = transB;
  g.outputs.push_back(y);
  return &g;
}

TEST_CASE("prepack-gemm-weights transposes a constant B") {
  ir::Graph g;
  gemm_graph(g, true, 0);
  REQUIRE(passes::create_prepack_gemm_weights_pass()->run(g));
  ir::Node *n = g.nodes()[0].get();
  CHECK(n->attr_int("transB", 0) == 1);
  CHECK(n->input(1)->shape == ir::Shape{3, 2});
  CHECK(n->input(1)->float_values() == std::vector<double>{1, 4, 2, 5, 3, 6});
  CHECK(g.find_value("b") == nullptr); // the old constant is gone
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("prepack-gemm-weights leaves runtime B, transB=1 and non-float32 alone") {
  for (int c = 0; c < 3; ++c) {
    ir::Graph g;
    if (c == 0) gemm_graph(g, false, 0);
    if (c == 1) gemm_graph(g, true, 1);
    if (c == 2) gemm_graph(g, true, 0, DType::F64);
    CHECK_FALSE(passes::create_prepack_gemm_weights_pass()->run(g));
  }
}
