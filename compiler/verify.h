// `tmc verify`: compile, build with the host C compiler, run, compare.
#pragma once
#include <string>
#include <vector>

#include "compiler/driver.h"

namespace tmc::driver {

struct VerifyOptions {
  CompileOptions compile;
  std::vector<std::string> inputs;   ///< .npy or .pb, in graph input order
  std::vector<std::string> expected; ///< .npy or .pb, in graph output order
  double rtol = 1e-4;
  double atol = 1e-5;
  int64_t lsb_tolerance = 0; ///< integer tensors may differ by this much (--lsb-tolerance)
  std::string cc;          ///< C compiler ("" = $CC or cc)
  std::string cflags;      ///< extra flags (e.g. sanitizers)
  std::string keep_dir;    ///< keep the build folder here ("" = temporary)
  int timeout_seconds = 120;
  bool quiet = false;
  /// --per-layer: compile with trace hooks, compare every intermediate
  /// tensor with a reference and name the first diverging node. `expected`
  /// is then optional.
  bool per_layer = false;
  /// --reference: .npz of reference tensors keyed by ONNX tensor name
  /// ("" = run ONNX Runtime on the model).
  std::string reference;
};

/// Exit codes (documented in docs/cli.md).
enum ExitCode {
  kExitOk = 0,
  kExitMismatch = 1,
  kExitUsage = 2,
  kExitModelError = 3,
  kExitBuildOrRunError = 4,
  kExitInternal = 5,
  // 4 also covers: the ONNX Runtime reference run of --per-layer failed.
};

int run_verify(const VerifyOptions &opts);

} // namespace tmc::driver
