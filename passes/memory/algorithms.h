// Memory planning, part 2: offset assignment algorithms. Pure functions from
// buffer sizes and lifetimes to offsets; they do not touch the IR.
#pragma once
#include <string>
#include <vector>

#include "passes/memory/liveness.h"

namespace tmc::passes::memory {

struct Placement {
  std::vector<int64_t> offsets; ///< one per buffer, aligned
  int64_t total = 0;            ///< arena bytes needed
  std::string algorithm;
};

/// TFLite Micro's approach: largest buffer first, each at the lowest offset
/// that does not overlap a time-overlapping buffer already placed.
Placement plan_greedy_by_size(const std::vector<Buffer> &bufs, int64_t align);

/// Naive: every buffer gets its own space (no reuse). The upper bound.
Placement plan_naive(const std::vector<Buffer> &bufs, int64_t align);

/// True if no two buffers that are live at the same step overlap in memory.
bool placement_is_valid(const std::vector<Buffer> &bufs, const Placement &p);

} // namespace tmc::passes::memory
