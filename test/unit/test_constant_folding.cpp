// Unit tests for the constant-folding pass (with the host reference evaluator).
#include <catch2/catch.hpp>
#include <cstring>
#include <limits>

#include "passes/pass.h"

using namespace tmc;
using ir::DType;
using ir::Shape;

namespace {

template <typename T> std::vector<T> const_vals(const ir::Value *v) {
  REQUIRE(v);
  REQUIRE(v->is_constant());
  std::vector<T> r(v->data->size() / sizeof(T));
  if (!r.empty()) std::memcpy(r.data(), v->data->data(), v->data->size());
  return r;
}

ir::Value *tmp(ir::Graph &g, const std::string &name, DType dt = DType::Undefined, Shape s = {}) {
  auto *v = g.add_value(name, dt, s);
  if (dt == DType::Undefined || s.empty()) v->shape_known = false; // unknown unless given
  return v;
}

ir::Value *i64c(ir::Graph &g, const std::string &name, const Shape &s, const std::vector<int64_t> &v) {
  return g.add_constant_of<int64_t>(name, DType::I64, s, v);
}

bool run_folding(ir::Graph &g) { return passes::create_constant_folding_pass()->run(g); }

} // namespace

TEST_CASE("constant-folding: a chain of shape arithmetic folds in one run") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {1, 3, 8, 9});
  g.inputs.push_back(x);
  auto *s = i64c(g, "s", {4}, {1, 3, 8, 9});
  auto *h = tmp(g, "h", DType::I64, {});
  g.add_node("Gather", {s, i64c(g, "two", {}, {2})}, {h});
  auto *h2 = tmp(g, "h2");
  g.add_node("Mul", {h, i64c(g, "k", {}, {2})}, {h2});
  auto *h3 = tmp(g, "h3");
  auto *ax = i64c(g, "ax", {1}, {0});
  g.add_node("Unsqueeze", {h2, ax}, {h3});
  auto *shape = tmp(g, "shape", DType::I64, {2});
  g.add_node("Concat", {h3, i64c(g, "m1", {1}, {-1})}, {shape}, "cat")->attrs["axis"] = int64_t(0);
  auto *y = g.add_value("y", DType::F32, {16, 27});
  g.add_node("Reshape", {x, shape}, {y});
  g.outputs.push_back(y);

  CHECK(run_folding(g));
  REQUIRE(g.num_nodes() == 1);
  ir::Node *r = g.nodes()[0].get();
  CHECK(r->op == "Reshape");
  CHECK(r->inputs[0] == x);
  CHECK(const_vals<int64_t>(r->inputs[1]) == std::vector<int64_t>{16, -1});
  CHECK(r->inputs[1]->shape == Shape{2});
  CHECK_NOTHROW(ir::verify(g));
  // Nothing left to fold.
  CHECK_FALSE(run_folding(g));
}

