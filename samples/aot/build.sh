#!/bin/sh
# Builds and runs the AOT sample: two attnc modules linked into one C program.
#
#     samples/aot/build.sh [ATTNC]        (default: .build/release/attnc; run from the repository root)
#
# Environment: SHARED (default ../shared) holds conformance/; OUT (default out/aot) gets the
# objects, headers, the program and its outputs.
set -eu
ATTNC=${1:-.build/release/attnc}
SHARED=${SHARED:-../shared}
OUT=${OUT:-out/aot}
CONFORMANCE=$SHARED/conformance
HERE=$(dirname "$0")
mkdir -p "$OUT"

# 1. Compile: CBAM with its weights embedded, MHA with its weights in mha.weights.
"$ATTNC" compile samples/cbam.gir --weights "$CONFORMANCE/cbam/weights.safetensors" -o "$OUT/cbam.o" --header "$OUT/cbam.h"
"$ATTNC" compile samples/mha.gir --weights "$CONFORMANCE/mha/weights.safetensors" -o "$OUT/mha.o" --header "$OUT/mha.h" --weights-mode file

# 2. Link: plain C, libc and libm only.
${CC:-cc} -std=c11 -O2 -Wall -Wextra -I"$OUT" -I"$HERE" -o "$OUT/aot_demo" "$HERE/main.c" "$HERE/npy.c" "$OUT/cbam.o" "$OUT/mha.o" -lm

# 3. Run on the conformance inputs; exits non-zero unless every output matches.
"$OUT/aot_demo" "$CONFORMANCE" "$OUT" "$OUT/mha.weights"
