// verify --per-layer building blocks: .npz reading (stored and deflate
// members, corrupt archives), trace hook emission, the target trace parser,
// reference-name matching and the per-layer comparison.
#include <catch2/catch.hpp>
#include <sstream>
#include <zlib.h>

#include "codegen/c_emitter.h"
#include "codegen/kernel.h"
#include "compiler/per_layer.h"
#include "compiler/tensor_io.h"
#include "passes/memory/memory_planning.h"

using namespace tmc;

namespace {

void put(std::string &s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += (char)((v >> (8 * i)) & 0xff);
}

driver::Tensor f32_tensor(const ir::Shape &shape, const std::vector<float> &v) {
  driver::Tensor t;
  t.dtype = ir::DType::F32;
  t.shape = shape;
  auto b = std::make_shared<ir::Bytes>(v.size() * 4);
  std::memcpy(b->data(), v.data(), b->size());
  t.data = b;
  return t;
}

driver::Tensor i8_tensor(const ir::Shape &shape, const std::vector<int8_t> &v) {
  driver::Tensor t;
  t.dtype = ir::DType::I8;
  t.shape = shape;
  t.data = std::make_shared<ir::Bytes>(v.begin(), v.end());
  return t;
}

/// A zip archive with the given members, each stored (method 0) or deflated (8).
std::string make_zip(const std::vector<std::pair<std::string, std::string>> &members, bool compress) {
  std::string zip, cd;
  for (auto &[name, data] : members) {
    std::string body = data;
    if (compress) {
      z_stream zs{};
      REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
      body.assign(deflateBound(&zs, (uLong)data.size()), '\0');
      zs.next_in = (Bytef *)data.data();
      zs.avail_in = (uInt)data.size();
      zs.next_out = (Bytef *)body.data();
      zs.avail_out = (uInt)body.size();
      REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
      body.resize(zs.total_out);
      deflateEnd(&zs);
    }
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)data.data(), (uInt)data.size());
    size_t off = zip.size();
    put(zip, 0x04034b50, 4);
    put(zip, 20, 2);
    put(zip, 0, 2);
    put(zip, compress ? 8 : 0, 2);
    put(zip, 0, 4);
    put(zip, crc, 4);
    put(zip, body.size(), 4);
    put(zip, data.size(), 4);
    put(zip, name.size(), 2);
    put(zip, 0, 2);
    zip += name + body;
    put(cd, 0x02014b50, 4);
    put(cd, 20, 2);
    put(cd, 20, 2);
    put(cd, 0, 2);
    put(cd, compress ? 8 : 0, 2);
    put(cd, 0, 4);
    put(cd, crc, 4);
    put(cd, body.size(), 4);
    put(cd, data.size(), 4);
    put(cd, name.size(), 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 4);
    put(cd, off, 4);
    cd += name;
  }
  size_t cd_off = zip.size();
  zip += cd;
  put(zip, 0x06054b50, 4);
  put(zip, 0, 4);
  put(zip, members.size(), 2);
  put(zip, members.size(), 2);
  put(zip, cd.size(), 4);
  put(zip, cd_off, 4);
  put(zip, 0, 2);
  return zip;
}

} // namespace

TEST_CASE("npz archives: stored and deflate members, keys without .npy") {
  auto a = f32_tensor({2, 2}, {1, 2, 3, 4});
  auto b = i8_tensor({3}, {-1, 0, 127});
  for (bool deflate : {false, true}) {
    std::string zip = make_zip({{"conv_out.npy", driver::write_npy(a)}, {"t22_q.npy", driver::write_npy(b)}}, deflate);
    auto r = driver::parse_npz(zip, "refs.npz");
    REQUIRE(r.size() == 2);
    CHECK(r[0].first == "conv_out");
    CHECK(r[0].second.dtype == ir::DType::F32);
    CHECK(r[0].second.shape == ir::Shape{2, 2});
    CHECK(*r[0].second.data == *a.data);
    CHECK(r[1].first == "t22_q");
    CHECK(*r[1].second.data == *b.data);
  }
}

