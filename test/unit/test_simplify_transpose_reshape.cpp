// Unit tests for the simplify-transpose-reshape pass.
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

auto pass() { return passes::create_simplify_transpose_reshape_pass(); }

ir::Node *transpose(ir::Graph &g, ir::Value *x, ir::Value *y, std::vector<int64_t> perm) {
  auto *n = g.add_node("Transpose", {x}, {y});
  if (!perm.empty()) n->attrs["perm"] = perm;
  return n;
}

} // namespace

TEST_CASE("simplify-transpose-reshape: identity Transpose is removed") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3, 4});
    auto *a = val(g, "a", {2, 3, 4});
    g.add_node("Relu", {x}, {a});
    auto *t = val(g, "t", {2, 3, 4});
    transpose(g, a, t, {0, 1, 2});
    auto *y = val(g, "y", {2, 3, 4});
    g.add_node("Neg", {t}, {y});
    g.outputs.push_back(y);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  CHECK(after.num_nodes() == 2);
  CHECK(count_op(after, "Transpose") == 0);
}

TEST_CASE("simplify-transpose-reshape: identity Transpose writing a graph output") {
  SECTION("the producer writes the output") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {2, 3});
      auto *a = val(g, "a", {2, 3});
      g.add_node("Relu", {x}, {a});
      auto *y = val(g, "y", {2, 3});
      transpose(g, a, y, {0, 1});
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->output(0)->name == "y");
  }
  SECTION("graph input to graph output: becomes an Identity") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {2, 3});
      auto *y = val(g, "y", {2, 3});
      transpose(g, x, y, {0, 1});
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->op == "Identity");
  }
}

TEST_CASE("simplify-transpose-reshape: consecutive Transposes merge or cancel") {
  SECTION("compose") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {2, 3, 4, 5});
      auto *t1 = val(g, "t1", {2, 4, 5, 3});
      transpose(g, x, t1, {0, 2, 3, 1});
      auto *y = val(g, "y", {5, 2, 3, 4});
      transpose(g, t1, y, {2, 0, 3, 1});
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->attr_ints("perm") == std::vector<int64_t>{3, 0, 1, 2});
    CHECK(after.nodes()[0]->input(0)->name == "x");
  }
  SECTION("cancel (NCHW->NHWC->NCHW)") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {1, 3, 4, 5});
      auto *a = val(g, "a", {1, 3, 4, 5});
      g.add_node("Relu", {x}, {a});
      auto *t1 = val(g, "t1", {1, 4, 5, 3});
      transpose(g, a, t1, {0, 2, 3, 1});
      auto *t2 = val(g, "t2", {1, 3, 4, 5});
      transpose(g, t1, t2, {0, 3, 1, 2});
      auto *y = val(g, "y", {1, 3, 4, 5});
      g.add_node("Sigmoid", {t2}, {y});
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    CHECK(after.num_nodes() == 2);
    CHECK(count_op(after, "Transpose") == 0);
  }
  SECTION("default perms cancel") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {2, 3, 4});
      auto *a = val(g, "a", {2, 3, 4});
      g.add_node("Relu", {x}, {a});
      auto *t1 = val(g, "t1", {4, 3, 2});
      transpose(g, a, t1, {});
      auto *y = val(g, "y", {2, 3, 4});
      transpose(g, t1, y, {});
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->op == "Relu");
    CHECK(after.nodes()[0]->output(0)->name == "y");
  }
}

TEST_CASE("simplify-transpose-reshape: reshape-like chains collapse into one Reshape") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3, 4});
    auto *a = val(g, "a", {2, 3, 4});
    g.add_node("Relu", {x}, {a});
    auto *r1 = val(g, "r1", {6, 4});
    g.add_node("Reshape", {a, i64c(g, "s1", {2}, {6, 4})}, {r1});
    auto *r2 = val(g, "r2", {1, 6, 4});
    g.add_node("Unsqueeze", {r1, i64c(g, "ax", {1}, {0})}, {r2});
    auto *r3 = val(g, "r3", {1, 24});
    g.add_node("Flatten", {r2}, {r3})->attrs["axis"] = int64_t(1);
    auto *y = val(g, "y", {24});
    g.add_node("Squeeze", {r3, i64c(g, "ax0", {1}, {0})}, {y});
    g.outputs.push_back(y);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  REQUIRE(after.num_nodes() == 2);
  const ir::Node *r = after.nodes()[1].get();
  CHECK(r->op == "Reshape");
  CHECK(r->input(0)->name == "a");
  REQUIRE(r->input(1));
  CHECK(r->input(1)->int_values() == std::vector<int64_t>{24});
  CHECK(r->output(0)->name == "y");
}

TEST_CASE("simplify-transpose-reshape: a reshape chain back to the input shape disappears") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 6});
    auto *r1 = val(g, "r1", {12});
    g.add_node("Reshape", {x, i64c(g, "s1", {1}, {12})}, {r1});
    auto *r2 = val(g, "r2", {2, 6});
    g.add_node("Reshape", {r1, i64c(g, "s2", {2}, {2, 6})}, {r2});
    auto *r3 = val(g, "r3", {2, 6, 1});
    g.add_node("Unsqueeze", {r2, i64c(g, "ax", {1}, {2})}, {r3});
    auto *y = val(g, "y", {2, 6, 1});
    g.add_node("Relu", {r3}, {y});
    auto *z = val(g, "z", {2, 6});
    g.add_node("Reshape", {x, i64c(g, "s3", {2}, {2, 6})}, {z}); // same shape: removed
    auto *w = val(g, "w", {2, 6});
    g.add_node("Neg", {z}, {w});
    g.outputs = {y, w};
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  CHECK(after.num_nodes() == 3); // Unsqueeze, Relu, Neg
  CHECK(count_op(after, "Reshape") == 0);
  CHECK(find_op(after, "Unsqueeze")->input(0)->name == "x");
}

TEST_CASE("simplify-transpose-reshape: cases left unchanged") {
  SECTION("first Transpose has another user") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3});
    auto *t1 = val(g, "t1", {3, 2});
    transpose(g, x, t1, {1, 0});
    auto *y = val(g, "y", {2, 3});
    transpose(g, t1, y, {1, 0});
    g.outputs = {y, t1};
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 2);
  }
  SECTION("first Reshape has another user") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3});
    auto *r1 = val(g, "r1", {6});
    g.add_node("Reshape", {x, i64c(g, "s", {1}, {6})}, {r1});
    auto *y = val(g, "y", {1, 6});
    g.add_node("Unsqueeze", {r1, i64c(g, "ax", {1}, {0})}, {y});
    auto *z = val(g, "z", {6});
    g.add_node("Neg", {r1}, {z});
    g.outputs = {y, z};
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 3);
  }
  SECTION("non-identity Transpose and real Reshape") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3});
    auto *t = val(g, "t", {3, 2});
    transpose(g, x, t, {1, 0});
    auto *y = val(g, "y", {6});
    g.add_node("Reshape", {t, i64c(g, "s", {1}, {6})}, {y});
    g.outputs = {y};
    CHECK_FALSE(pass()->run(g));
  }
  SECTION("same-shape Reshape from graph input to graph output") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3});
    auto *y = val(g, "y", {2, 3});
    g.add_node("Reshape", {x, i64c(g, "s", {2}, {2, 3})}, {y});
    g.outputs = {y};
    CHECK_FALSE(pass()->run(g));
  }
}
