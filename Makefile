# The two commands of the README: `make run` and `make test`.
# Everything else here is a convenience around CMake.

JOBS      ?= $(shell nproc)
BUILD     ?= build
ASAN      ?= build-asan
FUZZDIR   ?= build-fuzz
FUZZ_SECS ?= 30
LISTEN    ?= 127.0.0.1:8080
DATA      ?= ./data
# `make install`: where (PREFIX) and under which staging root (DESTDIR, for packaging).
PREFIX    ?= /usr/local
DESTDIR   ?=

.PHONY: all deps deps-test build run install test test-plain test-asan fuzz bench bench-upload bench-processing bench-client bench-tus clean

all: build

# What building and running need; deps-test adds the test-only tools.
deps:
	@scripts/install-deps.sh --run

deps-test:
	@scripts/install-deps.sh --test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/vodup serve --listen $(LISTEN) --data $(DATA) --print-example

# The binary, the systemd unit and the example config (docs/deploy.md):
#   make build && sudo make install                   (PREFIX=/usr/local)
#   make install PREFIX=/usr DESTDIR=/tmp/pkgroot      (a staging tree for a package)
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix $(PREFIX)

test: deps-test test-plain test-asan

test-plain:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer; any
# report aborts the process and fails the test.
test-asan:
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DVODUP_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

fuzz: deps-test
	@CC=clang cmake -S . -B $(FUZZDIR) -DCMAKE_BUILD_TYPE=Debug -DVODUP_FUZZ=ON >/dev/null
	@cmake --build $(FUZZDIR) -j $(JOBS)
	@mkdir -p fuzz/artifacts
	@for t in $(FUZZDIR)/fuzz_*; do \
	  n=$$(basename $$t); echo "== $$n ($(FUZZ_SECS) s)"; \
	  mkdir -p $(FUZZDIR)/corpus-$$n; \
	  $$t -max_total_time=$(FUZZ_SECS) -artifact_prefix=fuzz/artifacts/ \
	      $(FUZZDIR)/corpus-$$n fuzz/corpus/$$n || exit 1; \
	done

bench: build
	@scripts/install-deps.sh --bench
	bench/token-api.sh

bench-upload: build
	@scripts/install-deps.sh --bench
	bench/upload.sh

bench-processing: build
	@scripts/install-deps.sh --bench
	bench/processing.sh

bench-client: build
	@scripts/install-deps.sh --bench
	bench/client.sh

bench-tus: build
	@scripts/install-deps.sh --bench
	bench/tus.sh

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZDIR)
