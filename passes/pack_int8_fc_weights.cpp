// Pass: pack-int8-fc-weights. Rearranges the constant int8 weights B[N, K]
// of a tmc::QGemm (int8 A, all quantization parameters and the bias
// constant, B zero points 0, K a multiple of 4, N >= 4) for the fully
// connected micro-kernel (codegen/kernels/int8_fc.cpp, the target header's
// dot1x4_q8x). Layout "N4K4X" (node attribute tmc_weight_layout):
//   * rows are taken in blocks of 4; for each block, each quad of 4 columns
//     stores the 4 rows' 4 bytes one after the other (one LDM loads them);
//     the N % 4 last rows follow in natural order;
//   * the even bytes of every quad (columns 4q and 4q + 2) are stored with
//     their sign bit flipped (w ^ 0x80, i.e. w + 128 as an unsigned byte).
// With the sign-flipped even bytes, a 32-bit word read as two signed
// halfwords is (w0 + 128) + 256 * w1 and (w2 + 128) + 256 * w3, so one SMLAD
// with (a0 + 1, a2 + 1) and one with (a1 + 128 - 256 (a0 + 1), ...) against
// SXTB16(word, ror 8) = (w1, w3) give the four products plus terms the
// kernel removes exactly (see int8_fc.cpp): one sign extension instead of
// two per weight word. The byte count and the values are unchanged.
#include <cstdint>

#include "passes/pass.h"

namespace tmc::passes {
namespace {

bool packable(const ir::Node &n) {
  if (n.domain != "tmc" || n.op != "QGemm" || n.has_attr("tmc_weight_layout")) return false;
  const ir::Value *a = n.input(0), *b = n.input(3), *y = n.output(0);
  if (!a || !b || !y || a->dtype != ir::DType::I8 || b->dtype != ir::DType::I8) return false;
  if (y->dtype != ir::DType::I8 && y->dtype != ir::DType::U8) return false;
  if (a->rank() != 2 || b->rank() != 2 || b->shape[1] != a->shape[1]) return false;
  for (size_t i = 1; i < 9; ++i)
    if (i < n.inputs.size() && n.input(i) && !n.input(i)->is_constant()) return false;
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (!n.input(i)) return false;
  for (int64_t z : n.input(5)->int_values())
    if (z != 0) return false;
  const int64_t K = b->shape[1], N = b->shape[0];
  return K > 0 && K % 4 == 0 && N >= 4 && y->numel() > 0;
}

class PackInt8FcWeights : public Pass {
public:
  const char *name() const override { return "pack-int8-fc-weights"; }
  bool run(ir::Graph &g) override {
    bool changed = false;
    for (auto &np : g.nodes()) {
      ir::Node *n = np.get();
      if (!packable(*n)) continue;
      ir::Value *b = n->input(3);
      const int64_t N = b->shape[0], K = b->shape[1], N4 = (N / 4) * 4;
      const int8_t *src = b->as<int8_t>();
      std::vector<int8_t> out;
      out.reserve((size_t)(N * K));
      auto put = [&](int64_t row, int64_t col) {
        uint8_t v = (uint8_t)src[row * K + col];
        if (col % 2 == 0) v ^= 0x80u;
        out.push_back((int8_t)(v >= 128 ? (int)v - 256 : (int)v));
      };
      for (int64_t nb = 0; nb < N4; nb += 4)
        for (int64_t q = 0; q < K; q += 4)
          for (int64_t r = 0; r < 4; ++r)
            for (int64_t e = 0; e < 4; ++e) put(nb + r, q + e);
      for (int64_t row = N4; row < N; ++row)
        for (int64_t col = 0; col < K; ++col) put(row, col);
      n->inputs[3] = g.add_constant_of<int8_t>(g.unique_name(b->name + "_n4k4x"), ir::DType::I8, {N, K}, out);
      n->attrs["tmc_weight_layout"] = std::string("N4K4X");
      changed = true;
    }
    if (changed) g.remove_unused_values();
    return changed;
  }
};

} // namespace
std::unique_ptr<Pass> create_pack_int8_fc_weights_pass() { return std::make_unique<PackInt8FcWeights>(); }
} // namespace tmc::passes
