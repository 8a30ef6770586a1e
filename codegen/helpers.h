// Shared C helper functions that kernels request by key through
// KernelContext::helper(). Each is emitted once per model, as a static
// function named <prefix>_h_<key>. In the source text, "@P@" stands for the
// model prefix. Kernel families may register their own helpers.
#pragma once
#include <string>
#include <vector>

namespace tmc::codegen {

struct HelperDef {
  std::string key;
  std::string code;              ///< C source with @P@ placeholders
  std::vector<std::string> deps; ///< keys of helpers this one calls
};

void register_helper(HelperDef def);
const HelperDef *find_helper(const std::string &key);
/// All helpers needed for `keys` (with dependencies), in a deterministic
/// order where dependencies come first, with @P@ replaced.
std::string emit_helpers(const std::vector<std::string> &keys, const std::string &prefix);

} // namespace tmc::codegen
