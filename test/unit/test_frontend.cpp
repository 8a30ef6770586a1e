// Frontend: loading valid models and every error path named in issue #2.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <onnx/onnx_pb.h>

#include "compiler/driver.h"
#include "frontend/onnx_importer.h"

namespace fs = std::filesystem;
using namespace tmc;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "tmc-unit-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()));
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void add_vi(onnx::ValueInfoProto *vi, const std::string &name, std::vector<int64_t> dims) {
  vi->set_name(name);
  auto *tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto *sh = tt->mutable_shape();
  for (auto d : dims) sh->add_dim()->set_dim_value(d);
}

/// y = Relu(x + w), x: [2,3], w an initializer.
onnx::ModelProto add_relu_model(const std::string &op2 = "Relu") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto *g = m.mutable_graph();
  g->set_name("g");
  add_vi(g->add_input(), "x", {2, 3});
  add_vi(g->add_output(), "y", {2, 3});
  auto *w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  for (int i = 0; i < 6; ++i) w->add_float_data((float)i);
  auto *n1 = g->add_node();
  n1->set_op_type("Add");
  n1->set_name("add");
  n1->add_input("x");
  n1->add_input("w");
  n1->add_output("s");
  auto *n2 = g->add_node();
  n2->set_op_type(op2);
  n2->set_name("act");
  n2->add_input("s");
  n2->add_output("y");
  return m;
}

std::string write_model(const fs::path &p, const onnx::ModelProto &m) {
  std::ofstream(p, std::ios::binary) << m.SerializeAsString();
  return p.string();
}

} // namespace

TEST_CASE("frontend imports a valid model with shapes and constants") {
  TempDir d;
  auto path = write_model(d.path / "m.onnx", add_relu_model());
  auto g = frontend::import_onnx_file(path);
  REQUIRE(g->inputs.size() == 1);
  REQUIRE(g->outputs.size() == 1);
  REQUIRE(g->num_nodes() == 2);
  CHECK(g->find_value("w")->is_constant());
  CHECK(g->find_value("s")->shape == ir::Shape{2, 3}); // from ONNX shape inference
  CHECK(g->nodes()[0]->opset == 13);
  CHECK_NOTHROW(ir::verify(*g));
}

TEST_CASE("frontend: corrupt file") {
  TempDir d;
  std::ofstream(d.path / "bad.onnx") << "this is not a protobuf \xff\xff\xff\xff";
  CHECK_THROWS_WITH(frontend::import_onnx_file((d.path / "bad.onnx").string()),
                    Catch::Contains("bad.onnx") && Catch::Contains("not a valid ONNX model"));
}

