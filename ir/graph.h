// The tmc graph IR: typed values, nodes with typed attributes, and a graph
// whose node list is kept in a valid topological order (the schedule).
//
// The IR depends on no compiler stage. Frontends build it, passes rewrite it,
// codegen reads it.
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "ir/dtype.h"

namespace tmc::ir {

class Node;
class Graph;

using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape &s);
std::string shape_str(const Shape &s); // "1x3x32x32", "scalar" for rank 0

/// Quantization parameters of a tensor: per-tensor when axis < 0 (one scale and
/// zero point), otherwise per-axis with one entry per slice along `axis`.
struct QuantParams {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  int axis = -1;
  bool per_tensor() const { return axis < 0; }
};

/// Immutable, shareable buffer of constant tensor bytes (little-endian,
/// row-major, dtype_size() bytes per element).
using Bytes = std::vector<uint8_t>;
using BytesPtr = std::shared_ptr<const Bytes>;

/// A tensor value: graph input, constant (weights), or a node result.
class Value {
public:
  std::string name;
  DType dtype = DType::Undefined;
  Shape shape;
  bool shape_known = false;        ///< false while a dimension is still symbolic
  std::optional<QuantParams> quant; ///< set for quantized tensors
  BytesPtr data;                    ///< non-null for constants

  // Set by the memory planner. -1: not in the arena (constant or caller I/O).
  int64_t arena_offset = -1;
  /// When set, this value shares storage with another value (an alias such as
  /// Reshape): its bytes start at `alias_offset` bytes into `alias_of`.
  Value *alias_of = nullptr;
  int64_t alias_offset = 0;

  Node *producer = nullptr; ///< maintained by Graph

  bool is_constant() const { return data != nullptr; }
  int64_t numel() const { return shape_numel(shape); }
  int64_t nbytes() const { return numel() * (int64_t)dtype_size(dtype); }
  size_t rank() const { return shape.size(); }

  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data->data());
  }
  /// Reads element i of a constant integer tensor (any integer/bool dtype) as int64.
  int64_t int_at(int64_t i) const;
  /// Reads element i of a constant numeric tensor as double.
  double float_at(int64_t i) const;
  /// All elements of a constant integer tensor as int64.
  std::vector<int64_t> int_values() const;
  std::vector<double> float_values() const;
};

/// A constant tensor stored inside an attribute (e.g. ConstantOfShape's value).
struct TensorAttr {
  DType dtype = DType::Undefined;
  Shape shape;
  BytesPtr data;
};

/// Attribute values. Graph-valued attributes (If/Loop bodies) are kept as
/// shared graphs so nodes stay copyable.
using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>,
                               TensorAttr, std::shared_ptr<Graph>>;

class Node {
public:
  std::string op;     ///< e.g. "Conv"
  std::string domain; ///< "" for ai.onnx; "tmc" for internal ops
  std::string name;   ///< unique within the graph
  std::vector<Value *> inputs;  ///< nullptr marks an omitted optional input
  std::vector<Value *> outputs; ///< nullptr marks an omitted optional output
  std::map<std::string, AttrValue> attrs;
  int opset = 0; ///< opset version of `domain` the node was written for

  // Storage facts the driver copies from the node's kernel; the memory
  // planner uses them.
  int64_t scratch_bytes = 0;  ///< arena scratch the kernel needs
  int64_t scratch_offset = -1; ///< planned offset of that scratch
  /// Output k is the byte range of input 0 that starts at
  /// output_view_offsets[k] (Reshape, Flatten, Squeeze, Unsqueeze, Identity:
  /// {0}; Slice/Split along the outermost non-unit axis: the slice starts).
  /// Empty: not a view. With shared storage the node runs no code.
  std::vector<int64_t> output_view_offsets;
  /// Concat along the outermost non-unit axis: input i may be produced
  /// directly at byte input_slot_offsets[i] of output 0. Empty: no.
  std::vector<int64_t> input_slot_offsets;
  /// Inputs whose storage output 0 may reuse when they die at this node
  /// (elementwise kernels that read element i before writing element i).
  std::vector<int> inplace_inputs;

