// fuse-int8-residual-add: QLinearConv -> tmc::QAdd becomes tmc::QLinearConvAdd.
#include <catch2/catch.hpp>

#include "passes/pass.h"

using namespace tmc;
using ir::DType;

namespace {

struct Built {
  ir::Node *conv, *add;
  ir::Value *skip, *y;
};

Built residual_graph(ir::Graph &g, int64_t group = 1, bool extra_use = false) {
  g.opsets[""] = 13;
  g.opsets["tmc"] = 1;
  auto *x = g.add_value("x", DType::I8, {1, 4, 3, 3});
  auto *skip = g.add_value("skip", DType::I8, {1, 4, 3, 3});
  g.inputs = {x, skip};
  std::vector<int8_t> wv(4 * (4 / group), 3);
  auto f = [&](const char *nm, float v) { return g.add_constant_of<float>(nm, DType::F32, {}, {v}); };
  auto z = [&](const char *nm, int8_t v) { return g.add_constant_of<int8_t>(nm, DType::I8, {}, {v}); };
  auto *w = g.add_constant_of<int8_t>("w", DType::I8, {4, 4 / group, 1, 1}, wv);
  auto *c = g.add_value("c", DType::I8, {1, 4, 3, 3});
  auto *conv = g.add_node("QLinearConv", {x, f("xs", 0.1f), z("xz", 1), w, f("ws", 0.05f), z("wz", 0), f("cs", 0.2f),
                                          z("cz", -3)},
                          {c}, "conv");
  conv->attrs["group"] = group;
  auto *y = g.add_value("y", DType::I8, {1, 4, 3, 3});
  auto *add = g.add_node("QAdd", {skip, f("ss", 0.3f), z("sz", 2), c, g.find_value("cs"), g.find_value("cz"),
                                  f("ys", 0.4f), z("yz", 5)},
                         {y}, "add");
  add->domain = "tmc";
  g.outputs = {y};
  if (extra_use) g.outputs.push_back(c);
  return {conv, add, skip, y};
}

} // namespace

TEST_CASE("fuse-int8-residual-add folds the add into the convolution") {
  ir::Graph g;
  Built b = residual_graph(g);
  ir::Value *x = b.conv->input(0);
  REQUIRE(passes::create_fuse_int8_residual_add_pass()->run(g));
  REQUIRE(g.num_nodes() == 1);
  ir::Node *f = g.nodes()[0].get();
  CHECK(f->op == "QLinearConvAdd");
  CHECK(f->domain == "tmc");
  REQUIRE(f->inputs.size() == 14);
  CHECK(f->input(0) == x);
  CHECK(f->input(8) == nullptr); // no bias
  CHECK(f->input(9) == b.skip);
  CHECK(f->input(10)->float_values()[0] == Approx(0.3));
  CHECK(f->input(12)->float_values()[0] == Approx(0.4));
  CHECK(f->output(0) == b.y);
  CHECK(f->attr_int("group", 0) == 1);
  CHECK(g.find_value("c") == nullptr);
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("fuse-int8-residual-add keeps conv outputs that are used elsewhere, and grouped convs") {
  for (int c = 0; c < 2; ++c) {
    ir::Graph g;
    residual_graph(g, c == 0 ? 1 : 2, c == 0);
    CHECK_FALSE(passes::create_fuse_int8_residual_add_pass()->run(g));
    CHECK(g.num_nodes() == 2);
  }
}
