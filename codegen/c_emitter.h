// Writes the generated C sources for a planned graph.
#pragma once
#include <string>
#include <vector>

#include "codegen/target_header.h"
#include "ir/graph.h"
#include "targets/target.h"

namespace tmc::codegen {

struct CodegenOptions {
  std::string name;          ///< C prefix as given (a valid C identifier)
  std::string target = "host";
  /// The target description (nullptr = host).
  const targets::TargetInfo *target_info = nullptr;
  /// Sections and profiling hooks of NAME_target.h.
  TargetHeaderOptions header;
  std::string source_model;  ///< for the comment at the top of each file
  /// Emit NAME_TRACE_TENSOR calls after every node output (tmc compile
  /// --trace, tmc verify --per-layer). Off: the output is unchanged.
  bool trace = false;
};

struct GeneratedFile {
  std::string filename;
  std::string content;
};

/// Emits NAME.h, NAME_target.h and NAME.c. The graph must be verified and memory-planned.
/// Throws ir::CompileError if a node has no kernel.
std::vector<GeneratedFile> generate_c(const ir::Graph &g, const CodegenOptions &opts);

/// A host harness (uses stdio; not part of the product) that reads each input
/// from a raw file, runs NAME_run and writes each output to a raw file:
///   harness in0.bin ... inN.bin -- out0.bin ... outM.bin
/// With opts.trace it also defines the trace hook (see trace_config_header)
/// and takes "--trace FILE" after the outputs: every traced tensor is
/// appended to FILE as records of
///   u32 name length, name bytes, i32 dtype (ONNX code), u64 byte count, data
/// in host byte order, in the order the model wrote them.
GeneratedFile generate_host_harness(const CodegenOptions &opts);

/// NAME_trace_hook.h: declares NAME_trace_tensor(name, dtype, data, bytes) and
/// defines NAME_TRACE_TENSOR to call it. A harness builds NAME.c with
/// -DNAME_CONFIG_HEADER='"NAME_trace_hook.h"' and defines the function.
GeneratedFile generate_trace_hook_header(const CodegenOptions &opts);

/// Makes a valid C identifier from a file stem ("mobilenet-v2" -> "mobilenet_v2").
std::string make_c_identifier(const std::string &stem);

} // namespace tmc::codegen
