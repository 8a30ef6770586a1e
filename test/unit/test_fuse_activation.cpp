// Unit tests for the fuse-activation pass.
#include <limits>

#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

auto pass() { return passes::create_fuse_activation_pass(); }

/// Gemm [3,4] -> activation `op` (configured by `cfg`) -> output y.
std::function<void(ir::Graph &)> gemm_then(const std::string &op, int opset,
                                           std::function<void(ir::Graph &, ir::Node *)> cfg = nullptr) {
  return [=](ir::Graph &g) {
    g.opsets[""] = opset;
    auto *a = input(g, "a", {3, 5});
    auto *b = f32c(g, "b", {5, 4}, rand_vals(20, 1, -2.0f, 2.0f));
    auto *m = val(g, "m", {3, 4});
    g.add_node("Gemm", {a, b}, {m}, "gemm");
    auto *y = val(g, "y", {3, 4});
    auto *act = g.add_node(op, {m}, {y}, "act");
    if (cfg) cfg(g, act);
    g.outputs.push_back(y);
  };
}

} // namespace

TEST_CASE("fuse-activation: every supported activation folds into a Gemm") {
  struct Case {
    std::string op;
    std::function<void(ir::Graph &, ir::Node *)> cfg;
    float alpha, beta;
  };
  std::vector<Case> cases{
      {"Relu", nullptr, 0, 0},
      {"Sigmoid", nullptr, 0, 0},
      {"Tanh", nullptr, 0, 0},
      {"HardSwish", nullptr, 0, 0},
      {"Softplus", nullptr, 0, 0},
      {"LeakyRelu", [](ir::Graph &, ir::Node *n) { n->attrs["alpha"] = 0.2f; }, 0.2f, 0},
      {"LeakyRelu", nullptr, 0.01f, 0},
      {"Elu", [](ir::Graph &, ir::Node *n) { n->attrs["alpha"] = 0.5f; }, 0.5f, 0},
      {"HardSigmoid", nullptr, 0.2f, 0.5f},
      {"HardSigmoid", [](ir::Graph &, ir::Node *n) { n->attrs["alpha"] = 0.3f; n->attrs["beta"] = 0.4f; }, 0.3f, 0.4f},
      {"Selu", nullptr, 1.67326319217681884765625f, 1.05070102214813232421875f},
      {"Selu", [](ir::Graph &, ir::Node *n) { n->attrs["alpha"] = 2.0f; n->attrs["gamma"] = 3.0f; }, 2.0f, 3.0f},
      {"Clip",
       [](ir::Graph &g, ir::Node *n) {
         n->inputs.push_back(f32c(g, "lo", {}, {-0.5f}));
         n->inputs.push_back(f32c(g, "hi", {}, {0.75f}));
       },
       -0.5f, 0.75f},
  };
  for (auto &c : cases) {
    DYNAMIC_SECTION(c.op << " " << c.alpha << " " << c.beta) {
      ir::Graph after;
      auto p = pass();
      check_equivalent(gemm_then(c.op, 14, c.cfg), *p, true, &after);
      REQUIRE(after.num_nodes() == 1);
      const ir::Node *n = after.nodes()[0].get();
      CHECK(n->op == "Gemm");
      CHECK(n->attr_string("tmc_activation", "") == c.op);
      CHECK(n->output(0)->name == "y");
      if (n->has_attr("tmc_activation_alpha")) CHECK(n->attr_float("tmc_activation_alpha", 0) == c.alpha);
      if (n->has_attr("tmc_activation_beta")) CHECK(n->attr_float("tmc_activation_beta", 0) == c.beta);
    }
  }
}

TEST_CASE("fuse-activation: Clip bounds from inputs, attributes and defaults") {
  const float big = std::numeric_limits<float>::max();
  SECTION("opset 13, only max given") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(gemm_then("Clip", 13,
                               [](ir::Graph &g, ir::Node *n) {
                                 n->inputs.push_back(nullptr);
                                 n->inputs.push_back(f32c(g, "hi", {}, {0.5f}));
                               }),
                     *p, true, &after);
    const ir::Node *n = after.nodes()[0].get();
    CHECK(n->attr_float("tmc_activation_alpha", 0) == -big);
    CHECK(n->attr_float("tmc_activation_beta", 0) == 0.5f);
  }
  SECTION("opset 6 attributes") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(gemm_then("Clip", 6, [](ir::Graph &, ir::Node *n) { n->attrs["min"] = 0.0f; n->attrs["max"] = 6.0f; }),
                     *p, true, &after);
    const ir::Node *n = after.nodes()[0].get();
    CHECK(n->attr_float("tmc_activation_alpha", 1) == 0.0f);
    CHECK(n->attr_float("tmc_activation_beta", 0) == 6.0f);
  }
  SECTION("opset 6 without attributes") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(gemm_then("Clip", 6), *p, true, &after);
    CHECK(after.nodes()[0]->attr_float("tmc_activation_beta", 0) == big);
  }
}

