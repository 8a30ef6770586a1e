// Unit tests for the quantize-folding pass (QDQ -> integer ops).
#include "fusion_test_util.h"

using namespace fusion_test;

namespace {

auto pass() { return passes::create_quantize_folding_pass(); }

template <typename T>
ir::Value *qc(ir::Graph &g, const std::string &name, DType dt, const Shape &s, const std::vector<T> &v) {
  return g.add_constant_of<T>(name, dt, s, v);
}

/// int8 input -> DQ -> Conv(DQ(int8 weights, per-channel), bias) [-> act] [-> Q] -> output.
struct QdqConv {
  bool quantize_output = true;
  bool float_bias = false;
  std::string act;          // "", "Relu", "Clip"
  int8_t y_zero_point = -128;

  void operator()(ir::Graph &g) const {
    g.opsets[""] = 13;
    auto *xq = g.add_value("xq", DType::I8, {1, 2, 5, 5});
    g.inputs.push_back(xq);
    auto *x = val(g, "x", {1, 2, 5, 5});
    g.add_node("DequantizeLinear", {xq, f32c(g, "xs", {}, {0.05f}), qc<int8_t>(g, "xz", DType::I8, {}, {3})}, {x},
               "dq_x");
    std::vector<int8_t> wv(3 * 2 * 3 * 3);
    for (size_t i = 0; i < wv.size(); ++i) wv[i] = (int8_t)((int)(i * 37 % 255) - 127);
    auto *w = val(g, "w", {3, 2, 3, 3});
    auto *dqw = g.add_node("DequantizeLinear",
                           {qc<int8_t>(g, "wq", DType::I8, {3, 2, 3, 3}, wv), f32c(g, "ws", {3}, {0.01f, 0.02f, 0.015f}),
                            qc<int8_t>(g, "wz", DType::I8, {3}, {0, 0, 0})},
                           {w}, "dq_w");
    dqw->attrs["axis"] = int64_t(0);
    ir::Value *b;
    if (float_bias) {
      b = f32c(g, "bf", {3}, {0.1f, -0.2f, 0.05f});
    } else {
      b = val(g, "b", {3});
      auto *dqb = g.add_node("DequantizeLinear",
                             {qc<int32_t>(g, "bq", DType::I32, {3}, {100, -200, 50}),
                              f32c(g, "bs", {3}, {0.05f * 0.01f, 0.05f * 0.02f, 0.05f * 0.015f}),
                              qc<int32_t>(g, "bz", DType::I32, {3}, {0, 0, 0})},
                             {b}, "dq_b");
      dqb->attrs["axis"] = int64_t(0);
    }
    auto *c = val(g, "c", {1, 3, 5, 5});
    auto *conv = g.add_node("Conv", {x, w, b}, {c}, "conv");
    conv->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    ir::Value *t = c;
    if (!act.empty()) {
      auto *a = val(g, "a", {1, 3, 5, 5});
      if (act == "Relu") g.add_node("Relu", {t}, {a}, "act");
      else g.add_node("Clip", {t, f32c(g, "lo", {}, {0.0f}), f32c(g, "hi", {}, {1.0f})}, {a}, "act");
      t = a;
    }
    if (quantize_output) {
      auto *y = g.add_value("y", DType::I8, {1, 3, 5, 5});
      g.add_node("QuantizeLinear", {t, f32c(g, "ys", {}, {0.1f}), qc<int8_t>(g, "yz", DType::I8, {}, {y_zero_point})},
                 {y}, "q_y");
      t = y;
    }
    g.outputs.push_back(t);
  }
};

} // namespace

TEST_CASE("quantize-folding: DQ -> Conv -> Q becomes QLinearConv") {
  for (bool fb : {false, true}) {
    ir::Graph g;
    QdqConv b;
    b.float_bias = fb;
    b(g);
    auto p = pass();
    REQUIRE(p->run(g));
    ir::verify(g, false);
    REQUIRE(g.num_nodes() == 1);
    const ir::Node *q = g.nodes()[0].get();
    CHECK(q->op == "QLinearConv");
    CHECK(q->input(0)->name == "xq");
    CHECK(q->input(3)->dtype == DType::I8);
    CHECK(q->input(4)->numel() == 3);
    REQUIRE(q->input(8));
    CHECK(q->input(8)->dtype == DType::I32);
    CHECK(q->output(0)->name == "y");
    CHECK(q->attr_ints("pads") == std::vector<int64_t>{1, 1, 1, 1});
    auto bias = q->input(8)->int_values();
    if (fb) {
      // 0.1 / (0.05 * 0.01) = 200, -0.2 / (0.05 * 0.02) = -200, 0.05 / (0.05 * 0.015) = 66.67 -> 67
      CHECK(bias == std::vector<int64_t>{200, -200, 67});
    } else {
      CHECK(bias == std::vector<int64_t>{100, -200, 50});
    }
  }
}

