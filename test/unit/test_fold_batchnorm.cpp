// Unit tests for the fold-batchnorm pass.
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

/// BatchNormalization over `x` (C channels) with fixed, non-trivial params.
ir::Node *add_bn(ir::Graph &g, ir::Value *x, ir::Value *y, int64_t C, unsigned seed = 5) {
  auto *sc = f32c(g, "bn_scale", {C}, rand_vals((size_t)C, seed, 0.5f, 2.0f));
  auto *bi = f32c(g, "bn_bias", {C}, rand_vals((size_t)C, seed + 1));
  auto *me = f32c(g, "bn_mean", {C}, rand_vals((size_t)C, seed + 2));
  auto *va = f32c(g, "bn_var", {C}, rand_vals((size_t)C, seed + 3, 0.1f, 3.0f));
  auto *n = g.add_node("BatchNormalization", {x, sc, bi, me, va}, {y}, "bn");
  n->attrs["epsilon"] = 1e-3f;
  return n;
}

auto pass() { return passes::create_fold_batchnorm_pass(); }

} // namespace

TEST_CASE("fold-batchnorm: Conv without bias + BN becomes one Conv with a bias") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 3, 6, 6});
    auto *w = f32c(g, "w", {4, 3, 3, 3}, rand_vals(108, 1));
    auto *c = val(g, "c", {1, 4, 6, 6});
    g.add_node("Conv", {x, w}, {c}, "conv")->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    auto *y = val(g, "y", {1, 4, 6, 6});
    add_bn(g, c, y, 4);
    g.outputs.push_back(y);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  REQUIRE(after.num_nodes() == 1);
  const ir::Node *conv = after.nodes()[0].get();
  CHECK(conv->op == "Conv");
  REQUIRE(conv->input(2));
  CHECK(conv->input(2)->shape == Shape{4});
  CHECK(conv->output(0)->name == "y");
  CHECK(after.find_value("w") == nullptr); // replaced, no longer used
}

TEST_CASE("fold-batchnorm: grouped Conv with bias") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 4, 5, 5});
    auto *w = f32c(g, "w", {6, 2, 3, 3}, rand_vals(108, 2));
    auto *b = f32c(g, "b", {6}, rand_vals(6, 3));
    auto *c = val(g, "c", {2, 6, 3, 3});
    g.add_node("Conv", {x, w, b}, {c}, "conv")->attrs["group"] = int64_t(2);
    auto *y = val(g, "y", {2, 6, 3, 3});
    add_bn(g, c, y, 6);
    g.outputs.push_back(y);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  CHECK(after.num_nodes() == 1);
}

TEST_CASE("fold-batchnorm: grouped ConvTranspose") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 4, 3, 3});
    auto *w = f32c(g, "w", {4, 3, 2, 2}, rand_vals(48, 4));
    auto *c = val(g, "c", {1, 6, 6, 6});
    auto *ct = g.add_node("ConvTranspose", {x, w}, {c}, "convt");
    ct->attrs["group"] = int64_t(2);
    ct->attrs["strides"] = std::vector<int64_t>{2, 2};
    auto *y = val(g, "y", {1, 6, 6, 6});
    add_bn(g, c, y, 6);
    g.outputs.push_back(y);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  CHECK(after.num_nodes() == 1);
  CHECK(after.nodes()[0]->op == "ConvTranspose");
}

TEST_CASE("fold-batchnorm: Gemm with transB, C and beta") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *a = input(g, "a", {3, 5});
    auto *b = f32c(g, "b", {4, 5}, rand_vals(20, 5));
    auto *cc = f32c(g, "cc", {4}, rand_vals(4, 6));
    auto *m = val(g, "m", {3, 4});
    auto *gm = g.add_node("Gemm", {a, b, cc}, {m}, "gemm");
    gm->attrs["transB"] = int64_t(1);
    gm->attrs["beta"] = 0.5f;
    gm->attrs["alpha"] = 1.5f;
    auto *y = val(g, "y", {3, 4});
    add_bn(g, m, y, 4);
    g.outputs.push_back(y);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  REQUIRE(after.num_nodes() == 1);
  CHECK(after.nodes()[0]->attr_float("beta", 0.0f) == 1.0f);
}

TEST_CASE("fold-batchnorm: Gemm without C and with a per-row C") {
  for (int variant = 0; variant < 2; ++variant) {
    auto build = [variant](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *a = input(g, "a", {3, 5});
      auto *b = f32c(g, "b", {5, 4}, rand_vals(20, 7));
      auto *m = val(g, "m", {3, 4});
      std::vector<ir::Value *> ins{a, b};
      if (variant == 1) ins.push_back(f32c(g, "cc", {3, 1}, rand_vals(3, 8)));
      g.add_node("Gemm", ins, {m}, "gemm");
      auto *y = val(g, "y", {3, 4});
      add_bn(g, m, y, 4);
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    REQUIRE(after.nodes()[0]->input(2));
    CHECK(after.nodes()[0]->input(2)->shape == (variant ? Shape{3, 4} : Shape{4}));
  }
}

TEST_CASE("fold-batchnorm: standalone BN becomes Mul and Add with [C,1,1] constants") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {2, 3, 4, 4});
    auto *r = val(g, "r", {2, 3, 4, 4});
    g.add_node("Relu", {x}, {r});
    auto *y = val(g, "y", {2, 3, 4, 4});
    add_bn(g, r, y, 3);
    auto *z = val(g, "z", {2, 3, 4, 4});
    g.add_node("Relu", {y}, {z});
    g.outputs.push_back(z);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  REQUIRE(after.num_nodes() == 4);
  const ir::Node *mul = after.nodes()[1].get(), *add = after.nodes()[2].get();
  CHECK(mul->op == "Mul");
  CHECK(add->op == "Add");
  CHECK(mul->input(1)->shape == Shape{3, 1, 1});
  CHECK(add->input(1)->shape == Shape{3, 1, 1});
  CHECK(add->output(0)->name == "y");
}

