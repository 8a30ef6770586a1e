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
  std::string cc;          ///< C compiler ("" = $CC or cc)
  std::string cflags;      ///< extra flags (e.g. sanitizers)
  std::string keep_dir;    ///< keep the build folder here ("" = temporary)
  int timeout_seconds = 120;
  bool quiet = false;
};

/// Exit codes (documented in docs/cli.md).
enum ExitCode {
  kExitOk = 0,
  kExitMismatch = 1,
  kExitUsage = 2,
  kExitModelError = 3,
  kExitBuildOrRunError = 4,
  kExitInternal = 5,
};

int run_verify(const VerifyOptions &opts);

} // namespace tmc::driver
