#include <cctype>

#include "codegen/c_emitter.h"
#include "codegen/host_harness_template.h"

namespace tmc::codegen {

static std::string upper(const std::string &s) {
  std::string r;
  for (char c : s) r += (char)std::toupper((unsigned char)c);
  return r;
}

static std::string substitute(std::string s, const std::string &name) {
  const std::string P = upper(name);
  size_t pos;
  while ((pos = s.find("@PREFIX@")) != std::string::npos) s.replace(pos, 8, P);
  while ((pos = s.find("@prefix@")) != std::string::npos) s.replace(pos, 8, name);
  return s;
}

GeneratedFile generate_host_harness(const CodegenOptions &opts) {
  std::string s = kHostHarnessTemplate;
  // Tracing: switch the template's trace part on (the model must be compiled
  // with trace hooks and the trace hook header as its config header).
  if (opts.trace) s = "#define @PREFIX@_HARNESS_TRACE 1\n" + s;
  return {opts.name + "_harness.c", substitute(s, opts.name)};
}

GeneratedFile generate_trace_hook_header(const CodegenOptions &opts) {
  std::string s =
      "/* Trace hook for a harness (not part of the product): routes the model's\n"
      " * @PREFIX@_TRACE_TENSOR calls to @prefix@_trace_tensor, which the harness defines. */\n"
      "#ifndef @PREFIX@_TRACE_HOOK_H_\n#define @PREFIX@_TRACE_HOOK_H_\n#include <stddef.h>\n"
      "void @prefix@_trace_tensor(const char *name, int dtype, const void *data, size_t bytes);\n"
      "#define @PREFIX@_TRACE_TENSOR(name, dtype, data, bytes) "
      "@prefix@_trace_tensor((name), (dtype), (const void *)(data), (bytes))\n"
      "#endif\n";
  return {opts.name + "_trace_hook.h", substitute(s, opts.name)};
}

} // namespace tmc::codegen
