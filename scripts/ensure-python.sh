#!/usr/bin/env bash
# Installs the Python packages the test tools need (numpy for conformance checks), if missing.
set -euo pipefail
for package in "$@"; do
  module=${package%%=*}
  if ! python3 -c "import $module" >/dev/null 2>&1; then
    echo "installing Python package $package" >&2
    python3 -m pip install -q "$package" || python3 -m pip install -q --break-system-packages "$package"
  fi
done
