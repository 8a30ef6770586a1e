#include "codegen/target_header.h"

#include <cctype>
#include <stdexcept>

namespace tmc::codegen {

namespace {

using targets::Arch;
using targets::FpuKind;
using targets::MveKind;
using targets::TargetInfo;

std::string upper(std::string s) {
  for (char &c : s) c = (char)std::toupper((unsigned char)c);
  return s;
}

bool is_c_identifier(const std::string &s) {
  if (s.empty() || std::isdigit((unsigned char)s[0])) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_')) return false;
  return true;
}

void check_section(const std::string &s, const char *what) {
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '$' || c == '-' || c == ','))
      throw std::invalid_argument(std::string("invalid ") + what + " section name '" + s +
                                  "': use letters, digits and . _ $ - ,");
}

/// A C string literal (the inputs are table names and flags; escape anyway).
std::string c_string(const std::string &s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') r += '\\', r += (char)c;
    else if (c >= 32 && c < 127) r += (char)c;
    else r += '?';
  }
  return r + "\"";
}

/// Comment-safe text.
std::string comment(const std::string &s) {
  std::string r;
  for (unsigned char c : s) r += (c >= 32 && c < 127) ? (char)c : '?';
  size_t p;
  while ((p = r.find("*/")) != std::string::npos) r.replace(p, 2, "* /");
  return r;
}

void replace_all(std::string &s, const std::string &from, const std::string &to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
}

/// `case` lines "M(n)" for n in [lo, hi], eight per line.
std::string cases(const char *macro, int lo, int hi) {
  std::string r;
  for (int n = lo, k = 0; n <= hi; ++n, ++k) {
    if (k % 8 == 0) r += k ? "\n    " : "    ";
    else r += " ";
    r += std::string(macro) + "(" + std::to_string(n) + ")";
  }
  return r + "\n";
}

// Everything below the target-specific macros is fixed text; @P@ is the
// prefix as given, @U@ the prefix upper-cased.
const char *kPortability = R"(
/* ---- Attributes ------------------------------------------------------------
 * @U@_WEIGHTS_ATTR goes on the weight arrays, @U@_ARENA_ATTR on a statically
 * allocated arena: a named section (GCC/clang on ELF targets) and @U@_ALIGN
 * alignment. Define either before including this header to override it (an
 * empty definition removes it), or define @U@_NO_SECTIONS to keep only the
 * alignment. Empty for compilers other than GCC and clang. */
#if defined(__GNUC__) || defined(__clang__)
#define @U@_ALIGNED(n) __attribute__((aligned(n)))
#else
#define @U@_ALIGNED(n)
#endif
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__APPLE__) && !defined(@U@_NO_SECTIONS)
#define @U@_SECTION_(s) __attribute__((section(s)))
#else
#define @U@_SECTION_(s)
#endif
#ifndef @U@_WEIGHTS_ATTR
#define @U@_WEIGHTS_ATTR @WEIGHTS_SECTION@@U@_ALIGNED(@U@_ALIGN)
#endif
#ifndef @U@_ARENA_ATTR
#define @U@_ARENA_ATTR @ARENA_SECTION@@U@_ALIGNED(@U@_ALIGN)
#endif

/* ---- restrict and inline -------------------------------------------------- */
#ifndef @U@_RESTRICT
#if defined(__cplusplus)
#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define @U@_RESTRICT __restrict
#else
#define @U@_RESTRICT
#endif
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define @U@_RESTRICT restrict
#elif defined(__GNUC__) || defined(_MSC_VER)
#define @U@_RESTRICT __restrict
#else
#define @U@_RESTRICT
#endif
#endif

#ifndef @U@_INLINE
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define @U@_INLINE static inline
#elif defined(__GNUC__)
#define @U@_INLINE static __inline__
#elif defined(_MSC_VER)
#define @U@_INLINE static __inline
#else
#define @U@_INLINE static
#endif
#endif

/* The intrinsic wrappers below are always inlined with GCC/clang: their
 * one-instruction paths depend on constant arguments after inlining. */
#ifndef @U@_INTRINSIC
#if defined(__GNUC__) || defined(__clang__)
#define @U@_INTRINSIC @U@_INLINE __attribute__((always_inline))
#else
#define @U@_INTRINSIC @U@_INLINE
#endif
#endif

