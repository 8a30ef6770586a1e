// `tmc verify --per-layer`: compares every intermediate tensor the generated C
// writes (traced through NAME_TRACE_TENSOR, see docs/generated-code.md) with
// a reference — ONNX Runtime run on a copy of the model whose traced tensors
// are made graph outputs, or the arrays of a .npz file keyed by ONNX tensor
// name — in schedule order, and names the first node whose output diverges.
#pragma once
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "compiler/tensor_io.h"
#include "ir/graph.h"

namespace tmc::driver {

/// Element i of a numeric tensor as double (float16/bfloat16 decoded).
double tensor_element(const Tensor &t, int64_t i);
/// "[0,3,1]": the multi-index of flat element `flat`.
std::string index_str(const ir::Shape &shape, int64_t flat);
/// A file's element type stores the model's: equal, or 16-bit storage types
/// for each other (ONNX's test data keeps bfloat16 as UINT16).
bool same_storage(ir::DType file, ir::DType model);

/// Element-wise comparison of two tensors of the same type and size: floats
/// within atol + rtol*|want| (NaN matches NaN), integers within `lsb`
/// (0: bit-exact), bool exactly.
struct CompareStats {
  int64_t bad = 0;      ///< elements outside the tolerance
  int64_t worst = -1;   ///< index of the worst element (-1: empty)
  double worst_abs = 0, worst_got = 0, worst_want = 0;
  double max_abs = 0;   ///< largest |got - want| (integers: in LSB)
};
CompareStats compare_tensors(const Tensor &got, const Tensor &want, double rtol, double atol, int64_t lsb = 0);

/// One tensor as the generated code wrote it.
struct TraceRecord {
  std::string name;
  int32_t onnx_dtype = 0;
  std::string data;
};

/// Reads the trace file the host harness writes (see
/// codegen::generate_host_harness). Throws ir::CompileError when malformed.
std::vector<TraceRecord> read_host_trace(const std::string &path);

/// The C source of the trace hook for the bare-metal harness: prints each
/// tensor over semihosting between TMC-TRACE-BEGIN / TMC-TRACE-END lines.
std::string target_trace_hook_source(const std::string &name);

/// Extracts the tensors printed by target_trace_hook_source from the
/// firmware's console text. Throws ir::CompileError when malformed.
std::vector<TraceRecord> parse_target_trace(const std::string &console);

/// A traced tensor of the compiled graph, in schedule order.
struct TracedTensor {
  const ir::Node *node = nullptr;
  const ir::Value *value = nullptr;
  bool view = false; ///< the node is an elided view (no code runs)
};

/// Every tensor the generated code traces, in the order it traces them
/// (schedule order; a node's outputs in output order).
std::vector<TracedTensor> traced_tensors(const ir::Graph &g);

/// The ONNX tensor name a traced value is compared with, and whether its
/// data is that tensor in channels-last order (a value "X_nhwc" or
/// "X_nhwc_N" created by the layout pass stands for ONNX tensor X).
struct ReferenceKey {
  std::string name;
  bool nhwc = false;
};
std::vector<ReferenceKey> reference_candidates(const ir::Value &v);

using ReferenceSet = std::map<std::string, Tensor>;

/// References from ONNX Runtime: writes into `work_dir` a copy of the model
/// (external data inlined) whose every node output named in `wanted` becomes
/// a graph output (`wanted`: name and ONNX element type, used when shape
/// inference gives none), runs `node scripts/ort_run.js` on it with the given inputs
/// and loads the results by name. Returns "" on success or an error message.
/// The script is $TMC_ORT_RUN, else the source tree's scripts/ort_run.js.
std::string ort_references(const std::string &model_path, const std::vector<std::pair<std::string, int>> &wanted,
                           const std::vector<std::string> &input_names, const std::vector<Tensor> &inputs,
                           const std::string &work_dir, int timeout_s, ReferenceSet *refs, std::string *log);

struct PerLayerOptions {
  double rtol = 1e-4, atol = 1e-5;
  int64_t lsb_tolerance = 0; ///< integer tensors: allowed |got - ref|
  bool quiet = false;
  std::string reference_label; ///< "ONNX Runtime" or the .npz path
};

/// Compares the trace with the references and prints the table and the
/// first divergence to `os`. Returns true when no compared tensor diverges.
bool compare_per_layer(const ir::Graph &g, const std::vector<TraceRecord> &trace, const ReferenceSet &refs,
                       const PerLayerOptions &o, std::ostream &os);

} // namespace tmc::driver
