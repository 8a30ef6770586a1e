// Unit tests for the layout-channels-last pass (structure of the rewritten
// graph; the numerics are covered end to end by the samples and conformance).
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

void run_layout(ir::Graph &g, bool simplify = true) {
  auto p = passes::create_layout_channels_last_pass();
  p->run(g);
  ir::verify(g);
  if (simplify) {
    auto s = passes::create_simplify_transpose_reshape_pass();
    s->run(g);
    ir::verify(g);
  }
}

ir::Node *conv(ir::Graph &g, ir::Value *x, ir::Value *y, const Shape &ws, int64_t group, unsigned seed,
               const std::string &name) {
  auto *w = f32c(g, name + "_w", ws, rand_vals((size_t)ir::shape_numel(ws), seed));
  auto *b = f32c(g, name + "_b", {ws[0]}, rand_vals((size_t)ws[0], seed + 1));
  auto *n = g.add_node("Conv", {x, w, b}, {y}, name);
  n->attrs["group"] = group;
  n->attrs["kernel_shape"] = std::vector<int64_t>{ws[2], ws[3]};
  int64_t ph = ws[2] / 2, pw = ws[3] / 2;
  n->attrs["pads"] = std::vector<int64_t>{ph, pw, ph, pw};
  n->opset = 13;
  return n;
}

ir::Node *add_node(ir::Graph &g, const std::string &op, std::vector<ir::Value *> in, ir::Value *out) {
  auto *n = g.add_node(op, std::move(in), {out});
  n->opset = 13;
  return n;
}

const ir::Node *node_named(const ir::Graph &g, const std::string &name) {
  for (auto &n : g.nodes())
    if (n->name == name) return n.get();
  return nullptr;
}

size_t transposes(const ir::Graph &g) { return count_op(g, "Transpose"); }

} // namespace

TEST_CASE("layout-channels-last: conv chain runs in NHWC with boundary transposes only") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = input(g, "x", {1, 3, 8, 8});
  auto *a = val(g, "a", {1, 8, 8, 8});
  conv(g, x, a, {8, 3, 3, 3}, 1, 1, "c1")->attrs["tmc_activation"] = std::string("Relu");
  auto *b = val(g, "b", {1, 8, 8, 8});
  conv(g, a, b, {8, 1, 3, 3}, 8, 3, "dw");
  auto *c = val(g, "c", {1, 8, 8, 8});
  add_node(g, "Add", {a, b}, c); // residual
  auto *d = val(g, "d", {1, 8, 8, 8});
  add_node(g, "Relu", {c}, d);
  auto *e = val(g, "e", {1, 8, 4, 4});
  auto *mp = add_node(g, "MaxPool", {d}, e);
  mp->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
  mp->attrs["strides"] = std::vector<int64_t>{2, 2};
  auto *f = val(g, "f", {1, 8, 1, 1});
  add_node(g, "GlobalAveragePool", {e}, f);
  auto *h = val(g, "h", {1, 8});
  add_node(g, "Flatten", {f}, h)->attrs["axis"] = int64_t(1);
  g.outputs.push_back(h);

  run_layout(g);
  // Input: one real transpose (C = 3); the 1x1 pool output needs none.
  CHECK(transposes(g) == 1);
  for (auto &n : g.nodes()) {
    if (n->op == "Conv" || n->op == "MaxPool" || n->op == "GlobalAveragePool")
      CHECK(n->attr_string("tmc_layout", "") == "NHWC");
    if (n->op == "Add" || n->op == "Relu" || n->op == "Conv" || n->op == "MaxPool") {
      // Every tensor between the NHWC ops has channels last (C = 8).
      CHECK(n->output(0)->shape.back() == 8);
    }
  }
  const ir::Node *c1 = node_named(g, "c1");
  REQUIRE(c1);
  CHECK(c1->input(1)->shape == Shape{8, 3, 3, 3});
  CHECK(c1->input(0)->shape == Shape{1, 8, 8, 3});
  CHECK(c1->output(0)->shape == Shape{1, 8, 8, 8});
  CHECK(c1->attr_string("tmc_activation", "") == "Relu");
  // The graph output keeps its name, shape and layout.
  REQUIRE(g.outputs.size() == 1);
  CHECK(g.outputs[0]->name == "h");
  CHECK(g.outputs[0]->shape == Shape{1, 8});
  CHECK(g.inputs[0]->shape == Shape{1, 3, 8, 8});
}

TEST_CASE("layout-channels-last: conv weights are re-laid out as [M][KH][KW][C/group]") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = input(g, "x", {1, 4, 5, 5});
  auto *y = val(g, "y", {1, 6, 5, 5});
  auto *n = conv(g, x, y, {6, 2, 3, 3}, 2, 7, "c");
  std::vector<float> w0 = floats_of(n->input(1));
  g.outputs.push_back(y);
  run_layout(g);
  const ir::Node *c = node_named(g, "c");
  REQUIRE(c);
  REQUIRE(c->input(1)->shape == Shape{6, 3, 3, 2});
  std::vector<float> w1 = floats_of(c->input(1));
  for (int m = 0; m < 6; ++m)
    for (int ci = 0; ci < 2; ++ci)
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw)
          CHECK(w1[(size_t)(((m * 3 + kh) * 3 + kw) * 2 + ci)] == w0[(size_t)(((m * 2 + ci) * 3 + kh) * 3 + kw)]);
  // Graph output: converted back to NCHW under its own name.
  REQUIRE(g.outputs[0]->producer);
  CHECK(g.outputs[0]->name == "y");
  CHECK(g.outputs[0]->producer->op == "Transpose");
  CHECK(g.outputs[0]->producer->attr_ints("perm") == std::vector<int64_t>{0, 3, 1, 2});
  CHECK(transposes(g) == 2);
}

