// Memory planning: candidate operator schedules. For branching graphs
// (residual blocks, fire modules, inception-style concats) the order in which
// independent branches run changes peak memory; these functions propose
// topological orders, and the planner keeps the one with the smallest arena.
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes::memory {

struct Schedule {
  std::string name;
  std::vector<ir::Node *> order;
};

/// The current order, a memory-greedy list schedule, and depth-first orders
/// that finish one branch before starting the next. Duplicates are removed.
std::vector<Schedule> candidate_schedules(const ir::Graph &g);

/// True if `order` is a permutation of g's nodes in which every node comes
/// after the producers of its inputs.
bool is_topological(const ir::Graph &g, const std::vector<ir::Node *> &order);

} // namespace tmc::passes::memory
