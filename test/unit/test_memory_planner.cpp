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

TEST_CASE("property: planners never overlap live buffers and keep alignment (random intervals)") {
  uint64_t state = 12345;
  auto rnd = [&](uint64_t m) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % m;
  };
  for (int trial = 0; trial < 300; ++trial) {
    size_t n = 1 + rnd(40);
    int steps = 1 + (int)rnd(30);
    std::vector<Buffer> bufs;
    for (size_t i = 0; i < n; ++i) {
      int a = (int)rnd((uint64_t)steps), b = (int)rnd((uint64_t)steps);
      Buffer bf;
      bf.name = "b" + std::to_string(i);
      bf.size = (int64_t)rnd(5000);
      bf.first = std::min(a, b);
      bf.last = std::max(a, b);
      bufs.push_back(bf);
    }
    int64_t align = int64_t(1) << rnd(5);
    int64_t bound = live_bytes_lower_bound(bufs, align);
    auto g = plan_greedy_by_size(bufs, align);
    auto s = plan_search(bufs, align, 50);
    auto nv = plan_naive(bufs, align);
    INFO("trial " << trial);
    REQUIRE(placement_is_valid(bufs, g, align));
    REQUIRE(placement_is_valid(bufs, s, align));
    REQUIRE(placement_is_valid(bufs, nv, align));
    REQUIRE(s.total >= bound);
    REQUIRE(g.total >= bound);
    REQUIRE(s.total <= nv.total);
  }
}

TEST_CASE("search is never worse than greedy-by-size on random intervals") {
  uint64_t state = 777;
  auto rnd = [&](uint64_t m) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % m;
  };
  int better = 0;
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<Buffer> bufs;
    for (int i = 0; i < 25; ++i) {
      int a = (int)rnd(20), len = (int)rnd(6);
      Buffer bf;
      bf.size = 64 * (1 + (int64_t)rnd(64));
      bf.first = a;
      bf.last = a + len;
      bufs.push_back(bf);
    }
    auto g = plan_greedy_by_size(bufs, 8);
    auto s = plan_search(bufs, 8);
    REQUIRE(s.total <= g.total);
    better += s.total < g.total;
  }
  CHECK(better > 0);
}

static ir::Graph *view_graph(ir::Graph &g) {
  // x -> Relu -> a -> Reshape(view) -> b -> Sigmoid -> c -> Relu -> y
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {4, 16});
  g.inputs.push_back(x);
  auto *a = g.add_value("a", DType::F32, {4, 16});
  auto *b = g.add_value("b", DType::F32, {64});
  auto *c = g.add_value("c", DType::F32, {64});
  auto *y = g.add_value("y", DType::F32, {64});
  g.add_node("Relu", {x}, {a});
  auto *shape = g.add_constant_of<int64_t>("shape", DType::I64, {1}, {64});
  auto *r = g.add_node("Reshape", {a, shape}, {b});
  r->output_view_offsets = {0};
  auto *s = g.add_node("Sigmoid", {b}, {c});
  s->inplace_inputs = {0};
  g.add_node("Relu", {c}, {y});
  g.outputs.push_back(y);
  return &g;
}

TEST_CASE("views and in-place elementwise share one buffer") {
  ir::Graph g;
  view_graph(g);
  auto bufs = analyze_liveness(g);
  REQUIRE(bufs.size() == 1);
  CHECK(bufs[0].values.size() == 3); // a, b, c
  CHECK(bufs[0].first == 0);
  CHECK(bufs[0].last == 3);
  auto rep = plan_memory(g, PlanOptions{});
  CHECK(rep.arena_bytes == 256);
  CHECK(g.find_value("a")->arena_offset == g.find_value("c")->arena_offset);
  CHECK(rep.greedy_bytes == 512); // TFLM-style: no sharing, ping-pong a/b/c
}

TEST_CASE("in-place is refused while another member of the group is still read") {
  ir::Graph g;
  view_graph(g);
  // A later reader of b keeps b alive past the Sigmoid: c must not reuse it.
  auto *b = g.find_value("b");
  auto *z = g.add_value("z", DType::F32, {64});
  g.add_node("Neg", {b}, {z});
  g.outputs.push_back(z);
  auto bufs = analyze_liveness(g);
  CHECK(bufs.size() == 2);
  LivenessOptions off;
  off.share_views = off.share_inplace = false;
  CHECK(analyze_liveness(g, off).size() == 3);
}

TEST_CASE("scheduling: candidate orders are topological and branch order can cut the peak") {
  // Two independent branches from x joined by Add; each branch makes a big
  // temporary then shrinks it. Running one branch to completion first is best.
  ir::Graph g;
  g.opsets[""] = 13;
  auto *x = g.add_value("x", DType::F32, {16});
  g.inputs.push_back(x);
  auto mk = [&](const std::string &n, int64_t sz) { return g.add_value(n, DType::F32, {sz}); };
  auto *a1 = mk("a1", 1024), *b1 = mk("b1", 1024);
  auto *a2 = mk("a2", 16), *b2 = mk("b2", 16);
  auto *y = mk("y", 16);
  g.add_node("Expand", {x}, {a1});
  g.add_node("Expand", {x}, {b1});
  g.add_node("ReduceSum", {a1}, {a2});
  g.add_node("ReduceSum", {b1}, {b2});
  g.add_node("Add", {a2, b2}, {y});
  g.outputs.push_back(y);
  auto cands = candidate_schedules(g);
  REQUIRE(cands.size() >= 2);
  for (auto &c : cands) CHECK(is_topological(g, c.order));
  PlanOptions no_reorder;
  no_reorder.reorder = false;
  auto r0 = plan_memory(g, no_reorder);
  auto r1 = plan_memory(g, PlanOptions{});
  CHECK(r1.arena_bytes < r0.arena_bytes);
  CHECK(r1.schedule != "onnx-order");
  CHECK_NOTHROW(ir::verify(g));
}
