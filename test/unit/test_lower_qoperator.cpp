// Unit tests for the lower-qoperator pass (com.microsoft QLinear* -> tmc
// integer ops), the frontend's shape inference of those ops, and the
// checks of the new 8-bit kernels (QLut, QMul, QConvTranspose).
#include <onnx/onnx_pb.h>

#include "codegen/kernel.h"
#include "frontend/onnx_importer.h"
#include "fusion_test_util.h"
#include "passes/qlut.h"

using namespace fusion_test;

namespace {

template <typename T>
ir::Value *qc(ir::Graph &g, const std::string &name, DType dt, const Shape &s, const std::vector<T> &v) {
  return g.add_constant_of<T>(name, dt, s, v);
}

ir::Node *ms_node(ir::Graph &g, const std::string &op, std::vector<ir::Value *> ins, ir::Value *out) {
  ir::Node *n = g.add_node(op, std::move(ins), {out}, op);
  n->domain = "com.microsoft";
  n->opset = 1;
  return n;
}

ir::Value *s8(ir::Graph &g, const std::string &name, int8_t v) { return qc<int8_t>(g, name, DType::I8, {}, {v}); }

/// x [1,4,3,3] int8 -> QLinear`op` -> y.
struct MsGraph {
  ir::Graph g;
  ir::Value *x = nullptr, *y = nullptr;
  MsGraph() {
    g.opsets[""] = 13;
    g.opsets["com.microsoft"] = 1;
    x = g.add_value("x", DType::I8, {1, 4, 3, 3});
    g.inputs.push_back(x);
  }
};

} // namespace

TEST_CASE("lower-qoperator: QLinearAdd and QLinearMul become QAdd/QMul with ONNX Runtime's kernel arithmetic") {
  for (std::string op : {"QLinearAdd", "QLinearMul"}) {
    MsGraph m;
    auto *s = m.g.add_value("s", DType::I8, {1, 4, 1, 1});
    m.g.inputs.push_back(s);
    m.y = m.g.add_value("y", DType::I8, {1, 4, 3, 3});
    // B's zero point omitted (optional): lowered to a zero constant.
    ms_node(m.g, op,
            {m.x, f32c(m.g, "xs", {}, {0.1f}), s8(m.g, "xz", -128), s, f32c(m.g, "ss", {}, {0.2f}), nullptr,
             f32c(m.g, "ys", {}, {0.3f}), s8(m.g, "yz", 5)},
            m.y);
    m.g.outputs.push_back(m.y);
    auto p = passes::create_lower_qoperator_pass();
    REQUIRE(p->run(m.g));
    ir::verify(m.g, false);
    REQUIRE(m.g.num_nodes() == 1);
    const ir::Node *q = m.g.nodes()[0].get();
    CHECK(q->op == (op == "QLinearAdd" ? "QAdd" : "QMul"));
    CHECK(q->domain == "tmc");
    CHECK(q->attr_string("tmc_int8_arith", "") == "qlinear");
    REQUIRE(q->input(5));
    CHECK(q->input(5)->int_values() == std::vector<int64_t>{0});
    CHECK(q->output(0) == m.y);
    CHECK(codegen::check_supported(*q) == "");
  }
}