/* ---- Profiling hooks -------------------------------------------------------
 * @U@_PROFILE_BEGIN(i) / @U@_PROFILE_END(i) bracket layer i in @P@_run. They
 * expand to ((void)0) unless profiling was enabled at compile time
 * (@U@_PROFILE_ENABLED) and the user defines, before this header (e.g. in
 * @U@_CONFIG_HEADER), a function-like macro
 *   #define @U@_PROFILE_HOOK(event, layer_index) my_profiler(event, layer_index)
 * where event is @U@_PROFILE_EVENT_BEGIN or @U@_PROFILE_EVENT_END. */
#define @U@_PROFILE_ENABLED @PROFILE_ENABLED@
#define @U@_PROFILE_EVENT_BEGIN 0
#define @U@_PROFILE_EVENT_END 1
#if @U@_PROFILE_ENABLED && defined(@U@_PROFILE_HOOK)
#define @U@_PROFILE_BEGIN(layer_index) @U@_PROFILE_HOOK(@U@_PROFILE_EVENT_BEGIN, (layer_index))
#define @U@_PROFILE_END(layer_index) @U@_PROFILE_HOOK(@U@_PROFILE_EVENT_END, (layer_index))
#else
#define @U@_PROFILE_BEGIN(layer_index) ((void)0)
#define @U@_PROFILE_END(layer_index) ((void)0)
#endif

/* ---- DSP intrinsics ----------------------------------------------------------
 * Packed operands are uint32_t holding two halfwords (bits 15:0 and 31:16) or
 * four bytes. Each function gives the exact result of the ARM instruction of
 * the same name (the Q flag is not modelled). With GCC/clang targeting the
 * ARM DSP extension (__ARM_FEATURE_DSP) they are one instruction of inline
 * assembly; ssat, usat and pkhbt take that path only when their bits/shift
 * argument is a compile-time constant (after inlining, so not at -O0) and
 * use the portable C otherwise. Elsewhere the portable C is used throughout.
 * Define @U@_NO_DSP_ASM to force the portable C. */
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && !defined(@U@_NO_DSP_ASM)
#define @U@_DSP_ASM 1
#else
#define @U@_DSP_ASM 0
#endif

/* Portable helpers: the low halfword of v sign-extended, and uint32_t to
 * int32_t modulo 2^32 (no implementation-defined conversion). */
@U@_INTRINSIC int32_t @P@_sext16_(uint32_t v) {
  return (int32_t)((v & 0xFFFFu) ^ 0x8000u) - 0x8000;
}
@U@_INTRINSIC int32_t @P@_u2i_(uint32_t v) {
  return v <= 0x7FFFFFFFu ? (int32_t)v : (int32_t)(v - 0x80000000u) - 0x7FFFFFFF - 1;
}

/* SMLAD: acc + x.lo * y.lo + x.hi * y.hi (signed halfwords), modulo 2^32. */
@U@_INTRINSIC int32_t @P@_smlad(uint32_t x, uint32_t y, int32_t acc) {
#if @U@_DSP_ASM
  int32_t r;
  __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
  return r;
#else
  uint32_t lo = (uint32_t)(@P@_sext16_(x) * @P@_sext16_(y));
  uint32_t hi = (uint32_t)(@P@_sext16_(x >> 16) * @P@_sext16_(y >> 16));
  return @P@_u2i_(lo + hi + (uint32_t)acc);
#endif
}

/* SXTB16: bytes 0 and 2 of x, sign-extended to halfwords 0 and 1. */
@U@_INTRINSIC uint32_t @P@_sxtb16(uint32_t x) {
#if @U@_DSP_ASM
  uint32_t r;
  __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
  return r;
#else
  uint32_t t = x & 0x00FF00FFu;
  return t | ((t & 0x00800080u) * 0x1FEu);
#endif
}

/* SXTB16 with ROR #8: bytes 1 and 3 of x, sign-extended to halfwords. */
@U@_INTRINSIC uint32_t @P@_sxtb16_ror8(uint32_t x) {
#if @U@_DSP_ASM
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
#else
  uint32_t t = (x >> 8) & 0x00FF00FFu;
  return t | ((t & 0x00800080u) * 0x1FEu);
#endif
}

