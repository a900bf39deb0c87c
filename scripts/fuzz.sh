#!/usr/bin/env bash
# Builds attnc's libFuzzer targets and runs one of them (docs/RELIABILITY.md).
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]
#
# TARGET is gir, onnx, npy, safetensors, differential, or all (each in turn for SECONDS).
# The binary is built with AddressSanitizer and coverage instrumentation in every module (the
# flags of `make test`'s build) into $ATTNC_FUZZ_SCRATCH (default .build-fuzz); set
# ATTNC_FUZZ_BINARY to run an attnc-fuzz already built that way instead (make test does).
#
# Each target starts from its committed seeds (Fuzz/corpus/TARGET) and every past finding
# (Fuzz/regressions/TARGET), and grows a working corpus in $ATTNC_FUZZ_SCRATCH/fuzz/corpus/TARGET.
# A crash, hang or mismatch is written to $ATTNC_FUZZ_SCRATCH/fuzz/findings/TARGET/ and the
# script exits non-zero. To replay one input: scripts/fuzz.sh TARGET 0 path/to/input
# The last line printed per target is a summary: executions, coverage and corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."

targets="gir onnx npy safetensors differential"
if [[ $# -lt 2 ]]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]   (TARGET: $targets, all)" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2
case " $targets all " in
    *" $target "*) ;;
    *) echo "scripts/fuzz.sh: unknown target '$target'; the targets are $targets, all" >&2; exit 2 ;;
esac

scratch=${ATTNC_FUZZ_SCRATCH:-.build-fuzz}
binary=${ATTNC_FUZZ_BINARY:-}
if [[ -z "$binary" ]]; then
    scripts/ensure-llvm.sh
    swift build --scratch-path "$scratch" --product attnc-fuzz $(scripts/sanitizer-flags.sh)
    binary="$scratch/debug/attnc-fuzz"
fi

# Leak checking is off: the Swift runtime's caches and LLVM's global state are reported as leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
# Swift's own crash backtracer races AddressSanitizer's report; libFuzzer prints the stack.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

# Per target: the longest input worth mutating and how long one input may take before it counts
# as a hang (the differential target JIT-compiles a graph twice in a debug, sanitized build).
flags_for() {
    case $1 in
        gir) echo "-max_len=16384 -timeout=20" ;;
        onnx) echo "-max_len=131072 -timeout=30" ;;
        npy) echo "-max_len=32768 -timeout=20" ;;
        safetensors) echo "-max_len=131072 -timeout=20" ;;
        differential) echo "-max_len=512 -timeout=180" ;;
    esac
}

run_one() {
    local name=$1
    local work="$scratch/fuzz/corpus/$name" findings="$scratch/fuzz/findings/$name/" log="$scratch/fuzz/$name.log"
    mkdir -p "$work" "$findings" "Fuzz/regressions/$name"
    local inputs=("$work" "Fuzz/corpus/$name" "Fuzz/regressions/$name")
    # Files named on the command line are replayed once instead of fuzzed.
    if [[ $# -gt 1 && -f "${*: -1}" ]]; then inputs=(); fi
    echo "=== fuzz $name for ${seconds}s"
    local status=0 started=$SECONDS
    # shellcheck disable=SC2046
    ATTNC_FUZZ_TARGET=$name "$binary" $(flags_for "$name") -rss_limit_mb=6144 -max_total_time="$seconds" \
        -print_final_stats=1 -artifact_prefix="$findings" "${inputs[@]}" "${@:2}" >"$log" 2>&1 || status=$?
    # libFuzzer exits with 72 when SIGINT stops it (scripts/fuzz-long.sh does, at its CPU bound):
    # the end of a run, not a finding.
    local how="ok"
    if [[ $status -eq 72 ]] && grep -q 'libFuzzer: run interrupted' "$log"; then status=0; how="stopped by SIGINT"; fi
    local done_line
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
    if [[ $status -ne 0 ]]; then
        tail -n 60 "$log"
        echo "fuzz $name: FAILED (exit $status); the input is in $findings, the log in $log" >&2
        return $status
    fi
    echo "fuzz $name: $how, $((SECONDS - started)) s: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions; ${done_line:-no coverage reported}"
}

if [[ $target == all ]]; then
    for name in $targets; do run_one "$name" "$@"; done
else
    run_one "$target" "$@"
fi
