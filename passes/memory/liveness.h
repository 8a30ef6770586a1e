// Memory planning, part 1: liveness analysis. Turns the schedule into buffers
// (activations and kernel scratch) with their first and last step. Values
// that can share storage are grouped into one buffer:
//   - views: outputs of a node with Node::output_view_offsets (Reshape,
//     Flatten, Squeeze, Unsqueeze, Identity; Slice/Split on the outermost
//     axis) are byte ranges of its input's storage;
//   - concat slots: inputs of a Concat with Node::input_slot_offsets are
//     produced directly inside the output;
//   - in place: an elementwise node's output reuses an input listed in
//     Node::inplace_inputs when that input's whole group dies at the node.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes::memory {

struct Buffer {
  std::string name;
  int64_t size = 0;  ///< bytes, before alignment
  int first = 0;     ///< schedule step that writes it first
  int last = 0;      ///< schedule step that reads it last (inclusive)
  ir::Value *value = nullptr;       ///< representative activation (nullptr for scratch)
  ir::Node *scratch_of = nullptr;   ///< the node whose scratch this is
  std::vector<ir::Value *> values;  ///< every activation stored here (views, in-place)
  std::vector<int64_t> member_offsets; ///< byte offset of each of `values` in the buffer
};

struct LivenessOptions {
  bool io_in_arena = false; ///< place graph inputs and outputs in the arena too
  bool share_views = true;  ///< alias view outputs to their inputs
  bool share_inplace = true; ///< let elementwise outputs reuse dying inputs
};

/// Buffers that need arena space under the graph's current schedule.
std::vector<Buffer> analyze_liveness(const ir::Graph &g, const LivenessOptions &opts = {});

/// Peak of simultaneously live bytes (each rounded up to `align`): a lower bound
/// for any offset assignment under this schedule.
int64_t live_bytes_lower_bound(const std::vector<Buffer> &bufs, int64_t align);

} // namespace tmc::passes::memory