/* SSAT: x clamped to the signed range of `bits` bits (1..32; 0 acts as 1). */
#define @U@_SSAT_(n) case n: __asm__("ssat %0, #" #n ", %1" : "=r"(r) : "r"(x)); return r;
@U@_INTRINSIC int32_t @P@_ssat(int32_t x, unsigned bits) {
#if @U@_DSP_ASM
  if (__builtin_constant_p(bits)) {
    int32_t r;
    switch (bits) {
@SSAT_CASES@    default: break;
    }
  }
#endif
  if (bits == 0u) bits = 1u;
  if (bits >= 32u) return x;
  {
    int32_t hi = (int32_t)(((uint32_t)1 << (bits - 1u)) - 1u), lo = -hi - 1;
    return x > hi ? hi : x < lo ? lo : x;
  }
}
#undef @U@_SSAT_

/* USAT: x clamped to [0, 2^bits - 1] (bits 0..31; larger acts as 31). */
#define @U@_USAT_(n) case n: __asm__("usat %0, #" #n ", %1" : "=r"(r) : "r"(x)); return r;
@U@_INTRINSIC uint32_t @P@_usat(int32_t x, unsigned bits) {
#if @U@_DSP_ASM
  if (__builtin_constant_p(bits)) {
    uint32_t r;
    switch (bits) {
@USAT_CASES@    default: break;
    }
  }
#endif
  if (bits > 31u) bits = 31u;
  {
    uint32_t hi = ((uint32_t)1 << bits) - 1u;
    return x < 0 ? 0u : (uint32_t)x > hi ? hi : (uint32_t)x;
  }
}
#undef @U@_USAT_

/* QADD: a + b saturated to the int32_t range. */
@U@_INTRINSIC int32_t @P@_qadd(int32_t a, int32_t b) {
#if @U@_DSP_ASM
  int32_t r;
  __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  uint32_t ua = (uint32_t)a, ub = (uint32_t)b, s = ua + ub;
  if ((~(ua ^ ub) & (ua ^ s)) & 0x80000000u) return a < 0 ? -0x7FFFFFFF - 1 : 0x7FFFFFFF;
  return @P@_u2i_(s);
#endif
}

