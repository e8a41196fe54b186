# Pitwall: the two commands of the README, plus the ones developers use.
#   make run    install what is missing, build, migrate + seed ./var, serve on http://127.0.0.1:8080
#   make test   install what is missing, build (ASan+UBSan), run every test; ends with CTest's summary
#   make bench  build optimized, run the benchmarks under bench/
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: run test bench deps build build-asan build-fuzz format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target pitwall-server pitwall

run: build
	@mkdir -p var
	@PITWALL_DEMO=$${PITWALL_DEMO:-true} PITWALL_DATA_DIR=$${PITWALL_DATA_DIR:-./var} ./build/bin/pitwall-server

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

test: build-asan build-fuzz
	@ctest --preset asan -j $(JOBS)

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target pitwall-server pitwall pitwall-bot pitwall-kv-bench pitwall-team-week-bench \
		pitwall-planner-bench
	@bash bench/run.sh

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf build