TEST_CASE("quantize-folding: Relu/Clip before Q fold into the output range") {
  SECTION("Relu with y_zero_point -128 is plain saturation") {
    ir::Graph g;
    QdqConv b;
    b.act = "Relu";
    b(g);
    auto p = pass();
    REQUIRE(p->run(g));
    CHECK(g.num_nodes() == 1);
    CHECK(count_op(g, "QLinearConv") == 1);
  }
  SECTION("Clip(0, 1) with y_zero_point 0 keeps an integer clamp [0, 10]") {
    ir::Graph g;
    QdqConv b;
    b.act = "Clip";
    b.y_zero_point = 0;
    b(g);
    auto p = pass();
    REQUIRE(p->run(g));
    ir::verify(g, false);
    CHECK(count_op(g, "QLinearConv") == 1);
    const ir::Node *c = find_op(g, "QClamp");
    REQUIRE(c);
    CHECK(c->domain == "tmc");
    CHECK(c->attr_int("lo") == 0);
    CHECK(c->attr_int("hi") == 10);
    CHECK(c->output(0)->name == "y");
  }
}

TEST_CASE("quantize-folding: graphs without the full pattern are unchanged") {
  SECTION("float Conv") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *x = input(g, "x", {1, 2, 5, 5});
    auto *y = val(g, "y", {1, 3, 3, 3});
    g.add_node("Conv", {x, f32c(g, "w", {3, 2, 3, 3}, rand_vals(54, 1))}, {y}, "conv");
    g.outputs.push_back(y);
    auto p = pass();
    CHECK_FALSE(p->run(g));
    CHECK(g.num_nodes() == 1);
    CHECK(g.nodes()[0]->op == "Conv");
  }
  SECTION("DQ -> Conv without Q") {
    ir::Graph g;
    QdqConv b;
    b.quantize_output = false;
    b(g);
    size_t before = g.num_nodes();
    auto p = pass();
    CHECK_FALSE(p->run(g));
    CHECK(g.num_nodes() == before);
    CHECK(count_op(g, "Conv") == 1);
    CHECK(count_op(g, "QLinearConv") == 0);
  }
}

namespace {

/// int8 x [1,2,3,3] -> DQ -> `op` (float) -> Q(y_scale, y_zp) -> int8 output.
/// `second`: a second DQ input (Mul); `quantize_output`: add the Q.
struct QdqUnary {
  std::string op = "Sigmoid";
  bool second = false;
  bool quantize_output = true;
  float x_scale = 0.05f, y_scale = 1.0f / 256;
  int8_t x_zp = 0, y_zp = -128;

  void operator()(ir::Graph &g) const {
    g.opsets[""] = 14;
    auto *xq = g.add_value("xq", DType::I8, {1, 2, 3, 3});
    g.inputs.push_back(xq);
    auto *x = val(g, "x", {1, 2, 3, 3});
    g.add_node("DequantizeLinear", {xq, f32c(g, "xs", {}, {x_scale}), qc<int8_t>(g, "xz", DType::I8, {}, {x_zp})}, {x},
               "dq_x");
    std::vector<ir::Value *> ins{x};
    if (second) {
      auto *sq = g.add_value("sq", DType::I8, {1, 2, 1, 1});
      g.inputs.push_back(sq);
      auto *s = val(g, "s", {1, 2, 1, 1});
      g.add_node("DequantizeLinear", {sq, f32c(g, "ss", {}, {0.1f}), qc<int8_t>(g, "sz", DType::I8, {}, {-128})}, {s},
                 "dq_s");
      ins.push_back(s);
    }
    auto *t = val(g, "t", {1, 2, 3, 3});
    g.add_node(op, ins, {t}, "op");
    ir::Value *out = t;
    if (quantize_output) {
      out = g.add_value("y", DType::I8, {1, 2, 3, 3});
      g.add_node("QuantizeLinear", {t, f32c(g, "ys", {}, {y_scale}), qc<int8_t>(g, "yz", DType::I8, {}, {y_zp})}, {out},
                 "q_y");
    }
    g.outputs.push_back(out);
  }
};

} // namespace

