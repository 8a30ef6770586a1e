// pack-int8-fc-weights: constant int8 B of a tmc::QGemm is stored in the
// N4K4X layout (4-row blocks interleaved per quad, even bytes sign-flipped).
#include <catch2/catch.hpp>

#include "passes/pass.h"

using namespace tmc;
using ir::DType;

namespace {

/// QGemm(a[1,K], ..., b[N,K] constant) with per-tensor parameters.
ir::Node *qgemm_graph(ir::Graph &g, int64_t N, int64_t K, bool const_b = true, int64_t bzp = 0) {
  g.opsets[""] = 13;
  g.opsets["tmc"] = 1;
  auto *a = g.add_value("a", DType::I8, {1, K});
  g.inputs.push_back(a);
  std::vector<int8_t> bv;
  for (int64_t i = 0; i < N * K; ++i) bv.push_back((int8_t)((i * 37) % 256 - 128));
  ir::Value *b;
  if (const_b) {
    b = g.add_constant_of<int8_t>("b", DType::I8, {N, K}, bv);
  } else {
    b = g.add_value("b", DType::I8, {N, K});
    g.inputs.push_back(b);
  }
  auto f = [&](const char *nm, float v) { return g.add_constant_of<float>(nm, DType::F32, {}, {v}); };
  auto z = [&](const char *nm, int8_t v) { return g.add_constant_of<int8_t>(nm, DType::I8, {}, {v}); };
  auto *y = g.add_value("y", DType::I8, {1, N});
  auto *n = g.add_node("QGemm", {a, f("as", 0.1f), z("az", 3), b, f("bs", 0.02f), z("bz", (int8_t)bzp), f("ys", 0.5f),
                                 z("yz", -2)},
                       {y}, "fc");
  n->domain = "tmc";
  g.outputs.push_back(y);
  return n;
}

} // namespace

TEST_CASE("pack-int8-fc-weights interleaves 4-row blocks and flips even bytes") {
  ir::Graph g;
  ir::Node *n = qgemm_graph(g, 5, 8);
  std::vector<int64_t> orig = n->input(3)->int_values();
  REQUIRE(passes::create_pack_int8_fc_weights_pass()->run(g));
  CHECK(n->attr_string("tmc_weight_layout", "") == "N4K4X");
  ir::Value *b = n->input(3);
  CHECK(b->shape == ir::Shape{5, 8});
  std::vector<int64_t> p = b->int_values();
  auto flip = [](int64_t v, int64_t col) { return col % 2 ? v : (v >= 0 ? v - 128 : v + 128); };
  size_t i = 0;
  for (int64_t q = 0; q < 8; q += 4)
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t e = 0; e < 4; ++e, ++i) CHECK(p[i] == flip(orig[(size_t)(r * 8 + q + e)], q + e));
  for (int64_t col = 0; col < 8; ++col, ++i) CHECK(p[i] == flip(orig[(size_t)(4 * 8 + col)], col)); // tail row
  CHECK(g.find_value("b") == nullptr);
  CHECK_NOTHROW(ir::verify(g));
  // Running again changes nothing (the layout is recorded).
  CHECK_FALSE(passes::create_pack_int8_fc_weights_pass()->run(g));
}

TEST_CASE("pack-int8-fc-weights leaves unsuitable QGemm nodes alone") {
  for (int c = 0; c < 4; ++c) {
    ir::Graph g;
    if (c == 0) qgemm_graph(g, 4, 6);         // K not a multiple of 4
    if (c == 1) qgemm_graph(g, 3, 8);         // fewer than 4 rows
    if (c == 2) qgemm_graph(g, 4, 8, false);  // run-time weights
    if (c == 3) qgemm_graph(g, 4, 8, true, 1); // non-zero weight zero point
    CHECK_FALSE(passes::create_pack_int8_fc_weights_pass()->run(g));
  }
}
