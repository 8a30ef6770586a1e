// Unit tests for the fold-pad pass.
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

auto pass() { return passes::create_fold_pad_pass(); }

/// Pad(x [1,2,5,5], pads) -> consumer; opset 13 (pads as an input).
struct PadGraph {
  std::vector<int64_t> pads{0, 0, 1, 2, 0, 0, 2, 1};
  std::string consumer = "Conv";
  std::function<void(ir::Graph &, ir::Node *pad, ir::Node *consumer)> cfg;
  int opset = 13;

  void operator()(ir::Graph &g) const {
    g.opsets[""] = opset;
    auto *x = input(g, "x", {1, 2, 5, 5});
    Shape ps{1, 2, 5 + pads[2] + pads[6], 5 + pads[3] + pads[7]};
    auto *p = val(g, "p", ps);
    ir::Node *pad;
    if (opset >= 11) {
      pad = g.add_node("Pad", {x, i64c(g, "pads", {8}, pads)}, {p}, "pad");
    } else {
      pad = g.add_node("Pad", {x}, {p}, "pad");
      pad->attrs["pads"] = pads;
    }
    ir::Node *c;
    Shape ys;
    if (consumer == "Conv") {
      ys = {1, 3, ps[2] - 2, ps[3] - 2};
      auto *y = val(g, "y", ys);
      c = g.add_node("Conv", {p, f32c(g, "w", {3, 2, 3, 3}, rand_vals(54, 4))}, {y}, "conv");
      g.outputs.push_back(y);
    } else {
      ys = {1, 2, ps[2] - 1, ps[3] - 1};
      auto *y = val(g, "y", ys);
      c = g.add_node(consumer, {p}, {y}, "pool");
      c->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
      g.outputs.push_back(y);
    }
    if (cfg) cfg(g, pad, c);
  }
};

} // namespace

TEST_CASE("fold-pad: zero Pad folds into Conv pads") {
  PadGraph b;
  ir::Graph after;
  auto p = pass();
  check_equivalent(b, *p, true, &after);
  REQUIRE(after.num_nodes() == 1);
  const ir::Node *conv = after.nodes()[0].get();
  CHECK(conv->attr_ints("pads") == std::vector<int64_t>{1, 2, 2, 1});
  CHECK(conv->input(0)->name == "x");
}

