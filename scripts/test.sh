#!/bin/sh
# The whole test suite on a fresh Debian bookworm machine: install what is
# missing, build, run every CTest test (unit, CLI, samples, ONNX conformance).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
cd "$ROOT/build"
ctest -j "$(nproc)" --output-on-failure "$@"
