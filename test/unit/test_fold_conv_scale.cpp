// Unit tests for the fold-conv-scale pass.
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

auto pass() { return passes::create_fold_conv_scale_pass(); }

/// Conv [1,2,4,4] -> [1,3,4,4] (optional bias) followed by `ops` (op, constant
/// shape, constant first?) in sequence.
struct ConvThen {
  bool bias = false;
  bool gemm = false;
  std::vector<std::tuple<std::string, Shape, bool>> ops;
  void operator()(ir::Graph &g) const {
    g.opsets[""] = 13;
    ir::Value *cur;
    Shape ys;
    if (gemm) {
      auto *a = input(g, "a", {2, 5});
      ys = {2, 3};
      cur = val(g, "c", ys);
      std::vector<ir::Value *> ins{a, f32c(g, "w", {3, 5}, rand_vals(15, 1))};
      if (bias) ins.push_back(f32c(g, "b", {1, 3}, rand_vals(3, 2)));
      g.add_node("Gemm", ins, {cur}, "gemm")->attrs["transB"] = int64_t(1);
    } else {
      auto *x = input(g, "x", {1, 2, 4, 4});
      ys = {1, 3, 4, 4};
      cur = val(g, "c", ys);
      std::vector<ir::Value *> ins{x, f32c(g, "w", {3, 2, 3, 3}, rand_vals(54, 1))};
      if (bias) ins.push_back(f32c(g, "b", {3}, rand_vals(3, 2)));
      g.add_node("Conv", ins, {cur}, "conv")->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    }
    unsigned seed = 10;
    for (auto &[op, s, first] : ops) {
      auto *k = f32c(g, "k", s, rand_vals((size_t)ir::shape_numel(s), seed++, 0.5f, 1.5f));
      auto *y = val(g, "y", ys);
      if (first) g.add_node(op, {k, cur}, {y});
      else g.add_node(op, {cur, k}, {y});
      cur = y;
    }
    g.outputs.push_back(cur);
  }
};

} // namespace

TEST_CASE("fold-conv-scale: per-channel Mul and Add fold into a Conv") {
  ConvThen b;
  b.ops = {{"Mul", {3, 1, 1}, false}, {"Add", {1, 3, 1, 1}, true}};
  ir::Graph after;
  auto p = pass();
  check_equivalent(b, *p, true, &after);
  REQUIRE(after.num_nodes() == 1);
  const ir::Node *conv = after.nodes()[0].get();
  CHECK(conv->op == "Conv");
  REQUIRE(conv->input(2));
  CHECK(conv->output(0)->name == after.outputs[0]->name);
}

TEST_CASE("fold-conv-scale: scalar constants, Sub and Div, with an existing bias") {
  for (int v = 0; v < 5; ++v) {
    DYNAMIC_SECTION("variant " << v) {
      ConvThen b;
      b.bias = true;
      if (v == 0) b.ops = {{"Mul", {}, true}};
      if (v == 1) b.ops = {{"Sub", {1}, false}};
      if (v == 2) b.ops = {{"Sub", {3, 1, 1}, true}};
      if (v == 3) b.ops = {{"Div", {1, 3, 1, 1}, false}};
      if (v == 4) b.ops = {{"Add", {1, 1, 1, 1}, false}, {"Mul", {3, 1, 1}, false}};
      ir::Graph after;
      auto p = pass();
      check_equivalent(b, *p, true, &after);
      CHECK(after.num_nodes() == 1);
    }
  }
}

TEST_CASE("fold-conv-scale: Mul without Add does not create a bias") {
  ConvThen b;
  b.ops = {{"Mul", {3, 1, 1}, false}};
  ir::Graph after;
  auto p = pass();
  check_equivalent(b, *p, true, &after);
  REQUIRE(after.num_nodes() == 1);
  CHECK(after.nodes()[0]->input(2) == nullptr);
}

TEST_CASE("fold-conv-scale: Gemm with [N] and [1,N] constants") {
  for (int v = 0; v < 3; ++v) {
    DYNAMIC_SECTION("variant " << v) {
      ConvThen b;
      b.gemm = true;
      b.bias = v != 0;
      if (v == 0) b.ops = {{"Mul", {3}, false}, {"Add", {1, 3}, true}};
      if (v == 1) b.ops = {{"Add", {3}, false}};
      if (v == 2) b.ops = {{"Mul", {1, 3}, true}};
      ir::Graph after;
      auto p = pass();
      check_equivalent(b, *p, true, &after);
      REQUIRE(after.num_nodes() == 1);
      CHECK(after.nodes()[0]->op == "Gemm");
    }
  }
}

TEST_CASE("fold-conv-scale: cases left unchanged") {
  auto unchanged = [](const ConvThen &b, std::function<void(ir::Graph &)> extra = nullptr) {
    ir::Graph g;
    b(g);
    if (extra) extra(g);
    size_t n = g.num_nodes();
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == n);
  };
  SECTION("spatial constant") {
    ConvThen b;
    b.ops = {{"Mul", {1, 1, 4, 1}, false}};
    unchanged(b);
  }
  SECTION("Div with the Conv as divisor") {
    ConvThen b;
    b.ops = {{"Div", {3, 1, 1}, true}};
    unchanged(b);
  }
  SECTION("Conv output read twice") {
    ConvThen b;
    b.ops = {{"Mul", {3, 1, 1}, false}};
    unchanged(b, [](ir::Graph &g) { g.outputs.push_back(g.find_value("c")); });
  }
  SECTION("non-constant operand") {
    ConvThen b;
    b.ops = {{"Mul", {3, 1, 1}, false}};
    unchanged(b, [](ir::Graph &g) {
      auto *k = input(g, "kk", {3, 1, 1});
      for (auto &n : g.nodes())
        if (n->op == "Mul") n->inputs[1] = k;
    });
  }
  SECTION("Gemm with a per-row constant") {
    ConvThen b;
    b.gemm = true;
    b.ops = {{"Add", {2, 1}, false}};
    unchanged(b);
  }
  SECTION("Conv with non-constant weights") {
    ConvThen b;
    b.ops = {{"Mul", {3, 1, 1}, false}};
    unchanged(b, [](ir::Graph &g) {
      auto *w = input(g, "wi", {3, 2, 3, 3});
      const_cast<ir::Node *>(find_op(g, "Conv"))->inputs[1] = w;
    });
  }
}