TEST_CASE("frontend: truncated file") {
  TempDir d;
  std::string bytes = add_relu_model().SerializeAsString();
  std::ofstream(d.path / "t.onnx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  CHECK_THROWS_WITH(frontend::import_onnx_file((d.path / "t.onnx").string()), Catch::Contains("t.onnx"));
}

TEST_CASE("frontend: empty and missing files") {
  TempDir d;
  std::ofstream(d.path / "e.onnx");
  CHECK_THROWS_WITH(frontend::import_onnx_file((d.path / "e.onnx").string()), Catch::Contains("empty"));
  CHECK_THROWS_WITH(frontend::import_onnx_file((d.path / "nope.onnx").string()), Catch::Contains("no such file"));
}

TEST_CASE("frontend: missing initializer is reported with the node") {
  TempDir d;
  auto m = add_relu_model();
  m.mutable_graph()->clear_initializer();
  auto path = write_model(d.path / "m.onnx", m);
  // The ONNX checker or our importer names the undefined input 'w'.
  CHECK_THROWS_WITH(frontend::import_onnx_file(path), Catch::Contains("'w'") || Catch::Contains("w"));
  frontend::ImportOptions o;
  o.run_checker = false;
  CHECK_THROWS_WITH(frontend::import_onnx_file(path, o),
                    Catch::Contains("Add node 'add'") && Catch::Contains("input 'w' is not defined"));
}

TEST_CASE("frontend: external data paths are confined to the model folder") {
  TempDir d;
  fs::create_directory(d.path / "sub");
  std::vector<float> vals{0, 1, 2, 3, 4, 5};
  std::ofstream(d.path / "sub" / "w.bin", std::ios::binary).write((const char *)vals.data(), 24);
  std::ofstream(d.path / "outside.bin", std::ios::binary).write((const char *)vals.data(), 24);
  auto make = [&](const std::string &loc) {
    auto m = add_relu_model();
    auto *w = m.mutable_graph()->mutable_initializer(0);
    w->clear_float_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto *kv = w->add_external_data();
    kv->set_key("location");
    kv->set_value(loc);
    return m;
  };
  // Valid relative path.
  auto ok = write_model(d.path / "sub" / "ok.onnx", make("w.bin"));
  auto g = frontend::import_onnx_file(ok);
  CHECK(g->find_value("w")->float_at(5) == 5.0);
  // Leaves the folder.
  auto up = write_model(d.path / "sub" / "up.onnx", make("../outside.bin"));
  CHECK_THROWS_WITH(frontend::import_onnx_file(up), Catch::Contains("leaves the model's folder"));
  // Absolute.
  auto abs = write_model(d.path / "sub" / "abs.onnx", make((d.path / "outside.bin").string()));
  CHECK_THROWS_WITH(frontend::import_onnx_file(abs), Catch::Contains("absolute"));
  // Missing file.
  auto miss = write_model(d.path / "sub" / "miss.onnx", make("nothere.bin"));
  CHECK_THROWS_WITH(frontend::import_onnx_file(miss), Catch::Contains("cannot open external data"));
  // Too short.
  std::ofstream(d.path / "sub" / "short.bin", std::ios::binary).write((const char *)vals.data(), 8);
  auto shortm = write_model(d.path / "sub" / "short.onnx", make("short.bin"));
  CHECK_THROWS_WITH(frontend::import_onnx_file(shortm), Catch::Contains("bytes"));
}

TEST_CASE("frontend: unsupported ops are all reported in one error before writing") {
  TempDir d;
  auto m = add_relu_model("Relu");
  // Two unknown ops in the graph.
  auto *g = m.mutable_graph();
  g->mutable_node(0)->set_op_type("Bogus");
  g->mutable_node(0)->set_domain("com.example");
  g->mutable_node(1)->set_op_type("AlsoBogus");
  g->mutable_node(1)->set_domain("com.example");
  auto *op = m.add_opset_import();
  op->set_domain("com.example");
  op->set_version(1);
  frontend::ImportOptions io;
  io.run_checker = false;
  auto path = write_model(d.path / "m.onnx", m);
  driver::CompileOptions co;
  co.model_path = path;
  try {
    driver::compile(co);
    FAIL("expected an error");
  } catch (const ir::CompileError &e) {
    std::string s = e.what();
    INFO(s);
    CHECK(s.find("2 unsupported nodes") != std::string::npos);
    CHECK(s.find("Bogus (domain 'com.example', opset 1) node 'add'") != std::string::npos);
    CHECK(s.find("AlsoBogus (domain 'com.example', opset 1) node 'act'") != std::string::npos);
  }
}

TEST_CASE("frontend: --input-shape fixes symbolic dimensions") {
  TempDir d;
  auto m = add_relu_model();
  auto *dim = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
  dim->set_dim_param("N");
  auto path = write_model(d.path / "m.onnx", m);
  CHECK_THROWS_WITH(frontend::import_onnx_file(path), Catch::Contains("--input-shape"));
  frontend::ImportOptions o;
  o.input_shapes["x"] = {2, 3};
  auto g = frontend::import_onnx_file(path, o);
  CHECK(g->inputs[0]->shape == ir::Shape{2, 3});
  o.input_shapes.clear();
  o.input_shapes["nope"] = {2, 3};
  CHECK_THROWS_WITH(frontend::import_onnx_file(path, o), Catch::Contains("has no input 'nope'"));
  o.input_shapes.clear();
  o.input_shapes["x"] = {2, 3, 4};
  CHECK_THROWS_WITH(frontend::import_onnx_file(path, o), Catch::Contains("rank"));
}

TEST_CASE("frontend: opset range is enforced, legacy opsets are converted") {
  TempDir d;
  auto m = add_relu_model();
  m.mutable_opset_import(0)->set_version(30);
  auto path = write_model(d.path / "m.onnx", m);
  CHECK_THROWS_WITH(frontend::import_onnx_file(path), Catch::Contains("opset 30 is not supported"));
  m.mutable_opset_import(0)->set_version(6);
  path = write_model(d.path / "m6.onnx", m);
  auto g = frontend::import_onnx_file(path);
  CHECK(g->opsets.at("") == frontend::kMinOnnxOpset);
  CHECK(g->nodes()[0]->opset == frontend::kMinOnnxOpset);
}

TEST_CASE("parse_shape") {
  CHECK(frontend::parse_shape("1x3x96x96") == ir::Shape{1, 3, 96, 96});
  CHECK(frontend::parse_shape("4,5") == ir::Shape{4, 5});
  CHECK_THROWS(frontend::parse_shape("1xx3"));
  CHECK_THROWS(frontend::parse_shape("1x-3"));
}
