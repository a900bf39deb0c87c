#!/usr/bin/env bash
# The attention memory benchmark (docs/PERFORMANCE.md): bench/sdpa_long.gir at B=1, H=8, D=64 and
# sequence length S (default 8192), timed by attnc bench under /usr/bin/time, which reports the
# peak resident set of the whole process (compiler, JIT code, inputs, output and arena).
#
#   scripts/memory-bench.sh [S] [ATTNC]
set -euo pipefail
cd "$(dirname "$0")/.."
length=${1:-8192}
attnc=${2:-.build/release/attnc}
[[ -x "$attnc" ]] || { echo "memory-bench.sh: $attnc not found; build with: swift build -c release --product attnc" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "memory-bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
/usr/bin/time -v "$attnc" bench bench/sdpa_long.gir --bind "S=$length" --warmup 1 --repeat 3 2> "$log"
grep -E "Maximum resident set size" "$log" | awk -v s="$length" '{ printf "peak resident set at S=%s: %.1f MiB\n", s, $NF / 1024 }'