// The graph torch.onnx emits for F.pad with padding amounts computed from the
// input's shape (TF "same" padding in timm/EfficientNet ports, opset 13).
TEST_CASE("constant-folding: torch TF-same padding chain folds to constant pads") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {1, 3, 8, 9});
  g.inputs.push_back(x);
  auto node = [&](const std::string &op, std::vector<ir::Value *> ins, ir::Value *out,
                  std::map<std::string, ir::AttrValue> attrs = {}) {
    g.add_node(op, std::move(ins), {out})->attrs = std::move(attrs);
    return out;
  };
  auto c = [&](std::vector<int64_t> v, Shape s = {}) { return i64c(g, g.unique_name("c"), s, v); };
  // pad = max((ceil(i / s) - 1) * s + (k - 1) * d + 1 - i, 0), for kernel 3, stride 2, dilation 1.
  auto *shp = node("Shape", {x}, tmp(g, "shp", DType::I64, {4}));
  auto pad_amount = [&](int64_t axis) {
    auto *i = node("Gather", {shp, c({axis})}, tmp(g, "i", DType::I64, {}), {{"axis", int64_t(0)}});
    auto *fi = node("Cast", {i}, tmp(g, "fi", DType::F32, {}), {{"to", int64_t(1)}});
    auto *q = node("Div", {fi, g.add_constant_of<float>(g.unique_name("f"), DType::F32, {}, {2.f})},
                   tmp(g, "q", DType::F32, {}));
    auto *ce = node("Ceil", {q}, tmp(g, "ce", DType::F32, {}));
    auto *ci = node("Cast", {ce}, tmp(g, "ci", DType::I64, {}), {{"to", int64_t(7)}});
    auto *a = node("Sub", {ci, c({1})}, tmp(g, "a", DType::I64));
    auto *b = node("Mul", {a, c({2})}, tmp(g, "b", DType::I64));
    auto *d = node("Add", {b, c({3})}, tmp(g, "d", DType::I64)); // (k - 1) * d + 1
    auto *e = node("Sub", {d, i}, tmp(g, "e", DType::I64));
    auto *p = node("Max", {e, c({0})}, tmp(g, "p", DType::I64));
    auto *half = node("Div", {p, c({2})}, tmp(g, "half", DType::I64));
    auto *rest = node("Sub", {p, half}, tmp(g, "rest", DType::I64));
    return std::make_pair(node("Unsqueeze", {half, c({0}, {1})}, tmp(g, "uh", DType::I64)),
                          node("Unsqueeze", {rest, c({0}, {1})}, tmp(g, "ur", DType::I64)));
  };
  auto [wl, wr] = pad_amount(3);
  auto [ht, hb] = pad_amount(2);
  auto *pad = node("Concat", {wl, wr, ht, hb}, tmp(g, "pad", DType::I64, {4}), {{"axis", int64_t(0)}});
  // torch's _prepare_onnx_paddings
  auto *plen = node("Gather", {node("Shape", {pad}, tmp(g, "ps", DType::I64)), c({0}, {1})}, tmp(g, "plen", DType::I64));
  auto *ext = node("Sub", {node("Mul", {c({4}), c({2})}, tmp(g, "r2", DType::I64)), plen}, tmp(g, "ext", DType::I64));
  ir::TensorAttr zero;
  zero.dtype = DType::I64;
  zero.shape = {1};
  zero.data = std::make_shared<ir::Bytes>(8, 0);
  auto *zeros = node("ConstantOfShape", {ext}, tmp(g, "zeros", DType::I64), {{"value", zero}});
  auto *pcast = node("Cast", {pad}, tmp(g, "pcast", DType::I64), {{"to", int64_t(7)}});
  auto *all = node("Concat", {pcast, zeros}, tmp(g, "all", DType::I64), {{"axis", int64_t(0)}});
  auto *r1 = node("Reshape", {all, c({-1, 2}, {2})}, tmp(g, "r1", DType::I64));
  const int64_t big = std::numeric_limits<int64_t>::max();
  auto *flip = node("Slice", {r1, c({-1}, {1}), c({-big}, {1}), c({0}, {1}), c({-1}, {1})}, tmp(g, "flip", DType::I64));
  auto *tr = node("Transpose", {flip}, tmp(g, "tr", DType::I64), {{"perm", std::vector<int64_t>{1, 0}}});
  auto *r2 = node("Reshape", {tr, c({-1}, {1})}, tmp(g, "flat", DType::I64));
  auto *pads = node("Cast", {r2}, tmp(g, "pads", DType::I64, {8}), {{"to", int64_t(7)}});
  auto *y = g.add_value("y", DType::F32, {1, 3, 9, 11});
  node("Pad", {x, pads, g.add_constant_of<float>("cv", DType::F32, {}, {0.f})}, y);
  g.outputs.push_back(y);

  passes::PassManager pm;
  pm.add(passes::create_shape_folding_pass());
  pm.add(passes::create_constant_folding_pass());
  pm.add(passes::create_dead_code_elimination_pass());
  pm.run(g);

  REQUIRE(g.num_nodes() == 1);
  ir::Node *p = g.nodes()[0].get();
  CHECK(p->op == "Pad");
  CHECK(p->inputs[0] == x);
  // W (9): pad 2 -> 1 + 1; H (8): pad 1 -> 0 + 1. ONNX order: begins then ends.
  CHECK(const_vals<int64_t>(p->inputs[1]) == std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1, 1});
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("constant-folding: nodes with runtime inputs are left alone") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {2});
  g.inputs.push_back(x);
  auto *w = g.add_constant_of<float>("w", DType::F32, {2}, {1.f, 2.f});
  auto *wn = tmp(g, "wn", DType::F32, {2});
  g.add_node("Neg", {w}, {wn});
  auto *y = g.add_value("y", DType::F32, {2});
  g.add_node("Add", {x, wn}, {y});
  g.outputs.push_back(y);
  CHECK(run_folding(g));
  REQUIRE(g.num_nodes() == 1);
  ir::Node *add = g.nodes()[0].get();
  CHECK(add->op == "Add");
  CHECK(add->inputs[0] == x);
  CHECK(const_vals<float>(add->inputs[1]) == std::vector<float>{-1.f, -2.f});
  CHECK(g.find_value("w") == nullptr); // the unused weight is gone
  CHECK_FALSE(run_folding(g));
}

TEST_CASE("constant-folding: unknown ops and convolutions (left to the generated code) are not folded") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *a = g.add_constant_of<float>("a", DType::F32, {1, 1, 2, 2}, {1, 2, 3, 4});
  auto *k = g.add_constant_of<float>("k", DType::F32, {1, 1, 1, 1}, {2});
  auto *c = tmp(g, "c", DType::F32, {1, 1, 2, 2});
  g.add_node("Conv", {a, k}, {c});
  auto *m = tmp(g, "m", DType::F32, {1, 1, 2, 2});
  g.add_node("MyOp", {c}, {m})->domain = "com.example";
  auto *y = g.add_value("y", DType::F32, {1, 1, 2, 2});
  g.add_node("Relu", {m}, {y});
  g.outputs.push_back(y);
  CHECK_FALSE(run_folding(g));
  CHECK(g.num_nodes() == 3);
  // A custom-domain node with an op name the evaluator knows is not folded either.
  ir::Graph h;
  h.opsets[""] = 13;
  auto *b = h.add_constant_of<float>("b", DType::F32, {2}, {-1, 2});
  auto *z = h.add_value("z", DType::F32, {2});
  h.add_node("Relu", {b}, {z})->domain = "com.example";
  h.outputs.push_back(z);
  CHECK_FALSE(run_folding(h));
  CHECK(h.num_nodes() == 1);
}

