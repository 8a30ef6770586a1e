// store-weights-f16: float32 weights of Conv/Gemm/MatMul become IEEE half
// constants widened by a Cast right before their consumer.
#include <catch2/catch.hpp>

#include "passes/pass.h"

using namespace tmc;
using ir::DType;

namespace {

ir::Node *gemm_graph(ir::Graph &g, int64_t K, int64_t N, bool const_b = true, const char *op = "Gemm") {
  g.opsets[""] = 13;
  auto *a = g.add_value("a", DType::F32, {1, K});
  g.inputs.push_back(a);
  std::vector<float> bv;
  for (int64_t i = 0; i < K * N; ++i) bv.push_back(0.1f * (float)(i % 17) - 0.7f + 1e-4f);
  ir::Value *b;
  if (const_b) {
    b = g.add_constant_of<float>("b", DType::F32, {K, N}, bv);
  } else {
    b = g.add_value("b", DType::F32, {K, N});
    g.inputs.push_back(b);
  }
  auto *y = g.add_value("y", DType::F32, {1, N});
  auto *n = g.add_node(op, {a, b}, {y}, "fc");
  g.outputs.push_back(y);
  return n;
}

} // namespace

TEST_CASE("store-weights-f16 stores weights as half and widens them before use") {
  ir::Graph g;
  ir::Node *n = gemm_graph(g, 16, 8);
  std::vector<double> orig = n->input(1)->float_values();
  REQUIRE(passes::create_store_weights_f16_pass()->run(g));
  REQUIRE(g.num_nodes() == 2);
  ir::Node *cast = g.nodes()[0].get();
  CHECK(cast->op == "Cast");
  CHECK(cast->attr_int("to", 0) == 1);
  ir::Value *h = cast->input(0);
  REQUIRE(h->is_constant());
  CHECK(h->dtype == DType::F16);
  CHECK(h->shape == ir::Shape{16, 8});
  CHECK(h->nbytes() == 16 * 8 * 2); // half the float32 bytes
  CHECK(n->input(1) == cast->output(0));
  CHECK_FALSE(n->input(1)->is_constant());
  // The stored values are the nearest halves (relative error <= 2^-11).
  const uint16_t *hv = h->as<uint16_t>();
  for (size_t i = 0; i < orig.size(); ++i) {
    double got = ir::f16_to_f32(hv[i]);
    CHECK(std::abs(got - orig[i]) <= std::abs(orig[i]) * (1.0 / 2048) + 1e-7);
  }
  CHECK(ir::f32_to_f16(1.0f) == 0x3C00u);
  CHECK(ir::f32_to_f16(-2.0f) == 0xC000u);
  CHECK(ir::f32_to_f16(65520.0f) == 0x7C00u); // rounds up to infinity
  CHECK(g.find_value("b") == nullptr);
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("store-weights-f16 leaves run-time weights, small tensors and other ops alone") {
  for (int c = 0; c < 3; ++c) {
    ir::Graph g;
    if (c == 0) gemm_graph(g, 16, 8, false);
    if (c == 1) gemm_graph(g, 4, 8);              // 32 elements < 64
    if (c == 2) gemm_graph(g, 16, 8, true, "Add"); // not a weight consumer
    CHECK_FALSE(passes::create_store_weights_f16_pass()->run(g));
  }
}
