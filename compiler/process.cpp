#include "compiler/process.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <sys/wait.h>

namespace tmc::driver {

std::string shell_quote(const std::string &s) {
  std::string r = "'";
  for (char c : s) {
    if (c == '\'') r += "'\\''";
    else r += c;
  }
  return r + "'";
}

int run_command(const std::string &cmd, std::string *output) {
  std::string full = "exec 2>&1; ( " + cmd + " ) </dev/null";
  FILE *p = popen(full.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    if (output) output->append(buf, n);
  int st = pclose(p);
  if (st == -1) return -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

std::string env_or(const char *var, const char *fallback) {
  const char *v = std::getenv(var);
  return v && *v ? v : fallback;
}

WorkDir::WorkDir(const std::string &tag, const std::string &keep) {
  if (keep.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary folder");
    path_ = tmpl;
    temporary_ = true;
  } else {
    path_ = std::filesystem::absolute(keep);
    std::filesystem::create_directories(path_);
  }
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (temporary_) std::filesystem::remove_all(path_, ec);
}

} // namespace tmc::driver