TEST_CASE("layout-channels-last: per-channel constants and Concat axis follow the layout") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = input(g, "x", {1, 2, 4, 4});
  auto *a = val(g, "a", {1, 3, 4, 4});
  conv(g, x, a, {3, 2, 1, 1}, 1, 11, "c1");
  auto *s = f32c(g, "scale", {3, 1, 1}, {1.0f, 2.0f, 3.0f});
  auto *full = f32c(g, "full", {1, 3, 1, 2}, {1, 2, 3, 4, 5, 6});
  auto *b = val(g, "b", {1, 3, 4, 4});
  add_node(g, "Mul", {a, s}, b);
  auto *b2 = val(g, "b2", {1, 3, 4, 4});
  add_node(g, "Add", {b, full}, b2);
  auto *cat = val(g, "cat", {1, 6, 4, 4});
  add_node(g, "Concat", {a, b2}, cat)->attrs["axis"] = int64_t(1);
  auto *y = val(g, "y", {1, 2, 4, 4});
  conv(g, cat, y, {2, 6, 3, 3}, 1, 13, "c2");
  g.outputs.push_back(y);
  run_layout(g);
  CHECK(transposes(g) == 2); // graph input and graph output only
  const ir::Node *mul = find_op(g, "Mul");
  REQUIRE(mul);
  CHECK(mul->input(1)->shape == Shape{1, 1, 1, 3});
  CHECK(floats_of(mul->input(1)) == std::vector<float>{1.0f, 2.0f, 3.0f});
  const ir::Node *add = find_op(g, "Add");
  REQUIRE(add);
  CHECK(add->input(1)->shape == Shape{1, 1, 2, 3});
  CHECK(floats_of(add->input(1)) == std::vector<float>{1, 3, 5, 2, 4, 6});
  const ir::Node *c = find_op(g, "Concat");
  REQUIRE(c);
  CHECK(c->attr_int("axis", 0) == 3);
  CHECK(c->output(0)->shape == Shape{1, 4, 4, 6});
}

TEST_CASE("layout-channels-last: Flatten of a spatial tensor reads NCHW order") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = input(g, "x", {1, 1, 6, 6});
  auto *a = val(g, "a", {1, 4, 6, 6});
  conv(g, x, a, {4, 1, 3, 3}, 1, 21, "c1");
  auto *f = val(g, "f", {1, 144});
  add_node(g, "Flatten", {a}, f)->attrs["axis"] = int64_t(1);
  g.outputs.push_back(f);
  run_layout(g);
  const ir::Node *fl = find_op(g, "Flatten");
  REQUIRE(fl);
  REQUIRE(fl->input(0)->producer);
  CHECK(fl->input(0)->producer->op == "Transpose");
  CHECK(fl->input(0)->shape == Shape{1, 4, 6, 6});
  // C = 1 at the input: the conversion moves no byte and is a Reshape.
  const ir::Node *c1 = node_named(g, "c1");
  REQUIRE(c1);
  REQUIRE(c1->input(0)->producer);
  CHECK(c1->input(0)->producer->op == "Reshape");
  CHECK(transposes(g) == 1);
}

TEST_CASE("layout-channels-last: ReduceMean over the spatial axes") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = input(g, "x", {1, 2, 4, 4});
  auto *a = val(g, "a", {1, 3, 4, 4});
  conv(g, x, a, {3, 2, 3, 3}, 1, 31, "c1");
  auto *r = val(g, "r", {1, 3});
  auto *rn = add_node(g, "ReduceMean", {a}, r);
  rn->attrs["axes"] = std::vector<int64_t>{2, 3};
  rn->attrs["keepdims"] = int64_t(0);
  g.outputs.push_back(r);
  run_layout(g);
  CHECK(rn->attr_ints("axes") == std::vector<int64_t>{1, 2});
  CHECK(rn->input(0)->shape == Shape{1, 4, 4, 3});
  CHECK(transposes(g) == 1);
}

TEST_CASE("layout-channels-last: graphs without a 2-D Conv are left alone") {
  SECTION("pooling only") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 4, 4});
    auto *y = val(g, "y", {1, 2, 2, 2});
    auto *mp = add_node(g, "MaxPool", {x}, y);
    mp->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
    mp->attrs["strides"] = std::vector<int64_t>{2, 2};
    g.outputs.push_back(y);
    auto p = passes::create_layout_channels_last_pass();
    CHECK_FALSE(p->run(g));
    CHECK_FALSE(mp->has_attr("tmc_layout"));
  }
  SECTION("1-D conv") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 8});
    auto *y = val(g, "y", {1, 3, 8});
    auto *w = f32c(g, "w", {3, 2, 1}, rand_vals(6, 5));
    auto *n = g.add_node("Conv", {x, w}, {y}, "c");
    n->opset = 13;
    g.outputs.push_back(y);
    auto p = passes::create_layout_channels_last_pass();
    CHECK_FALSE(p->run(g));
    CHECK(g.num_nodes() == 1);
  }
}