TEST_CASE("quantize-folding: DQ -> Mul -> Q becomes tmc::QMul") {
  for (std::string sem : {"onnx", "tflite"}) {
    ir::Graph g;
    QdqUnary b;
    b.op = "Mul";
    b.second = true;
    b(g);
    auto p = passes::create_quantize_folding_pass(sem);
    REQUIRE(p->run(g));
    ir::verify(g, false);
    REQUIRE(g.num_nodes() == 1);
    const ir::Node *m = g.nodes()[0].get();
    CHECK(m->op == "QMul");
    CHECK(m->domain == "tmc");
    CHECK(m->input(0)->name == "xq");
    CHECK(m->input(3)->name == "sq");
    CHECK(m->output(0)->name == "y");
    CHECK(m->attr_string("tmc_int8_semantics", "") == (sem == "tflite" ? "tflite" : ""));
  }
}

TEST_CASE("quantize-folding: DQ -> Sigmoid -> Q becomes a 256-entry tmc::QLut") {
  ir::Graph g;
  QdqUnary b;
  b(g);
  auto p = pass();
  REQUIRE(p->run(g));
  ir::verify(g, false);
  REQUIRE(g.num_nodes() == 1);
  const ir::Node *l = g.nodes()[0].get();
  CHECK(l->op == "QLut");
  CHECK(l->domain == "tmc");
  CHECK(l->input(0)->name == "xq");
  REQUIRE(l->input(1)->is_constant());
  CHECK(l->input(1)->dtype == DType::I8);
  auto t = l->input(1)->int_values();
  REQUIRE(t.size() == 256);
  // Entry b is the input code (int8_t)b: sigmoid(0) = 0.5 -> 128 - 128 = 0,
  // sigmoid(127 * 0.05) = 0.998 -> 255.6 -> 256 -> saturated at 127,
  // sigmoid(-128 * 0.05) = 0.0017 -> 0.42 -> 0 -> -128.
  CHECK(t[0] == 0);
  CHECK(t[127] == 127);
  CHECK(t[128] == -128);
  for (int c = -127; c <= 127; ++c) CHECK(t[(uint8_t)(int8_t)c] >= t[(uint8_t)(int8_t)(c - 1)]); // monotone
}

TEST_CASE("quantize-folding: Relu/Clip alone become a clamp or a table") {
  SECTION("Relu with the input's own parameters is a plain integer clamp") {
    ir::Graph g;
    QdqUnary b;
    b.op = "Relu";
    b.y_scale = b.x_scale;
    b.y_zp = b.x_zp;
    b(g);
    auto p = pass();
    REQUIRE(p->run(g));
    const ir::Node *c = find_op(g, "QClamp");
    REQUIRE(c);
    CHECK(g.num_nodes() == 1);
    CHECK(c->attr_int("lo") == 0);
    CHECK(c->attr_int("hi") == 127);
  }
  SECTION("HardSwish with other output parameters is a table") {
    ir::Graph g;
    QdqUnary b;
    b.op = "HardSwish";
    b.y_scale = 0.03f;
    b.y_zp = 0;
    b(g);
    auto p = pass();
    REQUIRE(p->run(g));
    CHECK(count_op(g, "QLut") == 1);
    CHECK(count_op(g, "HardSwish") == 0);
  }
}

TEST_CASE("quantize-folding: negative cases for the new patterns keep the float ops") {
  SECTION("Sigmoid whose output is not quantized") {
    ir::Graph g;
    QdqUnary b;
    b.quantize_output = false;
    b(g);
    auto p = pass();
    CHECK_FALSE(p->run(g));
    CHECK(count_op(g, "Sigmoid") == 1);
    CHECK(count_op(g, "QLut") == 0);
  }
  SECTION("Mul of a float tensor and a DQ") {
    ir::Graph g;
    g.opsets[""] = 13;
    auto *a = input(g, "a", {1, 2});
    auto *bq = g.add_value("bq", DType::I8, {1, 2});
    g.inputs.push_back(bq);
    auto *b = val(g, "b", {1, 2});
    g.add_node("DequantizeLinear", {bq, f32c(g, "bs", {}, {0.1f}), qc<int8_t>(g, "bz", DType::I8, {}, {0})}, {b}, "dq");
    auto *t = val(g, "t", {1, 2});
    g.add_node("Mul", {a, b}, {t}, "mul");
    auto *y = g.add_value("y", DType::I8, {1, 2});
    g.add_node("QuantizeLinear", {t, f32c(g, "ys", {}, {0.1f}), qc<int8_t>(g, "yz", DType::I8, {}, {0})}, {y}, "q");
    g.outputs.push_back(y);
    auto p = pass();
    CHECK_FALSE(p->run(g));
    CHECK(count_op(g, "Mul") == 1);
    CHECK(count_op(g, "QMul") == 0);
  }
}