  bool has_attr(const std::string &k) const { return attrs.count(k) != 0; }
  int64_t attr_int(const std::string &k, int64_t dflt) const;
  int64_t attr_int(const std::string &k) const; // throws if missing
  float attr_float(const std::string &k, float dflt) const;
  std::string attr_string(const std::string &k, const std::string &dflt) const;
  std::vector<int64_t> attr_ints(const std::string &k,
                                 const std::vector<int64_t> &dflt = {}) const;
  std::vector<float> attr_floats(const std::string &k,
                                 const std::vector<float> &dflt = {}) const;
  const TensorAttr *attr_tensor(const std::string &k) const;

  /// The i-th input if present (nullptr if omitted or out of range).
  Value *input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  Value *output(size_t i) const { return i < outputs.size() ? outputs[i] : nullptr; }
  /// "Conv 'conv1'" style label for diagnostics.
  std::string label() const;
};

/// An error in the model or in a compilation step, with its context. All
/// stages throw this; the driver turns it into a message and an exit code.
class CompileError : public std::runtime_error {
public:
  explicit CompileError(const std::string &msg) : std::runtime_error(msg) {}
  CompileError(const Node &n, const std::string &msg);
};

class Graph {
public:
  std::string name;
  std::map<std::string, int> opsets; ///< domain -> version ("" = ai.onnx)
  std::vector<Value *> inputs;       ///< graph inputs, in order
  std::vector<Value *> outputs;      ///< graph outputs, in order
  /// Set by the memory planner: bytes of the activation arena and its alignment.
  int64_t arena_bytes = 0;
  int64_t arena_alignment = 8;

  Graph() = default;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  // ---- values
  Value *add_value(const std::string &name, DType dt, const Shape &shape);
  Value *add_constant(const std::string &name, DType dt, const Shape &shape,
                      BytesPtr data);
  template <typename T>
  Value *add_constant_of(const std::string &name, DType dt, const Shape &shape,
                         const std::vector<T> &vals) {
    auto b = std::make_shared<Bytes>(vals.size() * sizeof(T));
    if (!vals.empty()) std::memcpy(b->data(), vals.data(), b->size());
    return add_constant(name, dt, shape, b);
  }
  Value *find_value(const std::string &name) const;
  /// A name not yet used by any value or node, derived from `base`.
  std::string unique_name(const std::string &base);
  const std::vector<std::unique_ptr<Value>> &values() const { return values_; }

  // ---- nodes (kept in schedule order)
  const std::vector<std::unique_ptr<Node>> &nodes() const { return nodes_; }
  size_t num_nodes() const { return nodes_.size(); }
  /// Appends a node at the end of the schedule.
  Node *add_node(const std::string &op, std::vector<Value *> inputs,
                 std::vector<Value *> outputs, const std::string &name = "");
  /// Inserts a node before `before` in the schedule (at the end if nullptr).
  Node *insert_node(Node *before, const std::string &op, std::vector<Value *> inputs,
                    std::vector<Value *> outputs, const std::string &name = "");
  void remove_node(Node *n);
  /// Replaces the schedule with `order` (a permutation of the current nodes).
  void reorder(const std::vector<Node *> &order);
  size_t index_of(const Node *n) const;

  // ---- rewriting helpers
  /// Makes every use of `from` (node inputs and graph outputs) refer to `to`.
  void replace_all_uses(Value *from, Value *to);
  /// Nodes that read `v`, in schedule order.
  std::vector<Node *> users(const Value *v) const;
  bool is_graph_output(const Value *v) const;
  bool is_graph_input(const Value *v) const;
  /// Removes values that are neither graph I/O nor referenced by a node.
  void remove_unused_values();
  /// Recomputes Value::producer for every value.
  void rebuild_producers();

private:
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Value *> by_name_;
  std::map<std::string, int> name_counters_;
};

/// Checks structural invariants: every input is defined before use, every
/// value has one producer, dtypes and static shapes are set, graph outputs are
/// defined. Throws CompileError describing the first violation.
void verify(const Graph &g, bool require_static_shapes = true);

/// Human-readable dump of the graph, one line per value and node.
std::string print(const Graph &g, bool show_constant_data = false);

} // namespace tmc::ir
