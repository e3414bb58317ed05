#!/usr/bin/env bash
# The whole test suite: a normal build with every test (ctest), the same suite
# built with AddressSanitizer + UndefinedBehaviorSanitizer, and the unit suites
# under valgrind, then every libFuzzer target for a bounded time, and the
# linters (clang-format, clang-tidy, cppcheck: scripts/lint.sh). Any failure,
# sanitizer report or lint finding fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
passed=0
failed=0

# count - add ctest's "N% tests passed, F tests failed out of T" to the totals
count() {
	local line total bad
	line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$1" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	bad=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
	total=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
	passed=$((passed + total - bad))
	failed=$((failed + bad))
}

echo "== build and test (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
cmake --build build -j"$jobs" || exit 1
ctest --test-dir build --output-on-failure -j"$jobs" 2>&1 | tee build/ctest.log
count build/ctest.log

echo "== build and test with AddressSanitizer + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON >/dev/null || exit 1
cmake --build build-asan -j"$jobs" || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
CK_TIMEOUT_MULTIPLIER=3 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs" 2>&1 | tee build-asan/ctest.log
count build-asan/ctest.log

echo "== unit suites under valgrind"
# every ctest test labelled "unit" (core and module suites), by its executable
units=$(ctest --test-dir build -L unit --show-only=json-v1 | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    print(t["command"][0])')
for t in $units; do
	[ -x "$t" ] || continue
	log="build/valgrind-$(basename "$t").log"
	# no --error-exitcode: it would also change the exit status of the
	# suites' own forked helper processes (which _exit without freeing what
	# they inherited); children are silent, so any report is the suite's own
	if CK_FORK=no G_SLICE=always-malloc G_DEBUG=gc-friendly \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes \
		"$t" >"$log" 2>&1 && ! grep -qE '^==[0-9]+== ' "$log"; then
		echo "valgrind: $(basename "$t") clean"
		passed=$((passed + 1))
	else
		echo "valgrind: $(basename "$t") FAILED"
		cat "$log"
		failed=$((failed + 1))
	fi
done

echo "== fuzzing (libFuzzer, ${FUZZ_RUNS:-50000} inputs per target from a fixed seed)"
./scripts/fuzz.sh 2>&1 | tee build/fuzz.log
passed=$((passed + $(grep -c ': Done ' build/fuzz.log || true)))
failed=$((failed + $(grep -c 'FAILED\|fails again' build/fuzz.log || true)))

echo "== lint (clang-format, clang-tidy, cppcheck)"
if ./scripts/lint.sh build 2>&1 | tee build/lint.log; then
	echo "lint: clean"
	passed=$((passed + 1))
else
	echo "lint: FAILED"
	failed=$((failed + 1))
fi

echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
