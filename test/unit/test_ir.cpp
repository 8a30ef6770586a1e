// IR: values, nodes, rewriting helpers, verifier and printer.
#include <catch2/catch.hpp>

#include "ir/graph.h"

using namespace tmc::ir;

static Graph *small_graph(Graph &g) {
  g.opsets[""] = 13;
  Value *x = g.add_value("x", DType::F32, {1, 4});
  g.inputs.push_back(x);
  Value *w = g.add_constant_of<float>("w", DType::F32, {1, 4}, {1, 2, 3, 4});
  Value *y = g.add_value("y", DType::F32, {1, 4});
  g.add_node("Add", {x, w}, {y}, "add0");
  Value *z = g.add_value("z", DType::F32, {1, 4});
  g.add_node("Relu", {y}, {z}, "relu0");
  g.outputs.push_back(z);
  return &g;
}

TEST_CASE("dtype helpers") {
  CHECK(dtype_size(DType::F32) == 4);
  CHECK(dtype_size(DType::I64) == 8);
  CHECK(dtype_size(DType::Bool) == 1);
  CHECK(std::string(dtype_ctype(DType::F16)) == "uint16_t");
  for (int t = 1; t <= 16; ++t) {
    DType d = dtype_from_onnx(t);
    if (d != DType::Undefined) CHECK(dtype_to_onnx(d) == t);
  }
  CHECK(dtype_from_onnx(999) == DType::Undefined);
}

TEST_CASE("graph construction, users and verifier") {
  Graph g;
  small_graph(g);
  REQUIRE(g.num_nodes() == 2);
  Value *y = g.find_value("y");
  REQUIRE(y);
  CHECK(y->producer == g.nodes()[0].get());
  CHECK(g.users(y).size() == 1);
  CHECK(g.find_value("w")->is_constant());
  CHECK(g.find_value("w")->float_at(2) == 3.0);
  CHECK_NOTHROW(verify(g));
  std::string dump = print(g);
  CHECK(dump.find("Add(%x, %w)") != std::string::npos);
  CHECK(dump.find("output %z : f32[1x4]") != std::string::npos);
}

TEST_CASE("unique names never collide") {
  Graph g;
  small_graph(g);
  std::string a = g.unique_name("y");
  CHECK(a != "y");
  CHECK(g.unique_name("fresh") == "fresh");
  Value *v = g.add_value("y", DType::F32, {1});
  CHECK(v->name != "y");
}

TEST_CASE("verifier rejects use before definition") {
  Graph g;
  small_graph(g);
  // Swap the two nodes: Relu now reads y before Add defines it.
  std::vector<Node *> order{g.nodes()[1].get(), g.nodes()[0].get()};
  g.reorder(order);
  CHECK_THROWS_WITH(verify(g), Catch::Contains("used before it is defined"));
}

TEST_CASE("verifier rejects unknown shapes and undefined outputs") {
  Graph g;
  small_graph(g);
  g.find_value("y")->shape_known = false;
  CHECK_THROWS_WITH(verify(g), Catch::Contains("non-static shape"));
  CHECK_NOTHROW(verify(g, /*require_static_shapes=*/false));

  Graph h;
  small_graph(h);
  Value *orphan = h.add_value("orphan", DType::F32, {1});
  h.outputs.push_back(orphan);
  CHECK_THROWS_WITH(verify(h), Catch::Contains("never computed"));
}

TEST_CASE("replace_all_uses and remove_node keep the graph consistent") {
  Graph g;
  small_graph(g);
  Node *relu = g.nodes()[1].get();
  Value *y = g.find_value("y"), *z = g.find_value("z");
  g.replace_all_uses(z, y);
  g.remove_node(relu);
  g.remove_unused_values();
  CHECK(g.outputs[0] == y);
  CHECK(g.find_value("z") == nullptr);
  CHECK_NOTHROW(verify(g));
}

TEST_CASE("constant size must match its shape") {
  Graph g;
  CHECK_THROWS_WITH(g.add_constant_of<float>("c", DType::F32, {3}, {1.0f, 2.0f}), Catch::Contains("expected 12"));
}

TEST_CASE("node attribute accessors") {
  Graph g;
  small_graph(g);
  Node *n = g.nodes()[0].get();
  n->attrs["k"] = int64_t(3);
  n->attrs["f"] = 0.5f;
  n->attrs["v"] = std::vector<int64_t>{1, 2};
  CHECK(n->attr_int("k", 0) == 3);
  CHECK(n->attr_int("missing", 7) == 7);
  CHECK(n->attr_float("f", 0) == 0.5f);
  CHECK(n->attr_float("k", 0) == 3.0f); // ints widen to float
  CHECK(n->attr_ints("v") == std::vector<int64_t>{1, 2});
  CHECK_THROWS_WITH(n->attr_int("f", 0), Catch::Contains("unexpected type"));
  CHECK_THROWS_WITH(n->attr_int("missing"), Catch::Contains("required attribute"));
}
