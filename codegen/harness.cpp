#include "codegen/c_emitter.h"
#include "codegen/host_harness_template.h"

namespace tmc::codegen {

GeneratedFile generate_host_harness(const CodegenOptions &opts) {
  std::string s = kHostHarnessTemplate;
  std::string P;
  for (char c : opts.name) P += (char)std::toupper((unsigned char)c);
  size_t pos;
  while ((pos = s.find("@PREFIX@")) != std::string::npos) s.replace(pos, 8, P);
  while ((pos = s.find("@prefix@")) != std::string::npos) s.replace(pos, 8, opts.name);
  return {opts.name + "_harness.c", s};
}

} // namespace tmc::codegen
