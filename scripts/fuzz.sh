#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each on its seed
# corpus after replaying every kept regression input (tests/fuzz/regressions/
# <target>/). A run is FUZZ_RUNS inputs (default 50000) from a fixed seed, so
# the same tree explores the same inputs everywhere (CI finds nothing a
# developer's run did not); FUZZ_SECONDS (default 150) caps each target, and
# FUZZ_SEED=random explores new ground. Any crash fails the run and leaves the
# input in build-fuzz/crashes/ to be fixed and kept as a regression.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-150}
runs=${FUZZ_RUNS:-50000}
seed=${FUZZ_SEED:-1}
[ "$seed" = random ] && seed=0
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
	# the slow targets (recurrence expansion, every module) get fewer inputs, so
	# that they end by count, not by the time cap, and stay reproducible
	n=$runs
	case "$name" in fuzz-itip | fuzz-pipeline) n=$((runs / 5)) ;; esac
	if "$bin" -seed="$seed" -runs="$n" -max_total_time="$seconds" -max_len=65536 \
		-timeout=20 -rss_limit_mb=4096 \
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
