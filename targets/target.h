// Target descriptions: the cores and boards tmc can compile for.
//
// Each target is one row of a small table (targets/target.cpp): its name, the
// core it uses and, for boards, the flash/RAM budgets and the QEMU machine.
// Everything about the instruction set -- DSP extension, FPU precision, MVE
// (Helium), RISC-V extensions -- is DERIVED from LLVM's target parsers
// (llvm::ARM::* in ARMTargetParser.h, llvm::RISCVISAInfo), never hand-written,
// so the descriptions agree with what clang/LLVM think the core is.
//
//   const TargetInfo *t = tmc::targets::find_target("nucleo-l4r5zi");
//   if (t && t->dsp) ...                      // SMLAD & co. are available
//   const TargetInfo &u = tmc::targets::get_target(cli_name);  // throws
//
// The table is built once (thread-safe) on first use; the returned pointers
// and references stay valid for the life of the program.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tmc::targets {

enum class TargetKind { Core, Board };
enum class Arch { Host, Arm, RiscV };
enum class FpuKind { None, Single, Double };  ///< widest hardware float type
enum class MveKind { None, Int, Float };      ///< Helium: integer only, or integer + float

struct TargetInfo {
  std::string name;  ///< "cortex-m4", "nucleo-l4r5zi", "host"...
  TargetKind kind = TargetKind::Core;
  std::string core;  ///< core name (a core's core is itself): "cortex-m4", "rv32imc", "host"
  Arch arch = Arch::Host;

  /// LLVM CPU name ("cortex-m4"; "generic-rv32" for RISC-V; "generic" for host).
  std::string llvm_cpu;
  /// LLVM target triple ("thumbv7em-none-eabihf", "riscv32-unknown-elf";
  /// empty for host = the default triple of the machine).
  std::string llvm_triple;
  /// ARM: LLVM architecture name ("armv7e-m"); RISC-V: the canonical ISA
  /// string from RISCVISAInfo::toString() ("rv32i2p0_m2p0_c2p0"); host: "".
  std::string arch_name;
  /// RISC-V ISA string as written in the table ("rv32imc"); empty elsewhere.
  std::string isa_string;

  // ---- ISA features -------------------------------------------------------
  bool dsp = false;              ///< ARM DSP extension (SMLAD, SXTB16, SSAT, QADD, PKHBT...)
  FpuKind fpu = FpuKind::None;   ///< hardware floating point
  std::string fpu_name;          ///< LLVM FPU name ("fpv4-sp-d16"), "none"; "" on RISC-V/host
  MveKind mve = MveKind::None;   ///< ARM M-profile Vector Extension (Helium)
  bool rv_m = false, rv_a = false, rv_f = false, rv_d = false, rv_c = false;  ///< RISC-V extensions
  unsigned xlen = 32;            ///< register width in bits (host: 64 or 32, the build machine)
  bool hard_float = false;       ///< float ABI passes floats in FP registers (eabihf / ilp32f|d)

  // ---- code generation choices ---------------------------------------------
  unsigned alignment = 8;                       ///< buffer alignment in bytes (16 with MVE)
  std::string default_kernel_variant = "generic";  ///< "generic", "dsp" or "mve"

  // ---- boards ---------------------------------------------------------------
  uint64_t flash_bytes = 0;  ///< flash budget; 0 = unknown / unbounded (cores, host)
  uint64_t ram_bytes = 0;    ///< RAM budget; 0 = unknown / unbounded
  std::string qemu_machine;  ///< qemu-system-arm/riscv32 -M value, "" if QEMU has none

  /// Flags for the cross compiler: arm-none-eabi-gcc for ARM (e.g.
  /// "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"),
  /// riscv*-elf-gcc for RISC-V ("-march=rv32imc -mabi=ilp32"); "" for host.
  std::string gcc_flags;
  /// The same for clang, with the target triple ("--target=thumbv7em-none-eabihf
  /// -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard"); "" for host.
  std::string clang_flags;

  /// One-line human description (same as describe(*this)).
  std::string description;

  bool is_board() const { return kind == TargetKind::Board; }
  bool has_fpu() const { return fpu != FpuKind::None; }
  bool has_mve() const { return mve != MveKind::None; }
};

/// The target called `name` (case-insensitive), or nullptr if there is none.
const TargetInfo *find_target(const std::string &name);

/// Like find_target, but throws std::invalid_argument for an unknown name with
/// a message listing the known targets (and a "did you mean" suggestion), e.g.
///   unknown target 'cortex-m5' (did you mean 'cortex-m4'?); known targets: host, ...
const TargetInfo &get_target(const std::string &name);

/// All target names in table order: "host", then cores, then boards.
std::vector<std::string> target_names();

/// All targets in table order.
const std::vector<TargetInfo> &all_targets();

/// One line, e.g.
///   "nucleo-l4r5zi: board, cortex-m4 (armv7e-m), DSP, FPU single (fpv4-sp-d16),
///    hard-float, align 8, kernels dsp, flash 2 MiB, RAM 640 KiB"
std::string describe(const TargetInfo &t);

const char *to_string(TargetKind k);  ///< "core", "board"
const char *to_string(Arch a);        ///< "host", "arm", "riscv"
const char *to_string(FpuKind f);     ///< "none", "single", "double"
const char *to_string(MveKind m);     ///< "none", "int", "float"

}  // namespace tmc::targets
