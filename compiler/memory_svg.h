// The memory map picture: schedule steps on x, arena offset on y, one
// labelled rectangle per buffer, the peak marked.
#pragma once
#include <string>

#include "compiler/driver.h"

namespace tmc::driver {
std::string memory_map_svg(const CompileResult &r);
}
