// Unit tests for post-training quantization (compiler/calibration.*,
// compiler/quantize.*): range and scale selection, calibration data loading,
// host execution, and the QDQ model written by quantize_model.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <onnx/onnx_pb.h>
#include <random>
#include <unistd.h>

#include "compiler/calibration.h"
#include "compiler/driver.h"
#include "compiler/process.h"
#include "compiler/quantize.h"
#include "compiler/tensor_io.h"

using namespace tmc;
using namespace tmc::driver;
using ir::DType;
namespace fs = std::filesystem;

namespace {

/// A fresh temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "tmc-quant-test-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()));
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void save_npy(const fs::path &p, DType dt, const ir::Shape &shape, const void *data, size_t bytes) {
  Tensor t;
  t.dtype = dt;
  t.shape = shape;
  t.data = std::make_shared<ir::Bytes>((const uint8_t *)data, (const uint8_t *)data + bytes);
  std::ofstream(p, std::ios::binary) << write_npy(t);
}
void save_f32(const fs::path &p, const ir::Shape &shape, const std::vector<float> &v) {
  save_npy(p, DType::F32, shape, v.data(), v.size() * 4);
}

calib::Histogram hist_of(const std::vector<float> &v, size_t bins = 2048) {
  float lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  calib::Histogram h(std::min(lo, 0.0f), std::max(hi, 0.0f), bins);
  h.add(v.data(), (int64_t)v.size());
  return h;
}

// ---- a small ONNX model built with the protobuf classes
void add_init(onnx::GraphProto &g, const std::string &name, const ir::Shape &dims, const std::vector<float> &v) {
  auto *t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  t->set_raw_data(std::string((const char *)v.data(), v.size() * 4));
}
onnx::NodeProto *add_node(onnx::GraphProto &g, const std::string &op, std::vector<std::string> ins,
                          std::vector<std::string> outs) {
  auto *n = g.add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + outs[0]);
  for (auto &i : ins) n->add_input(i);
  for (auto &o : outs) n->add_output(o);
  return n;
}
void add_io(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list, const std::string &name,
            const std::vector<int64_t> &dims) {
  auto *v = list->Add();
  v->set_name(name);
  auto *tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) {
    if (d < 0)
      tt->mutable_shape()->add_dim()->set_dim_param("batch");
    else
      tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
}

std::vector<float> randv(std::mt19937 &rng, size_t n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto &x : v) x = d(rng);
  return v;
}

/// x[batch,1,6,6] -> Conv(4,3x3,pad 1) -> BatchNormalization -> Relu -> MaxPool 2 -> Flatten
///   -> MatMul(36x5) -> Add(bias) -> y[batch,5]
std::string small_cnn(int opset = 13) {
  std::mt19937 rng(7);
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto *op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  auto &g = *m.mutable_graph();
  g.set_name("small_cnn");
  add_io(g.mutable_input(), "x", {-1, 1, 6, 6});
  add_io(g.mutable_output(), "y", {-1, 5});
  add_init(g, "w", {4, 1, 3, 3}, randv(rng, 36, 0.5f));
  add_init(g, "b", {4}, randv(rng, 4, 0.1f));
  add_init(g, "bn_s", {4}, {1.5f, 0.5f, 1.0f, 2.0f});
  add_init(g, "bn_b", {4}, {0.1f, -0.2f, 0.3f, 0.0f});
  add_init(g, "bn_m", {4}, {0.05f, 0.1f, -0.1f, 0.0f});
  add_init(g, "bn_v", {4}, {1.0f, 0.5f, 2.0f, 1.5f});
  add_init(g, "fc_w", {16, 5}, randv(rng, 80, 0.3f));
  add_init(g, "fc_b", {5}, randv(rng, 5, 0.1f));
  auto *c = add_node(g, "Conv", {"x", "w", "b"}, {"c"});
  auto *pads = c->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  add_node(g, "BatchNormalization", {"c", "bn_s", "bn_b", "bn_m", "bn_v"}, {"bn"});
  add_node(g, "Relu", {"bn"}, {"r"});
  auto *mp = add_node(g, "MaxPool", {"r"}, {"p"});
  for (const char *a : {"kernel_shape", "strides"}) {
    auto *at = mp->add_attribute();
    at->set_name(a);
    at->set_type(onnx::AttributeProto::INTS);
    at->add_ints(3);
    at->add_ints(3);
  }
  add_node(g, "Flatten", {"p"}, {"f"});
  add_node(g, "MatMul", {"f", "fc_w"}, {"mm"});
  add_node(g, "Add", {"mm", "fc_b"}, {"y"});
  return m.SerializeAsString();
}

