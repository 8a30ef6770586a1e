#include "passes/memory/memory_planning.h"

#include <fmt/format.h>

namespace tmc::passes::memory {

PlanReport plan_memory(ir::Graph &g, const PlanOptions &opts) {
  PlanReport r;
  LivenessOptions lo;
  lo.io_in_arena = opts.io_in_arena;
  r.buffers = analyze_liveness(g, lo);
  Placement naive = plan_naive(r.buffers, opts.alignment);
  Placement greedy = plan_greedy_by_size(r.buffers, opts.alignment);
  r.naive_bytes = naive.total;
  r.greedy_bytes = greedy.total;
  r.lower_bound = live_bytes_lower_bound(r.buffers, opts.alignment);
  Placement best = greedy;
  if (naive.total < best.total) best = naive;
  if (!placement_is_valid(r.buffers, best))
    throw ir::CompileError(fmt::format("internal: memory plan '{}' is invalid", best.algorithm));
  r.arena_bytes = best.total;
  r.algorithm = best.algorithm;
  r.offsets = best.offsets;
  for (auto &v : g.values()) v->arena_offset = -1;
  for (auto &n : g.nodes()) n->scratch_offset = -1;
  for (size_t i = 0; i < r.buffers.size(); ++i) {
    if (r.buffers[i].value) r.buffers[i].value->arena_offset = best.offsets[i];
    if (r.buffers[i].scratch_of) r.buffers[i].scratch_of->scratch_offset = best.offsets[i];
  }
  g.arena_bytes = best.total;
  g.arena_alignment = opts.alignment;
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
