// Pass: quantize-folding. (To be filled in.)
#include "passes/pass.h"

namespace tmc::passes {
namespace {

class QuantizeFolding : public Pass {
public:
  const char *name() const override { return "quantize-folding"; }
  bool run(ir::Graph &g) override {
    (void)g;
    return false;
  }
};

} // namespace
std::unique_ptr<Pass> create_quantize_folding_pass() { return std::make_unique<QuantizeFolding>(); }
} // namespace tmc::passes
