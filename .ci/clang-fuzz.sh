#!/usr/bin/env bash
# CI, second compiler and fuzzing: the whole suite built with clang (-Werror under CI), then
# each libFuzzer harness (tests/fuzz, ASan + UBSan) for FUZZ_SECONDS (60) from its seeds:
# tables/ and tests/data/ for the table loader, tests/fuzz/expr-seeds for expressions.  Any
# crash or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
if ! command -v clang >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "clang-fuzz: installing clang" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
  else
    echo "clang-fuzz: clang is missing; run: sudo apt-get install -y clang" >&2
    exit 1
  fi
fi
jobs=$(nproc 2>/dev/null || echo 2)
werror=OFF
[ "${CI:-}" = true ] && werror=ON
cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DACTFIT_CUDA=OFF -DACTFIT_WERROR=$werror \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-clang -j "$jobs"
# (the wheel test builds from the sources with the default compiler: once, in the gcc run)
ctest --test-dir build-clang --output-on-failure -j "$jobs" -E python_test_wheel
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DACTFIT_CUDA=OFF -DACTFIT_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_table fuzz_expr
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir "$corpus/table" "$corpus/expr"
export ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build-fuzz/fuzz_table -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  "$corpus/table" tables/fewbit tables/invact tests/data tests/data/bad 2>&1 | tail -25
build-fuzz/fuzz_expr -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
  -print_final_stats=1 \
  "$corpus/expr" tests/fuzz/expr-seeds 2>&1 | tail -25
echo "clang-fuzz: clang suite and ${secs} s of each fuzzer: 3 passed, 0 failed"
