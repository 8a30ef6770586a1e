// Generates NAME_target.h: the tailored per-target header that the generated
// NAME.c includes. It holds
//   - feature macros describing the target (NAME_TARGET_NAME, NAME_HAS_DSP,
//     NAME_HAS_FPU, NAME_FPU_DOUBLE, NAME_HAS_MVE, NAME_ALIGN, ...);
//   - section/alignment attributes for the weights and the arena
//     (NAME_WEIGHTS_ATTR, NAME_ARENA_ATTR; overridable before inclusion);
//   - NAME_RESTRICT, NAME_INLINE, NAME_ALIGNED(n);
//   - optional profiling hooks NAME_PROFILE_BEGIN(i) / NAME_PROFILE_END(i);
//   - static inline DSP intrinsic wrappers with a portable C fallback that is
//     bit-identical to the ARM instruction, and an inline-asm fast path used
//     when the compiler targets the DSP extension (__ARM_FEATURE_DSP):
//       int32_t  name_smlad(uint32_t x, uint32_t y, int32_t acc)
//       uint32_t name_sxtb16(uint32_t x), name_sxtb16_ror8(uint32_t x)
//       int32_t  name_ssat(int32_t x, unsigned bits)      bits 1..32
//       uint32_t name_usat(int32_t x, unsigned bits)      bits 0..31
//       int32_t  name_qadd(int32_t a, int32_t b)
//       uint32_t name_pkhbt(uint32_t a, uint32_t b, unsigned sh)  sh 0..31
// Macros use NAME upper-cased, functions use it as given (like NAME.h).
// The header is C99, warning-free under -std=c99 -Wall -Wextra -Werror
// -pedantic (gcc, clang, arm-none-eabi-gcc), also usable from C++, defines
// no objects (no writable globals) and depends only on <stdint.h>.
#pragma once
#include <optional>
#include <string>

#include "targets/target.h"

namespace tmc::codegen {

struct TargetHeaderOptions {
  /// Section of the weight arrays. nullopt = ".rodata.NAME_weights";
  /// "" = no section attribute (alignment only). Characters allowed:
  /// letters, digits and . _ $ - , (the comma for Mach-O "segment,section").
  std::optional<std::string> weights_section;
  /// Section of a statically allocated arena. nullopt = ".bss.NAME_arena";
  /// "" = no section attribute.
  std::optional<std::string> arena_section;
  /// Profiling hooks on: NAME_PROFILE_BEGIN/END call the user's
  /// NAME_PROFILE_HOOK(event, layer_index) if it is defined. Off: they always
  /// expand to ((void)0) and NAME_PROFILE_ENABLED is 0.
  bool profiling = false;
};

/// "NAME_target.h".
std::string target_header_filename(const std::string &name);

/// The text of NAME_target.h for model prefix `name` (a C identifier, used as
/// given for functions and upper-cased for macros) on target `t`.
/// Deterministic. Throws std::invalid_argument for a name that is not a C
/// identifier or a section name with characters outside the allowed set.
std::string generate_target_header(const std::string &name, const targets::TargetInfo &t,
                                   const TargetHeaderOptions &o = {});

}  // namespace tmc::codegen
