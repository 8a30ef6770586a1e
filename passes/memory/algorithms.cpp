#include "passes/memory/algorithms.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace tmc::passes::memory {

static int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }
static int64_t padded(const Buffer &b, int64_t a) { return align_up(std::max<int64_t>(b.size, 1), a); }
static bool overlap_time(const Buffer &a, const Buffer &b) { return a.first <= b.last && b.first <= a.last; }

Placement plan_best_fit(const std::vector<Buffer> &bufs, int64_t align, const std::vector<size_t> &order,
                        bool first_fit) {
  Placement p;
  p.algorithm = first_fit ? "first-fit" : "best-fit";
  p.offsets.assign(bufs.size(), -1);
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> taken;
  for (size_t i : order) {
    int64_t sz = padded(bufs[i], align);
    taken.clear();
    for (size_t j : placed)
      if (overlap_time(bufs[i], bufs[j])) taken.push_back({p.offsets[j], p.offsets[j] + padded(bufs[j], align)});
    std::sort(taken.begin(), taken.end());
    int64_t best = -1, best_gap = INT64_MAX, cursor = 0;
    for (auto &[s, e] : taken) {
      if (s > cursor) {
        int64_t gap = s - cursor;
        if (gap >= sz && gap < best_gap) {
          best = cursor;
          best_gap = gap;
          if (first_fit) break;
        }
      }
      cursor = std::max(cursor, e);
    }
    if (best < 0) best = cursor; // on top of everything it overlaps
    p.offsets[i] = best;
    p.total = std::max(p.total, best + sz);
    placed.push_back(i);
  }
  return p;
}

Placement plan_greedy_by_size(const std::vector<Buffer> &bufs, int64_t align) {
  std::vector<size_t> order(bufs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (bufs[a].size != bufs[b].size) return bufs[a].size > bufs[b].size;
    return bufs[a].first < bufs[b].first;
  });
  Placement p = plan_best_fit(bufs, align, order, /*first_fit=*/true);
  p.algorithm = "greedy-by-size";
  return p;
}

Placement plan_search(const std::vector<Buffer> &bufs, int64_t align, int iterations) {
  const size_t n = bufs.size();
  int64_t bound = live_bytes_lower_bound(bufs, align);
  std::vector<size_t> base(n);
  std::iota(base.begin(), base.end(), 0);
  std::vector<int64_t> degree(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j && overlap_time(bufs[i], bufs[j])) degree[i] += padded(bufs[j], align);

  using Key = std::function<bool(size_t, size_t)>;
  std::vector<std::pair<std::string, Key>> keys = {
      {"size", [&](size_t a, size_t b) { return bufs[a].size > bufs[b].size; }},
      {"lifetime", [&](size_t a, size_t b) { return bufs[a].last - bufs[a].first > bufs[b].last - bufs[b].first; }},
      {"area", [&](size_t a, size_t b) {
         return bufs[a].size * (bufs[a].last - bufs[a].first + 1) > bufs[b].size * (bufs[b].last - bufs[b].first + 1);
       }},
      {"start", [&](size_t a, size_t b) { return bufs[a].first < bufs[b].first; }},
      {"conflict", [&](size_t a, size_t b) { return degree[a] + bufs[a].size > degree[b] + bufs[b].size; }},
  };
  Placement best;
  std::vector<size_t> best_order;
  best.total = INT64_MAX;
  for (auto &[name, key] : keys)
    for (bool ff : {false, true}) {
      std::vector<size_t> order = base;
      std::stable_sort(order.begin(), order.end(), key);
      Placement p = plan_best_fit(bufs, align, order, ff);
      if (p.total < best.total) {
        best = p;
        best.algorithm = std::string(ff ? "first-fit" : "best-fit") + "/" + name;
        best_order = order;
      }
    }
  // Local search: deterministic pseudo-random pair swaps in the best order.
  uint64_t state = 0x9E3779B97F4A7C15ull ^ n;
  auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  bool ff = best.algorithm.rfind("first-fit", 0) == 0;
  for (int it = 0; it < iterations && n > 1 && best.total > bound; ++it) {
    std::vector<size_t> order = best_order;
    size_t a = (size_t)(next() % n), b = (size_t)(next() % n);
    if (a == b) continue;
    std::swap(order[a], order[b]);
    Placement p = plan_best_fit(bufs, align, order, ff);
    if (p.total < best.total) {
      std::string alg = best.algorithm;
      best = p;
      best.algorithm = alg.find("+search") == std::string::npos ? alg + "+search" : alg;
      best_order = order;
    } else if (p.total == best.total) {
      best_order = order; // drift on plateaus
    }
  }
  if (n == 0) {
    best.total = 0;
    best.algorithm = "empty";
  }
  return best;
}

Placement plan_naive(const std::vector<Buffer> &bufs, int64_t align) {
  Placement p;
  p.algorithm = "naive";
  for (auto &b : bufs) {
    p.offsets.push_back(p.total);
    p.total += padded(b, align);
  }
  return p;
}

bool placement_is_valid(const std::vector<Buffer> &bufs, const Placement &p, int64_t align) {
  if (p.offsets.size() != bufs.size()) return false;
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (p.offsets[i] < 0 || p.offsets[i] % align != 0 || p.offsets[i] + bufs[i].size > p.total) return false;
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      if (!overlap_time(bufs[i], bufs[j]) || bufs[i].size == 0 || bufs[j].size == 0) continue;
      int64_t a0 = p.offsets[i], a1 = a0 + bufs[i].size;
      int64_t b0 = p.offsets[j], b1 = b0 + bufs[j].size;
      if (a0 < b1 && b0 < a1) return false;
    }
  }
  return true;
}

} // namespace tmc::passes::memory
