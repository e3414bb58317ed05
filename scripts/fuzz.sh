#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded
# time (FUZZ_SECONDS, default 60) on its seed corpus, after replaying every kept
# regression input (tests/fuzz/regressions/<target>/). Any crash fails the run
# and leaves the input in build-fuzz/crashes/ to be fixed and kept as a regression.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMW_FUZZ=ON -DMW_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzzers >/dev/null
mkdir -p build-fuzz/crashes
status=0
for bin in build-fuzz/tests/fuzz/fuzz-*; do
	name=$(basename "$bin")
	work=$(mktemp -d)
	for d in tests/fuzz/corpus/"$name" tests/data/messages; do
		[ -d "$d" ] && cp -r "$d"/. "$work"/ 2>/dev/null || true
	done
	if [ -d "tests/fuzz/regressions/$name" ] &&
		! "$bin" tests/fuzz/regressions/"$name"/* >"build-fuzz/$name-regressions.log" 2>&1; then
		echo "fuzz: $name: a kept regression input fails again"
		tail -20 "build-fuzz/$name-regressions.log"
		status=1
	fi
	if "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
		-artifact_prefix=build-fuzz/crashes/"$name"- "$work" >"build-fuzz/$name.log" 2>&1; then
		echo "fuzz: $name: $(grep -E '^Done' "build-fuzz/$name.log" | tail -1)"
	else
		echo "fuzz: $name FAILED"
		grep -E "ERROR|SUMMARY|runtime error" "build-fuzz/$name.log" | head -10
		status=1
	fi
	rm -rf "$work"
done
exit $status
