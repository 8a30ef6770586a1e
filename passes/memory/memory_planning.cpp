#include "passes/memory/memory_planning.h"

#include <fmt/format.h>

namespace tmc::passes::memory {

PlanReport plan_memory(ir::Graph &g, const PlanOptions &opts) {
  PlanReport r;
  const int64_t align = opts.alignment;

  // Baselines on the ONNX order without any sharing.
  LivenessOptions plain;
  plain.io_in_arena = opts.io_in_arena;
  plain.share_views = plain.share_inplace = false;
  std::vector<Buffer> plain_bufs = analyze_liveness(g, plain);
  r.naive_bytes = plan_naive(plain_bufs, align).total;
  Placement greedy = plan_greedy_by_size(plain_bufs, align);
  r.greedy_bytes = greedy.total;

  LivenessOptions lo;
  lo.io_in_arena = opts.io_in_arena;
  lo.share_views = lo.share_inplace = opts.share;

  std::vector<Schedule> schedules;
  if (opts.reorder) schedules = candidate_schedules(g);
  else schedules.push_back({"onnx-order", {}});
  std::vector<ir::Node *> original;
  for (auto &n : g.nodes()) original.push_back(n.get());

  // Start from the baseline so the result is never worse than it.
  Placement best = greedy;
  std::vector<Buffer> best_bufs = plain_bufs;
  std::vector<ir::Node *> best_order = original;
  r.schedule = "onnx-order";
  r.lower_bound = live_bytes_lower_bound(plain_bufs, align);
  r.best_lower_bound = r.lower_bound;
  for (auto &s : schedules) {
    if (!s.order.empty()) g.reorder(s.order);
    std::vector<Buffer> bufs = analyze_liveness(g, lo);
    int64_t bound = live_bytes_lower_bound(bufs, align);
    r.best_lower_bound = std::min(r.best_lower_bound, bound);
    Placement p = plan_search(bufs, align);
    ++r.schedules_tried;
    if (p.total < best.total) {
      best = p;
      best_bufs = bufs;
      best_order.clear();
      for (auto &n : g.nodes()) best_order.push_back(n.get());
      r.schedule = s.name;
      r.lower_bound = bound;
    }
  }
  g.reorder(best_order);
  if (!placement_is_valid(best_bufs, best, align))
    throw ir::CompileError(fmt::format("internal: memory plan '{}' is invalid", best.algorithm));

  r.arena_bytes = best.total;
  r.algorithm = best.algorithm;
  r.buffers = best_bufs;
  r.offsets = best.offsets;
  for (auto &v : g.values()) v->arena_offset = -1;
  for (auto &n : g.nodes()) n->scratch_offset = -1;
  for (size_t i = 0; i < best_bufs.size(); ++i) {
    for (size_t k = 0; k < best_bufs[i].values.size(); ++k)
      best_bufs[i].values[k]->arena_offset = best.offsets[i] + best_bufs[i].member_offsets[k];
    if (best_bufs[i].scratch_of) best_bufs[i].scratch_of->scratch_offset = best.offsets[i];
  }
  g.arena_bytes = best.total;
  g.arena_alignment = align;
  return r;
}

namespace {
class MemoryPlanning : public Pass {
public:
  MemoryPlanning(PlanOptions o, PlanReport *r) : opts_(o), report_(r) {}
  const char *name() const override { return "memory-planning"; }
  bool run(ir::Graph &g) override {
    PlanReport r = plan_memory(g, opts_);
    if (report_) *report_ = std::move(r);
    return true;
  }

private:
  PlanOptions opts_;
  PlanReport *report_;
};
} // namespace

std::unique_ptr<Pass> create_memory_planning_pass(const PlanOptions &opts, PlanReport *report) {
  return std::make_unique<MemoryPlanning>(opts, report);
}

} // namespace tmc::passes::memory