struct CnnFixture {
  TempDir dir;
  fs::path model, cal;
  explicit CnnFixture(int samples = 8, int opset = 13) {
    model = dir.path / "cnn.onnx";
    std::ofstream(model, std::ios::binary) << small_cnn(opset);
    cal = dir.path / "cal";
    fs::create_directories(cal);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 2.0f);
    for (int s = 0; s < samples; ++s) {
      std::vector<float> v(36);
      for (auto &x : v) x = u(rng);
      save_f32(cal / fmt::format("s{:02d}.npy", s), {1, 1, 6, 6}, v);
    }
  }
  QuantizeOptions options() const {
    QuantizeOptions o;
    o.model_path = model.string();
    o.calibration_dir = cal.string();
    o.progress = false;
    return o;
  }
};

const onnx::TensorProto *find_init(const onnx::GraphProto &g, const std::string &name) {
  for (auto &t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

} // namespace

// ------------------------------------------------------------ parameters
TEST_CASE("quantize: activation parameters are asymmetric int8 with zero exact") {
  auto q = calib::activation_quant({-1.0, 3.0});
  CHECK(q.scale == Approx(4.0 / 255.0));
  CHECK(q.zero_point == -64); // round(-128 + 1 / (4/255)) = round(-64.25)
  CHECK(calib::fake_quant(0.0f, q) == 0.0f);
  CHECK(calib::fake_quant(3.0f, q) == Approx(3.0f).margin(q.scale));
  CHECK(calib::fake_quant(10.0f, q) == Approx((127 - q.zero_point) * q.scale)); // saturates
  // Ranges that do not contain 0 are widened to include it.
  auto pos = calib::activation_quant({0.5, 2.0});
  CHECK(pos.zero_point == -128);
  CHECK(pos.scale == Approx(2.0 / 255.0));
  CHECK(calib::fake_quant(0.0f, pos) == 0.0f);
  auto neg = calib::activation_quant({-3.0, -1.0});
  CHECK(neg.zero_point == 127);
  CHECK(calib::fake_quant(0.0f, neg) == 0.0f);
  // Degenerate ranges give a valid scale.
  auto zero = calib::activation_quant({0.0, 0.0});
  CHECK(zero.scale == 1.0f);
  CHECK(zero.zero_point == 0);
}

TEST_CASE("quantize: weights are symmetric int8 in [-127, 127] per output channel") {
  std::vector<float> w = {1.0f, -2.0f, 0.5f, /* ch1 */ 0.0f, 0.0f, 0.0f, /* ch2 */ -0.25f, 0.1f, 0.25f};
  auto pc = calib::quantize_weights(w.data(), {3, 3}, 0);
  REQUIRE(pc.scales.size() == 3);
  CHECK(pc.scales[0] == Approx(2.0 / 127));
  CHECK(pc.scales[1] == 1.0f); // all-zero channel
  CHECK(pc.scales[2] == Approx(0.25 / 127));
  CHECK(pc.q[1] == -127); // -max maps to -127, never -128
  CHECK(pc.q[0] == 64);   // round(63.5) = 64 (half to even)
  CHECK(pc.q[6] == -127);
  CHECK(pc.q[8] == 127);
  for (int8_t v : pc.q) CHECK(v >= -127);
  // Per tensor: one scale from the largest magnitude.
  auto pt = calib::quantize_weights(w.data(), {3, 3}, -1);
  REQUIRE(pt.scales.size() == 1);
  CHECK(pt.scales[0] == Approx(2.0 / 127));
  // Output channels on axis 1 (a [K, N] MatMul weight).
  std::vector<float> kn = {1.0f, -4.0f, -0.5f, 2.0f};
  auto ax1 = calib::quantize_weights(kn.data(), {2, 2}, 1);
  CHECK(ax1.scales[0] == Approx(1.0 / 127));
  CHECK(ax1.scales[1] == Approx(4.0 / 127));
  CHECK(ax1.q == std::vector<int8_t>{127, -127, -64, 64});
}

TEST_CASE("quantize: weight scales widen so that int32 biases cannot overflow") {
  std::vector<float> w = {1e-9f, -1e-9f, 0.5f, 0.25f};
  auto wq = calib::quantize_weights(w.data(), {2, 2}, 0);
  float ch1 = wq.scales[1];
  std::vector<float> bias = {1.0f, 0.1f};
  CHECK(std::fabs(bias[0] / (0.01 * wq.scales[0])) > 2147483647.0); // would overflow
  CHECK(calib::fit_bias_in_int32(wq, w.data(), {2, 2}, bias, 0.01f) == 1);
  CHECK(std::fabs(bias[0] / (0.01 * wq.scales[0])) <= 1073741824.0);
  CHECK(wq.q[0] == 0);
  CHECK(wq.scales[1] == ch1); // the other channel is untouched
  CHECK(wq.q[2] == 127);
  // Nothing to do: no change.
  CHECK(calib::fit_bias_in_int32(wq, w.data(), {2, 2}, bias, 0.01f) == 0);
}

TEST_CASE("quantize: minmax, percentile and mse ranges on known histograms") {
  // 100000 values uniform in [-1, 1] and one outlier at 100.
  std::vector<float> v;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int i = 0; i < 100000; ++i) v.push_back(u(rng));
  v.push_back(100.0f);
  auto h = hist_of(v);
  CHECK(h.total() == 100001.0);
  // minmax keeps the outlier.
  CHECK(h.lo == Approx(-1.0).margin(1e-3));
  CHECK(h.hi == 100.0);
  // percentile 99.9 drops it (bins are 101/2048 wide).
  auto p = calib::percentile_range(h, 99.9);
  CHECK(p.lo == Approx(-1.0).margin(0.06));
  CHECK(p.hi == Approx(1.0).margin(0.06));
  // 100% keeps everything.
  auto all = calib::percentile_range(h, 100.0);
  CHECK(all.lo == Approx(h.lo));
  CHECK(all.hi == Approx(h.hi));
  CHECK_THROWS_AS(calib::percentile_range(h, 0.0), ir::CompileError);
  // mse trades rounding against clipping: one outlier in 100001 values costs
  // less than clipping it, so the range stays wide...
  auto m = calib::mse_range(h);
  CHECK(m.hi > 50.0);
  CHECK(calib::quant_mse(h, m) <= calib::quant_mse(h, {h.lo, h.hi}));
  CHECK(calib::quant_mse(h, m) < calib::quant_mse(h, {-1.0, 1.0}));
  // ...while with a million values per bin in [-1, 1] it is clipped.
  calib::Histogram big(-1.0, 100.0, 2048);
  for (size_t i = 0; i < big.counts.size(); ++i) {
    double c = big.lo + ((double)i + 0.5) * big.bin_width();
    if (c < 1.0) big.counts[i] = 1e6;
  }
  big.counts.back() = 1;
  auto mb = calib::mse_range(big);
  CHECK(mb.hi < 1.5); // a little above 1: the outlier still pulls
  CHECK(mb.hi > 0.9);
  CHECK(mb.lo < -0.9);
  CHECK(calib::quant_mse(big, mb) < calib::quant_mse(big, {big.lo, big.hi}) / 10);

  // Without outliers mse keeps (nearly) the whole range.
  std::vector<float> flat;
  for (int i = 0; i < 10000; ++i) flat.push_back(u(rng));
  auto hf = hist_of(flat);
  auto mf = calib::mse_range(hf);
  CHECK(mf.hi > 0.95);
  CHECK(mf.lo < -0.95);

  // Non-negative data (after a Relu): the low end stays at 0.
  std::vector<float> relu;
  for (int i = 0; i < 10000; ++i) relu.push_back(std::max(0.0f, u(rng)));
  auto hr = hist_of(relu);
  CHECK(calib::percentile_range(hr, 99.0).lo == 0.0);
  CHECK(calib::mse_range(hr).lo == 0.0);
  // All-positive data that does not reach 0 still gets a range with 0.
  std::vector<float> shifted;
  for (int i = 0; i < 1000; ++i) shifted.push_back(5.0f + u(rng));
  auto hs = hist_of(shifted);
  CHECK(calib::percentile_range(hs, 99.0).lo == 0.0);
  CHECK(calib::mse_range(hs).lo == 0.0);

  CHECK(calib::parse_method("mse") == calib::Method::Mse);
  CHECK_THROWS_WITH(calib::parse_method("kl"), Catch::Contains("minmax, percentile or mse"));
}

