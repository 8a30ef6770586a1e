// Small helpers shared by the fusion and simplification passes
// (fold_batchnorm, fold_conv_scale, fuse_activation, fold_pad,
// matmul_add_to_gemm, simplify_transpose_reshape).
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tmc::passes::rw {

/// True for a node of the default ai.onnx domain with op type `op`.
bool is_op(const ir::Node *n, const char *op);

/// Number of node input slots that read `v` (Add(x, x) counts twice).
int use_count(const ir::Graph &g, const ir::Value *v);

/// True if `v` is an intermediate read exactly once (by one input slot of one
/// node) and is neither a graph input, a graph output nor a constant: the
/// node producing it can be merged into that single user.
bool single_use(const ir::Graph &g, const ir::Value *v);

/// The single node reading `v` when single_use(g, v), else nullptr.
ir::Node *single_user(const ir::Graph &g, const ir::Value *v);

/// The numpy-style broadcast shape of input `i` of a binary elementwise node,
/// resolving the legacy (opset < 7) `broadcast`/`axis` attributes.
ir::Shape operand_shape(const ir::Node &n, size_t i);

/// True if `v` is a float32 constant.
bool is_f32_constant(const ir::Value *v);

/// The elements of a float32 constant, widened to double.
std::vector<double> f32_values(const ir::Value *v);

/// A new float32 constant named after `base`, from double values (rounded).
ir::Value *add_f32_constant(ir::Graph &g, const std::string &base, const ir::Shape &shape,
                            const std::vector<double> &vals);

/// True if node `n` carries no fused activation yet.
bool has_no_activation(const ir::Node *n);

/// `n` (a node about to be removed) reads `from` and writes `to`; make
/// `producer` (the node that computes `from`) write `to` directly instead and
/// remove `n`. Requires single_use(g, from) with `n` as the user.
void absorb_consumer(ir::Graph &g, ir::Node *producer, ir::Value *from, ir::Node *n, ir::Value *to);

/// Removes `n`, whose output 0 holds exactly the bytes of its input 0 (same
/// dtype and element count). Uses of the output read the input instead; if
/// the output is a graph output, the input's producer writes it directly when
/// possible. Returns false (and leaves the graph unchanged) when the output
/// is a graph output that must still be copied.
bool bypass_node(ir::Graph &g, ir::Node *n);

/// Per-output-channel affine rewrite of a Conv, ConvTranspose or Gemm:
/// after `apply_channel_affine`, the node computes scale[c] * y + shift[c]
/// where y is its old output and c its output channel (dim 1 of the output).
/// `can_apply_channel_affine` checks the preconditions (float32, constant
/// weights and bias, supported layout, no fused activation).
bool can_apply_channel_affine(const ir::Node *n);
/// The number of output channels of a node accepted by can_apply_channel_affine.
int64_t output_channels(const ir::Node *n);
/// Rewrites the node's weights and bias (creating the bias if needed). New
/// constants are created; existing constants are never modified.
void apply_channel_affine(ir::Graph &g, ir::Node *n, const std::vector<double> &scale,
                          const std::vector<double> &shift);

} // namespace tmc::passes::rw
