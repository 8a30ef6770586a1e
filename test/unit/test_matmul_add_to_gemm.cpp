// Unit tests for the matmul-add-to-gemm pass.
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

auto pass() { return passes::create_matmul_add_to_gemm_pass(); }

struct MMAdd {
  Shape a{3, 4}, bias{5};
  bool bias_first = false;
  bool b_const = true;
  void operator()(ir::Graph &g) const {
    g.opsets[""] = 13;
    auto *x = input(g, "a", a);
    int64_t K = a.back();
    ir::Value *b = b_const ? f32c(g, "b", {K, 5}, rand_vals((size_t)K * 5, 1)) : input(g, "b", {K, 5});
    Shape ms = a;
    ms.back() = 5;
    auto *m = val(g, "m", ms);
    g.add_node("MatMul", {x, b}, {m}, "mm");
    auto *c = f32c(g, "c", bias, rand_vals((size_t)ir::shape_numel(bias), 2));
    auto *y = val(g, "y", ms);
    if (bias_first) g.add_node("Add", {c, m}, {y}, "add");
    else g.add_node("Add", {m, c}, {y}, "add");
    g.outputs.push_back(y);
  }
};

} // namespace

TEST_CASE("matmul-add-to-gemm: MatMul + Add(bias) becomes Gemm") {
  for (int variant = 0; variant < 3; ++variant) {
    DYNAMIC_SECTION("variant " << variant) {
      MMAdd b;
      if (variant == 1) b.bias = {1, 5};
      if (variant == 2) b.bias_first = true;
      ir::Graph after;
      auto p = pass();
      check_equivalent(b, *p, true, &after);
      REQUIRE(after.num_nodes() == 1);
      const ir::Node *n = after.nodes()[0].get();
      CHECK(n->op == "Gemm");
      CHECK(n->inputs.size() == 3);
      CHECK(n->input(2)->name == "c");
      CHECK(n->output(0)->name == "y");
    }
  }
}

TEST_CASE("matmul-add-to-gemm: cases left unchanged") {
  auto unchanged = [](const MMAdd &b, std::function<void(ir::Graph &)> extra = nullptr) {
    ir::Graph g;
    b(g);
    if (extra) extra(g);
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 2);
  };
  SECTION("rank-3 A") {
    MMAdd b;
    b.a = {2, 3, 4};
    unchanged(b);
  }
  SECTION("non-constant B") {
    MMAdd b;
    b.b_const = false;
    unchanged(b);
  }
  SECTION("full [M,N] addend") {
    MMAdd b;
    b.bias = {3, 5};
    unchanged(b);
  }
  SECTION("MatMul output also a graph output") {
    MMAdd b;
    unchanged(b, [](ir::Graph &g) { g.outputs.push_back(g.find_value("m")); });
  }
  SECTION("non-constant bias") {
    MMAdd b;
    unchanged(b, [](ir::Graph &g) {
      auto *bi = input(g, "bi", {5});
      const_cast<ir::Node *>(find_op(g, "Add"))->inputs[1] = bi;
    });
  }
}
