#!/bin/sh
# Installs the Debian bookworm packages tmc needs to build and test.
# Idempotent: does nothing when every package is already installed.
set -eu
PKGS="build-essential cmake ninja-build pkg-config clang
libonnx-dev libprotobuf-dev protobuf-compiler llvm-14-dev libfmt-dev catch2 zlib1g-dev
python3-onnx python3-numpy python3-torch python3-sklearn libonnx-testdata chromium
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

# ONNX Runtime, the reference implementation for golden outputs
# (scripts/ort_run.js), from the npm registry into .deps/ort. The CPU binary
# ships inside the package, so no install scripts run. Node.js comes from
# Debian when the machine has none.
ORT_VERSION=1.30.0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ORT_PKG="$ROOT/.deps/ort/node_modules/onnxruntime-node/package.json"
if [ -f "$ORT_PKG" ] && grep -q "\"version\": \"$ORT_VERSION\"" "$ORT_PKG"; then
  echo "setup: onnxruntime-node $ORT_VERSION present"
else
  echo "setup: installing onnxruntime-node $ORT_VERSION (npm)"
  mkdir -p "$ROOT/.deps/ort"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$ROOT/.deps/ort" "onnxruntime-node@$ORT_VERSION"
fi
