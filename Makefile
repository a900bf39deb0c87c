# The two commands a fresh machine needs (see README.md):
#   make demo   installs LLVM if missing, builds attnc, runs the CBAM and MHA samples
#   make test   installs what the tests need, builds, runs every test and the conformance check
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

test: deps
	@scripts/ensure-python.sh numpy
	swift build --build-tests
	swift test --skip-build
	python3 $(CONFORMANCE)/check.py --attnc $(DEBUG) --source gir --samples samples --extra=--interp
