// Pass: layout-channels-last. (To be filled in.)
#include "passes/pass.h"

namespace tmc::passes {
namespace {

class LayoutChannelsLast : public Pass {
public:
  const char *name() const override { return "layout-channels-last"; }
  bool run(ir::Graph &g) override {
    (void)g;
    return false;
  }
};

} // namespace
std::unique_ptr<Pass> create_layout_channels_last_pass() { return std::make_unique<LayoutChannelsLast>(); }
} // namespace tmc::passes
