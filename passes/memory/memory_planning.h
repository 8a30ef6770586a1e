// Memory planning, part 3: the apply step. Tries candidate schedules, runs
// liveness and the placement algorithms on each, keeps the smallest valid
// arena, and writes the schedule and offsets into the IR.
#pragma once
#include <memory>

#include "passes/memory/algorithms.h"
#include "passes/memory/scheduling.h"
#include "passes/pass.h"

namespace tmc::passes::memory {

struct PlanOptions {
  int64_t alignment = 8;
  bool io_in_arena = false;
  bool reorder = true;  ///< try other topological orders
  bool share = true;    ///< views and in-place reuse
};

struct PlanReport {
  int64_t arena_bytes = 0;
  int64_t lower_bound = 0;      ///< live-bytes peak of the chosen schedule
  int64_t best_lower_bound = 0; ///< smallest live-bytes peak over the schedules tried
  int64_t naive_bytes = 0;      ///< every tensor in its own space
  int64_t greedy_bytes = 0;     ///< TFLM-style greedy-by-size, ONNX order, no sharing
  std::string algorithm;
  std::string schedule;
  int schedules_tried = 0;
  std::vector<Buffer> buffers;
  std::vector<int64_t> offsets;
};

/// Plans and applies: may reorder the graph's nodes; sets Value::arena_offset,
/// Node::scratch_offset and Graph::arena_bytes. Returns the report figures.
PlanReport plan_memory(ir::Graph &g, const PlanOptions &opts);

std::unique_ptr<Pass> create_memory_planning_pass(const PlanOptions &opts, PlanReport *report);

} // namespace tmc::passes::memory
