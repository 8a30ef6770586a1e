// Memory planning, part 3: the pass that runs liveness, the algorithms, keeps
// the best valid placement and applies it to the IR.
#pragma once
#include <memory>

#include "passes/memory/algorithms.h"
#include "passes/pass.h"

namespace tmc::passes::memory {

struct PlanOptions {
  int64_t alignment = 8;
  bool io_in_arena = false;
};

struct PlanReport {
  int64_t arena_bytes = 0;
  int64_t lower_bound = 0;
  int64_t naive_bytes = 0;
  int64_t greedy_bytes = 0;
  std::string algorithm;
  std::vector<Buffer> buffers;
  std::vector<int64_t> offsets;
};

/// Plans and applies: sets Value::arena_offset, Node::scratch_offset and
/// Graph::arena_bytes. Returns the figures for the report.
PlanReport plan_memory(ir::Graph &g, const PlanOptions &opts);

std::unique_ptr<Pass> create_memory_planning_pass(const PlanOptions &opts, PlanReport *report);

} // namespace tmc::passes::memory
