#include "passes/memory/scheduling.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace tmc::passes::memory {

namespace {

struct Dag {
  std::vector<ir::Node *> nodes;                 // original order
  std::map<const ir::Node *, size_t> idx;
  std::vector<std::vector<size_t>> preds, succs;
};

Dag build(const ir::Graph &g) {
  Dag d;
  for (auto &n : g.nodes()) {
    d.idx[n.get()] = d.nodes.size();
    d.nodes.push_back(n.get());
  }
  d.preds.resize(d.nodes.size());
  d.succs.resize(d.nodes.size());
  for (size_t i = 0; i < d.nodes.size(); ++i)
    for (ir::Value *in : d.nodes[i]->inputs)
      if (in && in->producer && d.idx.count(in->producer)) {
        size_t p = d.idx[in->producer];
        if (std::find(d.preds[i].begin(), d.preds[i].end(), p) == d.preds[i].end()) {
          d.preds[i].push_back(p);
          d.succs[p].push_back(i);
        }
      }
  return d;
}

int64_t out_bytes(const ir::Node *n) {
  int64_t b = 0;
  for (ir::Value *o : n->outputs)
    if (o) b += o->nbytes();
  return b;
}

/// Greedy list scheduling: among ready nodes pick the one whose execution
/// grows live memory the least (outputs allocated minus inputs freed).
std::vector<ir::Node *> greedy_schedule(const ir::Graph &g, const Dag &d) {
  size_t n = d.nodes.size();
  std::map<const ir::Value *, int> remaining; // unscheduled readers per value
  for (auto *node : d.nodes)
    for (ir::Value *in : node->inputs)
      if (in) remaining[in]++;
  std::vector<int> missing(n);
  for (size_t i = 0; i < n; ++i) missing[i] = (int)d.preds[i].size();
  std::set<size_t> ready;
  for (size_t i = 0; i < n; ++i)
    if (!missing[i]) ready.insert(i);
  std::vector<ir::Node *> order;
  while (!ready.empty()) {
    size_t best = *ready.begin();
    int64_t best_delta = INT64_MAX;
    for (size_t i : ready) {
      int64_t delta = out_bytes(d.nodes[i]);
      std::set<const ir::Value *> seen;
      for (ir::Value *in : d.nodes[i]->inputs)
        if (in && !in->is_constant() && !g.is_graph_output(in) && seen.insert(in).second) {
          int uses = 0;
          for (ir::Value *x : d.nodes[i]->inputs) uses += x == in;
          if (remaining[in] == uses) delta -= in->nbytes();
        }
      if (delta < best_delta) {
        best_delta = delta;
        best = i;
      }
    }
    ready.erase(best);
    order.push_back(d.nodes[best]);
    for (ir::Value *in : d.nodes[best]->inputs)
      if (in) remaining[in]--;
    for (size_t s : d.succs[best])
      if (--missing[s] == 0) ready.insert(s);
  }
  return order;
}

/// Depth-first from the graph outputs: a node is emitted after all its
/// producers; producers are visited heaviest-subtree-first (or lightest) so
/// one branch completes before the next starts.
std::vector<ir::Node *> dfs_schedule(const ir::Graph &g, const Dag &d, bool heavy_first) {
  size_t n = d.nodes.size();
  std::vector<int64_t> weight(n, -1);
  std::function<int64_t(size_t)> w = [&](size_t i) -> int64_t {
    if (weight[i] >= 0) return weight[i];
    int64_t m = out_bytes(d.nodes[i]);
    for (size_t p : d.preds[i]) m = std::max(m, w(p));
    return weight[i] = m;
  };
  std::vector<char> done(n, 0);
  std::vector<ir::Node *> order;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (done[i]) return;
    done[i] = 1;
    std::vector<size_t> ps = d.preds[i];
    std::stable_sort(ps.begin(), ps.end(), [&](size_t a, size_t b) { return heavy_first ? w(a) > w(b) : w(a) < w(b); });
    for (size_t p : ps) visit(p);
    order.push_back(d.nodes[i]);
  };
  for (ir::Value *o : g.outputs)
    if (o->producer && d.idx.count(o->producer)) visit(d.idx.at(o->producer));
  for (size_t i = 0; i < n; ++i) visit(i); // nodes not reaching an output
  return order;
}

} // namespace

bool is_topological(const ir::Graph &g, const std::vector<ir::Node *> &order) {
  if (order.size() != g.nodes().size()) return false;
  std::set<const ir::Node *> seen;
  std::set<const ir::Node *> all;
  for (auto &n : g.nodes()) all.insert(n.get());
  for (ir::Node *n : order) {
    if (!all.count(n) || seen.count(n)) return false;
    for (ir::Value *in : n->inputs)
      if (in && in->producer && all.count(in->producer) && !seen.count(in->producer)) return false;
    seen.insert(n);
  }
  return true;
}

std::vector<Schedule> candidate_schedules(const ir::Graph &g) {
  Dag d = build(g);
  std::vector<Schedule> out;
  auto add = [&](const std::string &name, std::vector<ir::Node *> order) {
    if (!is_topological(g, order)) return;
    for (auto &s : out)
      if (s.order == order) return;
    out.push_back({name, std::move(order)});
  };
  add("onnx-order", d.nodes);
  add("memory-greedy", greedy_schedule(g, d));
  add("depth-first-heavy", dfs_schedule(g, d, true));
  add("depth-first-light", dfs_schedule(g, d, false));
  return out;
}

} // namespace tmc::passes::memory
