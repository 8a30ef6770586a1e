#include "passes/memory/liveness.h"

#include <algorithm>
#include <map>
#include <functional>
#include <numeric>

namespace tmc::passes::memory {

static int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

std::vector<Buffer> analyze_liveness(const ir::Graph &g, const LivenessOptions &opts) {
  const int nsteps = (int)g.nodes().size();
  auto in_arena = [&](const ir::Value *v) {
    if (!v || v->is_constant()) return false;
    if (!opts.io_in_arena && (g.is_graph_input(v) || g.is_graph_output(v))) return false;
    return true;
  };

  // First definition and last use of every arena value.
  std::map<const ir::Value *, int> def, last;
  for (ir::Value *v : g.inputs)
    if (in_arena(v)) def[v] = last[v] = 0;
  for (int s = 0; s < nsteps; ++s) {
    const ir::Node *n = g.nodes()[(size_t)s].get();
    for (ir::Value *in : n->inputs)
      if (in && def.count(in)) last[in] = std::max(last[in], s);
    for (ir::Value *o : n->outputs)
      if (in_arena(o) && !def.count(o)) def[o] = last[o] = s;
  }
  if (opts.io_in_arena)
    for (ir::Value *v : g.outputs)
      if (def.count(v)) last[v] = std::max(nsteps - 1, 0);

  // Groups of values sharing storage (union-find over values).
  std::map<const ir::Value *, const ir::Value *> parent;
  std::function<const ir::Value *(const ir::Value *)> find = [&](const ir::Value *v) {
    auto it = parent.find(v);
    if (it == parent.end() || it->second == v) return v;
    const ir::Value *r = find(it->second);
    parent[v] = r;
    return r;
  };
  std::map<const ir::Value *, int> group_last; // root -> last use of any member
  std::map<const ir::Value *, int64_t> group_bytes;
  for (auto &[v, d] : def) {
    parent[v] = v;
    group_last[v] = last[v];
    group_bytes[v] = v->nbytes();
  }
  auto join = [&](const ir::Value *member, const ir::Value *root) {
    const ir::Value *r = find(root);
    parent[member] = r;
    group_last[r] = std::max(group_last[r], last[member]);
    group_bytes[r] = std::max(group_bytes[r], member->nbytes());
  };
  for (int s = 0; s < nsteps; ++s) {
    const ir::Node *n = g.nodes()[(size_t)s].get();
    ir::Value *out = n->output(0);
    if (!out || !def.count(out) || def[out] != s) continue;
    ir::Value *in0 = n->input(0);
    if (opts.share_views && n->output_is_view && in0 && def.count(in0) && in0->nbytes() == out->nbytes()) {
      join(out, in0);
      continue;
    }
    if (!opts.share_inplace) continue;
    for (int i : n->inplace_inputs) {
      ir::Value *in = n->input((size_t)i);
      if (!in || !def.count(in) || in->nbytes() < out->nbytes()) continue;
      if (ir::dtype_size(in->dtype) != ir::dtype_size(out->dtype)) continue;
      const ir::Value *r = find(in);
      if (group_last[r] != s) continue; // some member is still read later
      // The input must not also be read through another operand slot as a
      // different group member (Add(x, reshape(x))): all readers end here.
      join(out, in);
      break;
    }
  }

  std::map<const ir::Value *, size_t> index; // root -> buffer
  std::vector<Buffer> bufs;
  std::vector<const ir::Value *> order;
  for (ir::Value *v : g.inputs)
    if (def.count(v)) order.push_back(v);
  for (int s = 0; s < nsteps; ++s)
    for (ir::Value *o : g.nodes()[(size_t)s]->outputs)
      if (o && def.count(o) && def[o] == s && std::find(order.begin(), order.end(), o) == order.end())
        order.push_back(o);
  for (const ir::Value *v : order) {
    const ir::Value *r = find(v);
    auto it = index.find(r);
    if (it == index.end()) {
      Buffer b;
      b.name = r->name;
      b.size = group_bytes[r];
      b.first = def[r];
      b.last = group_last[r];
      b.value = const_cast<ir::Value *>(r);
      index[r] = bufs.size();
      bufs.push_back(b);
      it = index.find(r);
    }
    Buffer &b = bufs[it->second];
    b.first = std::min(b.first, def[v]);
    b.values.push_back(const_cast<ir::Value *>(v));
  }
  for (int s = 0; s < nsteps; ++s) {
    ir::Node *n = g.nodes()[(size_t)s].get();
    if (n->scratch_bytes > 0) {
      Buffer b;
      b.name = n->name + ".scratch";
      b.size = n->scratch_bytes;
      b.first = b.last = s;
      b.scratch_of = n;
      bufs.push_back(b);
    }
  }
  return bufs;
}

int64_t live_bytes_lower_bound(const std::vector<Buffer> &bufs, int64_t align) {
  int maxstep = 0;
  for (auto &b : bufs) maxstep = std::max(maxstep, b.last);
  std::vector<int64_t> live((size_t)maxstep + 2, 0);
  for (auto &b : bufs)
    for (int s = b.first; s <= b.last; ++s) live[(size_t)s] += align_up(std::max<int64_t>(b.size, 1), align);
  return live.empty() ? 0 : *std::max_element(live.begin(), live.end());
}

} // namespace tmc::passes::memory
