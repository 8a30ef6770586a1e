#!/bin/sh
# The main job on a fresh Debian bookworm machine: install what is missing,
# build tmc, compile the bundled sample model to C, build that C with the host
# compiler, run it on the bundled input, and print the output and memory figures.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:-cnn_bn}
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
OUT="$ROOT/out/$MODEL"
echo "== tmc compile samples/models/$MODEL.onnx"
"$ROOT/build/compiler/tmc" compile "$ROOT/samples/models/$MODEL.onnx" -o "$OUT"
echo "== weights and code of the generated C (host gcc -O2):"
UPPER=$(echo "$MODEL" | tr 'a-z' 'A-Z')
cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic -c "$OUT/$MODEL.c" -o "$OUT/$MODEL.o"
size "$OUT/$MODEL.o"
cc -std=c99 -O2 -Wall -Wextra -I"$OUT" -DTMC_MODEL_HEADER="\"$MODEL.h\"" -DTMC_PREFIX="$MODEL" \
   -DTMC_PREFIX_UPPER="$UPPER" "$ROOT/samples/host_demo/main.c" "$OUT/$MODEL.o" -o "$OUT/demo" -lm
echo "== run on samples/models/$MODEL.input.npy"
"$OUT/demo" "$ROOT/samples/models/$MODEL.input.npy"
echo "== memory report ($OUT/$MODEL.report.json):"
/usr/bin/python3 - "$OUT/$MODEL.report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("  arena %(arena_bytes)d B | lower bound %(lower_bound_bytes)d B | greedy-by-size %(greedy_by_size_bytes)d B"
      " | naive %(naive_bytes)d B | weights %(weights_bytes)d B" % r)
PY
