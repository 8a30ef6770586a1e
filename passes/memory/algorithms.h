// Memory planning, part 2: offset assignment algorithms. Pure functions from
// buffer sizes and lifetimes to offsets; they do not touch the IR, so they can
// be swapped, compared and property-tested on random interval sets.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "passes/memory/liveness.h"

namespace tmc::passes::memory {

struct Placement {
  std::vector<int64_t> offsets; ///< one per buffer, multiples of the alignment
  int64_t total = 0;            ///< arena bytes needed
  std::string algorithm;
};

/// TFLite Micro's approach, kept as the baseline: largest buffer first, each at
/// the lowest offset that does not overlap a time-overlapping placed buffer.
Placement plan_greedy_by_size(const std::vector<Buffer> &bufs, int64_t align);

/// Places buffers in the given order; each goes into the smallest gap between
/// time-overlapping placed buffers that fits it (best fit), else on top.
Placement plan_best_fit(const std::vector<Buffer> &bufs, int64_t align, const std::vector<size_t> &order,
                        bool first_fit = false);

/// Best of several orderings (size, lifetime, area, start, conflict degree)
/// with first- and best-fit, then a deterministic local search that swaps
/// pairs in the best ordering while it helps. Stops early at the lower bound.
Placement plan_search(const std::vector<Buffer> &bufs, int64_t align, int iterations = 400);

/// Naive: every buffer gets its own space (no reuse). The upper bound.
Placement plan_naive(const std::vector<Buffer> &bufs, int64_t align);

/// True if every offset is aligned, every buffer fits in `total`, and no two
/// buffers live at the same step overlap in memory.
bool placement_is_valid(const std::vector<Buffer> &bufs, const Placement &p, int64_t align = 1);

} // namespace tmc::passes::memory
