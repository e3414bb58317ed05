#!/usr/bin/env bash
# The whole test suite: a normal build with every test (ctest), the same suite
# built with AddressSanitizer + UndefinedBehaviorSanitizer, and the unit suites
# under valgrind. Any failure or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== build and test (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build and test with AddressSanitizer + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== unit suites under valgrind"
failed=0
for t in build/tests/test-*; do
	[ -x "$t" ] || continue
	if ! CK_FORK=no G_SLICE=always-malloc G_DEBUG=gc-friendly \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
		--error-exitcode=1 "$t" >"build/valgrind-$(basename "$t").log" 2>&1; then
		echo "valgrind: $(basename "$t") FAILED"; cat "build/valgrind-$(basename "$t").log"; failed=1
	else
		echo "valgrind: $(basename "$t") clean"
	fi
done
exit $failed