/* PKHBT: bottom halfword of a, top halfword of (b << sh) (sh 0..31; taken mod 32). */
#define @U@_PKHBT_(n) case n: __asm__("pkhbt %0, %1, %2, lsl #" #n : "=r"(r) : "r"(a), "r"(b)); return r;
@U@_INTRINSIC uint32_t @P@_pkhbt(uint32_t a, uint32_t b, unsigned sh) {
#if @U@_DSP_ASM
  if (__builtin_constant_p(sh)) {
    uint32_t r;
    switch (sh) {
    case 0: __asm__("pkhbt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r;
@PKHBT_CASES@    default: break;
    }
  }
#endif
  return (a & 0xFFFFu) | ((b << (sh & 31u)) & 0xFFFF0000u);
}
#undef @U@_PKHBT_

/* RINT_S32: v rounded to the nearest integer, ties to even (the default
 * rounding mode, like rintf), for |v| <= 2^22; beyond that the result only
 * keeps the sign and a magnitude > 2^22 - 512 (enough for requantization,
 * which saturates to 8 or 16 bits afterwards). With a single-precision FPU
 * (GCC/clang, __ARM_FP) it is one VCVTR.S32.F32, saturating to int32; as
 * inline assembly its operand is always the rounded float value (no fused
 * multiply-add can absorb the rounding of a product passed in). Elsewhere
 * it adds 1.5 * 2^23 and reads the integer from the mantissa bits. Define
 * @U@_NO_FPU_ASM to force the portable C. */
#if defined(__GNUC__) && defined(__ARM_FP) && (__ARM_FP & 4) && !defined(@U@_NO_FPU_ASM)
#define @U@_FPU_ASM 1
#else
#define @U@_FPU_ASM 0
#endif
@U@_INTRINSIC int32_t @P@_rint_s32(float v) {
#if @U@_FPU_ASM
  float r;
  int32_t i;
  __asm__("vcvtr.s32.f32 %0, %1" : "=t"(r) : "t"(v));
  memcpy(&i, &r, 4);
  return i;
#else
  uint32_t u;
  v = v < -4194000.0f ? -4194000.0f : (v > 4194000.0f ? 4194000.0f : v);
  v += 12582912.0f;
  memcpy(&u, &v, 4);
  return (int32_t)(u & 0x7FFFFFu) - 0x400000;
#endif
}

/* DOT2X2_Q8: the int8 convolution micro-kernel. Two int16 columns are
 * interleaved per quad of 4 taps (8 halfwords: column 0 taps 0, 2, 1, 3 then
 * column 1 taps 0, 2, 1, 3); w0 and w1 are two int8 weight rows in natural
 * order, 4 bytes per quad. For `quads` >= 1 quads it adds
 *   acc[0] += col0 . w0, acc[1] += col0 . w1, acc[2] += col1 . w0, acc[3] += col1 . w1
 * (int32, wrapping). On Thumb-2 cores with the DSP extension it is a naked
 * assembly function (SMLAD/SXTB16, two quads per loop step, 16 products in
 * 16 instructions); elsewhere the portable C below. */
/* DOT1X4_Q8X: the int8 fully connected micro-kernel. x holds, per quad of 4
 * inputs, two words of halfword pairs (X1, X2); w holds 4 weight rows in the
 * "N4K4X" layout (per quad the 4 rows' words one after the other, even bytes
 * sign-flipped; see passes/pack_int8_fc_weights.cpp). For `quads` >= 1 it
 * adds, for rows r = 0..3 with word W_r of each quad,
 *   acc[r] += SMLAD(X1, W_r) + SMLAD(X2, SXTB16(W_r, ror 8))   (modulo 2^32).
 * Naked Thumb-2 assembly on DSP cores (14 instructions per 16 products),
 * the same arithmetic in portable C elsewhere. */
#if defined(__GNUC__) && defined(__thumb2__) && defined(__ARM_FEATURE_DSP) && !defined(@U@_NO_DSP_ASM)
#define @U@_DOT_ASM 1
#else
#define @U@_DOT_ASM 0
#endif
#if @U@_DOT_ASM
#define @U@_UNUSED_ __attribute__((unused))
/* The loop of both kernels: an odd quad first, then two quads per step;
 * the quad count comes in register SRC, r12 counts the steps. */
#define @U@_DOT_LOOP_(SRC, QUAD)                                                 \
  "lsrs r12, " SRC ", #1\n\t"                                                     \
  "bcc 1f\n\t"                                                                   \
  QUAD                                                                           \
  "1:\n\t"                                                                       \
  "cmp r12, #0\n\t"                                                              \
  "beq 3f\n\t"                                                                   \
  "2:\n\t"                                                                       \
  QUAD                                                                           \
  QUAD                                                                           \
  "subs r12, r12, #1\n\t"                                                        \
  "bne 2b\n\t"                                                                   \
  "3:\n\t"
#define @U@_DOT2X2_QUAD_                                                            \
  "ldm r0!, {r8, r9, r10, r11}\n\t"                                              \
  "ldr lr, [r1], #4\n\t"                                                         \
  "sxtb16 r3, lr\n\t"                                                            \
  "sxtb16 lr, lr, ror #8\n\t"                                                    \
  "smlad r4, r8, r3, r4\n\t"                                                     \
  "smlad r4, r9, lr, r4\n\t"                                                     \
  "smlad r6, r10, r3, r6\n\t"                                                    \
  "smlad r6, r11, lr, r6\n\t"                                                    \
  "ldr lr, [r2], #4\n\t"                                                         \
  "sxtb16 r3, lr\n\t"                                                            \
  "sxtb16 lr, lr, ror #8\n\t"                                                    \
  "smlad r5, r8, r3, r5\n\t"                                                     \
  "smlad r5, r9, lr, r5\n\t"                                                     \
  "smlad r7, r10, r3, r7\n\t"                                                    \
  "smlad r7, r11, lr, r7\n\t"
__attribute__((naked, noinline, unused)) static void @P@_dot2x2_q8(const int16_t *cols @U@_UNUSED_,
                                                                   const int8_t *w0 @U@_UNUSED_,
                                                                   const int8_t *w1 @U@_UNUSED_,
                                                                   int32_t *acc @U@_UNUSED_,
                                                                   uint32_t quads @U@_UNUSED_) {
  __asm__(
      "push {r3, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
      "ldr r12, [sp, #40]\n\t"
      "ldm r3, {r4, r5, r6, r7}\n\t"
      @U@_DOT_LOOP_("r12", @U@_DOT2X2_QUAD_)
      "pop {r3}\n\t"
      "stm r3, {r4, r5, r6, r7}\n\t"
      "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#define @U@_DOT1X4_QUAD_                                                            \
  "ldm r0!, {r2, r3}\n\t"                                                        \
  "ldm r1!, {r4, r5, r6, r11}\n\t"                                               \
  "sxtb16 lr, r4, ror #8\n\t"                                                    \
  "smlad r7, r2, r4, r7\n\t"                                                     \
  "smlad r7, r3, lr, r7\n\t"                                                     \
  "sxtb16 lr, r5, ror #8\n\t"                                                    \
  "smlad r8, r2, r5, r8\n\t"                                                     \
  "smlad r8, r3, lr, r8\n\t"                                                     \
  "sxtb16 lr, r6, ror #8\n\t"                                                    \
  "smlad r9, r2, r6, r9\n\t"                                                     \
  "smlad r9, r3, lr, r9\n\t"                                                     \
  "sxtb16 lr, r11, ror #8\n\t"                                                   \
  "smlad r10, r2, r11, r10\n\t"                                                  \
  "smlad r10, r3, lr, r10\n\t"
__attribute__((naked, noinline, unused)) static void @P@_dot1x4_q8x(const uint32_t *x @U@_UNUSED_,
                                                                    const int8_t *w @U@_UNUSED_,
                                                                    int32_t *acc @U@_UNUSED_,
                                                                    uint32_t quads @U@_UNUSED_) {
  __asm__(
      "push {r2, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
      "ldm r2, {r7, r8, r9, r10}\n\t"
      @U@_DOT_LOOP_("r3", @U@_DOT1X4_QUAD_)
      "pop {r2}\n\t"
      "stm r2, {r7, r8, r9, r10}\n\t"
      "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#undef @U@_DOT1X4_QUAD_
#undef @U@_DOT2X2_QUAD_
#undef @U@_DOT_LOOP_
#undef @U@_UNUSED_
#else
@U@_INLINE void @P@_dot2x2_q8(const int16_t *cols, const int8_t *w0, const int8_t *w1, int32_t *acc,
                              uint32_t quads) {
  int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
  uint32_t q;
  for (q = 0; q < quads; ++q, cols += 8, w0 += 4, w1 += 4) {
    const int32_t a0 = cols[0], a2 = cols[1], a1 = cols[2], a3 = cols[3];
    const int32_t b0 = cols[4], b2 = cols[5], b1 = cols[6], b3 = cols[7];
    const int32_t u0 = w0[0], u1 = w0[1], u2 = w0[2], u3 = w0[3];
    const int32_t v0 = w1[0], v1 = w1[1], v2 = w1[2], v3 = w1[3];
    s00 += a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3;
    s01 += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3;
    s10 += b0 * u0 + b1 * u1 + b2 * u2 + b3 * u3;
    s11 += b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3;
  }
  acc[0] = s00;
  acc[1] = s01;
  acc[2] = s10;
  acc[3] = s11;
}
@U@_INLINE void @P@_dot1x4_q8x(const uint32_t *x, const int8_t *w, int32_t *acc, uint32_t quads) {
  uint32_t q;
  int r;
  for (q = 0; q < quads; ++q, x += 2)
    for (r = 0; r < 4; ++r, w += 4) {
      uint32_t word;
      memcpy(&word, w, 4);
      acc[r] = @P@_smlad(x[0], word, acc[r]);
      acc[r] = @P@_smlad(x[1], @P@_sxtb16_ror8(word), acc[r]);
    }
}
#endif

#endif /* @U@_TARGET_H_ */
)";

}  // namespace

std::string target_header_filename(const std::string &name) { return name + "_target.h"; }

std::string generate_target_header(const std::string &name, const TargetInfo &t, const TargetHeaderOptions &o) {
  if (!is_c_identifier(name))
    throw std::invalid_argument("target header: '" + name + "' is not a C identifier");
  std::string weights = o.weights_section.value_or(".rodata." + name + "_weights");
  std::string arena = o.arena_section.value_or(".bss." + name + "_arena");
  check_section(weights, "weights");
  check_section(arena, "arena");
  const std::string U = upper(name);

  std::string h;
  h += "/* " + name + "_target.h -- generated by tmc. Do not edit.\n";
  h += " * Target " + comment(t.description) + "\n";
  if (!t.gcc_flags.empty()) h += " * Compile with: " + comment(t.gcc_flags) + "\n";
  h += " * C99 (also usable from C++); needs only <stdint.h> and <string.h>. Every symbol starts\n";
  h += " * with " + U + "_ (macros) or " + name + "_ (functions). */\n";
  h += "#ifndef " + U + "_TARGET_H_\n#define " + U + "_TARGET_H_\n\n#include <stdint.h>\n#include <string.h>\n\n";
  h += "/* Optional user configuration, included first (profiling hook, attribute\n";
  h += " * overrides): -D" + U + "_CONFIG_HEADER='\"my_config.h\"' */\n";
  h += "#ifdef " + U + "_CONFIG_HEADER\n#include " + U + "_CONFIG_HEADER\n#endif\n\n";

  auto def = [&](const std::string &macro, const std::string &value, const std::string &note = "") {
    std::string line = "#define " + U + "_" + macro + " " + value;
    if (!note.empty()) line += std::string(line.size() < 40 ? 40 - line.size() : 1, ' ') + "/* " + note + " */";
    h += line + "\n";
  };
  auto flag = [](bool b) { return std::string(b ? "1" : "0"); };
  auto bytes = [](uint64_t n) { return std::to_string(n) + "UL"; };

  h += "/* ---- Target description ------------------------------------------------- */\n";
  def("TARGET_NAME", c_string(t.name));
  def("TARGET_CORE", c_string(t.core));
  def("TARGET_IS_BOARD", flag(t.is_board()));
  def("TARGET_ARCH", c_string(targets::to_string(t.arch)), "\"host\", \"arm\" or \"riscv\"");
  def("ARCH_HOST", flag(t.arch == Arch::Host));
  def("ARCH_ARM", flag(t.arch == Arch::Arm));
  def("ARCH_RISCV", flag(t.arch == Arch::RiscV));
  def("TARGET_CPU", c_string(t.llvm_cpu), "LLVM CPU name");
  def("TARGET_TRIPLE", c_string(t.llvm_triple), "LLVM triple (\"\": host)");
  def("TARGET_CFLAGS", c_string(t.gcc_flags), "cross-compiler flags");
  def("TARGET_FLASH_BYTES", bytes(t.flash_bytes), "flash budget, 0 = unknown");
  def("TARGET_RAM_BYTES", bytes(t.ram_bytes), "RAM budget, 0 = unknown");
  def("HAS_DSP", flag(t.dsp), "ARM DSP extension (SMLAD...)");
  def("HAS_FPU", flag(t.has_fpu()), "hardware float");
  def("FPU_DOUBLE", flag(t.fpu == FpuKind::Double), "hardware double");
  def("HARD_FLOAT", flag(t.hard_float), "float ABI uses FP registers");
  def("HAS_MVE", flag(t.has_mve()), "Helium (MVE) integer");
  def("HAS_MVE_FLOAT", flag(t.mve == MveKind::Float), "Helium (MVE) float");
  def("RISCV_M", flag(t.rv_m));
  def("RISCV_A", flag(t.rv_a));
  def("RISCV_F", flag(t.rv_f));
  def("RISCV_D", flag(t.rv_d));
  def("RISCV_C", flag(t.rv_c));
  def("ALIGN", std::to_string(t.alignment), "buffer alignment in bytes");
  def("KERNEL_VARIANT", c_string(t.default_kernel_variant));
  def("KERNEL_VARIANT_GENERIC", flag(t.default_kernel_variant == "generic"));
  def("KERNEL_VARIANT_DSP", flag(t.default_kernel_variant == "dsp"));
  def("KERNEL_VARIANT_MVE", flag(t.default_kernel_variant == "mve"));

  std::string rest = kPortability;
  replace_all(rest, "@WEIGHTS_SECTION@", weights.empty() ? "" : "@U@_SECTION_(\"" + weights + "\") ");
  replace_all(rest, "@ARENA_SECTION@", arena.empty() ? "" : "@U@_SECTION_(\"" + arena + "\") ");
  replace_all(rest, "@PROFILE_ENABLED@", o.profiling ? "1" : "0");
  replace_all(rest, "@SSAT_CASES@", cases("@U@_SSAT_", 1, 32));
  replace_all(rest, "@USAT_CASES@", cases("@U@_USAT_", 0, 31));
  replace_all(rest, "@PKHBT_CASES@", cases("@U@_PKHBT_", 1, 31));
  replace_all(rest, "@U@", U);
  replace_all(rest, "@P@", name);
  h += rest;
  return h;
}

}  // namespace tmc::codegen
