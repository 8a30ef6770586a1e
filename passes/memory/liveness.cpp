#include "passes/memory/liveness.h"

#include <algorithm>
#include <map>

namespace tmc::passes::memory {

static int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

std::vector<Buffer> analyze_liveness(const ir::Graph &g, const LivenessOptions &opts) {
  std::map<const ir::Value *, size_t> index;
  std::vector<Buffer> bufs;
  auto in_arena = [&](const ir::Value *v) {
    if (v->is_constant()) return false;
    if (!opts.io_in_arena && (g.is_graph_input(v) || g.is_graph_output(v))) return false;
    return true;
  };
  int nsteps = (int)g.nodes().size();
  if (opts.io_in_arena)
    for (ir::Value *v : g.inputs) {
      index[v] = bufs.size();
      bufs.push_back({v->name, v->nbytes(), 0, 0, v, nullptr});
    }
  for (int step = 0; step < nsteps; ++step) {
    ir::Node *n = g.nodes()[(size_t)step].get();
    for (ir::Value *in : n->inputs) {
      if (!in) continue;
      auto it = index.find(in);
      if (it != index.end()) bufs[it->second].last = std::max(bufs[it->second].last, step);
    }
    for (ir::Value *o : n->outputs) {
      if (!o || !in_arena(o) || index.count(o)) continue;
      index[o] = bufs.size();
      bufs.push_back({o->name, o->nbytes(), step, step, o, nullptr});
    }
    if (n->scratch_bytes > 0)
      bufs.push_back({n->name + ".scratch", n->scratch_bytes, step, step, nullptr, n});
  }
  if (opts.io_in_arena)
    for (ir::Value *v : g.outputs) {
      auto it = index.find(v);
      if (it != index.end()) bufs[it->second].last = std::max(nsteps - 1, 0);
    }
  return bufs;
}

int64_t live_bytes_lower_bound(const std::vector<Buffer> &bufs, int64_t align) {
  int maxstep = 0;
  for (auto &b : bufs) maxstep = std::max(maxstep, b.last);
  std::vector<int64_t> live((size_t)maxstep + 2, 0);
  for (auto &b : bufs)
    for (int s = b.first; s <= b.last; ++s) live[(size_t)s] += align_up(b.size, align);
  return live.empty() ? 0 : *std::max_element(live.begin(), live.end());
}

} // namespace tmc::passes::memory