TEST_CASE("quantize: SNR and cosine") {
  std::vector<float> x = {1, 2, 3, 4}, y = {1, 2, 3, 4}, z = {1.1f, 2, 3, 4};
  CHECK(calib::snr_db(x.data(), y.data(), 4) == calib::kMaxSnrDb);
  CHECK(calib::snr_db(x.data(), z.data(), 4) == Approx(10 * std::log10(30.0 / 0.01)).epsilon(1e-4));
  CHECK(calib::cosine(x.data(), y.data(), 4) == Approx(1.0));
  std::vector<float> o = {0, 0, 0, 0};
  CHECK(calib::cosine(o.data(), o.data(), 4) == 1.0);
  CHECK(calib::cosine(x.data(), o.data(), 4) == 0.0);
}

// ------------------------------------------------------------ calibration data
TEST_CASE("quantize: calibration folders") {
  TempDir d;
  std::vector<calib::InputSpec> one = {{"x", DType::F32, {-1, 2}}};
  std::vector<float> v = {1, 2};
  save_f32(d.path / "b.npy", {1, 2}, v);
  save_f32(d.path / "a.npy", {1, 2}, {3, 4});
  auto s = calib::load_calibration_dir(d.path.string(), one);
  REQUIRE(s.size() == 2);
  CHECK(s[0][0].f32()[0] == 3.0f); // sorted by name
  CHECK(s[1][0].shape == ir::Shape{1, 2});

  // Two inputs: SAMPLE.K.npy.
  TempDir d2;
  std::vector<calib::InputSpec> two = {{"x", DType::F32, {1, 2}}, {"y", DType::F32, {3}}};
  save_f32(d2.path / "s0.0.npy", {1, 2}, v);
  save_f32(d2.path / "s0.1.npy", {3}, {1, 2, 3});
  save_f32(d2.path / "s1.0.npy", {1, 2}, v);
  save_f32(d2.path / "s1.1.npy", {3}, {4, 5, 6});
  auto s2 = calib::load_calibration_dir(d2.path.string(), two);
  REQUIRE(s2.size() == 2);
  CHECK(s2[1][1].f32()[2] == 6.0f);
  fs::remove(d2.path / "s1.1.npy");
  CHECK_THROWS_WITH(calib::load_calibration_dir(d2.path.string(), two), Catch::Contains("lacks s1.1.npy"));
  save_f32(d2.path / "odd.npy", {1, 2}, v);
  CHECK_THROWS_WITH(calib::load_calibration_dir(d2.path.string(), two), Catch::Contains("SAMPLE.K.npy"));
}

