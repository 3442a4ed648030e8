#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine, in one command:
#   bash scripts/test.sh
# 1. installs the Debian packages (scripts/setup.sh),
# 2. builds everything (warnings are errors) and runs every CTest test,
# 3. rebuilds the core (and redis) with AddressSanitizer + UBSan and runs their tests,
# 4. builds the gpu, redis, hostile-directory and the core's threaded tests
#    (primitives, cache, fanout, processes) with ThreadSanitizer and runs them,
# 5. builds the pickle decoder's libFuzzer target and fuzzes it briefly.
# Builds go to build/, build-asan/, build-tsan/ (reused when present); -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen

bash scripts/setup.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >/dev/null
cmake --build build -j2

echo "== build core with AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDISKCACHE_SANITIZE=ON \
      -DDISKCACHE_BUILD_APP=OFF -DDISKCACHE_BUILD_BENCH=OFF -DDISKCACHE_CUDA=OFF >/dev/null
cmake --build build-asan -j2

echo "== build the gpu, redis, hostile-directory and core threaded tests with ThreadSanitizer"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDISKCACHE_TSAN=ON \
      -DDISKCACHE_BUILD_APP=OFF -DDISKCACHE_BUILD_BENCH=OFF -DDISKCACHE_CUDA=OFF >/dev/null
cmake --build build-tsan -j2 --target tst_gpu tst_redis tst_hostile tst_primitives tst_shared_lock tst_cache tst_fanout tst_processes

echo "== fuzz the pickle decoder (libFuzzer, 30 s)"
mkdir -p build-fuzz
clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Icore/include \
  tests/fuzz/fuzz_pickle.cpp core/src/pickle.cpp core/src/value.cpp core/src/utf8.cpp \
  -o build-fuzz/fuzz_pickle
cp -r tests/fuzz/corpus build-fuzz/corpus-run 2>/dev/null || true
build-fuzz/fuzz_pickle -max_total_time=30 -max_len=4096 -rss_limit_mb=2048 \
  -artifact_prefix=build-fuzz/ build-fuzz/corpus-run 2>&1 | tail -n 2

echo "== core and redis tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L "core|redis" -E consumer_package --output-on-failure -j2

echo "== gpu, hostile-directory, core threaded and redis tests under ThreadSanitizer"
tsan_supp="suppressions=$PWD/tests/tsan.supp"
TSAN_OPTIONS="halt_on_error=1 $tsan_supp" ctest --test-dir build-tsan -R '^(tst_gpu|tst_hostile)$' --output-on-failure
# The core's threaded tests: threads of one process on one cache, and
# helper processes (started through QProcess, hence die_after_fork=0).
TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 $tsan_supp" \
  ctest --test-dir build-tsan -R '^(tst_primitives|tst_shared_lock|tst_cache|tst_fanout|tst_processes)$' --output-on-failure
# QProcess starts helpers with a vfork-like clone, which TSan takes for a
# fork of a multi-threaded process; die_after_fork=0 lets the parent go on.
TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 $tsan_supp" ctest --test-dir build-tsan -R '^tst_redis$' --output-on-failure

echo "== all tests"
ctest --test-dir build --output-on-failure -j2
