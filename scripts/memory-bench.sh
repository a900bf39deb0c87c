#!/usr/bin/env bash
# The attention memory benchmark (docs/PERFORMANCE.md): bench/sdpa_long.gir at B=1, H=8, D=64 and
# sequence length S (default 8192), where the scores alone would take S*S*32 bytes (2 GiB at 8192).
# Reports the peak resident set of two processes:
#   - attnc bench (JIT): the compiler, libLLVM and the Swift runtime are in the process too;
#   - a C program linking the module compiled ahead of time (bench/memory_main.c): the inputs,
#     the output and the scratch only.
#
#   scripts/memory-bench.sh [S] [ATTNC]
set -euo pipefail
cd "$(dirname "$0")/.."
length=${1:-8192}
attnc=${2:-.build/release/attnc}
[[ -x "$attnc" ]] || { echo "memory-bench.sh: $attnc not found; build with: swift build -c release --product attnc" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "memory-bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/time -v "$attnc" bench bench/sdpa_long.gir --bind "S=$length" --warmup 1 --repeat 3 2> "$work/time.log"
grep -E "Maximum resident set size" "$work/time.log" | awk -v s="$length" '{ printf "JIT (attnc bench): peak resident set at S=%s: %.1f MiB\n", s, $NF / 1024 }'

"$attnc" compile bench/sdpa_long.gir --bind "S=$length" -o "$work/sdpa_long.o" --header "$work/sdpa_long.h" > /dev/null
cc -O2 -I"$work" bench/memory_main.c "$work/sdpa_long.o" -lm -o "$work/memory_main"
printf "AOT at S=%s: " "$length"
"$work/memory_main"