TEST_CASE("quantize: bad calibration data gives clear errors") {
  std::vector<calib::InputSpec> one = {{"x", DType::F32, {1, 1, 6, 6}}};
  CHECK_THROWS_WITH(calib::load_calibration_dir("/nonexistent/tmc-cal", one), Catch::Contains("does not exist"));
  TempDir d;
  CHECK_THROWS_WITH(calib::load_calibration_dir(d.path.string(), one), Catch::Contains("no .npy files"));
  save_f32(d.path / "a.npy", {1, 6, 6}, std::vector<float>(36));
  CHECK_THROWS_WITH(calib::load_calibration_dir(d.path.string(), one),
                    Catch::Contains("a.npy: shape 1x6x6 does not match the model input 'x' (1x1x6x6)"));
  fs::remove(d.path / "a.npy");
  std::vector<double> dv(36);
  save_npy(d.path / "a.npy", DType::F64, {1, 1, 6, 6}, dv.data(), dv.size() * 8);
  CHECK_THROWS_WITH(calib::load_calibration_dir(d.path.string(), one), Catch::Contains("dtype f64"));
  fs::remove(d.path / "a.npy");
  std::ofstream(d.path / "a.npy") << "not numpy";
  CHECK_THROWS_WITH(calib::load_calibration_dir(d.path.string(), one), Catch::Contains("not a .npy file"));
}

