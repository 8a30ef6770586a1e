#!/bin/sh
# Installs the Debian bookworm packages tmc needs to build and test.
# Idempotent: does nothing when every package is already installed.
set -eu
PKGS="build-essential cmake ninja-build pkg-config clang
libonnx-dev libprotobuf-dev protobuf-compiler llvm-14-dev libfmt-dev catch2
python3-onnx python3-numpy python3-torch libonnx-testdata chromium
gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-user"
missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  echo "setup: installing:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
else
  echo "setup: all packages present"
fi