TEST_CASE("lower-qoperator: pools, sigmoid and leaky relu") {
  SECTION("QLinearGlobalAveragePool -> QAveragePool over the whole image") {
    MsGraph m;
    m.y = m.g.add_value("y", DType::I8, {1, 4, 1, 1});
    ms_node(m.g, "QLinearGlobalAveragePool",
            {m.x, f32c(m.g, "xs", {}, {0.1f}), s8(m.g, "xz", 0), f32c(m.g, "ys", {}, {0.05f}), s8(m.g, "yz", 1)}, m.y);
    m.g.outputs.push_back(m.y);
    auto p = passes::create_lower_qoperator_pass("tflite");
    REQUIRE(p->run(m.g));
    const ir::Node *q = find_op(m.g, "QAveragePool");
    REQUIRE(q);
    CHECK(q->attr_ints("kernel_shape") == std::vector<int64_t>{3, 3});
    CHECK(q->attr_string("tmc_int8_semantics", "") == "tflite");
    CHECK(codegen::check_supported(*q) == "");
  }
  SECTION("QLinearSigmoid -> QLut with ONNX Runtime's table") {
    MsGraph m;
    m.y = m.g.add_value("y", DType::I8, {1, 4, 3, 3});
    ms_node(m.g, "QLinearSigmoid",
            {m.x, f32c(m.g, "xs", {}, {0.05f}), s8(m.g, "xz", 0), f32c(m.g, "ys", {}, {1.0f / 256}), s8(m.g, "yz", -128)},
            m.y);
    m.g.outputs.push_back(m.y);
    auto p = passes::create_lower_qoperator_pass();
    REQUIRE(p->run(m.g));
    const ir::Node *q = find_op(m.g, "QLut");
    REQUIRE(q);
    auto t = q->input(1)->int_values();
    REQUIRE(t.size() == 256);
    CHECK(t[0] == 0);    // sigmoid(0) = 0.5
    CHECK(t[20] == 59);  // sigmoid(1.0) = 0.7310586 -> 187.15 -> 187 - 128
    CHECK(codegen::check_supported(*q) == "");
  }
  SECTION("QLinearLeakyRelu with equal parameters and alpha 1 is a copy clamp") {
    MsGraph m;
    m.y = m.g.add_value("y", DType::I8, {1, 4, 3, 3});
    auto *n = ms_node(m.g, "QLinearLeakyRelu",
                      {m.x, f32c(m.g, "xs", {}, {0.05f}), s8(m.g, "xz", 3), f32c(m.g, "ys", {}, {0.05f}), s8(m.g, "yz", 3)},
                      m.y);
    n->attrs["alpha"] = 1.0f;
    m.g.outputs.push_back(m.y);
    auto p = passes::create_lower_qoperator_pass();
    REQUIRE(p->run(m.g));
    const ir::Node *q = find_op(m.g, "QClamp");
    REQUIRE(q);
    CHECK(q->attr_int("lo") == -128);
    CHECK(q->attr_int("hi") == 127);
  }
}

TEST_CASE("lower-qoperator: QLinearConcat copies equal-parameter inputs and requantizes the others") {
  MsGraph m;
  auto *x2 = m.g.add_value("x2", DType::I8, {1, 2, 3, 3});
  m.g.inputs.push_back(x2);
  m.y = m.g.add_value("y", DType::I8, {1, 6, 3, 3});
  auto *n = ms_node(m.g, "QLinearConcat",
                    {f32c(m.g, "ys", {}, {0.1f}), s8(m.g, "yz", 0), m.x, f32c(m.g, "s0", {}, {0.1f}), s8(m.g, "z0", 0),
                     x2, f32c(m.g, "s1", {}, {0.2f}), s8(m.g, "z1", 10)},
                    m.y);
  n->attrs["axis"] = int64_t(1);
  m.g.outputs.push_back(m.y);
  auto p = passes::create_lower_qoperator_pass();
  REQUIRE(p->run(m.g));
  ir::verify(m.g, false);
  const ir::Node *c = find_op(m.g, "Concat");
  REQUIRE(c);
  CHECK(c->attr_int("axis") == 1);
  CHECK(c->input(0) == m.x);
  const ir::Node *l = find_op(m.g, "QLut");
  REQUIRE(l);
  CHECK(l->input(0) == x2);
  CHECK(c->input(1) == l->output(0));
  // code 10 (real 0) -> 0; code 11 (0.2) -> 2; code -128 (-27.6) -> -128 (saturated)
  auto t = l->input(1)->int_values();
  CHECK(t[10] == 0);
  CHECK(t[11] == 2);
  CHECK(t[128] == -128);
}

TEST_CASE("lower-qoperator: negative cases") {
  SECTION("graphs without com.microsoft QOperator ops are unchanged") {
    MsGraph m;
    m.y = m.g.add_value("y", DType::I8, {1, 4, 3, 3});
    ms_node(m.g, "QGemmSomething", {m.x}, m.y); // an op the pass does not know
    m.g.outputs.push_back(m.y);
    auto p = passes::create_lower_qoperator_pass();
    CHECK_FALSE(p->run(m.g));
    CHECK(m.g.num_nodes() == 1);
  }
  SECTION("a runtime scale is a compile error naming the node") {
    MsGraph m;
    auto *rs = m.g.add_value("rs", DType::F32, {});
    m.g.inputs.push_back(rs);
    m.y = m.g.add_value("y", DType::I8, {1, 4, 3, 3});
    ms_node(m.g, "QLinearSigmoid", {m.x, rs, s8(m.g, "xz", 0), f32c(m.g, "ys", {}, {0.1f}), s8(m.g, "yz", 0)}, m.y);
    m.g.outputs.push_back(m.y);
    auto p = passes::create_lower_qoperator_pass();
    CHECK_THROWS_WITH(p->run(m.g), Catch::Contains("QLinearSigmoid") && Catch::Contains("constant float32 scalar"));
  }
}

