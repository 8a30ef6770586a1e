// Memory planning, part 1: liveness analysis. Turns the schedule into a list of
// buffers (activations and kernel scratch) with their first and last step.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes::memory {

struct Buffer {
  std::string name;
  int64_t size = 0;  ///< bytes, before alignment
  int first = 0;     ///< schedule step that writes it first
  int last = 0;      ///< schedule step that reads it last (inclusive)
  ir::Value *value = nullptr; ///< the activation, or nullptr for scratch
  ir::Node *scratch_of = nullptr;
};

struct LivenessOptions {
  bool io_in_arena = false; ///< place graph inputs and outputs in the arena too
};

/// Buffers that need arena space under the graph's current schedule.
std::vector<Buffer> analyze_liveness(const ir::Graph &g, const LivenessOptions &opts = {});

/// Peak of simultaneously live bytes (each rounded up to `align`): a lower bound
/// for any offset assignment under this schedule.
int64_t live_bytes_lower_bound(const std::vector<Buffer> &bufs, int64_t align);

} // namespace tmc::passes::memory
