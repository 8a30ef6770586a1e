// Target descriptions: table contents, derived ISA features, lookup errors,
// and (when the compilers are installed) agreement of the derived features
// with what arm-none-eabi-gcc and clang predefine for the target's flags.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>

#include "targets/target.h"

using namespace tmc::targets;

namespace {

bool have_tool(const std::string &tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

/// stdout of `cmd`; `ok` tells whether it exited with status 0.
std::string run(const std::string &cmd, bool &ok) {
  std::string out;
  FILE *p = popen(cmd.c_str(), "r");
  if (!p) { ok = false; return out; }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ok = pclose(p) == 0;
  return out;
}

/// The value of a predefined macro in `defs` (output of cc -dM -E), "" if undefined.
std::string macro(const std::string &defs, const std::string &name) {
  std::string key = "#define " + name + " ";
  size_t p = defs.find(key);
  if (p == std::string::npos) return "";
  size_t e = defs.find('\n', p);
  return defs.substr(p + key.size(), e - p - key.size());
}

const TargetInfo &T(const char *name) {
  const TargetInfo *t = find_target(name);
  REQUIRE(t != nullptr);
  return *t;
}

}  // namespace

TEST_CASE("targets: table lists host, the cores and the boards", "[targets]") {
  std::vector<std::string> names = target_names();
  REQUIRE(!names.empty());
  CHECK(names.front() == "host");
  std::set<std::string> unique(names.begin(), names.end());
  CHECK(unique.size() == names.size());
  for (const char *n : {"host", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55",
                        "rv32imc", "rv32imafc", "nucleo-l4r5zi", "stm32f746-disco", "nrf52840", "rp2040", "esp32c3",
                        "mps2-an386", "mps2-an500", "mps2-an505"})
    CHECK(unique.count(n) == 1);
  CHECK(all_targets().size() == names.size());
  for (const std::string &n : names) {
    const TargetInfo *t = find_target(n);
    REQUIRE(t != nullptr);
    CHECK(t->name == n);
    CHECK(t->description == describe(*t));
    CHECK(t->description.rfind(n + ": ", 0) == 0);
    CHECK((t->alignment == 8 || t->alignment == 16));
    // A board's ISA is its core's.
    const TargetInfo *core = find_target(t->core);
    REQUIRE(core != nullptr);
    CHECK(core->kind == TargetKind::Core);
    CHECK(core->llvm_cpu == t->llvm_cpu);
    CHECK(core->dsp == t->dsp);
    CHECK(core->fpu == t->fpu);
    CHECK(core->mve == t->mve);
    CHECK(core->gcc_flags == t->gcc_flags);
    CHECK(t->is_board() == (t->flash_bytes > 0 && t->ram_bytes > 0));
  }
}

TEST_CASE("targets: ARM features come from LLVM's target parser", "[targets]") {
  const TargetInfo &m0 = T("cortex-m0plus");
  CHECK(m0.arch == Arch::Arm);
  CHECK(m0.arch_name == "armv6-m");
  CHECK(!m0.dsp);
  CHECK(m0.fpu == FpuKind::None);
  CHECK(!m0.hard_float);
  CHECK(m0.mve == MveKind::None);
  CHECK(m0.default_kernel_variant == "generic");
  CHECK(m0.llvm_triple == "thumbv6m-none-eabi");
  CHECK(m0.gcc_flags == "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft");

  const TargetInfo &m3 = T("cortex-m3");
  CHECK(m3.arch_name == "armv7-m");
  CHECK(!m3.dsp);
  CHECK(m3.fpu == FpuKind::None);
  CHECK(m3.default_kernel_variant == "generic");

  const TargetInfo &m4 = T("cortex-m4");
  CHECK(m4.arch_name == "armv7e-m");
  CHECK(m4.dsp);
  CHECK(m4.fpu == FpuKind::Single);
  CHECK(m4.fpu_name == "fpv4-sp-d16");
  CHECK(m4.hard_float);
  CHECK(m4.mve == MveKind::None);
  CHECK(m4.alignment == 8);
  CHECK(m4.default_kernel_variant == "dsp");
  CHECK(m4.llvm_triple == "thumbv7em-none-eabihf");
  CHECK(m4.gcc_flags == "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard");
  CHECK(m4.clang_flags == "--target=thumbv7em-none-eabihf -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard");

  const TargetInfo &m7 = T("cortex-m7");
  CHECK(m7.dsp);
  CHECK(m7.fpu == FpuKind::Double);
  CHECK(m7.fpu_name == "fpv5-d16");
  CHECK(m7.default_kernel_variant == "dsp");

  const TargetInfo &m33 = T("cortex-m33");
  CHECK(m33.arch_name == "armv8-m.main");
  CHECK(m33.dsp);
  CHECK(m33.fpu == FpuKind::Single);
  CHECK(m33.mve == MveKind::None);

  const TargetInfo &m55 = T("cortex-m55");
  CHECK(m55.arch_name == "armv8.1-m.main");
  CHECK(m55.dsp);
  CHECK(m55.mve == MveKind::Float);
  CHECK(m55.has_fpu());
  CHECK(m55.alignment == 16);
  CHECK(m55.default_kernel_variant == "mve");
  CHECK(m55.llvm_triple == "thumbv8.1m.main-none-eabihf");

  for (const TargetInfo &t : all_targets()) {
    CHECK((!t.rv_m || t.arch == Arch::RiscV));
    if (t.arch == Arch::Arm) CHECK(t.xlen == 32);
  }
}

TEST_CASE("targets: RISC-V features come from RISCVISAInfo", "[targets]") {
  const TargetInfo &imc = T("rv32imc");
  CHECK(imc.arch == Arch::RiscV);
  CHECK(imc.isa_string == "rv32imc");
  CHECK(imc.arch_name.rfind("rv32i", 0) == 0);
  CHECK(imc.xlen == 32);
  CHECK(imc.rv_m);
  CHECK(!imc.rv_a);
  CHECK(!imc.rv_f);
  CHECK(!imc.rv_d);
  CHECK(imc.rv_c);
  CHECK(imc.fpu == FpuKind::None);
  CHECK(!imc.hard_float);
  CHECK(!imc.dsp);
  CHECK(imc.default_kernel_variant == "generic");
  CHECK(imc.llvm_triple == "riscv32-unknown-elf");
  CHECK(imc.gcc_flags == "-march=rv32imc -mabi=ilp32");

  const TargetInfo &imafc = T("rv32imafc");
  CHECK(imafc.rv_m);
  CHECK(imafc.rv_a);
  CHECK(imafc.rv_f);
  CHECK(!imafc.rv_d);
  CHECK(imafc.rv_c);
  CHECK(imafc.fpu == FpuKind::Single);
  CHECK(imafc.hard_float);
  CHECK(imafc.gcc_flags == "-march=rv32imafc -mabi=ilp32f");
}

TEST_CASE("targets: boards carry budgets and QEMU machines", "[targets]") {
  constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;
  struct Row { const char *name, *core; uint64_t flash, ram; const char *qemu; };
  const Row rows[] = {
      {"nucleo-l4r5zi", "cortex-m4", 2 * MiB, 640 * KiB, ""},
      {"stm32f746-disco", "cortex-m7", 1 * MiB, 320 * KiB, ""},
      {"nrf52840", "cortex-m4", 1 * MiB, 256 * KiB, ""},
      {"rp2040", "cortex-m0plus", 2 * MiB, 264 * KiB, ""},
      {"esp32c3", "rv32imc", 4 * MiB, 400 * KiB, ""},
      {"mps2-an386", "cortex-m4", 4 * MiB, 4 * MiB, "mps2-an386"},
      {"mps2-an500", "cortex-m7", 4 * MiB, 4 * MiB, "mps2-an500"},
      {"mps2-an505", "cortex-m33", 4 * MiB, 4 * MiB, "mps2-an505"},
  };
  for (const Row &r : rows) {
    INFO(r.name);
    const TargetInfo &t = T(r.name);
    CHECK(t.kind == TargetKind::Board);
    CHECK(t.core == r.core);
    CHECK(t.flash_bytes == r.flash);
    CHECK(t.ram_bytes == r.ram);
    CHECK(t.qemu_machine == r.qemu);
  }
  CHECK(T("nucleo-l4r5zi").description ==
        "nucleo-l4r5zi: board, cortex-m4 (armv7e-m), DSP, FPU single (fpv4-sp-d16), hard-float, align 8, "
        "kernels dsp, flash 2 MiB, RAM 640 KiB");
  CHECK(T("mps2-an505").description.find("qemu mps2-an505") != std::string::npos);
  const TargetInfo &host = T("host");
  CHECK(host.arch == Arch::Host);
  CHECK(host.kind == TargetKind::Core);
  CHECK(host.flash_bytes == 0);
  CHECK(host.gcc_flags.empty());
  CHECK(host.default_kernel_variant == "generic");
}

TEST_CASE("targets: lookup is case-insensitive; unknown names are reported", "[targets]") {
  CHECK(find_target("Cortex-M4") == find_target("cortex-m4"));
  CHECK(find_target("NRF52840") == find_target("nrf52840"));
  CHECK(find_target("cortex-m5") == nullptr);
  CHECK(find_target("") == nullptr);
  CHECK(&get_target("rp2040") == find_target("rp2040"));
  try {
    get_target("nucleo-l4r5");
    FAIL("get_target did not throw");
  } catch (const std::invalid_argument &e) {
    std::string m = e.what();
    CHECK(m.find("unknown target 'nucleo-l4r5'") != std::string::npos);
    CHECK(m.find("did you mean 'nucleo-l4r5zi'") != std::string::npos);
    for (const std::string &n : target_names()) CHECK(m.find(n) != std::string::npos);
  }
  try {
    get_target("quantum-computer");
    FAIL("get_target did not throw");
  } catch (const std::invalid_argument &e) {
    std::string m = e.what();
    CHECK(m.find("did you mean") == std::string::npos);
    CHECK(m.find("known targets: host, ") != std::string::npos);
  }
}

TEST_CASE("targets: arm-none-eabi-gcc agrees with the derived ARM features", "[targets][toolchain]") {
  if (!have_tool("arm-none-eabi-gcc")) {
    FAIL("arm-none-eabi-gcc not installed: scripts/setup.sh installs it; the test cannot run without it");
  }
  for (const TargetInfo &t : all_targets()) {
    if (t.arch != Arch::Arm || t.kind != TargetKind::Core) continue;
    INFO(t.name << ": " << t.gcc_flags);
    bool ok = false;
    std::string defs = run("arm-none-eabi-gcc " + t.gcc_flags + " -dM -E -x c - </dev/null 2>&1", ok);
    REQUIRE(ok);
    CHECK(macro(defs, "__ARM_ARCH_PROFILE") == "77");  // 'M'
    CHECK(!macro(defs, "__ARM_FEATURE_DSP").empty() == t.dsp);
    std::string fp = macro(defs, "__ARM_FP");
    CHECK(!fp.empty() == t.has_fpu());
    if (!fp.empty()) CHECK(((std::stol(fp, nullptr, 0) & 8) != 0) == (t.fpu == FpuKind::Double));
    CHECK(!macro(defs, "__ARM_PCS_VFP").empty() == t.hard_float);
    std::string mve = macro(defs, "__ARM_FEATURE_MVE");
    CHECK(mve == (t.mve == MveKind::Float ? "3" : t.mve == MveKind::Int ? "1" : ""));
  }
}

TEST_CASE("targets: clang agrees with the derived features", "[targets][toolchain]") {
  if (!have_tool("clang")) {
    FAIL("clang not installed: scripts/setup.sh installs it; the test cannot run without it");
  }
  for (const TargetInfo &t : all_targets()) {
    if (t.arch == Arch::Host || t.kind != TargetKind::Core) continue;
    INFO(t.name << ": " << t.clang_flags);
    bool ok = false;
    std::string defs = run("clang " + t.clang_flags + " -dM -E -x c - </dev/null 2>&1", ok);
    REQUIRE(ok);
    if (t.arch == Arch::Arm) {
      CHECK(!macro(defs, "__ARM_FEATURE_DSP").empty() == t.dsp);
      std::string fp = macro(defs, "__ARM_FP");
      CHECK(!fp.empty() == t.has_fpu());
      if (!fp.empty()) CHECK(((std::stol(fp, nullptr, 0) & 8) != 0) == (t.fpu == FpuKind::Double));
      CHECK(!macro(defs, "__ARM_PCS_VFP").empty() == t.hard_float);
      CHECK(macro(defs, "__ARM_FEATURE_MVE") == (t.mve == MveKind::Float ? "3" : t.mve == MveKind::Int ? "1" : ""));
    } else {
      CHECK(macro(defs, "__riscv_xlen") == std::to_string(t.xlen));
      CHECK(!macro(defs, "__riscv_mul").empty() == t.rv_m);
      CHECK(!macro(defs, "__riscv_atomic").empty() == t.rv_a);
      CHECK(!macro(defs, "__riscv_compressed").empty() == t.rv_c);
      std::string flen = macro(defs, "__riscv_flen");
      CHECK(flen == (t.rv_d ? "64" : t.rv_f ? "32" : ""));
      CHECK(macro(defs, "__riscv_float_abi_soft").empty() == t.hard_float);
    }
  }
}