TEST_CASE("frontend: com.microsoft QOperator ops get static output shapes") {
  onnx::ModelProto mp;
  mp.set_ir_version(8);
  mp.add_opset_import()->set_version(13);
  auto *ms = mp.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  auto *g = mp.mutable_graph();
  g->set_name("g");
  auto vi = [](onnx::ValueInfoProto *v, const std::string &name, std::vector<int64_t> dims) {
    v->set_name(name);
    auto *tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::UINT8);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  vi(g->add_input(), "x", {1, 3, 8, 8});
  auto init = [&](const std::string &name, bool is_float, float v) {
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(is_float ? onnx::TensorProto::FLOAT : onnx::TensorProto::UINT8);
    if (is_float) t->add_float_data(v);
    else t->add_int32_data((int)v);
  };
  init("s", true, 0.1f);
  init("z", false, 128);
  auto node = [&](const std::string &op, std::vector<std::string> ins, const std::string &out) {
    auto *n = g->add_node();
    n->set_op_type(op);
    n->set_domain("com.microsoft");
    n->set_name(out);
    for (auto &i : ins) n->add_input(i);
    n->add_output(out);
    return n;
  };
  node("QLinearSigmoid", {"x", "s", "z", "s", "z"}, "a");
  auto *pool = node("QLinearAveragePool", {"a", "s", "z", "s", "z"}, "b");
  auto *ks = pool->add_attribute();
  ks->set_name("kernel_shape");
  ks->set_type(onnx::AttributeProto::INTS);
  ks->add_ints(2);
  ks->add_ints(2);
  auto *st = pool->add_attribute();
  st->set_name("strides");
  st->set_type(onnx::AttributeProto::INTS);
  st->add_ints(2);
  st->add_ints(2);
  auto *cat = node("QLinearConcat", {"s", "z", "b", "s", "z", "b", "s", "z"}, "c");
  auto *ax = cat->add_attribute();
  ax->set_name("axis");
  ax->set_type(onnx::AttributeProto::INT);
  ax->set_i(1);
  node("QLinearAdd", {"c", "s", "z", "c", "s", "z", "s", "z"}, "y");
  vi(g->add_output(), "y", {1, 6, 4, 4});
  auto ir = frontend::import_onnx_bytes(mp.SerializeAsString(), "");
  // a, b, c are intermediates: only inference gives their types and shapes.
  const ir::Value *y = ir->find_value("y"), *a = ir->find_value("a"), *b = ir->find_value("b"),
                  *c = ir->find_value("c");
  REQUIRE(y);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->dtype == DType::U8);
  CHECK(a->shape == Shape{1, 3, 8, 8});
  CHECK(b->shape_known);
  CHECK(b->shape == Shape{1, 3, 4, 4});
  CHECK(c->dtype == DType::U8);
  CHECK(c->shape == Shape{1, 6, 4, 4});
  CHECK(y->shape_known);
  CHECK(y->dtype == DType::U8);
  CHECK(y->shape == Shape{1, 6, 4, 4});
  // The whole chain lowers to integer ops.
  auto p = passes::create_lower_qoperator_pass();
  REQUIRE(p->run(*ir));
  ir::verify(*ir, true);
  for (auto &n : ir->nodes()) CHECK(n->domain != "com.microsoft");
}