TEST_CASE("fold-batchnorm: a standalone BN writing a graph output stays") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = input(g, "x", {2, 3, 4, 4});
  auto *y = val(g, "y", {2, 3, 4, 4});
  add_bn(g, x, y, 3);
  g.outputs.push_back(y);
  CHECK_FALSE(pass()->run(g));
  CHECK(g.num_nodes() == 1);
}

TEST_CASE("fold-batchnorm: standalone BN on a rank-2 input uses [C] constants") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {5, 3});
    auto *y = val(g, "y", {5, 3});
    add_bn(g, x, y, 3);
    auto *z = val(g, "z", {5, 3});
    g.add_node("Tanh", {y}, {z});
    g.outputs.push_back(z);
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  REQUIRE(after.num_nodes() == 3);
  CHECK(after.nodes()[0]->input(1)->shape == Shape{3});
}

TEST_CASE("fold-batchnorm: a Conv output with another user is not modified") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 4, 4});
    auto *w = f32c(g, "w", {3, 2, 1, 1}, rand_vals(6, 9));
    auto *c = val(g, "c", {1, 3, 4, 4});
    g.add_node("Conv", {x, w}, {c}, "conv");
    auto *y = val(g, "y", {1, 3, 4, 4});
    add_bn(g, c, y, 3);
    auto *z = val(g, "z", {1, 3, 4, 4});
    g.add_node("Relu", {y}, {z});
    g.outputs.push_back(z);
    g.outputs.push_back(c); // second use of the Conv output
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after); // BN still becomes Mul + Add
  const ir::Node *conv = find_op(after, "Conv");
  REQUIRE(conv);
  CHECK(conv->input(1)->name == "w");
  CHECK(conv->input(2) == nullptr);
  CHECK(count_op(after, "Mul") == 1);
}

TEST_CASE("fold-batchnorm: shared weights are copied, not modified in place") {
  auto build = [](ir::Graph &g) {
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *w = f32c(g, "w", {2, 2, 1, 1}, {1, 2, 3, 4});
    auto *c1 = val(g, "c1", {1, 2, 3, 3});
    auto *c2 = val(g, "c2", {1, 2, 3, 3});
    g.add_node("Conv", {x, w}, {c1}, "conv1");
    g.add_node("Conv", {x, w}, {c2}, "conv2");
    auto *y = val(g, "y", {1, 2, 3, 3});
    add_bn(g, c1, y, 2);
    g.outputs = {y, c2};
  };
  ir::Graph after;
  auto p = pass();
  check_equivalent(build, *p, true, &after);
  REQUIRE(after.num_nodes() == 2);
  const ir::Value *w = after.find_value("w");
  REQUIRE(w);
  CHECK(floats_of(w) == std::vector<float>{1, 2, 3, 4});
  CHECK(after.nodes()[1]->input(1) == w);
  CHECK(after.nodes()[0]->input(1) != w);
}

TEST_CASE("fold-batchnorm: leaves training BN and non-constant parameters alone") {
  SECTION("training_mode = 1") {
    ir::Graph g;
    g.opsets[""] = 15;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *y = val(g, "y", {1, 2, 3, 3});
    add_bn(g, x, y, 2)->attrs["training_mode"] = int64_t(1);
    g.outputs.push_back(y);
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 1);
  }
  SECTION("opset 9 with statistics outputs (training), even if unused") {
    ir::Graph g;
    g.opsets[""] = 9;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *y = val(g, "y", {1, 2, 3, 3});
    auto *rm = val(g, "rm", {2});
    auto *rv = val(g, "rv", {2});
    auto *n = add_bn(g, x, y, 2);
    n->outputs.push_back(rm);
    n->outputs.push_back(rv);
    g.outputs = {y};
    CHECK_FALSE(pass()->run(g));
  }
  SECTION("non-constant mean") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *mean = input(g, "mean", {2});
    auto *y = val(g, "y", {1, 2, 3, 3});
    auto *n = add_bn(g, x, y, 2);
    n->inputs[3] = mean;
    g.outputs.push_back(y);
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 1);
  }
  SECTION("running-mean output in use") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *y = val(g, "y", {1, 2, 3, 3});
    auto *rm = val(g, "rm", {2});
    add_bn(g, x, y, 2)->outputs.push_back(rm);
    g.outputs = {y, rm};
    CHECK_FALSE(pass()->run(g));
  }
  SECTION("a Conv that already carries an activation") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *w = f32c(g, "w", {2, 2, 1, 1}, {1, 2, 3, 4});
    auto *c = val(g, "c", {1, 2, 3, 3});
    g.add_node("Conv", {x, w}, {c}, "conv")->attrs["tmc_activation"] = std::string("Relu");
    auto *y = val(g, "y", {1, 2, 3, 3});
    add_bn(g, c, y, 2);
    auto *z = val(g, "z", {1, 2, 3, 3});
    g.add_node("Relu", {y}, {z});
    g.outputs.push_back(z);
    CHECK(pass()->run(g)); // standalone rewrite only
    CHECK(g.nodes()[0]->input(1)->name == "w");
    CHECK(count_op(g, "Mul") == 1);
  }
}
