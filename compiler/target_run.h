// Running generated model code on an emulated Cortex-M core (QEMU's MPS2
// machines) for `tmc verify --target cortex-m4|cortex-m7|cortex-m33`.
//
// run_on_target writes a bare-metal harness that embeds the input tensors,
// cross-compiles it with the model sources and the runtime stubs
// (runtime-stubs/cortex-m, embedded into tmc at build time, so an installed
// tmc needs no extra files), runs it under qemu-system-arm with semihosting
// and reads the outputs back from the semihosting console.
//
// Tools: arm-none-eabi-gcc (override with $TMC_ARM_GCC) with newlib, and
// qemu-system-arm (override with $TMC_QEMU_ARM).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tmc::driver {

struct TargetRunResult {
  bool ok = false;
  std::string error;                         ///< why it failed ("" when ok)
  std::vector<std::vector<uint8_t>> outputs; ///< raw bytes of each graph output, in graph order
  std::string log;                           ///< commands run and what they printed (hex dumps elided)
};

/// One emulated core: the name tmc's --target uses, the QEMU machine and the
/// arm-none-eabi-gcc flags.
struct TargetCore {
  const char *core;    ///< "cortex-m4"
  const char *machine; ///< "mps2-an386"
  const char *gcc_flags;
};

/// The emulated cores, in a fixed order (cortex-m4, cortex-m7, cortex-m33).
const std::vector<TargetCore> &target_cores();

/// The core for `name`: a core name ("cortex-m4"), the name of its QEMU
/// machine ("mps2-an386") or a board of targets/ with one of these cores
/// ("nucleo-l4r5zi" runs on mps2-an386), case-insensitive; nullptr if it
/// cannot be emulated (host, other cores, RISC-V).
const TargetCore *find_target_core(const std::string &name);

/// Builds and runs model `name` (whose generated `c_files`, e.g. "NAME.c",
/// and NAME.h are already in `build_dir`; relative paths are relative to
/// build_dir) on `core` with the given raw input tensors (graph order) and
/// returns the raw outputs, which must have `output_bytes` sizes. The
/// firmware, harness and stub files are written into build_dir too. QEMU is
/// killed after `timeout_s` seconds. `extra_cflags` is appended to the cross
/// compiler's command line (e.g. "-O3" or "-Wl,--defsym=__stack_size=0x100000").
TargetRunResult run_on_target(const std::string &core, const std::string &build_dir, const std::string &name,
                              const std::vector<std::string> &c_files,
                              const std::vector<std::vector<uint8_t>> &inputs,
                              const std::vector<size_t> &output_bytes, int timeout_s,
                              const std::string &extra_cflags = "");

/// The runtime stub files tmc embeds (file name, contents), e.g. for writing
/// them next to generated code.
const std::vector<std::pair<std::string, std::string>> &cortex_m_stub_files();

} // namespace tmc::driver
