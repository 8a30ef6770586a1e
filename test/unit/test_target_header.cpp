// NAME_target.h: contents, C99 cleanliness under gcc/clang (and
// arm-none-eabi-gcc when installed), attributes, profiling hooks, and the DSP
// intrinsics checked bit for bit against a C++ reference on random inputs --
// the portable fallbacks on the host, and the inline-asm fast paths under
// qemu-arm user emulation when it and arm-none-eabi-gcc are installed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "codegen/target_header.h"
#include "targets/target.h"

namespace fs = std::filesystem;
using tmc::codegen::generate_target_header;
using tmc::codegen::TargetHeaderOptions;
using tmc::targets::get_target;

namespace {

const char *kStrict = "-std=c99 -Wall -Wextra -Werror -pedantic";

bool have_tool(const std::string &tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

std::string read_text(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_text(const fs::path &p, const std::string &text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

/// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string &tag) {
    path = fs::temp_directory_path() / ("tmc-target-header-" + tag + "-" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Runs `cmd` in `dir` with stdout+stderr to a log; returns exit status and the log.
int sh(const fs::path &dir, const std::string &cmd, std::string &log) {
  fs::path lp = dir / "cmd.log";
  int rc = std::system(("cd '" + dir.string() + "' && (" + cmd + ") >'" + lp.string() + "' 2>&1").c_str());
  log = read_text(lp);
  return rc;
}

// ---- C++ reference semantics (ARM Architecture Reference Manual) ----------

int64_t s8(uint32_t v) { v &= 0xFF; return v >= 0x80 ? (int64_t)v - 0x100 : (int64_t)v; }
int64_t s16(uint32_t v) { v &= 0xFFFF; return v >= 0x8000 ? (int64_t)v - 0x10000 : (int64_t)v; }
int64_t s32(uint32_t v) { return v >= 0x80000000u ? (int64_t)v - 0x100000000LL : (int64_t)v; }
uint32_t wrap(int64_t v) { return (uint32_t)((uint64_t)v & 0xFFFFFFFFu); }
int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

uint32_t ref_smlad(uint32_t x, uint32_t y, uint32_t acc) {
  return wrap(s16(x) * s16(y) + s16(x >> 16) * s16(y >> 16) + s32(acc));
}
uint32_t ref_sxtb16(uint32_t x) { return (wrap(s8(x)) & 0xFFFF) | ((wrap(s8(x >> 16)) & 0xFFFF) << 16); }
uint32_t ref_sxtb16_ror8(uint32_t x) { return ref_sxtb16((x >> 8) | (x << 24)); }
uint32_t ref_ssat(uint32_t x, unsigned n) {  // documented: 0 acts as 1
  n = std::max(n, 1u);
  if (n >= 32) return x;
  return wrap(clamp(s32(x), -(1LL << (n - 1)), (1LL << (n - 1)) - 1));
}
uint32_t ref_usat(uint32_t x, unsigned n) {  // documented: more than 31 acts as 31
  n = std::min(n, 31u);
  return wrap(clamp(s32(x), 0, (1LL << n) - 1));
}
uint32_t ref_qadd(uint32_t a, uint32_t b) { return wrap(clamp(s32(a) + s32(b), INT32_MIN, INT32_MAX)); }
uint32_t ref_pkhbt(uint32_t a, uint32_t b, unsigned sh) {
  return (a & 0xFFFFu) | (uint32_t)(((uint64_t)b << (sh & 31)) & 0xFFFF0000u);
}

enum Op { SMLAD, SXTB16, SXTB16_ROR8, SSAT_K, USAT_K, QADD, PKHBT_K, SSAT_V, USAT_V, PKHBT_V, RINT, NUM_OPS };

struct Case {
  int op;
  unsigned imm;
  uint32_t a, b, c, expect;
};

std::vector<Case> make_cases(int per_op) {
  std::mt19937 rng(20240531);
  const uint32_t edge32[] = {0u, 1u, 2u, 0x7Fu, 0x80u, 0xFFu, 0x7FFFu, 0x8000u, 0xFFFFu, 0x10000u,
                             0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFFu, 0xFFFFFFFEu,
                             0x80008000u, 0x7FFF7FFFu, 0x80007FFFu, 0x7FFF8000u, 0x807F7F80u,
                             0x40000000u, 0xC0000000u, 0x3FFFFFFFu, 0xBFFFFFFFu};
  const uint16_t edge16[] = {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0xFF80};
  auto value = [&]() -> uint32_t {
    switch (rng() % 4) {
    case 0: return edge32[rng() % (sizeof edge32 / sizeof *edge32)];
    case 1: return (uint32_t)edge16[rng() % 10] | ((uint32_t)edge16[rng() % 10] << 16);
    case 2: {  // near a power of two, either sign
      uint32_t p = 1u << (rng() % 32);
      uint32_t v = p + (uint32_t)(rng() % 5) - 2u;
      return (rng() & 1) ? v : (uint32_t)(0u - v);
    }
    default: return (uint32_t)rng();
    }
  };
  std::vector<Case> cs;
  for (int op = 0; op < NUM_OPS; ++op)
    for (int i = 0; i < per_op; ++i) {
      Case k{op, 0, value(), value(), value(), 0};
      switch (op) {
      case SMLAD: k.expect = ref_smlad(k.a, k.b, k.c); break;
      case SXTB16: k.expect = ref_sxtb16(k.a); break;
      case SXTB16_ROR8: k.expect = ref_sxtb16_ror8(k.a); break;
      case SSAT_K: k.imm = 1 + rng() % 32; k.expect = ref_ssat(k.a, k.imm); break;
      case USAT_K: k.imm = rng() % 32; k.expect = ref_usat(k.a, k.imm); break;
      case QADD: k.expect = ref_qadd(k.a, k.b); break;
      case PKHBT_K: k.imm = rng() % 32; k.expect = ref_pkhbt(k.a, k.b, k.imm); break;
      case SSAT_V: k.imm = rng() % 34; k.expect = ref_ssat(k.a, k.imm); break;      // 0 and 33 included
      case USAT_V: k.imm = rng() % 40; k.expect = ref_usat(k.a, k.imm); break;      // 32..39 included
      case PKHBT_V: k.imm = rng() % 40; k.expect = ref_pkhbt(k.a, k.b, k.imm); break;
      case RINT: {  // |v| <= 2^22: exact rint, ties to even (halves included)
        float v;
        switch (rng() % 3) {
        case 0: v = (float)((int)(rng() % 2001) - 1000) + 0.5f; break;
        case 1: v = (float)((int64_t)(rng() % 8388609u) - 4194304) * ((rng() & 1) ? 1.0f : 0.5f); break;
        default: v = ((float)(rng() % 2000001u) - 1000000.0f) / 997.0f; break;
        }
        std::memcpy(&k.a, &v, 4);
        k.expect = wrap((int64_t)std::nearbyint(v));
        break;
      }
      }
      cs.push_back(k);
    }
  return cs;
}

/// A C99 program that runs every case through the header's intrinsics (with
/// constant bits/shift arguments for the *_K ops) and prints mismatches.
std::string intrinsics_program(const std::string &p, const std::vector<Case> &cs) {
  std::string c = "#include <stdio.h>\n#include \"" + p + "_target.h\"\n\n";
  c += "#define N " + std::to_string(cs.size()) + "\n";
  auto array = [&](const char *type, const char *name, auto get) {
    c += std::string("static const ") + type + " " + name + "[N] = {";
    for (size_t i = 0; i < cs.size(); ++i) c += (i % 8 ? " " : "\n  ") + std::to_string(get(cs[i])) + "u,";
    c += "\n};\n";
  };
  array("unsigned char", "OP", [](const Case &k) { return (uint32_t)k.op; });
  array("unsigned char", "IMM", [](const Case &k) { return k.imm; });
  array("uint32_t", "A", [](const Case &k) { return k.a; });
  array("uint32_t", "B", [](const Case &k) { return k.b; });
  array("uint32_t", "C", [](const Case &k) { return k.c; });
  array("uint32_t", "E", [](const Case &k) { return k.expect; });
  auto sw = [&](const char *fn, const std::string &call, int lo, int hi) {
    c += std::string("static uint32_t ") + fn + "(unsigned imm, uint32_t a, uint32_t b) {\n  (void)b;\n  switch (imm) {\n";
    for (int n = lo; n <= hi; ++n) {
      std::string e = call;
      e.replace(e.find("IMM"), 3, std::to_string(n));
      c += "  case " + std::to_string(n) + ": return " + e + ";\n";
    }
    c += "  default: return 0xDEADBEEFu;\n  }\n}\n";
  };
  sw("ssat_k", "(uint32_t)" + p + "_ssat(" + p + "_u2i_(a), IMM)", 1, 32);
  sw("usat_k", p + "_usat(" + p + "_u2i_(a), IMM)", 0, 31);
  sw("pkhbt_k", p + "_pkhbt(a, b, IMM)", 0, 31);
  c += R"(
static unsigned opaque(unsigned v) { volatile unsigned x = v; return x; }

static uint32_t run(unsigned op, unsigned imm, uint32_t a, uint32_t b, uint32_t c) {
  switch (op) {
  case 0: return (uint32_t)@P@_smlad(a, b, @P@_u2i_(c));
  case 1: return @P@_sxtb16(a);
  case 2: return @P@_sxtb16_ror8(a);
  case 3: return ssat_k(imm, a, b);
  case 4: return usat_k(imm, a, b);
  case 5: return (uint32_t)@P@_qadd(@P@_u2i_(a), @P@_u2i_(b));
  case 6: return pkhbt_k(imm, a, b);
  case 7: return (uint32_t)@P@_ssat(@P@_u2i_(a), opaque(imm));
  case 8: return @P@_usat(@P@_u2i_(a), opaque(imm));
  case 9: return @P@_pkhbt(a, b, opaque(imm));
  case 10: { float v; memcpy(&v, &a, 4); return (uint32_t)@P@_rint_s32(v); }
  default: return 0xDEADBEEFu;
  }
}

/* dot2x2_q8 (assembly on DSP cores) against plain C on pseudo-random data,
 * 1..9 quads, extreme values included. */
static unsigned long check_dot(void) {
  static int16_t cols[8 * 9];
  static int8_t w[2][4 * 9];
  unsigned long bad = 0, seed = 12345u;
  unsigned quads, rep, t;
  for (rep = 0; rep < 200; ++rep)
    for (quads = 1; quads <= 9; ++quads) {
      int32_t acc[4], ref[4];
      for (t = 0; t < 8 * quads; ++t) {
        seed = seed * 1103515245u + 12345u;
        cols[t] = (int16_t)((rep % 7 == 0) ? ((seed >> 16) & 1 ? 127 : -128) : (int)((seed >> 16) % 256u) - 128);
      }
      for (t = 0; t < 4 * quads; ++t) {
        seed = seed * 1103515245u + 12345u;
        w[0][t] = (int8_t)((int)((seed >> 16) % 256u) - 128);
        w[1][t] = (int8_t)((rep % 5 == 0) ? -128 : (int)((seed >> 8) % 256u) - 128);
      }
      for (t = 0; t < 4; ++t) acc[t] = ref[t] = (int32_t)(seed % 100000u) - 50000 + (int32_t)t;
      for (t = 0; t < quads; ++t) {
        const int16_t *c = cols + 8 * t;
        unsigned j;
        for (j = 0; j < 2; ++j) {
          const int8_t *r = w[j] + 4 * t;
          ref[j] += c[0] * r[0] + c[2] * r[1] + c[1] * r[2] + c[3] * r[3];
          ref[2 + j] += c[4] * r[0] + c[6] * r[1] + c[5] * r[2] + c[7] * r[3];
        }
      }
      @P@_dot2x2_q8(cols, w[0], w[1], acc, quads);
      for (t = 0; t < 4; ++t)
        if (acc[t] != ref[t]) ++bad;
    }
  return bad;
}

/* dot1x4_q8x against plain C: per quad and row, SMLAD(X1, W) + SMLAD(X2,
 * SXTB16(W, ror 8)) with halfwords and bytes sign-extended by hand. */
static long long sx16(uint32_t v) { v &= 0xFFFFu; return v >= 0x8000u ? (long long)v - 0x10000 : (long long)v; }
static long long sx8(uint32_t v) { v &= 0xFFu; return v >= 0x80u ? (long long)v - 0x100 : (long long)v; }
static unsigned long check_dot1x4(void) {
  static uint32_t x[2 * 9];
  static int8_t w[16 * 9];
  unsigned long bad = 0, seed = 777u;
  unsigned quads, rep, t, r;
  for (rep = 0; rep < 200; ++rep)
    for (quads = 1; quads <= 9; ++quads) {
      int32_t acc[4];
      long long ref[4];
      for (t = 0; t < 2 * quads; ++t) {
        seed = seed * 1103515245u + 12345u;
        x[t] = (uint32_t)seed ^ ((uint32_t)seed << 13);
        if (rep % 9 == 0) x[t] = (t & 1) ? 0x80008000u : 0x7FFF7FFFu;
      }
      for (t = 0; t < 16 * quads; ++t) {
        seed = seed * 1103515245u + 12345u;
        w[t] = (int8_t)((int)((seed >> 16) % 256u) - 128);
      }
      for (r = 0; r < 4; ++r) acc[r] = (int32_t)(seed % 1000u) - 500 + (int32_t)r, ref[r] = acc[r];
      for (t = 0; t < quads; ++t)
        for (r = 0; r < 4; ++r) {
          const int8_t *b = w + 16 * t + 4 * r;
          const uint32_t W = (uint32_t)(uint8_t)b[0] | ((uint32_t)(uint8_t)b[1] << 8) |
                             ((uint32_t)(uint8_t)b[2] << 16) | ((uint32_t)(uint8_t)b[3] << 24);
          ref[r] += sx16(x[2 * t]) * sx16(W) + sx16(x[2 * t] >> 16) * sx16(W >> 16);
          ref[r] += sx16(x[2 * t + 1]) * sx8(W >> 8) + sx16(x[2 * t + 1] >> 16) * sx8(W >> 24);
        }
      @P@_dot1x4_q8x(x, w, acc, quads);
      for (r = 0; r < 4; ++r)
        if ((uint32_t)acc[r] != (uint32_t)(unsigned long long)ref[r]) ++bad;
    }
  return bad;
}

int main(void) {
  unsigned long i, bad = 0, dot_bad = check_dot() + check_dot1x4();
  printf("dot2x2/dot1x4 %lu mismatches, dot asm %d\n", dot_bad, (int)@U@_DOT_ASM);
  bad += dot_bad;
  for (i = 0; i < N; ++i) {
    uint32_t r = run(OP[i], IMM[i], A[i], B[i], C[i]);
    if (r != E[i]) {
      if (bad < 20)
        printf("MISMATCH op %u imm %u a %08lx b %08lx c %08lx: got %08lx expected %08lx\n", (unsigned)OP[i],
               (unsigned)IMM[i], (unsigned long)A[i], (unsigned long)B[i], (unsigned long)C[i],
               (unsigned long)r, (unsigned long)E[i]);
      ++bad;
    }
  }
  printf("checked %lu cases, %lu mismatches, dsp asm %d, fpu asm %d\n", (unsigned long)N, bad, (int)@U@_DSP_ASM,
         (int)@U@_FPU_ASM);
  return bad != 0;
}
)";
  std::string U = p;
  std::transform(U.begin(), U.end(), U.begin(), [](unsigned char ch) { return (char)std::toupper(ch); });
  for (size_t pos; (pos = c.find("@P@")) != std::string::npos;) c.replace(pos, 3, p);
  for (size_t pos; (pos = c.find("@U@")) != std::string::npos;) c.replace(pos, 3, U);
  return c;
}

/// A program using every non-intrinsic facility of the header.
const char *kUseProgram = R"(#include <stdio.h>
static unsigned long tt_begin_count, tt_end_count, tt_layer_sum;
static void tt_profile(int event, int layer) {
  if (event == 0) ++tt_begin_count; else ++tt_end_count;
  tt_layer_sum += (unsigned long)layer;
}
#define TT_PROFILE_HOOK(event, layer_index) tt_profile((event), (layer_index))
#include "tt_target.h"

static const float tt_weights[4] TT_WEIGHTS_ATTR = {1.0f, 2.0f, 3.0f, 4.0f};
static unsigned char tt_arena[64] TT_ARENA_ATTR;

static void tt_copy(float *TT_RESTRICT dst, const float *TT_RESTRICT src, int n) {
  int i;
  for (i = 0; i < n; ++i) dst[i] = src[i];
}
TT_INLINE int tt_twice(int x) { return 2 * x; }

int main(void) {
  float out[4];
  int layer;
  (void)tt_profile; /* unused when profiling is off */
  for (layer = 0; layer < 3; ++layer) {
    TT_PROFILE_BEGIN(layer);
    tt_copy(out, tt_weights, 4);
    tt_arena[layer] = (unsigned char)tt_twice(layer);
    TT_PROFILE_END(layer);
  }
  if (__alignof__(tt_arena) < TT_ALIGN || __alignof__(tt_weights) < TT_ALIGN) return 2;
  printf("target %s align %d dsp %d fpu %d profile %lu %lu %lu out %g arena %d\n", TT_TARGET_NAME, TT_ALIGN,
         TT_HAS_DSP, TT_HAS_FPU, tt_begin_count, tt_end_count, tt_layer_sum, (double)out[3], tt_arena[2]);
  return 0;
}
)";

std::vector<std::string> host_compilers() {
  std::vector<std::string> v;
  for (const char *cc : {"gcc", "clang"})
    if (have_tool(cc)) v.push_back(cc);
  return v;
}

}  // namespace

TEST_CASE("target header: feature macros follow the target", "[target_header]") {
  std::string h = generate_target_header("kws", get_target("nucleo-l4r5zi"), {});
  CHECK(h.find("#ifndef KWS_TARGET_H_\n#define KWS_TARGET_H_\n") != std::string::npos);
  CHECK(h.find("#define KWS_TARGET_NAME \"nucleo-l4r5zi\"") != std::string::npos);
  CHECK(h.find("#define KWS_TARGET_CORE \"cortex-m4\"") != std::string::npos);
  CHECK(h.find("#define KWS_HAS_DSP 1") != std::string::npos);
  CHECK(h.find("#define KWS_HAS_FPU 1") != std::string::npos);
  CHECK(h.find("#define KWS_FPU_DOUBLE 0") != std::string::npos);
  CHECK(h.find("#define KWS_HAS_MVE 0") != std::string::npos);
  CHECK(h.find("#define KWS_ALIGN 8") != std::string::npos);
  CHECK(h.find("#define KWS_KERNEL_VARIANT \"dsp\"") != std::string::npos);
  CHECK(h.find("#define KWS_TARGET_FLASH_BYTES 2097152UL") != std::string::npos);
  CHECK(h.find("#define KWS_TARGET_RAM_BYTES 655360UL") != std::string::npos);
  CHECK(h.find("KWS_SECTION_(\".rodata.kws_weights\")") != std::string::npos);
  CHECK(h.find("KWS_SECTION_(\".bss.kws_arena\")") != std::string::npos);
  CHECK(h.find("#define KWS_PROFILE_ENABLED 0") != std::string::npos);

  std::string m55 = generate_target_header("net", get_target("cortex-m55"), {});
  CHECK(m55.find("#define NET_HAS_MVE 1") != std::string::npos);
  CHECK(m55.find("#define NET_HAS_MVE_FLOAT 1") != std::string::npos);
  CHECK(m55.find("#define NET_ALIGN 16") != std::string::npos);
  CHECK(m55.find("#define NET_KERNEL_VARIANT_MVE 1") != std::string::npos);

  std::string rv = generate_target_header("net", get_target("rv32imafc"), {});
  CHECK(rv.find("#define NET_ARCH_RISCV 1") != std::string::npos);
  CHECK(rv.find("#define NET_RISCV_F 1") != std::string::npos);
  CHECK(rv.find("#define NET_RISCV_D 0") != std::string::npos);
  CHECK(rv.find("#define NET_HAS_DSP 0") != std::string::npos);

  std::string host = generate_target_header("Model_1", get_target("host"), {});
  CHECK(host.find("#define MODEL_1_ARCH_HOST 1") != std::string::npos);
  CHECK(host.find("Model_1_smlad(") != std::string::npos);
}

TEST_CASE("target header: options, validation, determinism, prefixing", "[target_header]") {
  const auto &t = get_target("cortex-m7");
  TargetHeaderOptions o;
  o.weights_section = ".flash_weights";
  o.arena_section = "";
  o.profiling = true;
  std::string h = generate_target_header("m", t, o);
  CHECK(h.find("#define M_WEIGHTS_ATTR M_SECTION_(\".flash_weights\") M_ALIGNED(M_ALIGN)") != std::string::npos);
  CHECK(h.find("#define M_ARENA_ATTR M_ALIGNED(M_ALIGN)") != std::string::npos);
  CHECK(h.find("#define M_PROFILE_ENABLED 1") != std::string::npos);
  CHECK(h == generate_target_header("m", t, o));
  CHECK(tmc::codegen::target_header_filename("kws") == "kws_target.h");

  CHECK_THROWS_AS(generate_target_header("1bad", t, {}), std::invalid_argument);
  CHECK_THROWS_AS(generate_target_header("bad-name", t, {}), std::invalid_argument);
  TargetHeaderOptions evil;
  evil.weights_section = ".x\") int y; (\"";
  CHECK_THROWS_AS(generate_target_header("m", t, evil), std::invalid_argument);

  // Every macro defined and every function declared carries the prefix.
  std::regex def_re(R"(#\s*define\s+([A-Za-z_][A-Za-z0-9_]*))");
  for (auto it = std::sregex_iterator(h.begin(), h.end(), def_re); it != std::sregex_iterator(); ++it)
    CHECK((*it)[1].str().rfind("M_", 0) == 0);
  std::regex fn_re(R"(\nM_(?:INLINE|INTRINSIC)\s+\w+\s+(\w+)\s*\()");
  int functions = 0;
  for (auto it = std::sregex_iterator(h.begin(), h.end(), fn_re); it != std::sregex_iterator(); ++it, ++functions)
    CHECK((*it)[1].str().rfind("m_", 0) == 0);
  CHECK(functions >= 9);
}

TEST_CASE("target header: compiles cleanly; attributes and profiling hooks work", "[target_header][cc]") {
  auto ccs = host_compilers();
  if (ccs.empty()) {
    FAIL("no host C compiler: scripts/setup.sh installs it; the test cannot run without it");
  }
  TempDir dir("use");
  write_text(dir.path / "use.c", kUseProgram);
  for (const char *target : {"host", "nucleo-l4r5zi", "cortex-m55", "rv32imc"})
    for (bool profiling : {false, true}) {
      TargetHeaderOptions o;
      o.profiling = profiling;
      write_text(dir.path / "tt_target.h", generate_target_header("tt", get_target(target), o));
      for (const std::string &cc : ccs) {
        INFO(cc << ", target " << target << ", profiling " << profiling);
        std::string log;
        REQUIRE(sh(dir.path, cc + " " + kStrict + " -O1 use.c -o use && ./use", log) == 0);
        INFO(log);
        std::string align = target == std::string("cortex-m55") ? "16" : "8";
        CHECK(log.find(std::string("target ") + target + " align " + align) != std::string::npos);
        CHECK(log.find(profiling ? "profile 3 3 6" : "profile 0 0 0") != std::string::npos);
        CHECK(log.find("out 4 arena 4") != std::string::npos);
        // Sections land in the object file (ELF hosts).
        if (have_tool("readelf")) {
          REQUIRE(sh(dir.path, cc + " " + kStrict + " -O0 -c use.c -o use.o && readelf -S -W use.o", log) == 0);
          CHECK(log.find(".rodata.tt_weights") != std::string::npos);
          CHECK(log.find(".bss.tt_arena") != std::string::npos);
        }
      }
      // Also valid C++ (the kernels may be compiled by a C++ compiler).
      if (have_tool("g++")) {
        std::string log;
        write_text(dir.path / "use.cpp", "#include \"tt_target.h\"\nint main() { return (int)tt_qadd(1, 2) - 3; }\n");
        int rc = sh(dir.path, "g++ -std=c++11 -Wall -Wextra -Werror -pedantic use.cpp -o usecpp && ./usecpp", log);
        INFO("g++ " << target << "\n" << log);
        CHECK(rc == 0);
      }
    }
  // Overrides before inclusion win; NO_SECTIONS keeps only the alignment.
  if (!have_tool("readelf")) return;
  write_text(dir.path / "tt_target.h", generate_target_header("tt", get_target("host"), {}));
  std::string log;
  CHECK(sh(dir.path, ccs[0] + " " + kStrict + " -DTT_NO_SECTIONS -c use.c -o use.o && readelf -S -W use.o | grep -c tt_ || true", log) == 0);
  CHECK(log.find("0") == 0);
  CHECK(sh(dir.path, ccs[0] + " " + kStrict + " '-DTT_WEIGHTS_ATTR=__attribute__((section(\".mine\")))' -c use.c -o use.o && readelf -S -W use.o", log) == 0);
  CHECK(log.find(".mine") != std::string::npos);
}

TEST_CASE("target header: portable intrinsics match the ARM instructions bit for bit", "[target_header][cc]") {
  auto ccs = host_compilers();
  if (ccs.empty()) {
    FAIL("no host C compiler: scripts/setup.sh installs it; the test cannot run without it");
  }
  TempDir dir("intrin");
  auto cases = make_cases(2000);
  write_text(dir.path / "ti_target.h", generate_target_header("ti", get_target("nucleo-l4r5zi"), {}));
  write_text(dir.path / "intrin.c", intrinsics_program("ti", cases));
  for (const std::string &cc : ccs)
    for (const char *opt : {"-O0", "-O2"}) {
      std::string log;
      int rc = sh(dir.path, cc + " " + kStrict + " " + opt + " intrin.c -o intrin && ./intrin", log);
      INFO(cc << " " << opt << "\n" << log);
      CHECK(rc == 0);
      CHECK(log.find("checked " + std::to_string(cases.size()) + " cases, 0 mismatches, dsp asm 0") !=
            std::string::npos);
    }
  // Under UBSan the portable code must not rely on undefined behaviour.
  if (have_tool("gcc")) {
    std::string log;
    int rc = sh(dir.path,
                std::string("gcc ") + kStrict + " -O1 -fsanitize=undefined -fno-sanitize-recover=all intrin.c -o intrin_ub && ./intrin_ub",
                log);
    INFO(log);
    CHECK(rc == 0);
  }
}

TEST_CASE("target header: arm-none-eabi-gcc builds it; asm fast paths match under qemu-arm", "[target_header][arm]") {
  if (!have_tool("arm-none-eabi-gcc")) {
    FAIL("arm-none-eabi-gcc not installed: scripts/setup.sh installs it; the test cannot run without it");
  }
  TempDir dir("arm");
  auto cases = make_cases(1000);
  write_text(dir.path / "ti_target.h", generate_target_header("ti", get_target("nucleo-l4r5zi"), {}));
  write_text(dir.path / "intrin.c", intrinsics_program("ti", cases));
  write_text(dir.path / "use.c", kUseProgram);
  std::string log;

  // Every ARM target's own flags, with and without optimisation.
  for (const auto &t : tmc::targets::all_targets()) {
    if (t.arch != tmc::targets::Arch::Arm || t.kind != tmc::targets::TargetKind::Core) continue;
    write_text(dir.path / "tt_target.h", generate_target_header("tt", t, {}));
    for (const char *opt : {"-O0", "-O2"}) {
      std::string cmd = "arm-none-eabi-gcc " + t.gcc_flags + " " + kStrict + " " + opt +
                        " -c intrin.c -o intrin.o && arm-none-eabi-gcc " + t.gcc_flags + " " + kStrict + " " + opt +
                        " -c use.c -o use.o";
      int rc = sh(dir.path, cmd, log);
      INFO(t.name << " " << opt << "\n" << log);
      CHECK(rc == 0);
    }
  }

  // On a DSP core at -O2 every intrinsic is its instruction.
  const auto &m4 = get_target("cortex-m4");
  int rc = sh(dir.path, "arm-none-eabi-gcc " + m4.gcc_flags + " " + kStrict + " -O2 -S intrin.c -o intrin.s", log);
  INFO(log);
  REQUIRE(rc == 0);
  std::string s = read_text(dir.path / "intrin.s");
  for (const char *insn : {"smlad", "sxtb16", "ssat", "usat", "qadd", "pkhbt", "vcvtr.s32.f32", "ldm"}) {
    INFO(insn);
    CHECK(s.find(std::string("\t") + insn) != std::string::npos);
  }

  // Run the fast paths (and, forced, the fallbacks) under qemu-arm user
  // emulation. qemu-arm cannot load M-profile bare-metal images, so use an
  // Armv7-A Thumb-2 build: the same DSP instructions, with semihosting I/O.
  if (!have_tool("qemu-arm")) {
    FAIL("qemu-arm not installed: scripts/setup.sh installs it; the test cannot run without it");
  }
  // softfp: the FPU instructions (VCVTR for rint_s32) with the soft-float
  // calling convention, so the soft-float libraries link.
  struct Config { const char *flags, *want; };
  for (const Config &cf : {Config{"-mfloat-abi=soft", "dsp asm 1, fpu asm 0"},
                           Config{"-mfloat-abi=soft -DTI_NO_DSP_ASM", "dsp asm 0, fpu asm 0"},
                           Config{"-mfloat-abi=softfp -mfpu=vfpv3-d16", "dsp asm 1, fpu asm 1"}}) {
    std::string cmd = std::string("arm-none-eabi-gcc -march=armv7-a -mthumb --specs=rdimon.specs ") + cf.flags + " " +
                      kStrict + " -O2 intrin.c -o intrin.elf && qemu-arm -cpu max ./intrin.elf";
    int rc = sh(dir.path, cmd, log);
    INFO(cmd << "\n" << log);
    CHECK(rc == 0);
    std::string want = "checked " + std::to_string(cases.size()) + " cases, 0 mismatches, " + cf.want;
    CHECK(log.find(want) != std::string::npos);
    std::string dot = std::string("dot2x2/dot1x4 0 mismatches, dot asm ") + (std::string(cf.want).find("dsp asm 1") == 0 ? "1" : "0");
    CHECK(log.find(dot) != std::string::npos);
  }
}
