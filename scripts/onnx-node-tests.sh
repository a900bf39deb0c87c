#!/usr/bin/env bash
# Runs ONNX's own node tests through attnc's ONNX importer and reference interpreter.
#
#   scripts/onnx-node-tests.sh [--scratch-path DIR] [extra runner arguments, e.g. --verbose]
#
# With the runner argument --jit the cases run through the passes and JIT-compiled code instead
# of the interpreter (slower; not part of make test).
#
# Installs the `onnx` Python package if it is missing, writes the node test cases of every op
# attnc imports into .build/onnx-node-tests (with ../shared/onnx-node-tests/generate.py), builds
# the runner and runs every case. Cases listed in Tests/onnx-node-tests.skip are expected to
# fail, each for the reason given there. Exits non-zero on any unexpected result.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=.build
if [[ "${1:-}" == "--scratch-path" ]]; then
    scratch=$2
    shift 2
fi
generator=${ONNX_NODE_TESTS_GENERATOR:-../shared/onnx-node-tests/generate.py}
cases=.build/onnx-node-tests

scripts/ensure-python.sh numpy onnx

# SWIFT_BUILD_FLAGS: make test passes its sanitizer flags, so that the runner comes from its build.
# shellcheck disable=SC2086
swift build --scratch-path "$scratch" --product attnc-onnx-node-tests ${SWIFT_BUILD_FLAGS:-}
runner="$scratch/debug/attnc-onnx-node-tests"

ops=$("$runner" --list-ops)
rm -rf "$cases"
mkdir -p "$cases"
python3 "$generator" -o "$cases" --ops "$ops" 2>/dev/null | tail -n 1

"$runner" "$cases" --skip Tests/onnx-node-tests.skip "$@"