TEST_CASE("fuse-activation: Conv, MatMul, Add and Mul producers") {
  for (std::string prod : {"Conv", "ConvTranspose", "MatMul", "Add", "Mul"}) {
    DYNAMIC_SECTION(prod) {
      auto build = [prod](ir::Graph &g) {
        g.opsets[""] = 13;
        auto *x = input(g, "x", {1, 2, 3, 3});
        auto *m = val(g, "m", {1, 2, 3, 3});
        if (prod == "Conv" || prod == "ConvTranspose") {
          g.add_node(prod, {x, f32c(g, "w", {2, 2, 1, 1}, {1, -2, 3, -4}), f32c(g, "b", {2}, {0.5f, -0.5f})}, {m});
        } else if (prod == "MatMul") {
          g.add_node(prod, {x, f32c(g, "w", {3, 3}, rand_vals(9, 3))}, {m});
        } else {
          g.add_node(prod, {x, f32c(g, "k", {1, 2, 1, 1}, {0.5f, -1.5f})}, {m});
        }
        auto *y = val(g, "y", {1, 2, 3, 3});
        g.add_node("LeakyRelu", {m}, {y})->attrs["alpha"] = 0.1f;
        g.outputs.push_back(y);
      };
      ir::Graph after;
      auto p = pass();
      check_equivalent(build, *p, true, &after);
      REQUIRE(after.num_nodes() == 1);
      CHECK(after.nodes()[0]->op == prod);
    }
  }
}

TEST_CASE("fuse-activation: cases left unchanged") {
  SECTION("producer output has a second user") {
    ir::Graph g;
    gemm_then("Relu", 13)(g);
    g.outputs.push_back(g.find_value("m"));
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 2);
  }
  SECTION("producer already carries an activation") {
    ir::Graph g;
    gemm_then("Sigmoid", 13)(g);
    const_cast<ir::Node *>(find_op(g, "Gemm"))->attrs["tmc_activation"] = std::string("Relu");
    CHECK_FALSE(pass()->run(g));
  }
  SECTION("non-constant Clip bound") {
    ir::Graph g;
    gemm_then("Clip", 13, [](ir::Graph &gg, ir::Node *n) { n->inputs.push_back(input(gg, "lo", {})); })(g);
    CHECK_FALSE(pass()->run(g));
  }
  SECTION("Clip with min > max") {
    ir::Graph g;
    gemm_then("Clip", 6, [](ir::Graph &, ir::Node *n) { n->attrs["min"] = 2.0f; n->attrs["max"] = 1.0f; })(g);
    CHECK_FALSE(pass()->run(g));
  }
  SECTION("unsupported producer (MaxPool) and unsupported activation (Softsign)") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 1, 4, 4});
    auto *m = val(g, "m", {1, 1, 2, 2});
    g.add_node("MaxPool", {x}, {m})->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
    auto *y = val(g, "y", {1, 1, 2, 2});
    g.add_node("Relu", {m}, {y});
    auto *z = val(g, "z", {1, 1, 4, 4});
    auto *a = val(g, "a", {1, 1, 4, 4});
    g.add_node("Add", {x, x}, {a});
    g.add_node("Softsign", {a}, {z});
    g.outputs = {y, z};
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 4);
  }
  SECTION("broadcasting activation output shape differs / non-float") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = g.add_value("x", DType::I32, {4});
    g.inputs.push_back(x);
    auto *m = g.add_value("m", DType::I32, {4});
    g.add_node("Add", {x, x}, {m});
    auto *y = g.add_value("y", DType::I32, {4});
    g.add_node("Relu", {m}, {y});
    g.outputs.push_back(y);
    CHECK_FALSE(pass()->run(g));
  }
}