TEST_CASE("int8 kernels: QLut, QMul and QConvTranspose checks") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::I8, {1, 2, 3, 3});
  g.inputs.push_back(x);
  SECTION("QLut needs a 256-entry table of the output type") {
    auto *y = g.add_value("y", DType::I8, {1, 2, 3, 3});
    auto *ok = g.add_node("QLut", {x, qc<int8_t>(g, "t", DType::I8, {256}, std::vector<int8_t>(256, 1))}, {y}, "lut");
    ok->domain = "tmc";
    CHECK(codegen::check_supported(*ok) == "");
    auto *y2 = g.add_value("y2", DType::I8, {1, 2, 3, 3});
    auto *bad = g.add_node("QLut", {x, qc<int8_t>(g, "t2", DType::I8, {16}, std::vector<int8_t>(16, 1))}, {y2}, "lut2");
    bad->domain = "tmc";
    CHECK_THAT(codegen::check_supported(*bad), Catch::Contains("256 entries"));
  }
  SECTION("QMul with qlinear arithmetic needs constant scales") {
    auto *rs = g.add_value("rs", DType::F32, {});
    g.inputs.push_back(rs);
    auto *y = g.add_value("y", DType::I8, {1, 2, 3, 3});
    auto *m = g.add_node("QMul",
                         {x, rs, s8(g, "a", 0), x, f32c(g, "b", {}, {0.1f}), s8(g, "c", 0), f32c(g, "d", {}, {0.1f}),
                          s8(g, "e", 0)},
                         {y}, "mul");
    m->domain = "tmc";
    CHECK(codegen::check_supported(*m) == ""); // the default arithmetic reads scales at run time
    m->attrs["tmc_int8_arith"] = std::string("qlinear");
    CHECK_THAT(codegen::check_supported(*m), Catch::Contains("constant scales"));
  }
  SECTION("QConvTranspose rejects a weight whose channel count does not match") {
    auto *y = g.add_value("y", DType::I8, {1, 3, 5, 5});
    auto *w = qc<int8_t>(g, "w", DType::I8, {2, 3, 3, 3}, std::vector<int8_t>(54, 1));
    auto *c = g.add_node("QConvTranspose",
                         {x, f32c(g, "xs", {}, {0.1f}), s8(g, "xz", 0), w, f32c(g, "ws", {}, {0.1f}), s8(g, "wz", 0),
                          f32c(g, "ys", {}, {0.1f}), s8(g, "yz", 0)},
                         {y}, "ct");
    c->domain = "tmc";
    CHECK(codegen::check_supported(*c) == "");
    auto *w3 = qc<int8_t>(g, "w3", DType::I8, {3, 3, 3, 3}, std::vector<int8_t>(81, 1));
    c->inputs[3] = w3;
    CHECK_THAT(codegen::check_supported(*c), Catch::Contains("channel"));
  }
}

TEST_CASE("qlut: float activations are ONNX Runtime's bit for bit") {
  // (input bits, ONNX Runtime 1.30 output bits on x86-64 AVX2): points where
  // neither exact rounding nor a multiply-add without fusion gives its value.
  auto f = [](uint32_t b) {
    float v;
    std::memcpy(&v, &b, 4);
    return v;
  };
  auto bits = [](float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
  };
  using passes::qlut::Act;
  struct Case {
    Act act;
    uint32_t x, y;
  };
  const Case cases[] = {
      {Act::Sigmoid, 0xc04448c7, 0x3d363cd8},     {Act::Sigmoid, 0x41223f96, 0x3f7ffd6b},
      {Act::Sigmoid, 0xc16a369c, 0x34e00000},     {Act::Sigmoid, 0xc1181e95, 0x389bb000},
      {Act::Tanh, 0x3ffdeb70, 0x3f767e11},        {Act::Tanh, 0x40b4e66a, 0x3f7ffe62},
      {Act::Tanh, 0x410cbdf4, 0x3f800001},        {Act::Tanh, 0xc10eca25, 0xbf800000},
      {Act::HardSwish, 0xbfd03346, 0xbebea210},   {Act::HardSwish, 0x401eda21, 0x401123b8},
      {Act::HardSigmoid, 0xbfee173f, 0x3e030e02}, {Act::HardSigmoid, 0xc01275df, 0x3d2d4e70},
  };
  for (const Case &c : cases) {
    passes::qlut::Activation a;
    a.kind = c.act;
    a.alpha = 0.2f;
    a.beta = 0.5f;
    INFO("input bits " << std::hex << c.x);
    CHECK(bits(passes::qlut::ort_activation(a, f(c.x))) == c.y);
  }
}