// ------------------------------------------------------------ host execution
TEST_CASE("quantize: the host runner computes Conv, pooling and BatchNormalization") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {1, 1, 3, 3});
  g.inputs.push_back(x);
  auto *w = g.add_constant_of<float>("w", DType::F32, {1, 1, 2, 2}, {1, 1, 1, 1});
  auto *b = g.add_constant_of<float>("b", DType::F32, {1}, {0.5f});
  auto *c = g.add_value("c", DType::F32, {1, 1, 2, 2});
  g.add_node("Conv", {x, w, b}, {c}, "conv");
  auto *p = g.add_value("p", DType::F32, {1, 1, 1, 1});
  g.add_node("MaxPool", {c}, {p}, "pool")->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
  auto *a = g.add_value("a", DType::F32, {1, 1, 1, 1});
  g.add_node("GlobalAveragePool", {c}, {a}, "gap");
  auto *one = g.add_constant_of<float>("one", DType::F32, {1}, {1.0f});
  auto *zero = g.add_constant_of<float>("zero", DType::F32, {1}, {0.0f});
  auto *four = g.add_constant_of<float>("four", DType::F32, {1}, {4.0f});
  auto *bn = g.add_value("bn", DType::F32, {1, 1, 1, 1});
  g.add_node("BatchNormalization", {a, one, zero, zero, four}, {bn}, "bn")->attrs["epsilon"] = 0.0f;
  auto *y = g.add_value("y", DType::F32, {1, 1, 1, 1});
  g.add_node("Add", {p, bn}, {y}, "add");
  g.outputs.push_back(y);
  calib::Tensor in{DType::F32, {1, 1, 3, 3}, nullptr};
  std::vector<float> xv = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  in.data = std::make_shared<ir::Bytes>((uint8_t *)xv.data(), (uint8_t *)xv.data() + 36);
  std::map<std::string, std::vector<float>> seen;
  calib::run_graph(
      g, {in}, [&](const ir::Value &v, const calib::Tensor &t) { seen[v.name].assign(t.f32(), t.f32() + t.numel()); });
  CHECK(seen["c"] == std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f});
  CHECK(seen["p"] == std::vector<float>{28.5f});
  CHECK(seen["a"] == std::vector<float>{20.5f});
  CHECK(seen["bn"][0] == Approx(10.25f)); // 20.5 / sqrt(4)
  CHECK(seen["y"][0] == Approx(38.75f));

  // An op neither the evaluator nor the runner implements: a clear error naming the node.
  ir::Graph h;
  h.opsets[""] = 13;
  auto *hx = h.add_value("x", DType::F32, {1, 4});
  h.inputs.push_back(hx);
  auto *hy = h.add_value("y", DType::F32, {1, 4});
  h.add_node("MyOp", {hx}, {hy}, "custom")->domain = "com.example";
  h.outputs.push_back(hy);
  calib::Tensor hin{DType::F32, {1, 4}, std::make_shared<ir::Bytes>(16, 0)};
  CHECK_THROWS_WITH(calib::run_graph(h, {hin}, [](const ir::Value &, const calib::Tensor &) {}),
                    Catch::Contains("custom") && Catch::Contains("cannot run"));
  // Wrong input shape.
  calib::Tensor bad{DType::F32, {1, 3}, std::make_shared<ir::Bytes>(12, 0)};
  CHECK_THROWS_WITH(calib::run_graph(h, {bad}, [](const ir::Value &, const calib::Tensor &) {}),
                    Catch::Contains("expects f32 1x4"));
}

