# The two commands a fresh machine needs (see README.md):
#   make demo   installs LLVM if missing, builds attnc, runs the CBAM and MHA samples
#   make test   installs what the tests need, builds (sanitized), runs every test, the conformance
#               checks (JIT with default and one thread, interpreter; .gir and .onnx), every fuzz
#               target briefly and ONNX's node tests
SHARED ?= ../shared
CONFORMANCE := $(SHARED)/conformance
RELEASE := .build/release/attnc
DEBUG := .build/debug/attnc

.PHONY: demo test build deps

deps:
	@scripts/ensure-llvm.sh

build: deps
	swift build -c release --product attnc

demo: build
	@for case in cbam mha; do \
	  echo "=== $$case: the IR (samples/$$case.gir)"; \
	  $(RELEASE) dump samples/$$case.gir || exit 1; \
	  echo "=== $$case: run on the conformance inputs"; \
	  inputs=$$(for f in $(CONFORMANCE)/$$case/inputs/*.npy; do n=$$(basename $$f .npy); printf -- "--input %s=%s " $$n $$f; done); \
	  $(RELEASE) run samples/$$case.gir --weights $(CONFORMANCE)/$$case/weights.safetensors $$inputs --output-dir out/$$case || exit 1; \
	done

# The test build is the debug build with AddressSanitizer and libFuzzer's coverage
# instrumentation (scripts/sanitizer-flags.sh): the tests, the conformance checks and the ONNX
# node tests run sanitized, and the fuzz targets come from the same build. Leak checking is off
# (the Swift runtime's and LLVM's global caches read as leaks); JIT-compiled code is not
# instrumented.
SANITIZED := $(shell scripts/sanitizer-flags.sh)
export ASAN_OPTIONS ?= detect_leaks=0
# Every buffer compiled code touches ends at an inaccessible page (Runtime/AlignedBuffer.swift):
# a kernel reading past a buffer faults in the tests instead of passing by luck.
export ATTNC_GUARD_PAGES ?= 1
export SWIFT_BACKTRACE ?= enable=no

test: deps
	@scripts/ensure-python.sh numpy onnx
	swift build --build-tests $(SANITIZED)
	swift test --skip-build $(SANITIZED)
	SHARED=$(SHARED) sh samples/aot/build.sh $(DEBUG)
	python3 $(CONFORMANCE)/check.py --attnc $(DEBUG) --samples samples
	python3 $(CONFORMANCE)/check.py --attnc $(DEBUG) --samples samples --extra="--threads 1"
	python3 $(CONFORMANCE)/check.py --attnc $(DEBUG) --samples samples --extra=--no-fuse
	python3 $(CONFORMANCE)/check.py --attnc $(DEBUG) --samples samples --extra=--interp
	# 8,000 inputs per target from a fixed seed (at most 20 s each: the differential target stops
	# on time), after the committed corpora and past findings. A red run is a finding: fix it and
	# add the input to Fuzz/regressions (docs/RELIABILITY.md).
	ATTNC_FUZZ_BINARY=.build/debug/attnc-fuzz ATTNC_FUZZ_SCRATCH=.build scripts/fuzz.sh all 20 -seed=1 -runs=8000
	SWIFT_BUILD_FLAGS="$(SANITIZED)" scripts/onnx-node-tests.sh
