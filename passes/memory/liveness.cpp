#include "passes/memory/liveness.h"

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <set>

namespace tmc::passes::memory {

static int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

namespace {

/// Storage groups: every arena value belongs to one group and sits at a byte
/// offset inside it. Groups are merged as views, in-place reuse and concat
/// slots are discovered, in schedule order.
struct Groups {
  std::map<const ir::Value *, const ir::Value *> root; // value -> group root
  std::map<const ir::Value *, int64_t> offset;         // value -> byte offset in group
  std::map<const ir::Value *, std::vector<const ir::Value *>> members;
  std::map<const ir::Value *, int> last;               // root -> last step any member is read
  std::map<const ir::Value *, int64_t> lo, hi;         // root -> byte extent of members

  void add(const ir::Value *v, int last_use) {
    root[v] = v;
    offset[v] = 0;
    members[v] = {v};
    last[v] = last_use;
    lo[v] = 0;
    hi[v] = v->nbytes();
  }
  const ir::Value *find(const ir::Value *v) const { return root.at(v); }
  /// Moves every member of v's group into `into`'s group so that v lands at
  /// byte `at` of `into`'s group.
  void merge(const ir::Value *v, const ir::Value *into, int64_t at) {
    const ir::Value *a = find(v), *b = find(into);
    if (a == b) return;
    int64_t shift = at - offset[v];
    for (const ir::Value *m : members[a]) {
      root[m] = b;
      offset[m] += shift;
      members[b].push_back(m);
    }
    last[b] = std::max(last[b], last[a]);
    lo[b] = std::min(lo[b], lo[a] + shift);
    hi[b] = std::max(hi[b], hi[a] + shift);
    members.erase(a);
    last.erase(a);
    lo.erase(a);
    hi.erase(a);
  }
};

} // namespace

std::vector<Buffer> analyze_liveness(const ir::Graph &g, const LivenessOptions &opts) {
  const int nsteps = (int)g.nodes().size();
  auto in_arena = [&](const ir::Value *v) {
    if (!v || v->is_constant()) return false;
    if (!opts.io_in_arena && (g.is_graph_input(v) || g.is_graph_output(v))) return false;
    return true;
  };

  // First definition and last use of every arena value.
  std::map<const ir::Value *, int> def, last;
  std::vector<const ir::Value *> order; // definition order
  for (ir::Value *v : g.inputs)
    if (in_arena(v)) {
      def[v] = last[v] = 0;
      order.push_back(v);
    }
  for (int s = 0; s < nsteps; ++s) {
    const ir::Node *n = g.nodes()[(size_t)s].get();
    for (ir::Value *in : n->inputs)
      if (in && def.count(in)) last[in] = std::max(last[in], s);
    for (ir::Value *o : n->outputs)
      if (in_arena(o) && !def.count(o)) {
        def[o] = last[o] = s;
        order.push_back(o);
      }
  }
  if (opts.io_in_arena)
    for (ir::Value *v : g.outputs)
      if (def.count(v)) last[v] = std::max(nsteps - 1, 0);

  Groups G;
  for (const ir::Value *v : order) G.add(v, last[v]);

  for (int s = 0; s < nsteps; ++s) {
    const ir::Node *n = g.nodes()[(size_t)s].get();
    ir::Value *in0 = n->input(0);

    // Views: outputs are byte ranges of input 0.
    if (opts.share_views && !n->output_view_offsets.empty() && in0 && def.count(in0)) {
      for (size_t k = 0; k < n->outputs.size() && k < n->output_view_offsets.size(); ++k) {
        ir::Value *o = n->outputs[k];
        if (!o || !def.count(o) || def[o] != s || G.members[G.find(o)].size() != 1) continue;
        int64_t at = G.offset[in0] + n->output_view_offsets[k];
        if (n->output_view_offsets[k] < 0 || n->output_view_offsets[k] + o->nbytes() > in0->nbytes()) continue;
        G.merge(o, in0, at);
      }
      continue;
    }

    // Concat: inputs produced directly into their slot of the output.
    ir::Value *out = n->output(0);
    if (opts.share_views && !n->input_slot_offsets.empty() && out && def.count(out) && def[out] == s &&
        n->input_slot_offsets.size() == n->inputs.size()) {
      bool ok = true;
      std::set<const ir::Value *> roots;
      for (size_t i = 0; i < n->inputs.size() && ok; ++i) {
        ir::Value *in = n->inputs[i];
        if (!in || !def.count(in)) { ok = false; break; }
        const ir::Value *r = G.find(in);
        if (!roots.insert(r).second || r == G.find(out)) { ok = false; break; }
        // Every member of the input's group must lie inside the input's bytes.
        int64_t o = G.offset[in];
        if (G.lo[r] < o || G.hi[r] > o + in->nbytes()) ok = false;
      }
      if (ok) {
        for (size_t i = 0; i < n->inputs.size(); ++i)
          G.merge(n->inputs[i], out, G.offset[out] + n->input_slot_offsets[i]);
        continue;
      }
    }

    // In place: an elementwise output reuses an input whose group dies here.
    if (!opts.share_inplace || !out || !def.count(out) || def[out] != s || G.members[G.find(out)].size() != 1)
      continue;
    for (int i : n->inplace_inputs) {
      ir::Value *in = n->input((size_t)i);
      if (!in || !def.count(in) || in->nbytes() < out->nbytes()) continue;
      if (ir::dtype_size(in->dtype) != ir::dtype_size(out->dtype)) continue;
      const ir::Value *r = G.find(in);
      if (G.last[r] != s) continue; // some member is still read later
      G.merge(out, in, G.offset[in]);
      break;
    }
  }

  // One buffer per group, in order of first definition.
  std::map<const ir::Value *, size_t> index;
  std::vector<Buffer> bufs;
  for (const ir::Value *v : order) {
    const ir::Value *r = G.find(v);
    if (index.count(r)) continue;
    Buffer b;
    b.name = r->name;
    b.size = G.hi[r] - G.lo[r];
    b.first = nsteps;
    b.last = G.last[r];
    b.value = const_cast<ir::Value *>(r);
    for (const ir::Value *m : G.members[r]) {
      b.first = std::min(b.first, def[m]);
      b.values.push_back(const_cast<ir::Value *>(m));
      b.member_offsets.push_back(G.offset[m] - G.lo[r]);
    }
    // Deterministic member order: by definition step, then name.
    std::vector<size_t> idx(b.values.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) {
      if (def[b.values[x]] != def[b.values[y]]) return def[b.values[x]] < def[b.values[y]];
      return b.values[x]->name < b.values[y]->name;
    });
    std::vector<ir::Value *> vs;
    std::vector<int64_t> os;
    for (size_t k : idx) {
      vs.push_back(b.values[k]);
      os.push_back(b.member_offsets[k]);
    }
    b.values = vs;
    b.member_offsets = os;
    b.name = b.values.front()->name;
    index[r] = bufs.size();
    bufs.push_back(b);
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