// ------------------------------------------------------------ quantize_model
TEST_CASE("quantize: static QDQ model follows the conventions and folds to integer kernels") {
  for (auto method : {calib::Method::MinMax, calib::Method::Percentile, calib::Method::Mse}) {
    CAPTURE(calib::method_name(method));
    CnnFixture f;
    QuantizeOptions o = f.options();
    o.method = method;
    QuantizeResult r = quantize_model(o);
    CHECK(r.samples == 8);
    CHECK(r.float_nodes.empty());
    onnx::ModelProto m;
    REQUIRE(m.ParseFromString(r.model_bytes));
    const auto &g = m.graph();
    int q = 0, dq = 0;
    for (auto &n : g.node()) {
      CHECK(n.op_type() != "BatchNormalization"); // folded into the Conv
      CHECK(n.op_type() != "MatMul");             // MatMul + Add became Gemm
      q += n.op_type() == "QuantizeLinear";
      dq += n.op_type() == "DequantizeLinear";
    }
    // Activations x, relu, pool, flatten (the last three share parameters), y;
    // plus the DequantizeLinear of the conv and gemm weights and biases.
    CHECK(q == 5);
    CHECK(dq == 9);
    // The Relu is fused: no QuantizeLinear reads the BN/Conv output.
    for (auto &n : g.node())
      if (n.op_type() == "QuantizeLinear") CHECK(n.input(0) != "bn");
    // Weights: int8 within [-127, 127], per output channel, zero point 0.
    const onnx::TensorProto *wq = nullptr, *ws = nullptr, *bq = nullptr, *bs = nullptr, *xs = nullptr;
    for (auto &n : g.node()) {
      if (n.op_type() == "Conv") {
        for (auto &d : g.node())
          if (d.output(0) == n.input(1)) {
            wq = find_init(g, d.input(0));
            ws = find_init(g, d.input(1));
          } else if (d.output(0) == n.input(2)) {
            bq = find_init(g, d.input(0));
            bs = find_init(g, d.input(1));
          } else if (d.output(0) == n.input(0)) {
            xs = find_init(g, d.input(1));
          }
      }
    }
    REQUIRE(wq);
    REQUIRE(bq);
    REQUIRE(xs);
    CHECK(wq->data_type() == onnx::TensorProto::INT8);
    CHECK(ws->dims_size() == 1);
    CHECK(ws->dims(0) == 4);
    for (char c : wq->raw_data()) CHECK((int)(int8_t)c >= -127);
    CHECK(bq->data_type() == onnx::TensorProto::INT32);
    const float *wsv = (const float *)ws->raw_data().data(), *bsv = (const float *)bs->raw_data().data();
    float xsv = *(const float *)xs->raw_data().data();
    for (int c = 0; c < 4; ++c) CHECK(bsv[c] == xsv * wsv[c]); // bias scale = input scale x weight scale
    // Activation zero points in int8; the input range contains 0.
    for (auto &t : r.tensors) {
      if (t.kind != "activation") continue;
      CHECK(t.lo <= 0.0);
      CHECK(t.hi >= 0.0);
      CHECK(t.zero_points[0] >= -128);
      CHECK(t.zero_points[0] <= 127);
      CHECK(t.snr_db > 15.0);
      CHECK(t.cosine > 0.98);
    }
    bool opset_ok = false;
    for (auto &op : m.opset_import())
      if (op.domain().empty()) opset_ok = op.version() >= 13;
    CHECK(opset_ok);

    // tmc lowers it to integer kernels: no float Conv/Gemm/MatMul remain.
    fs::path out = f.dir.path / "cnn.int8.onnx";
    write_file_atomically(out.string(), r.model_bytes);
    CompileOptions co;
    co.model_path = out.string();
    co.input_shapes["x"] = {1, 1, 6, 6};
    auto cg = load_and_optimize(co);
    int qconv = 0, qgemm = 0;
    for (auto &n : cg->nodes()) {
      CHECK(n->op != "Conv");
      CHECK(n->op != "Gemm");
      CHECK(n->op != "MatMul");
      qconv += n->op == "QLinearConv";
      qgemm += n->op == "QGemm";
    }
    CHECK(qconv == 1);
    CHECK(qgemm == 1);
    // The JSON report lists every tensor.
    std::string js = quantize_report_json(r, o);
    CHECK(js.find("\"snr_db\"") != std::string::npos);
    CHECK(js.find(calib::method_name(method)) != std::string::npos);
  }
}

