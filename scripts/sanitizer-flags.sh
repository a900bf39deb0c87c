#!/usr/bin/env sh
# The swift build flags of the sanitized build that make test runs and scripts/fuzz.sh fuzzes:
# AddressSanitizer everywhere, and libFuzzer's coverage instrumentation (cheap inline counters,
# comparison tracing) in every Swift module so that attnc-fuzz is guided by the code it tests.
# Executables other than attnc-fuzz ignore the coverage hooks (the sanitizer runtime stubs them).
echo "--sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp"
