#include "passes/memory/algorithms.h"

#include <algorithm>
#include <numeric>

namespace tmc::passes::memory {

static int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }
static bool overlap_time(const Buffer &a, const Buffer &b) {
  return a.first <= b.last && b.first <= a.last;
}

Placement plan_greedy_by_size(const std::vector<Buffer> &bufs, int64_t align) {
  Placement p;
  p.algorithm = "greedy-by-size";
  p.offsets.assign(bufs.size(), -1);
  std::vector<size_t> order(bufs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (bufs[a].size != bufs[b].size) return bufs[a].size > bufs[b].size;
    return bufs[a].first < bufs[b].first;
  });
  std::vector<size_t> placed;
  for (size_t i : order) {
    int64_t sz = align_up(std::max<int64_t>(bufs[i].size, 1), align);
    // Intervals taken by time-overlapping placed buffers, sorted by offset.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t j : placed)
      if (overlap_time(bufs[i], bufs[j]))
        taken.push_back({p.offsets[j], p.offsets[j] + align_up(std::max<int64_t>(bufs[j].size, 1), align)});
    std::sort(taken.begin(), taken.end());
    int64_t off = 0;
    for (auto &[s, e] : taken) {
      if (off + sz <= s) break;
      off = std::max(off, e);
    }
    p.offsets[i] = off;
    p.total = std::max(p.total, off + sz);
    placed.push_back(i);
  }
  return p;
}

Placement plan_naive(const std::vector<Buffer> &bufs, int64_t align) {
  Placement p;
  p.algorithm = "naive";
  for (auto &b : bufs) {
    p.offsets.push_back(p.total);
    p.total += align_up(std::max<int64_t>(b.size, 1), align);
  }
  return p;
}

bool placement_is_valid(const std::vector<Buffer> &bufs, const Placement &p) {
  if (p.offsets.size() != bufs.size()) return false;
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (p.offsets[i] < 0 || p.offsets[i] + bufs[i].size > p.total) return false;
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      if (!overlap_time(bufs[i], bufs[j])) continue;
      int64_t a0 = p.offsets[i], a1 = a0 + bufs[i].size;
      int64_t b0 = p.offsets[j], b1 = b0 + bufs[j].size;
      if (a0 < b1 && b0 < a1 && bufs[i].size > 0 && bufs[j].size > 0) return false;
    }
  }
  return true;
}

} // namespace tmc::passes::memory
