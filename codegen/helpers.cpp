#include "codegen/helpers.h"

#include <functional>
#include <map>
#include <set>
#include <stdexcept>

namespace tmc::codegen {

static std::map<std::string, HelperDef> &registry() {
  static std::map<std::string, HelperDef> r;
  return r;
}

static void builtin_helpers();

void register_helper(HelperDef def) { registry()[def.key] = std::move(def); }

const HelperDef *find_helper(const std::string &key) {
  builtin_helpers();
  auto it = registry().find(key);
  return it == registry().end() ? nullptr : &it->second;
}

static std::string subst(std::string s, const std::string &prefix) {
  size_t p;
  while ((p = s.find("@P@")) != std::string::npos) s.replace(p, 3, prefix);
  return s;
}

std::string emit_helpers(const std::vector<std::string> &keys, const std::string &prefix) {
  std::set<std::string> done;
  std::string out;
  std::function<void(const std::string &)> visit = [&](const std::string &k) {
    if (done.count(k)) return;
    done.insert(k);
    const HelperDef *h = find_helper(k);
    if (!h) throw std::runtime_error("internal: unknown codegen helper '" + k + "'");
    for (auto &d : h->deps) visit(d);
    out += subst(h->code, prefix);
    out += "\n";
  };
  for (auto &k : keys) visit(k);
  return out;
}

static void builtin_helpers() {
  static bool done = false;
  if (done) return;
  done = true;
  register_helper({"f16_to_f32", R"(static float @P@_h_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  float f;
  if (exp == 0x1fu) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {
      int e = -1;
      do { ++e; man <<= 1; } while ((man & 0x400u) == 0);
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}
)", {}});
  register_helper({"f32_to_f16", R"(static uint16_t @P@_h_f32_to_f16(float f) {
  uint32_t x;
  uint32_t sign, man;
  int32_t exp;
  memcpy(&x, &f, sizeof x);
  sign = (x >> 16) & 0x8000u;
  exp = (int32_t)((x >> 23) & 0xffu);
  man = x & 0x7fffffu;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0u));
  exp = exp - 127 + 15;
  if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) {
    uint32_t shift, half, rounded;
    if (exp < -10) return (uint16_t)sign;
    man |= 0x800000u;
    shift = (uint32_t)(14 - exp);
    half = 1u << (shift - 1);
    rounded = man >> shift;
    if ((man & ((1u << shift) - 1u)) > half || ((man & ((1u << shift) - 1u)) == half && (rounded & 1u))) rounded++;
    return (uint16_t)(sign | rounded);
  } else {
    uint32_t r = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
    return (uint16_t)(sign | r);
  }
}
)", {}});
  register_helper({"bf16_to_f32", R"(static float @P@_h_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}
)", {}});
  register_helper({"f32_to_bf16", R"(static uint16_t @P@_h_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}
)", {}});
}

} // namespace tmc::codegen
