// Running external tools (C compilers, QEMU, binutils) from the driver.
#pragma once
#include <filesystem>
#include <string>

namespace tmc::driver {

/// Quotes `s` for /bin/sh.
std::string shell_quote(const std::string &s);

/// Runs `cmd` through the shell with stdin from /dev/null; stdout and stderr
/// (the outer shell's too, so "Segmentation fault" reaches the log) are
/// appended to *output. Returns the exit status, 128 + signal, or -1.
int run_command(const std::string &cmd, std::string *output);

/// $var if set and non-empty, else `fallback`.
std::string env_or(const char *var, const char *fallback);

/// The build folder of verify/bench: `keep` if given (created, kept), else a
/// fresh temporary folder removed when this object goes away.
class WorkDir {
public:
  /// `tag` names the temporary folder ("tmc-verify-XXXXXX"). Throws
  /// std::runtime_error if it cannot be created.
  WorkDir(const std::string &tag, const std::string &keep);
  ~WorkDir();
  WorkDir(const WorkDir &) = delete;
  WorkDir &operator=(const WorkDir &) = delete;
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
  bool temporary_ = false;
};

} // namespace tmc::driver