TEST_CASE("quantize: per-tensor weights, old opsets and dynamic mode") {
  CnnFixture f(4, 11);
  QuantizeOptions o = f.options();
  o.per_channel = false;
  QuantizeResult r = quantize_model(o); // opset 11 is converted to 13
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(r.model_bytes));
  for (auto &op : m.opset_import())
    if (op.domain().empty()) CHECK(op.version() == 13);
  for (auto &t : r.tensors)
    if (t.kind == "weight") CHECK(t.scales.size() == 1);

  QuantizeOptions dyn = f.options();
  dyn.dynamic = true;
  dyn.calibration_dir.clear();
  QuantizeResult d = quantize_model(dyn);
  REQUIRE(m.ParseFromString(d.model_bytes));
  std::map<std::string, int> ops;
  for (auto &n : m.graph().node()) ops[n.op_type()]++;
  CHECK(ops["DynamicQuantizeLinear"] == 2);
  CHECK(ops["ConvInteger"] == 1);
  CHECK(ops["MatMulInteger"] == 1);
  CHECK(ops["Conv"] == 0);
  CHECK(ops["Gemm"] == 0);
  CHECK(ops["Cast"] == 2);
}

TEST_CASE("quantize: negative cases") {
  CnnFixture f;
  // Mismatched calibration input shape.
  fs::path bad = f.dir.path / "bad";
  fs::create_directories(bad);
  save_f32(bad / "a.npy", {1, 1, 5, 5}, std::vector<float>(25));
  QuantizeOptions o = f.options();
  o.calibration_dir = bad.string();
  CHECK_THROWS_WITH(quantize_model(o), Catch::Contains("does not match the model input 'x'"));
  o.calibration_dir = (f.dir.path / "missing").string();
  CHECK_THROWS_WITH(quantize_model(o), Catch::Contains("does not exist"));
  // Not an ONNX model.
  std::ofstream(f.dir.path / "junk.onnx") << "junk";
  o = f.options();
  o.model_path = (f.dir.path / "junk.onnx").string();
  CHECK_THROWS_WITH(quantize_model(o), Catch::Contains("not a valid ONNX model"));

  // The command line: exit code 3 and the reason on stderr; nothing written.
  std::string tmc = std::string(TMC_BINARY_DIR) + "/compiler/tmc";
  fs::path out = f.dir.path / "out.onnx";
  std::string log;
  int rc = run_command(fmt::format("{} quantize {} --calibration {} -o {}", shell_quote(tmc),
                                   shell_quote(f.model.string()), shell_quote(bad.string()), shell_quote(out.string())),
                       &log);
  CHECK(rc == 3);
  CHECK(log.find("shape 1x1x5x5 does not match") != std::string::npos);
  CHECK(!fs::exists(out));
  rc = run_command(
      fmt::format("{} quantize {} -o {}", shell_quote(tmc), shell_quote(f.model.string()), shell_quote(out.string())),
      &log);
  CHECK(rc == 2); // usage: --calibration missing
  rc = run_command(fmt::format("{} quantize {} --calibration {} --calibrate kl -o {}", shell_quote(tmc),
                               shell_quote(f.model.string()), shell_quote(f.cal.string()), shell_quote(out.string())),
                   &log);
  CHECK(rc == 2); // usage: unknown method
  CHECK(log.find("minmax, percentile or mse") != std::string::npos);
  CHECK(!fs::exists(out));
}
