#include "compiler/inspect.h"

#include <fmt/format.h>

namespace tmc::driver {

int64_t node_macs(const ir::Node &n) {
  if (!n.output(0) || !n.output(0)->shape_known) return 0;
  const ir::Value *y = n.output(0);
  const bool qconv = n.op == "QLinearConv" || (n.op == "QLinearConvAdd" && n.domain == "tmc");
  if ((n.op == "Conv" || n.op == "ConvInteger" || qconv) && n.input(1)) {
    const ir::Value *w = qconv ? n.input(3) : n.input(1);
    if (!w || w->rank() < 2) return 0;
    int64_t per_out = 1;
    for (size_t i = 1; i < w->rank(); ++i) per_out *= w->shape[i];
    return y->numel() * per_out;
  }
  const bool qct = n.op == "QConvTranspose" && n.domain == "tmc";
  if ((n.op == "ConvTranspose" || qct) && n.input(0) && n.input(1)) {
    const ir::Value *x = n.input(0), *w = qct ? n.input(3) : n.input(1);
    if (!w) return 0;
    int64_t k = 1;
    for (size_t i = 1; i < w->rank(); ++i) k *= w->shape[i];
    return x->numel() * k;
  }
  if (n.op == "QGemm" && n.domain == "tmc" && n.input(0) && n.input(3) && n.input(3)->rank() == 2)
    return y->numel() * n.input(3)->shape[1]; // weights stored [N,K]
  if ((n.op == "Gemm" || n.op == "MatMul" || n.op == "MatMulInteger" || n.op == "QLinearMatMul") && n.input(0)) {
    const ir::Value *a = n.input(0);
    if (a->rank() == 0) return 0;
    int64_t k = n.op == "Gemm" && n.attr_int("transA", 0) ? a->shape[0] : a->shape.back();
    return y->numel() * k;
  }
  return 0;
}

std::string inspect(const CompileOptions &opts) {
  std::string out;
  CompileResult r = compile(opts);
  const ir::Graph &g = *r.graph;
  out += fmt::format("{:<4} {:<20} {:<28} {:<20} {:>12} {:>12} {:>10}\n", "#", "op", "name", "output shape", "MACs",
                     "param bytes", "scratch");
  int64_t tm = 0, tp = 0;
  int i = 0;
  for (auto &n : g.nodes()) {
    int64_t macs = node_macs(*n), params = 0;
    for (auto *v : n->inputs)
      if (v && v->is_constant()) params += v->nbytes();
    tm += macs;
    tp += params;
    std::string shape = n->output(0) ? ir::shape_str(n->output(0)->shape) : "-";
    std::string nm = n->name.size() > 28 ? n->name.substr(0, 25) + "..." : n->name;
    out += fmt::format("{:<4} {:<20} {:<28} {:<20} {:>12} {:>12} {:>10}\n", i++, n->op, nm, shape, macs, params,
                       n->scratch_bytes);
  }
  out += fmt::format("total: {} nodes, {} MACs, {} weight bytes (unique constants)\n", g.num_nodes(), tm,
                     r.weight_bytes);
  out += "memory: " + memory_summary(r) + "\n";
  return out;
}

} // namespace tmc::driver