TEST_CASE("constant-folding: results much larger than the inputs are not folded") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {512, 512});
  g.inputs.push_back(x);
  auto *one = g.add_constant_of<float>("one", DType::F32, {}, {1.f});
  auto *e = tmp(g, "e", DType::F32, {512, 512});
  g.add_node("Expand", {one, i64c(g, "shape", {2}, {512, 512})}, {e}); // 1 MiB from 4 bytes
  auto *y = g.add_value("y", DType::F32, {512, 512});
  g.add_node("Mul", {x, e}, {y});
  g.outputs.push_back(y);
  // A gigantic ConstantOfShape is refused without allocating.
  auto *big = tmp(g, "big");
  g.add_node("ConstantOfShape", {i64c(g, "bigshape", {3}, {4096, 4096, 4096})}, {big});
  auto *big_out = g.add_value("big_out", DType::F32, {4096, 4096, 4096});
  g.add_node("Identity", {big}, {big_out});
  CHECK_FALSE(run_folding(g));
  CHECK(g.num_nodes() == 4);
  CHECK(g.nodes()[0]->op == "Expand");
  CHECK(g.nodes()[2]->op == "ConstantOfShape");
}

TEST_CASE("constant-folding: a folded graph output keeps its value via Identity") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *a = g.add_constant_of<int64_t>("a", DType::I64, {3}, {1, 2, 3});
  auto *y = g.add_value("y", DType::I64, {3});
  g.add_node("Mul", {a, i64c(g, "two", {}, {2})}, {y});
  g.outputs.push_back(y);
  CHECK(run_folding(g));
  REQUIRE(g.num_nodes() == 1);
  ir::Node *n = g.nodes()[0].get();
  CHECK(n->op == "Identity");
  CHECK(n->outputs[0] == y);
  CHECK(g.outputs[0] == y);
  CHECK(const_vals<int64_t>(n->inputs[0]) == std::vector<int64_t>{2, 4, 6});
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("constant-folding: multi-output Split and weight preprocessing") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {1, 2});
  g.inputs.push_back(x);
  // int8 weight, dequantized and transposed at compile time.
  auto *wq = g.add_constant_of<int8_t>("wq", DType::I8, {2, 2}, {2, -4, 6, 8});
  auto *sc = g.add_constant_of<float>("sc", DType::F32, {}, {0.5f});
  auto *wf = tmp(g, "wf", DType::F32, {2, 2});
  g.add_node("DequantizeLinear", {wq, sc}, {wf});
  auto *wt = tmp(g, "wt", DType::F32, {2, 2});
  g.add_node("Transpose", {wf}, {wt});
  auto *p0 = tmp(g, "p0", DType::F32, {1, 2});
  auto *p1 = tmp(g, "p1", DType::F32, {1, 2});
  g.add_node("Split", {wt}, {p0, p1})->attrs["axis"] = int64_t(0);
  auto *y0 = g.add_value("y0", DType::F32, {1, 2});
  auto *y1 = g.add_value("y1", DType::F32, {1, 2});
  g.add_node("Add", {x, p0}, {y0});
  g.add_node("Add", {x, p1}, {y1});
  g.outputs = {y0, y1};
  CHECK(run_folding(g));
  REQUIRE(g.num_nodes() == 2);
  CHECK(const_vals<float>(g.nodes()[0]->inputs[1]) == std::vector<float>{1.f, 3.f});
  CHECK(const_vals<float>(g.nodes()[1]->inputs[1]) == std::vector<float>{-2.f, 4.f});
  CHECK_NOTHROW(ir::verify(g));
}

TEST_CASE("constant-folding: output dtypes agree with the declared types") {
  // Declared output types (from ONNX shape inference) must match what the
  // evaluator produces, or the pass reports an internal error.
  ir::Graph g;
  g.opsets[""] = 13;
  auto *s = i64c(g, "s", {2}, {2, 3});
  auto *z = g.add_value("z", DType::F32, {2, 3});
  g.add_node("ConstantOfShape", {s}, {z});
  auto *b = g.add_value("b", DType::Bool, {2, 3});
  g.add_node("Equal", {z, g.add_constant_of<float>("zero", DType::F32, {}, {0.f})}, {b});
  auto *n = g.add_value("n", DType::I64, {2, 6});
  g.add_node("NonZero", {b}, {n});
  auto *q = g.add_value("q", DType::U8, {2, 3});
  g.add_node("QuantizeLinear", {z, g.add_constant_of<float>("qs", DType::F32, {}, {1.f})}, {q});
  g.outputs = {n, q};
  CHECK(run_folding(g));
  CHECK_NOTHROW(ir::verify(g));
  REQUIRE(g.num_nodes() == 2);
  CHECK(const_vals<int64_t>(g.nodes()[0]->inputs[0]) == std::vector<int64_t>{0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2});
}
