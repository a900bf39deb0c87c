#!/usr/bin/env bash
# A long fuzz run bounded by CPU time rather than wall time (docs/RELIABILITY.md, "Long runs").
#
#   scripts/fuzz-long.sh TARGET CPU_SECONDS [libFuzzer flags...]
#
# Runs scripts/fuzz.sh TARGET (same binary, scratch directory and environment variables) and stops
# the fuzzer with SIGINT once its process has used CPU_SECONDS of CPU time, counting every thread.
# On a shared machine several of these can run at once and each still gets its full share.
# libFuzzer prints its final stats on SIGINT and fuzz.sh counts that as the end of the run, so a
# non-zero exit still means a finding. The last line adds CPU and wall time to fuzz.sh's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 2 ]]; then
    echo "usage: scripts/fuzz-long.sh TARGET CPU_SECONDS [libFuzzer flags...]" >&2
    exit 2
fi
target=$1
cpu_limit=$2
shift 2
scratch=${ATTNC_FUZZ_SCRATCH:-.build-fuzz}
export ATTNC_FUZZ_SCRATCH=$scratch

# A wall-time bound far beyond the CPU bound, in case the machine is very busy.
wall_limit=$((cpu_limit * 20))
scripts/fuzz.sh "$target" "$wall_limit" -max_total_time="$wall_limit" "$@" &
runner=$!
started=$SECONDS
ticks=$(getconf CLK_TCK)
pid=""
used=0
while kill -0 "$runner" 2>/dev/null; do
    # The fuzzer is the process whose arguments name this target's findings directory.
    [[ -n $pid ]] || pid=$(pgrep -f -- "-artifact_prefix=$scratch/fuzz/findings/$target/" | head -n 1 || true)
    if [[ -n $pid && -r /proc/$pid/stat ]]; then
        # utime + stime, fields 14 and 15 after the command name (which has no spaces here).
        used=$(awk -v t="$ticks" '{ print int(($14 + $15) / t) }' "/proc/$pid/stat" 2>/dev/null || echo "$used")
        if ((used >= cpu_limit)); then kill -INT "$pid" 2>/dev/null || true; fi
    fi
    sleep 5
done
status=0
wait "$runner" || status=$?
echo "fuzz-long $target: ${used} CPU seconds (last sample) in $((SECONDS - started)) s of wall time; exit $status"
exit $status
