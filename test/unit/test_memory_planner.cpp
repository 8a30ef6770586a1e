// Memory planner: liveness analysis, the pure algorithms, and the apply step.
#include <catch2/catch.hpp>

#include "passes/memory/algorithms.h"
#include "passes/memory/liveness.h"
#include "passes/memory/memory_planning.h"

using namespace tmc;
using namespace tmc::passes::memory;
using ir::DType;

TEST_CASE("greedy-by-size reuses memory of dead buffers") {
  // a [0,1], b [1,2], c [2,3]: a and c can share.
  std::vector<Buffer> bufs{{"a", 100, 0, 1}, {"b", 50, 1, 2}, {"c", 100, 2, 3}};
  auto p = plan_greedy_by_size(bufs, 8);
  CHECK(placement_is_valid(bufs, p));
  CHECK(p.total == 104 + 56);
  CHECK(live_bytes_lower_bound(bufs, 8) == 104 + 56);
  auto n = plan_naive(bufs, 8);
  CHECK(n.total == 104 + 56 + 104);
}

TEST_CASE("placement validity check catches overlaps") {
  std::vector<Buffer> bufs{{"a", 16, 0, 2}, {"b", 16, 1, 3}};
  Placement bad;
  bad.offsets = {0, 8};
  bad.total = 24;
  CHECK_FALSE(placement_is_valid(bufs, bad));
  Placement good;
  good.offsets = {0, 16};
  good.total = 32;
  CHECK(placement_is_valid(bufs, good));
}

TEST_CASE("liveness and apply on a chain") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {64});
  g.inputs.push_back(x);
  ir::Value *prev = x;
  for (int i = 0; i < 4; ++i) {
    auto *v = g.add_value("t" + std::to_string(i), DType::F32, {64});
    g.add_node("Relu", {prev}, {v});
    prev = v;
  }
  g.outputs.push_back(prev);
  auto bufs = analyze_liveness(g);
  REQUIRE(bufs.size() == 3); // t0..t2; x and t3 are caller I/O
  CHECK(bufs[0].first == 0);
  CHECK(bufs[0].last == 1);
  PlanOptions po;
  auto rep = plan_memory(g, po);
  CHECK(rep.arena_bytes == 2 * 256); // ping-pong
  CHECK(g.arena_bytes == 512);
  CHECK(g.find_value("t0")->arena_offset >= 0);
  CHECK(g.find_value("t3")->arena_offset == -1);
  // With I/O in the arena, input and output get offsets too.
  po.io_in_arena = true;
  plan_memory(g, po);
  CHECK(g.find_value("x")->arena_offset >= 0);
  CHECK(g.find_value("t3")->arena_offset >= 0);
}

TEST_CASE("scratch buffers are planned for the step of their node") {
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {8});
  g.inputs.push_back(x);
  auto *y = g.add_value("y", DType::F32, {8});
  auto *n = g.add_node("Relu", {x}, {y});
  n->scratch_bytes = 100;
  g.outputs.push_back(y);
  plan_memory(g, PlanOptions{});
  CHECK(n->scratch_offset == 0);
  CHECK(g.arena_bytes == 104);
}
