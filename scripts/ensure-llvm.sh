#!/usr/bin/env bash
# Makes sure an LLVM >= 17 with its development files is available, installing Debian's
# llvm-19-dev when none is. Prints the llvm-config it found. Package.swift searches the same way.
set -euo pipefail
minimum=17

find_llvm_config() {
  local candidates=()
  [ -n "${LLVM_CONFIG:-}" ] && candidates+=("$LLVM_CONFIG")
  for n in $(seq 30 -1 "$minimum"); do candidates+=("llvm-config-$n"); done
  candidates+=(llvm-config)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1; then
      local major
      major=$("$c" --version 2>/dev/null | cut -d. -f1)
      if [ -n "$major" ] && [ "$major" -ge "$minimum" ] && [ -f "$("$c" --includedir)/llvm-c/Core.h" ]; then
        echo "$c"
        return 0
      fi
    fi
  done
  return 1
}

if config=$(find_llvm_config); then
  echo "using $config ($("$config" --version))" >&2
  exit 0
fi

echo "no LLVM >= $minimum found; installing llvm-19-dev" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq llvm-19-dev >/dev/null
config=$(find_llvm_config) || { echo "error: llvm-19-dev installed but no usable llvm-config found" >&2; exit 1; }
echo "using $config ($("$config" --version))" >&2
