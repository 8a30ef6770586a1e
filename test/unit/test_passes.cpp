// Unit tests for the structural passes: remove-identity, shape-folding, dce.
#include <catch2/catch.hpp>
#include <sstream>

#include "passes/pass.h"

using namespace tmc;
using ir::DType;

TEST_CASE("remove-identity removes Identity and inference Dropout") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {4});
  g.inputs.push_back(x);
  auto *a = g.add_value("a", DType::F32, {4});
  auto *b = g.add_value("b", DType::F32, {4});
  auto *y = g.add_value("y", DType::F32, {4});
  g.add_node("Identity", {x}, {a});
  g.add_node("Dropout", {a}, {b});
  g.add_node("Relu", {b}, {y});
  g.outputs.push_back(y);
  auto p = passes::create_remove_identity_pass();
  CHECK(p->run(g));
  REQUIRE(g.num_nodes() == 1);
  CHECK(g.nodes()[0]->op == "Relu");
  CHECK(g.nodes()[0]->inputs[0] == x);
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("remove-identity keeps an Identity from input to output, and training Dropout") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {4});
  g.inputs.push_back(x);
  auto *y = g.add_value("y", DType::F32, {4});
  g.add_node("Identity", {x}, {y});
  g.outputs.push_back(y);
  auto *t = g.add_constant_of<uint8_t>("train", DType::Bool, {}, {1});
  auto *r = g.add_constant_of<float>("ratio", DType::F32, {}, {0.5f});
  auto *z = g.add_value("z", DType::F32, {4});
  g.add_node("Dropout", {x, r, t}, {z});
  g.outputs.push_back(z);
  auto p = passes::create_remove_identity_pass();
  CHECK_FALSE(p->run(g));
  CHECK(g.num_nodes() == 2);
}

TEST_CASE("remove-identity lets the producer write a graph output directly") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {4});
  g.inputs.push_back(x);
  auto *a = g.add_value("a", DType::F32, {4});
  auto *y = g.add_value("y", DType::F32, {4});
  g.add_node("Relu", {x}, {a});
  g.add_node("Identity", {a}, {y});
  g.outputs.push_back(y);
  passes::create_remove_identity_pass()->run(g);
  REQUIRE(g.num_nodes() == 1);
  CHECK(g.nodes()[0]->outputs[0] == y);
  CHECK(g.outputs[0]->name == "y");
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("shape-folding replaces Shape and Size of static tensors") {
  ir::Graph g;
  g.opsets[""] = 15;
  auto *x = g.add_value("x", DType::F32, {2, 3, 5});
  g.inputs.push_back(x);
  auto *s = g.add_value("s", DType::I64, {3});
  auto *s2 = g.add_value("s2", DType::I64, {2});
  auto *n = g.add_value("n", DType::I64, {});
  g.add_node("Shape", {x}, {s});
  auto *sl = g.add_node("Shape", {x}, {s2});
  sl->attrs["start"] = int64_t(-2);
  g.add_node("Size", {x}, {n});
  auto *o1 = g.add_value("o1", DType::I64, {3});
  auto *o2 = g.add_value("o2", DType::I64, {2});
  g.add_node("Neg", {s}, {o1});
  g.add_node("Neg", {s2}, {o2});
  auto *o3 = g.add_value("o3", DType::I64, {});
  g.add_node("Neg", {n}, {o3});
  g.outputs = {o1, o2, o3};
  CHECK(passes::create_shape_folding_pass()->run(g));
  REQUIRE(g.num_nodes() == 3);
  CHECK(g.nodes()[0]->inputs[0]->int_values() == std::vector<int64_t>{2, 3, 5});
  CHECK(g.nodes()[1]->inputs[0]->int_values() == std::vector<int64_t>{3, 5});
  CHECK(g.nodes()[2]->inputs[0]->int_values() == std::vector<int64_t>{30});
}

TEST_CASE("shape-folding leaves tensors with unknown shapes alone") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {2, 3});
  g.inputs.push_back(x);
  auto *a = g.add_value("a", DType::F32, {});
  a->shape_known = false;
  g.add_node("Relu", {x}, {a});
  auto *s = g.add_value("s", DType::I64, {});
  s->shape_known = false;
  g.add_node("Shape", {a}, {s});
  g.outputs.push_back(s);
  CHECK_FALSE(passes::create_shape_folding_pass()->run(g));
  CHECK(g.num_nodes() == 2);
}

TEST_CASE("dce removes nodes that do not reach an output") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {4});
  g.inputs.push_back(x);
  auto *a = g.add_value("a", DType::F32, {4});
  auto *dead = g.add_value("dead", DType::F32, {4});
  auto *dead2 = g.add_value("dead2", DType::F32, {4});
  g.add_node("Relu", {x}, {a});
  g.add_node("Neg", {x}, {dead});
  g.add_node("Abs", {dead}, {dead2});
  g.outputs.push_back(a);
  CHECK(passes::create_dead_code_elimination_pass()->run(g));
  CHECK(g.num_nodes() == 1);
  CHECK(g.find_value("dead") == nullptr);
  // Nothing left to remove: a second run reports no change.
  CHECK_FALSE(passes::create_dead_code_elimination_pass()->run(g));
}

TEST_CASE("pass manager verifies after each pass and records timings") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {4});
  g.inputs.push_back(x);
  auto *y = g.add_value("y", DType::F32, {4});
  g.add_node("Relu", {x}, {y});
  g.outputs.push_back(y);
  passes::PassManager pm;
  passes::add_default_pipeline(pm);
  std::ostringstream os;
  pm.dump_after({"dce"}, &os);
  pm.run(g);
  CHECK(pm.timings().size() == pm.names().size());
  CHECK(os.str().find("IR after dce") != std::string::npos);
}
