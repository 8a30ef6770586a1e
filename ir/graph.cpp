#include "ir/graph.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>

namespace tmc::ir {

int64_t shape_numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape &s) {
  if (s.empty()) return "scalar";
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += "x";
    r += s[i] < 0 ? std::string("?") : std::to_string(s[i]);
  }
  return r;
}

// ---------------------------------------------------------------- Value
template <typename T> static T read_as(const Value &v, int64_t i) {
  T x;
  std::memcpy(&x, v.data->data() + i * sizeof(T), sizeof(T));
  return x;
}

int64_t Value::int_at(int64_t i) const {
  if (!data) throw CompileError("value '" + name + "' is not constant");
  switch (dtype) {
  case DType::I8: return read_as<int8_t>(*this, i);
  case DType::I16: return read_as<int16_t>(*this, i);
  case DType::I32: return read_as<int32_t>(*this, i);
  case DType::I64: return read_as<int64_t>(*this, i);
  case DType::U8: case DType::Bool: return read_as<uint8_t>(*this, i);
  case DType::U16: return read_as<uint16_t>(*this, i);
  case DType::U32: return read_as<uint32_t>(*this, i);
  case DType::U64: return (int64_t)read_as<uint64_t>(*this, i);
  case DType::F32: return (int64_t)read_as<float>(*this, i);
  case DType::F64: return (int64_t)read_as<double>(*this, i);
  default: throw CompileError("value '" + name + "': cannot read " +
                              dtype_name(dtype) + " as integer");
  }
}

double Value::float_at(int64_t i) const {
  switch (dtype) {
  case DType::F32: return read_as<float>(*this, i);
  case DType::F64: return read_as<double>(*this, i);
  case DType::U64: return (double)read_as<uint64_t>(*this, i);
  default: return (double)int_at(i);
  }
}

std::vector<int64_t> Value::int_values() const {
  std::vector<int64_t> r((size_t)numel());
  for (int64_t i = 0; i < numel(); ++i) r[(size_t)i] = int_at(i);
  return r;
}

std::vector<double> Value::float_values() const {
  std::vector<double> r((size_t)numel());
  for (int64_t i = 0; i < numel(); ++i) r[(size_t)i] = float_at(i);
  return r;
}

// ---------------------------------------------------------------- Node
std::string Node::label() const {
  return fmt::format("{}{}{} node '{}'", domain.empty() ? "" : domain,
                     domain.empty() ? "" : "::", op, name);
}

CompileError::CompileError(const Node &n, const std::string &msg)
    : std::runtime_error(fmt::format("{} (opset {}): {}", n.label(), n.opset, msg)) {}

template <typename T> static const T *get_attr(const Node &n, const std::string &k) {
  auto it = n.attrs.find(k);
  if (it == n.attrs.end()) return nullptr;
  const T *p = std::get_if<T>(&it->second);
  if (!p) throw CompileError(n, "attribute '" + k + "' has an unexpected type");
  return p;
}

int64_t Node::attr_int(const std::string &k, int64_t dflt) const {
  auto p = get_attr<int64_t>(*this, k);
  return p ? *p : dflt;
}
int64_t Node::attr_int(const std::string &k) const {
  auto p = get_attr<int64_t>(*this, k);
  if (!p) throw CompileError(*this, "required attribute '" + k + "' is missing");
  return *p;
}
float Node::attr_float(const std::string &k, float dflt) const {
  auto it = attrs.find(k);
  if (it == attrs.end()) return dflt;
  if (auto i = std::get_if<int64_t>(&it->second)) return (float)*i;
  auto p = get_attr<float>(*this, k);
  return *p;
}
std::string Node::attr_string(const std::string &k, const std::string &dflt) const {
  auto p = get_attr<std::string>(*this, k);
  return p ? *p : dflt;
}
std::vector<int64_t> Node::attr_ints(const std::string &k,
                                     const std::vector<int64_t> &dflt) const {
  auto p = get_attr<std::vector<int64_t>>(*this, k);
  return p ? *p : dflt;
}
std::vector<float> Node::attr_floats(const std::string &k,
                                     const std::vector<float> &dflt) const {
  auto p = get_attr<std::vector<float>>(*this, k);
  return p ? *p : dflt;
}
const TensorAttr *Node::attr_tensor(const std::string &k) const {
  return get_attr<TensorAttr>(*this, k);
}

// ---------------------------------------------------------------- Graph
Value *Graph::add_value(const std::string &name, DType dt, const Shape &shape) {
  std::string nm = name.empty() ? unique_name("t") : name;
  if (by_name_.count(nm)) nm = unique_name(nm);
  auto v = std::make_unique<Value>();
  v->name = nm;
  v->dtype = dt;
  v->shape = shape;
  v->shape_known = std::all_of(shape.begin(), shape.end(), [](int64_t d) { return d >= 0; });
  Value *p = v.get();
  by_name_[nm] = p;
  values_.push_back(std::move(v));
  return p;
}