TEST_CASE("fold-pad: Conv pads add up; explicit zero value; old opset attributes") {
  SECTION("own pads") {
    PadGraph b;
    b.cfg = [](ir::Graph &g, ir::Node *, ir::Node *c) {
      c->attrs["pads"] = std::vector<int64_t>{1, 0, 0, 1};
      ir::Value *y = c->output(0);
      y->shape = {1, 3, y->shape[2] + 1, y->shape[3] + 1};
      (void)g;
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(b, *p, true, &after);
    CHECK(after.nodes()[0]->attr_ints("pads") == std::vector<int64_t>{2, 2, 2, 2});
  }
  SECTION("constant_value input 0") {
    PadGraph b;
    b.cfg = [](ir::Graph &g, ir::Node *pad, ir::Node *) { pad->inputs.push_back(f32c(g, "cv", {}, {0.0f})); };
    ir::Graph after;
    auto p = pass();
    check_equivalent(b, *p, true, &after);
    CHECK(after.num_nodes() == 1);
  }
  SECTION("opset 9 pads attribute, auto_pad VALID") {
    PadGraph b;
    b.opset = 9;
    b.cfg = [](ir::Graph &, ir::Node *, ir::Node *c) { c->attrs["auto_pad"] = std::string("VALID"); };
    ir::Graph after;
    auto p = pass();
    check_equivalent(b, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK_FALSE(after.nodes()[0]->has_attr("auto_pad"));
  }
}

TEST_CASE("fold-pad: AveragePool without pads gets count_include_pad = 1") {
  PadGraph b;
  b.consumer = "AveragePool";
  ir::Graph after;
  auto p = pass();
  check_equivalent(b, *p, true, &after);
  REQUIRE(after.num_nodes() == 1);
  CHECK(after.nodes()[0]->attr_int("count_include_pad", 0) == 1);
  CHECK(after.nodes()[0]->attr_ints("pads") == std::vector<int64_t>{1, 2, 2, 1});
}

TEST_CASE("fold-pad: cases left unchanged") {
  auto unchanged = [](const PadGraph &b) {
    ir::Graph g;
    b(g);
    size_t n = g.num_nodes();
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == n);
  };
  SECTION("MaxPool") {
    PadGraph b;
    b.consumer = "MaxPool";
    unchanged(b);
  }
  SECTION("AveragePool with own pads and count_include_pad = 0") {
    PadGraph b;
    b.consumer = "AveragePool";
    b.cfg = [](ir::Graph &, ir::Node *, ir::Node *c) {
      c->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
      ir::Value *y = c->output(0);
      y->shape = {1, 2, y->shape[2] + 2, y->shape[3] + 2};
    };
    unchanged(b);
  }
  SECTION("non-zero pad value") {
    PadGraph b;
    b.cfg = [](ir::Graph &g, ir::Node *pad, ir::Node *) { pad->inputs.push_back(f32c(g, "cv", {}, {1.0f})); };
    unchanged(b);
  }
  SECTION("reflect mode") {
    PadGraph b;
    b.cfg = [](ir::Graph &, ir::Node *pad, ir::Node *) { pad->attrs["mode"] = std::string("reflect"); };
    unchanged(b);
  }
  SECTION("channel padding") {
    PadGraph b;
    b.pads = {0, 0, 1, 1, 0, 1, 1, 1};
    b.cfg = [](ir::Graph &g, ir::Node *, ir::Node *c) {
      // Conv weights must now take 3 input channels.
      c->inputs[1] = f32c(g, "w3", {3, 3, 3, 3}, rand_vals(81, 5));
      c->inputs[0]->shape[1] = 3;
    };
    unchanged(b);
  }
  SECTION("negative pads") {
    PadGraph b;
    b.pads = {0, 0, 1, 1, 0, 0, -1, 1};
    unchanged(b);
  }
  SECTION("SAME_UPPER Conv") {
    PadGraph b;
    b.cfg = [](ir::Graph &, ir::Node *, ir::Node *c) { c->attrs["auto_pad"] = std::string("SAME_UPPER"); };
    unchanged(b);
  }
  SECTION("padded tensor also a graph output") {
    PadGraph b;
    b.cfg = [](ir::Graph &g, ir::Node *pad, ir::Node *) { g.outputs.push_back(pad->output(0)); };
    unchanged(b);
  }
  SECTION("non-constant pads") {
    PadGraph b;
    b.cfg = [](ir::Graph &g, ir::Node *pad, ir::Node *) {
      auto *pv = g.add_value("pv", DType::I64, {8});
      g.inputs.push_back(pv);
      pad->inputs[1] = pv;
    };
    ir::Graph g;
    b(g);
    CHECK_FALSE(pass()->run(g));
  }
}

TEST_CASE("fold-pad: all-zero Pads disappear, zero Pad chains merge") {
  SECTION("all-zero pads, reflect mode") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {1, 2, 3, 3});
      auto *a = val(g, "a", {1, 2, 3, 3});
      g.add_node("Relu", {x}, {a});
      auto *y = val(g, "y", {1, 2, 3, 3});
      g.add_node("Pad", {a, i64c(g, "pads", {8}, {0, 0, 0, 0, 0, 0, 0, 0})}, {y})->attrs["mode"] =
          std::string("reflect");
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->output(0)->name == "y");
  }
  SECTION("Pad -> Pad -> MaxPool (opset 9 attributes)") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 9;
      auto *x = input(g, "x", {1, 2, 3, 3});
      auto *a = val(g, "a", {1, 2, 4, 5});
      g.add_node("Pad", {x}, {a})->attrs["pads"] = std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 2};
      auto *b = val(g, "b", {1, 2, 5, 6});
      g.add_node("Pad", {a}, {b})->attrs["pads"] = std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1, 0};
      auto *y = val(g, "y", {1, 2, 4, 5});
      auto *mp = g.add_node("MaxPool", {b}, {y});
      mp->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
      g.outputs.push_back(y);
    };
    ir::Graph after;
    build(after);
    CHECK(pass()->run(after));
    REQUIRE(after.num_nodes() == 2);
    CHECK(after.nodes()[0]->attr_ints("pads") == std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 2});
    CHECK_NOTHROW(ir::verify(after));
  }
  SECTION("Pad -> Pad -> Conv folds completely") {
    auto build = [](ir::Graph &g) {
      g.opsets[""] = 13;
      auto *x = input(g, "x", {1, 2, 3, 3});
      auto *a = val(g, "a", {1, 2, 4, 4});
      g.add_node("Pad", {x, i64c(g, "p1", {8}, {0, 0, 1, 1, 0, 0, 0, 0})}, {a});
      auto *b = val(g, "b", {1, 2, 5, 5});
      g.add_node("Pad", {a, i64c(g, "p2", {8}, {0, 0, 0, 0, 0, 0, 1, 1})}, {b});
      auto *y = val(g, "y", {1, 1, 3, 3});
      g.add_node("Conv", {b, f32c(g, "w", {1, 2, 3, 3}, rand_vals(18, 3))}, {y});
      g.outputs.push_back(y);
    };
    ir::Graph after;
    auto p = pass();
    check_equivalent(build, *p, true, &after);
    REQUIRE(after.num_nodes() == 1);
    CHECK(after.nodes()[0]->attr_ints("pads") == std::vector<int64_t>{1, 1, 1, 1});
  }
  SECTION("a Pad whose output has another user is not merged") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 3, 3});
    auto *a = val(g, "a", {1, 2, 4, 4});
    g.add_node("Pad", {x, i64c(g, "p1", {8}, {0, 0, 1, 1, 0, 0, 0, 0})}, {a});
    auto *b = val(g, "b", {1, 2, 5, 5});
    g.add_node("Pad", {a, i64c(g, "p2", {8}, {0, 0, 0, 0, 0, 0, 1, 1})}, {b});
    g.outputs = {a, b};
    CHECK_FALSE(pass()->run(g));
    CHECK(g.num_nodes() == 2);
  }
}
