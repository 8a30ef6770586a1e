#include "targets/target.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/ARMTargetParser.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/RISCVISAInfo.h>

namespace tmc::targets {

namespace {

// ---------------------------------------------------------------------------
// The tables. Only names, budgets and QEMU machines live here; every ISA
// feature is derived from LLVM below.
// ---------------------------------------------------------------------------

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;

struct CoreRow {
  const char *name;
  Arch arch;
  const char *cpu_or_isa;  ///< ARM: LLVM CPU name; RISC-V: ISA string; host: unused
};

const CoreRow kCores[] = {
    // name            arch         LLVM CPU / RISC-V ISA string
    {"host",          Arch::Host,  ""},
    {"cortex-m0plus", Arch::Arm,   "cortex-m0plus"},
    {"cortex-m3",     Arch::Arm,   "cortex-m3"},
    {"cortex-m4",     Arch::Arm,   "cortex-m4"},
    {"cortex-m7",     Arch::Arm,   "cortex-m7"},
    {"cortex-m33",    Arch::Arm,   "cortex-m33"},
    {"cortex-m55",    Arch::Arm,   "cortex-m55"},
    {"rv32imc",       Arch::RiscV, "rv32imc"},
    {"rv32imafc",     Arch::RiscV, "rv32imafc"},
};

struct BoardRow {
  const char *name;
  const char *core;
  uint64_t flash_bytes;
  uint64_t ram_bytes;
  const char *qemu_machine;  ///< "" = no upstream QEMU machine
};

const BoardRow kBoards[] = {
    // name              core             flash        RAM          QEMU machine
    {"nucleo-l4r5zi",   "cortex-m4",     2 * MiB,     640 * KiB,   ""},
    {"stm32f746-disco", "cortex-m7",     1 * MiB,     320 * KiB,   ""},
    {"nrf52840",        "cortex-m4",     1 * MiB,     256 * KiB,   ""},
    {"rp2040",          "cortex-m0plus", 2 * MiB,     264 * KiB,   ""},  // external QSPI flash
    {"esp32c3",         "rv32imc",       4 * MiB,     400 * KiB,   ""},
    {"mps2-an386",      "cortex-m4",     4 * MiB,     4 * MiB,     "mps2-an386"},
    {"mps2-an500",      "cortex-m7",     4 * MiB,     4 * MiB,     "mps2-an500"},
    {"mps2-an505",      "cortex-m33",    4 * MiB,     4 * MiB,     "mps2-an505"},
};

std::string lower(std::string s) {
  for (char &c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

// ---------------------------------------------------------------------------
// Feature derivation from LLVM's target parsers.
// ---------------------------------------------------------------------------

void derive_arm(TargetInfo &t, const std::string &cpu) {
  using namespace llvm;
  ARM::ArchKind ak = ARM::parseCPUArch(cpu);
  if (ak == ARM::ArchKind::INVALID)
    throw std::logic_error("tmc target table: LLVM does not know ARM CPU '" + cpu + "'");
  t.llvm_cpu = cpu;
  t.arch_name = ARM::getArchName(ak).str();
  if (ARM::parseArchProfile(t.arch_name) != ARM::ProfileKind::M)
    throw std::logic_error("tmc target table: '" + cpu + "' is not an M-profile core");

  uint64_t ext = ARM::getDefaultExtensions(cpu, ak);
  unsigned fpu = ARM::getDefaultFPU(cpu, ak);

  t.dsp = (ext & ARM::AEK_DSP) != 0;

  // FPU precision: a VFP version with the SP_D16 restriction is single precision only.
  t.fpu_name = ARM::getFPUName(fpu).str();
  if (ARM::getFPUVersion(fpu) == ARM::FPUVersion::NONE)
    t.fpu = FpuKind::None;
  else if (ARM::getFPURestriction(fpu) == ARM::FPURestriction::SP_D16)
    t.fpu = FpuKind::Single;
  else
    t.fpu = FpuKind::Double;
  t.hard_float = t.fpu != FpuKind::None;

  // MVE: ask LLVM which subtarget features the default extensions turn on
  // ("mve" is AEK_DSP|AEK_SIMD, "mve.fp" adds AEK_FP in ARMTargetParser.def).
  std::vector<StringRef> features;
  ARM::getExtensionFeatures(ext, features);
  auto has = [&](StringRef f) { return std::find(features.begin(), features.end(), f) != features.end(); };
  if (has("+mve.fp"))
    t.mve = MveKind::Float;
  else if (has("+mve"))
    t.mve = MveKind::Int;

  t.llvm_triple = "thumb" + ARM::getSubArch(ak).str() + "-none-eabi" + (t.hard_float ? "hf" : "");

  // arm-none-eabi-gcc flags. GCC knows LLVM's FPU names for Armv7E-M/Armv8-M
  // (fpv4-sp-d16, fpv5-d16, fpv5-sp-d16); for Armv8.1-M the FPU and MVE
  // come with -mcpu, which -mfpu=auto selects.
  // clang has no -mfpu=auto; there -mcpu alone selects the Armv8.1-M FPU.
  bool v81m = ak == ARM::ArchKind::ARMV8_1MMainline;
  t.gcc_flags = "-mcpu=" + cpu + " -mthumb";
  t.clang_flags = "--target=" + t.llvm_triple + " -mcpu=" + cpu;
  if (t.hard_float) {
    t.gcc_flags += " -mfpu=" + (v81m ? std::string("auto") : t.fpu_name) + " -mfloat-abi=hard";
    t.clang_flags += (v81m ? std::string() : " -mfpu=" + t.fpu_name) + " -mfloat-abi=hard";
  } else {
    t.gcc_flags += " -mfloat-abi=soft";
    t.clang_flags += " -mfloat-abi=soft";
  }
}

void derive_riscv(TargetInfo &t, const std::string &isa) {
  auto parsed = llvm::RISCVISAInfo::parseArchString(isa, /*EnableExperimentalExtension=*/false);
  if (!parsed)
    throw std::logic_error("tmc target table: LLVM rejects RISC-V ISA '" + isa +
                           "': " + llvm::toString(parsed.takeError()));
  const llvm::RISCVISAInfo &info = **parsed;
  t.isa_string = isa;
  t.arch_name = info.toString();
  t.xlen = info.getXLen();
  t.rv_m = info.hasExtension("m");
  t.rv_a = info.hasExtension("a");
  t.rv_f = info.hasExtension("f");
  t.rv_d = info.hasExtension("d");
  t.rv_c = info.hasExtension("c");
  unsigned flen = info.getFLen();
  t.fpu = flen >= 64 ? FpuKind::Double : flen == 32 ? FpuKind::Single : FpuKind::None;
  t.hard_float = flen > 0;
  t.llvm_cpu = t.xlen == 64 ? "generic-rv64" : "generic-rv32";
  t.llvm_triple = t.xlen == 64 ? "riscv64-unknown-elf" : "riscv32-unknown-elf";
  std::string abi = t.xlen == 64 ? "lp64" : "ilp32";
  if (flen >= 64) abi += "d";
  else if (flen == 32) abi += "f";
  t.gcc_flags = "-march=" + isa + " -mabi=" + abi;
  t.clang_flags = "--target=" + t.llvm_triple + " " + t.gcc_flags;
}

void derive_host(TargetInfo &t) {
  // The build machine. Deliberately machine-independent except for the word
  // size, so that generated code is deterministic across hosts of one kind.
  t.llvm_cpu = "generic";
  t.xlen = (unsigned)(sizeof(void *) * 8);
  t.fpu = FpuKind::Double;
  t.hard_float = true;
}

void finish(TargetInfo &t) {
  t.alignment = t.has_mve() ? 16 : 8;
  t.default_kernel_variant = t.has_mve() ? "mve" : t.dsp ? "dsp" : "generic";
  t.description = describe(t);
}

TargetInfo make_core(const CoreRow &r) {
  TargetInfo t;
  t.name = r.name;
  t.kind = TargetKind::Core;
  t.core = r.name;
  t.arch = r.arch;
  switch (r.arch) {
  case Arch::Host: derive_host(t); break;
  case Arch::Arm: derive_arm(t, r.cpu_or_isa); break;
  case Arch::RiscV: derive_riscv(t, r.cpu_or_isa); break;
  }
  finish(t);
  return t;
}

std::vector<TargetInfo> build_table() {
  std::vector<TargetInfo> v;
  for (const CoreRow &r : kCores) v.push_back(make_core(r));
  for (const BoardRow &b : kBoards) {
    auto core = std::find_if(v.begin(), v.end(), [&](const TargetInfo &t) {
      return t.kind == TargetKind::Core && t.name == b.core;
    });
    if (core == v.end())
      throw std::logic_error(std::string("tmc target table: board '") + b.name + "' uses unknown core '" +
                             b.core + "'");
    TargetInfo t = *core;
    t.name = b.name;
    t.kind = TargetKind::Board;
    t.flash_bytes = b.flash_bytes;
    t.ram_bytes = b.ram_bytes;
    t.qemu_machine = b.qemu_machine;
    finish(t);
    v.push_back(std::move(t));
  }
  return v;
}

std::string size_text(uint64_t n) {
  if (n != 0 && n % MiB == 0) return std::to_string(n / MiB) + " MiB";
  if (n != 0 && n % KiB == 0) return std::to_string(n / KiB) + " KiB";
  return std::to_string(n) + " B";
}

}  // namespace

const std::vector<TargetInfo> &all_targets() {
  static const std::vector<TargetInfo> table = build_table();
  return table;
}

const TargetInfo *find_target(const std::string &name) {
  std::string key = lower(name);
  for (const TargetInfo &t : all_targets())
    if (t.name == key) return &t;
  return nullptr;
}

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const TargetInfo &t : all_targets()) names.push_back(t.name);
  return names;
}

const TargetInfo &get_target(const std::string &name) {
  if (const TargetInfo *t = find_target(name)) return *t;
  std::string key = lower(name), best;
  unsigned best_dist = ~0u;
  for (const TargetInfo &t : all_targets()) {
    unsigned d = llvm::StringRef(key).edit_distance(t.name);
    if (d < best_dist) best_dist = d, best = t.name;
  }
  std::string msg = "unknown target '" + name + "'";
  if (!best.empty() && best_dist <= std::max<size_t>(2, key.size() / 3)) msg += " (did you mean '" + best + "'?)";
  msg += "; known targets: ";
  bool first = true;
  for (const std::string &n : target_names()) {
    msg += (first ? "" : ", ") + n;
    first = false;
  }
  throw std::invalid_argument(msg);
}

const char *to_string(TargetKind k) { return k == TargetKind::Board ? "board" : "core"; }

const char *to_string(Arch a) {
  switch (a) {
  case Arch::Host: return "host";
  case Arch::Arm: return "arm";
  case Arch::RiscV: return "riscv";
  }
  return "?";
}

const char *to_string(FpuKind f) {
  switch (f) {
  case FpuKind::None: return "none";
  case FpuKind::Single: return "single";
  case FpuKind::Double: return "double";
  }
  return "?";
}

const char *to_string(MveKind m) {
  switch (m) {
  case MveKind::None: return "none";
  case MveKind::Int: return "int";
  case MveKind::Float: return "float";
  }
  return "?";
}

std::string describe(const TargetInfo &t) {
  std::string s = t.name + ": ";
  if (t.arch == Arch::Host) {
    s += "the build machine (" + std::to_string(t.xlen) + "-bit, portable C)";
  } else {
    s += to_string(t.kind);
    s += t.kind == TargetKind::Board ? ", " + t.core + " (" : " (";
    s += t.arch_name + ")";
    if (t.dsp) s += ", DSP";
    if (t.mve != MveKind::None) s += std::string(", MVE ") + (t.mve == MveKind::Float ? "int+float" : "int");
    if (t.arch == Arch::Arm) {
      s += t.fpu == FpuKind::None ? std::string(", no FPU")
                                  : std::string(", FPU ") + to_string(t.fpu) + " (" + t.fpu_name + ")";
    } else {
      s += t.fpu == FpuKind::None ? std::string(", no FPU") : std::string(", FPU ") + to_string(t.fpu);
    }
    s += t.hard_float ? ", hard-float" : ", soft-float";
  }
  s += ", align " + std::to_string(t.alignment) + ", kernels " + t.default_kernel_variant;
  if (t.flash_bytes) s += ", flash " + size_text(t.flash_bytes);
  if (t.ram_bytes) s += ", RAM " + size_text(t.ram_bytes);
  if (!t.qemu_machine.empty()) s += ", qemu " + t.qemu_machine;
  return s;
}

}  // namespace tmc::targets