Value *Graph::add_constant(const std::string &name, DType dt, const Shape &shape,
                           BytesPtr data) {
  Value *v = add_value(name, dt, shape);
  if (!data || (int64_t)data->size() != v->nbytes())
    throw CompileError(fmt::format("constant '{}' has {} bytes, expected {} for {} {}",
                                   v->name, data ? data->size() : 0, v->nbytes(),
                                   dtype_name(dt), shape_str(shape)));
  v->data = std::move(data);
  return v;
}

Value *Graph::find_value(const std::string &name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::string Graph::unique_name(const std::string &base) {
  std::string b = base.empty() ? "t" : base;
  auto used = [&](const std::string &s) {
    if (by_name_.count(s)) return true;
    for (auto &n : nodes_)
      if (n->name == s) return true;
    return false;
  };
  if (!used(b)) return b;
  int &c = name_counters_[b];
  std::string cand;
  do {
    cand = b + "_" + std::to_string(++c);
  } while (used(cand));
  return cand;
}

Node *Graph::add_node(const std::string &op, std::vector<Value *> ins,
                      std::vector<Value *> outs, const std::string &name) {
  return insert_node(nullptr, op, std::move(ins), std::move(outs), name);
}

Node *Graph::insert_node(Node *before, const std::string &op, std::vector<Value *> ins,
                         std::vector<Value *> outs, const std::string &name) {
  auto n = std::make_unique<Node>();
  n->op = op;
  n->inputs = std::move(ins);
  n->outputs = std::move(outs);
  n->opset = opsets.count("") ? opsets.at("") : 0;
  n->name = unique_name(name.empty() ? op : name);
  for (Value *o : n->outputs)
    if (o) o->producer = n.get();
  Node *p = n.get();
  if (!before) {
    nodes_.push_back(std::move(n));
  } else {
    nodes_.insert(nodes_.begin() + (std::ptrdiff_t)index_of(before), std::move(n));
  }
  return p;
}

size_t Graph::index_of(const Node *n) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].get() == n) return i;
  throw CompileError("internal: node is not in the graph");
}

void Graph::remove_node(Node *n) {
  size_t i = index_of(n);
  for (Value *o : n->outputs)
    if (o && o->producer == n) o->producer = nullptr;
  nodes_.erase(nodes_.begin() + (std::ptrdiff_t)i);
}

void Graph::reorder(const std::vector<Node *> &order) {
  if (order.size() != nodes_.size())
    throw CompileError("internal: reorder needs a permutation of all nodes");
  std::map<const Node *, std::unique_ptr<Node>> owned;
  for (auto &n : nodes_) owned[n.get()] = std::move(n);
  nodes_.clear();
  for (Node *n : order) {
    auto it = owned.find(n);
    if (it == owned.end() || !it->second)
      throw CompileError("internal: reorder is not a permutation");
    nodes_.push_back(std::move(it->second));
  }
}

void Graph::replace_all_uses(Value *from, Value *to) {
  for (auto &n : nodes_)
    for (auto &in : n->inputs)
      if (in == from) in = to;
  for (auto &o : outputs)
    if (o == from) o = to;
}

std::vector<Node *> Graph::users(const Value *v) const {
  std::vector<Node *> r;
  for (auto &n : nodes_)
    for (Value *in : n->inputs)
      if (in == v) {
        r.push_back(n.get());
        break;
      }
  return r;
}

bool Graph::is_graph_output(const Value *v) const {
  return std::find(outputs.begin(), outputs.end(), v) != outputs.end();
}
bool Graph::is_graph_input(const Value *v) const {
  return std::find(inputs.begin(), inputs.end(), v) != inputs.end();
}

void Graph::remove_unused_values() {
  std::set<const Value *> live(inputs.begin(), inputs.end());
  live.insert(outputs.begin(), outputs.end());
  for (auto &n : nodes_) {
    live.insert(n->inputs.begin(), n->inputs.end());
    live.insert(n->outputs.begin(), n->outputs.end());
  }
  for (auto &v : values_)
    if (v->alias_of) live.insert(v->alias_of);
  std::vector<std::unique_ptr<Value>> kept;
  for (auto &v : values_) {
    if (live.count(v.get())) {
      kept.push_back(std::move(v));
    } else {
      by_name_.erase(v->name);
    }
  }
  values_ = std::move(kept);
}

void Graph::rebuild_producers() {
  for (auto &v : values_) v->producer = nullptr;
  for (auto &n : nodes_)
    for (Value *o : n->outputs)
      if (o) o->producer = n.get();
}

} // namespace tmc::ir