TEST_CASE("fuse-activation: Relu and Clip chains compose into one activation") {
  auto chain = [](const std::string &first, const std::string &second, float lo1, float hi1, float lo2,
                  float hi2) {
    return [=](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *a = input(g, "a", {3, 5});
      auto *m = val(g, "m", {3, 5});
      g.add_node("Add", {a, f32c(g, "k", {5}, rand_vals(5, 2))}, {m}, "add");
      auto *t = val(g, "t", {3, 5});
      auto *y = val(g, "y", {3, 5});
      auto *n1 = g.add_node(first, {m}, {t}, "act1");
      if (first == "Clip") n1->inputs = {m, f32c(g, "lo1", {}, {lo1}), f32c(g, "hi1", {}, {hi1})};
      auto *n2 = g.add_node(second, {t}, {y}, "act2");
      if (second == "Clip") n2->inputs = {t, f32c(g, "lo2", {}, {lo2}), f32c(g, "hi2", {}, {hi2})};
      g.outputs.push_back(y);
    };
  };
  SECTION("Relu then Clip(-1, 0.5) is Clip(0, 0.5)") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(chain("Relu", "Clip", 0, 0, -1.0f, 0.5f), *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    const ir::Node *n = after.nodes()[0].get();
    CHECK(n->attr_string("tmc_activation", "") == "Clip");
    CHECK(n->attr_float("tmc_activation_alpha", 1) == 0.0f);
    CHECK(n->attr_float("tmc_activation_beta", 0) == 0.5f);
  }
  SECTION("Clip(-1, 1) then Relu is Clip(0, 1)") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(chain("Clip", "Relu", -1.0f, 1.0f, 0, 0), *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->attr_float("tmc_activation_alpha", 1) == 0.0f);
  }
  SECTION("Relu then Relu") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(chain("Relu", "Relu", 0, 0, 0, 0), *p, true, &after);
    CHECK(after.num_nodes() == 1);
  }
  SECTION("overlapping Clips intersect") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(chain("Clip", "Clip", -1.0f, 1.0f, -0.5f, 2.0f), *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->attr_float("tmc_activation_alpha", 0) == -0.5f);
    CHECK(after.nodes()[0]->attr_float("tmc_activation_beta", 0) == 1.0f);
  }
  SECTION("disjoint Clips keep the second node") {
    ir::Graph after;
    auto p = pass();
    check_equivalent(chain("Clip", "Clip", -1.0f, 0.0f, 0.5f, 2.0f), *p, true, &after);
    CHECK(after.num_nodes() == 2);
  }
}

TEST_CASE("fuse-activation: x * HardSigmoid(x, 1/6, 0.5) fuses as HardSwish") {
  auto build = [](bool swap, float alpha, bool extra_use) {
    return [=](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {1, 2, 3, 3});
      auto *c = val(g, "c", {1, 2, 3, 3});
      g.add_node("Conv", {x, f32c(g, "w", {2, 2, 1, 1}, {1.5f, -2, 3, -4})}, {c}, "conv");
      auto *h = val(g, "h", {1, 2, 3, 3});
      auto *hs = g.add_node("HardSigmoid", {c}, {h}, "hs");
      hs->attrs["alpha"] = alpha;
      hs->attrs["beta"] = 0.5f;
      auto *y = val(g, "y", {1, 2, 3, 3});
      if (swap) g.add_node("Mul", {h, c}, {y}, "mul");
      else g.add_node("Mul", {c, h}, {y}, "mul");
      g.outputs.push_back(y);
      if (extra_use) g.outputs.push_back(h);
    };
  };
  for (bool swap : {false, true}) {
    ir::Graph after;
    auto p = pass();
    check_equivalent(build(swap, 1.0f / 6.0f, false), *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->attr_string("tmc_activation", "") == "HardSwish");
    CHECK(after.nodes()[0]->output(0)->name == "y");
  }
  SECTION("other alpha, or HardSigmoid output used elsewhere: unchanged") {
    ir::Graph g1, g2;
    build(false, 0.2f, false)(g1);
    build(false, 1.0f / 6.0f, true)(g2);
    CHECK_FALSE(pass()->run(g1));
    CHECK_FALSE(pass()->run(g2));
    CHECK(g1.num_nodes() == 3);
    CHECK(g2.num_nodes() == 3);
  }
}
