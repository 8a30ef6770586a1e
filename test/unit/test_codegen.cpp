// Codegen: literals round-trip exactly, identifiers, and the emitted files for a
// small graph (header macros, weights as static const, entry point).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "codegen/c_emitter.h"
#include "codegen/kernel.h"
#include "passes/memory/memory_planning.h"

using namespace tmc;

TEST_CASE("float literals round-trip exactly and spell inf/nan") {
  for (float v : {0.1f, 1.0f / 3.0f, 1e-38f, 3.4028235e38f, -2.5f, 1e10f, 16777217.0f, 1.17549435e-38f}) {
    std::string s = codegen::c_float_literal(v);
    REQUIRE(s.back() == 'f');
    CHECK(std::strtof(s.substr(0, s.size() - 1).c_str(), nullptr) == v);
    CHECK(s.find_first_of(".e") != std::string::npos);
  }
  CHECK(codegen::c_float_literal(std::numeric_limits<float>::infinity()) == "INFINITY");
  CHECK(codegen::c_float_literal(-std::numeric_limits<float>::infinity()) == "(-INFINITY)");
  CHECK(codegen::c_float_literal(std::nanf("")) == "NAN");
  double d = 0.1 + 0.2;
  CHECK(std::strtod(codegen::c_double_literal(d).c_str(), nullptr) == d);
}

TEST_CASE("integer literals are valid C for extreme values") {
  CHECK(codegen::c_int_literal(ir::DType::I64, INT64_MIN) == "(-INT64_C(9223372036854775807) - 1)");
  CHECK(codegen::c_int_literal(ir::DType::I32, INT32_MIN) == "(-2147483647 - 1)");
  CHECK(codegen::c_int_literal(ir::DType::U64, -1) == "UINT64_C(18446744073709551615)");
  CHECK(codegen::c_int_literal(ir::DType::U32, 7) == "7u");
}

TEST_CASE("C identifiers from file stems") {
  CHECK(codegen::make_c_identifier("kws-v2.1") == "kws_v2_1");
  CHECK(codegen::make_c_identifier("3net") == "m_3net");
  CHECK(codegen::make_c_identifier("") == "m_");
}

TEST_CASE("emitted files for a small graph follow the header contract") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", ir::DType::F32, {2, 3});
  g.inputs.push_back(x);
  auto *w = g.add_constant_of<float>("w", ir::DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto *a = g.add_value("a", ir::DType::F32, {2, 3});
  auto *y = g.add_value("y", ir::DType::F32, {2, 3});
  g.add_node("Add", {x, w}, {a});
  g.add_node("Relu", {a}, {y});
  g.outputs.push_back(y);
  passes::memory::plan_memory(g, {});
  codegen::CodegenOptions o;
  o.name = "tiny";
  auto files = codegen::generate_c(g, o);
  REQUIRE(files.size() == 3);
  const std::string &h = files[0].content, &c = files[2].content;
  CHECK(files[0].filename == "tiny.h");
  CHECK(files[1].filename == "tiny_target.h");
  CHECK(h.find("#define TINY_ARENA_BYTES 24") != std::string::npos);
  CHECK(h.find("#define TINY_NUM_INPUTS 1") != std::string::npos);
  CHECK(h.find("#define TINY_INPUT_0_SHAPE {2, 3}") != std::string::npos);
  CHECK(h.find("#define TINY_OUTPUT_0_BYTES 24") != std::string::npos);
  CHECK(h.find("int tiny_run(const void *const inputs[], void *const outputs[], void *arena);") != std::string::npos);
  CHECK(c.find("static const float tiny_c0[6] TINY_WEIGHTS_ATTR = {") != std::string::npos);
  CHECK(c.find("int tiny_run(") != std::string::npos);
  // Deterministic: a second emission is identical.
  auto again = codegen::generate_c(g, o);
  CHECK(again[2].content == c);
}

TEST_CASE("negative: a node without a kernel is rejected with its name") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", ir::DType::F32, {2});
  g.inputs.push_back(x);
  auto *y = g.add_value("y", ir::DType::F32, {2});
  g.add_node("NoSuchOp", {x}, {y}, "mystery");
  g.outputs.push_back(y);
  passes::memory::plan_memory(g, {});
  codegen::CodegenOptions o;
  o.name = "t";
  CHECK_THROWS_WITH(codegen::generate_c(g, o), Catch::Contains("NoSuchOp") && Catch::Contains("'mystery'"));
}