TEST_CASE("npz archives: corrupt input is a clear error, not a crash") {
  std::string zip = make_zip({{"x.npy", driver::write_npy(f32_tensor({4}, {1, 2, 3, 4}))}}, true);
  CHECK_THROWS_WITH(driver::parse_npz("PK\x03\x04 not a zip", "r.npz"), Catch::Contains("r.npz"));
  std::string bad_crc = zip;
  bad_crc[14] ^= 0x55; // local header CRC is not read; the central one is
  size_t cd = zip.find("PK\x01\x02");
  bad_crc = zip;
  bad_crc[cd + 16] ^= 0x55;
  CHECK_THROWS_WITH(driver::parse_npz(bad_crc, "r.npz"), Catch::Contains("CRC"));
  std::string truncated = zip.substr(0, zip.size() / 2) + zip.substr(zip.size() - 22);
  CHECK_THROWS(driver::parse_npz(truncated, "r.npz"));
  std::string bad_method = zip;
  bad_method[cd + 10] = 12; // bzip2
  CHECK_THROWS_WITH(driver::parse_npz(bad_method, "r.npz"), Catch::Contains("compression method 12"));
}

namespace {

/// x -> Relu -> a -> Reshape (view) -> b -> Relu -> y
std::unique_ptr<ir::Graph> view_graph() {
  auto g = std::make_unique<ir::Graph>();
  g->opsets[""] = 13;
  auto *x = g->add_value("x", ir::DType::F32, {2, 3});
  g->inputs.push_back(x);
  auto *a = g->add_value("a", ir::DType::F32, {2, 3});
  auto *b = g->add_value("b", ir::DType::F32, {6});
  auto *y = g->add_value("y", ir::DType::F32, {6});
  auto *s = g->add_constant_of<int64_t>("s", ir::DType::I64, {1}, {6});
  g->add_node("Relu", {x}, {a}, "relu1");
  g->add_node("Reshape", {a, s}, {b}, "flat");
  g->add_node("Neg", {b}, {y}, "neg");
  g->outputs.push_back(y);
  for (auto &n : g->nodes()) {
    n->output_view_offsets = codegen::kernel_view_offsets(*n);
    n->inplace_inputs = codegen::kernel_inplace_inputs(*n);
  }
  passes::memory::plan_memory(*g, {});
  return g;
}

} // namespace

TEST_CASE("trace hooks: emitted only with trace, after each node and elided view") {
  auto g = view_graph();
  codegen::CodegenOptions o;
  o.name = "tv";
  std::string plain = codegen::generate_c(*g, o)[2].content;
  o.trace = true;
  std::string traced = codegen::generate_c(*g, o)[2].content;
  CHECK(plain.find("TRACE") == std::string::npos);
  CHECK(traced.find("#ifndef TV_TRACE_TENSOR") != std::string::npos);
  size_t ta = traced.find("TV_TRACE_TENSOR(\"a\", TV_DTYPE_FLOAT32");
  size_t tb = traced.find("TV_TRACE_TENSOR(\"b\", TV_DTYPE_FLOAT32");
  size_t ty = traced.find("TV_TRACE_TENSOR(\"y\", TV_DTYPE_FLOAT32, (const float *)outputs[0], 24u)");
  REQUIRE(ta != std::string::npos);
  REQUIRE(tb != std::string::npos);
  REQUIRE(ty != std::string::npos);
  CHECK(ta < tb);
  CHECK(tb < ty);
  // After the node's call (and its profiling hook), in schedule order.
  CHECK(traced.rfind("TV_PROFILE_END(0);", ta) != std::string::npos);
  CHECK(traced.find("elided") < tb);
  auto tt = driver::traced_tensors(*g);
  REQUIRE(tt.size() == 3);
  CHECK(tt[0].value->name == "a");
  CHECK(tt[1].value->name == "b");
  CHECK(tt[1].view == codegen::node_is_elided(*tt[1].node));
  CHECK(tt[2].value->name == "y");
}

