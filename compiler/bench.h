// `tmc bench`: measures one inference of a compiled model on an emulated
// Cortex-M core (QEMU's MPS2 machines, like `tmc verify --target`).
//
// It compiles the model (same options as `tmc compile`), builds a bare-metal
// image whose harness calls NAME_run once through a small assembly trampoline
// (it paints the free stack, then `bl NAME_run`; the instruction after that
// call is the label `tmc_bench_return`), and runs it under qemu-system-arm
// with tmc's own TCG plugin (runtime-stubs/qemu-plugin/tmc_icount.c, embedded
// into tmc and compiled with the host C compiler at run time) loaded. The
// plugin counts the instructions executed from the first instruction of
// NAME_run up to, not including, tmc_bench_return: the exact instruction count
// of one inference, including the libm/libgcc/memcpy code it calls.
//
// Footprint: flash (the loaded sections: .text with .rodata, exception
// tables, the .data image) and static RAM (.data + .bss) of that image minus
// those of the same harness linked with an empty model call; RAM adds the
// arena and the peak stack of the call (stack painting). --per-layer builds a
// second image with the generated --profile hooks calling two one-instruction
// marker functions, and the plugin cuts the count at each marker.
//
// Images are built with the core's flags and -std=c99 -O2 -ffp-contract=fast
// (GCC's GNU-mode default, which firmware builds normally get; strict -std=c99
// alone turns contraction off) plus --cflags, which can override them.
#pragma once
#include <string>
#include <vector>

#include "compiler/driver.h"

namespace tmc::driver {

struct BenchOptions {
  CompileOptions compile;          ///< compile.target: an emulated core or board
  std::vector<std::string> inputs; ///< .npy/.pb in graph order; empty = zeros
  bool per_layer = false;
  std::string json_path; ///< write the report as JSON here ("" = none)
  std::string keep_dir;  ///< keep the build folder here ("" = temporary)
  std::string cflags;    ///< extra flags for the cross compiler
  int timeout_seconds = 600;
};

/// Runs the benchmark and prints the report; returns an ExitCode (verify.h).
int run_bench(const BenchOptions &opts);

} // namespace tmc::driver