TEST_CASE("quantize-folding: DQ -> ConvTranspose -> Q becomes tmc::QConvTranspose") {
  auto build = [](ir::Graph &g, bool quantize_weights) {
    g.opsets[""] = 13;
    auto *xq = g.add_value("xq", DType::I8, {1, 2, 3, 3});
    g.inputs.push_back(xq);
    auto *x = val(g, "x", {1, 2, 3, 3});
    g.add_node("DequantizeLinear", {xq, f32c(g, "xs", {}, {0.05f}), qc<int8_t>(g, "xz", DType::I8, {}, {-3})}, {x},
               "dq_x");
    // W [C=2, M/group=2, 3, 3], per output channel (axis 1).
    std::vector<int8_t> wv(2 * 2 * 9);
    for (size_t i = 0; i < wv.size(); ++i) wv[i] = (int8_t)((int)(i * 29 % 200) - 100);
    ir::Value *w;
    if (quantize_weights) {
      w = val(g, "w", {2, 2, 3, 3});
      auto *dqw = g.add_node("DequantizeLinear",
                             {qc<int8_t>(g, "wq", DType::I8, {2, 2, 3, 3}, wv), f32c(g, "ws", {2}, {0.01f, 0.02f}),
                              qc<int8_t>(g, "wz", DType::I8, {2}, {0, 0})},
                             {w}, "dq_w");
      dqw->attrs["axis"] = int64_t(1);
    } else {
      w = f32c(g, "w", {2, 2, 3, 3}, rand_vals(36, 3));
    }
    auto *t = val(g, "t", {1, 2, 5, 5});
    auto *ct = g.add_node("ConvTranspose", {x, w, f32c(g, "bf", {2}, {0.1f, -0.2f})}, {t}, "convt");
    ct->attrs["strides"] = std::vector<int64_t>{2, 2};
    ct->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    auto *y = g.add_value("y", DType::I8, {1, 2, 5, 5});
    g.add_node("QuantizeLinear", {t, f32c(g, "ys", {}, {0.1f}), qc<int8_t>(g, "yz", DType::I8, {}, {0})}, {y}, "q_y");
    g.outputs.push_back(y);
  };
  SECTION("positive") {
    ir::Graph g;
    build(g, true);
    auto p = pass();
    REQUIRE(p->run(g));
    ir::verify(g, false);
    REQUIRE(g.num_nodes() == 1);
    const ir::Node *c = g.nodes()[0].get();
    CHECK(c->op == "QConvTranspose");
    CHECK(c->attr_ints("strides") == std::vector<int64_t>{2, 2});
    REQUIRE(c->input(8));
    // 0.1 / (0.05 * 0.01) = 200, -0.2 / (0.05 * 0.02) = -200
    CHECK(c->input(8)->int_values() == std::vector<int64_t>{200, -200});
  }
  SECTION("negative: float weights stay a float island") {
    ir::Graph g;
    build(g, false);
    auto p = pass();
    CHECK_FALSE(p->run(g));
    CHECK(count_op(g, "ConvTranspose") == 1);
  }
}

TEST_CASE("quantize-folding: GlobalMaxPool with equal parameters runs on the integers") {
  ir::Graph g;
  QdqUnary b;
  b.op = "GlobalMaxPool";
  b.y_scale = b.x_scale;
  b.y_zp = b.x_zp;
  b(g);
  // GlobalMaxPool's output is [1, 2, 1, 1].
  for (auto &v : g.values())
    if (v->name == "t" || v->name == "y") v->shape = {1, 2, 1, 1};
  auto p = pass();
  REQUIRE(p->run(g));
  REQUIRE(g.num_nodes() == 1);
  CHECK(g.nodes()[0]->op == "GlobalMaxPool");
  CHECK(g.nodes()[0]->input(0)->name == "xq");
}