TEST_CASE("reference names: ONNX name, and X_nhwc[_N] stands for X in channels-last order") {
  ir::Value v;
  v.name = "conv1_nhwc";
  v.shape = {1, 4, 4, 8};
  auto c = driver::reference_candidates(v);
  REQUIRE(c.size() == 2);
  CHECK(c[0].name == "conv1_nhwc");
  CHECK(!c[0].nhwc);
  CHECK(c[1].name == "conv1");
  CHECK(c[1].nhwc);
  v.name = "conv1_nhwc_3";
  CHECK(driver::reference_candidates(v).at(1).name == "conv1");
  v.name = "conv1_nhwcx";
  CHECK(driver::reference_candidates(v).size() == 1);
  v.name = "conv1_nhwc";
  v.shape = {1, 8};
  CHECK(driver::reference_candidates(v).size() == 1);
}

TEST_CASE("target trace: parsed from the console, malformed dumps rejected") {
  std::string console = "TMC-RUN-BEGIN\nTMC-TRACE-BEGIN 3 3 my tensor\n01ff7f\nTMC-TRACE-END\n"
                        "TMC-TRACE-BEGIN 1 4 b\n0000803f\nTMC-TRACE-END\nTMC-RUN-END rc=0\n";
  auto t = driver::parse_target_trace(console);
  REQUIRE(t.size() == 2);
  CHECK(t[0].name == "my tensor");
  CHECK(t[0].onnx_dtype == 3);
  CHECK(t[0].data == std::string("\x01\xff\x7f", 3));
  CHECK(t[1].data == std::string("\x00\x00\x80\x3f", 4));
  CHECK_THROWS(driver::parse_target_trace("TMC-TRACE-BEGIN 3 4 x\n01ff\nTMC-TRACE-END\n"));
  CHECK_THROWS(driver::parse_target_trace("TMC-TRACE-BEGIN 3 2 x\n01ff\n"));
  CHECK_THROWS(driver::parse_target_trace("TMC-TRACE-BEGIN 3 2 x\nfault!\n"));
}

TEST_CASE("per-layer comparison names the first diverging node") {
  auto g = view_graph();
  auto rec = [](const std::string &n, const std::vector<float> &v) {
    driver::TraceRecord r;
    r.name = n;
    r.onnx_dtype = 1;
    r.data.assign((const char *)v.data(), v.size() * 4);
    return r;
  };
  std::vector<driver::TraceRecord> trace{rec("a", {0, 1, 2, 0, 4, 5}), rec("b", {0, 1, 2, 0, 4, 5}),
                                         rec("y", {0, -1, -2, 0, -4, -5})};
  driver::ReferenceSet refs;
  refs["a"] = f32_tensor({2, 3}, {0, 1, 2, 0, 4, 5});
  refs["y"] = f32_tensor({6}, {0, -1, -2, 0, -4, -5});
  refs["unused"] = f32_tensor({1}, {0});
  driver::PerLayerOptions o;
  o.reference_label = "test";
  std::ostringstream os;
  CHECK(driver::compare_per_layer(*g, trace, refs, o, os));
  CHECK(os.str().find("first divergence: none") != std::string::npos);
  CHECK(os.str().find("no reference") != std::string::npos);          // b
  CHECK(os.str().find("matched no traced tensor") != std::string::npos); // unused

  refs["b"] = f32_tensor({6}, {0, 1, 2.5f, 0, 4, 5});
  refs["y"] = f32_tensor({6}, {0, -1, -2, 0, -4, -6});
  std::ostringstream os2;
  CHECK(!driver::compare_per_layer(*g, trace, refs, o, os2));
  CHECK(os2.str().find("first divergence: node 'flat' (Reshape), tensor 'b': 1 of 6 elements differ; worst [2]") !=
        std::string::npos);

  // A tensor the code should have traced but did not fails the run.
  trace.pop_back();
  refs["b"] = f32_tensor({6}, {0, 1, 2, 0, 4, 5});
  std::ostringstream os3;
  CHECK(!driver::compare_per_layer(*g, trace, refs, o, os3));
  CHECK(os3.str().find("NOT TRACED") != std::string::npos);
}
