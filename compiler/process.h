// Running external tools (C compilers, QEMU, binutils) from the driver.
#pragma once
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

} // namespace tmc::driver
