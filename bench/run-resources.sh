#!/usr/bin/env bash
# bench/run-resources.sh - time per booking decision of the resources module.
#
#   bench/run-resources.sh [--quick] [--keep]
#
# Builds mw-bench-resources (modules/resources/bench/bench-resources.c) and runs it on a
# resource calendar of BENCH_EVENTS objects (default 10000) of which BENCH_SERIES (default
# 500) are recurring series (daily, weekly, monthly; COUNT, UNTIL and infinite; EXDATEs and
# moved instances), in a dir: calendar store in a temp dir. A decision is what the module
# does per invitation: lock the calendar, get its busy time (cached per worker), check the
# invitation against every object, unlock. Reported (milliseconds):
#   first decision          a fresh worker: every object is parsed once
#   decision, warm cache    median and p95, single one-hour invitations and weekly series
#   after another's write   another worker booked just before: only the journal is read
# The goal of the issue is under 20 ms per decision.
#
# Environment:
#   MW_BUILD_DIR     a build dir with mw-bench-resources (default: build/, Release, built if absent)
#   BENCH_EVENTS, BENCH_SERIES, BENCH_DECISIONS (default 10000, 500, 200)
#   BENCH_KEEP=1     keep the temp dir
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

BENCH_EVENTS=${BENCH_EVENTS:-10000}
BENCH_SERIES=${BENCH_SERIES:-500}
BENCH_DECISIONS=${BENCH_DECISIONS:-200}
while (($#)); do
	case $1 in
	--quick) BENCH_DECISIONS=50 ;;
	--keep) BENCH_KEEP=1 ;;
	-h | --help)
		sed -n '2,/BENCH_KEEP=1/p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "unknown argument: $1 (try --help)" >&2
		exit 1
		;;
	esac
	shift
done

bench_init mw-bench-resources
BUILD=${MW_BUILD_DIR:-$BENCH_REPO/build}
if [[ ! -x $BUILD/mw-bench-resources ]]; then
	bench_log "building mw-bench-resources in $BUILD (Release unless configured otherwise)"
	if [[ ! -f $BUILD/CMakeCache.txt ]]; then
		cmake -S "$BENCH_REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$BENCH_TMP/cmake.log" 2>&1 ||
			{ tail -n 20 "$BENCH_TMP/cmake.log" >&2; bench_die "cmake failed"; }
	fi
	cmake --build "$BUILD" -j2 --target mw-bench-resources >"$BENCH_TMP/build.log" 2>&1 ||
		{ tail -n 20 "$BENCH_TMP/build.log" >&2; bench_die "building mw-bench-resources failed"; }
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
echo "mw-bench-resources: $BUILD/mw-bench-resources (build type ${BUILD_TYPE:-unknown})"
[[ ${BUILD_TYPE:-} == Release ]] || echo "  note: not a Release build: the figures understate the module"
echo "load average before: $(cut -d' ' -f1 /proc/loadavg)"

OUT=$BENCH_TMP/result.txt
"$BUILD/mw-bench-resources" "$BENCH_TMP/calendars" "$BENCH_EVENTS" "$BENCH_SERIES" \
	"$BENCH_DECISIONS" >"$OUT" || bench_die "mw-bench-resources failed"

get() { awk -v k="$1" '$1 == k { print $2 }' "$OUT"; }
echo
echo "resource calendar: $(get events) events, $(get series) of them recurring series"
echo "  filling it took $(get fill_s) s (not part of the figures)"
printf '  first decision of a worker (parses every object):   %8s ms\n' "$(get first_decision_ms)"
printf '  decision, one-hour invitation:   median %8s ms   p95 %8s ms\n' \
	"$(get decision_single_median_ms)" "$(get decision_single_p95_ms)"
printf '  decision, weekly series of 10:   median %8s ms   p95 %8s ms\n' \
	"$(get decision_weekly10_median_ms)" "$(get decision_weekly10_p95_ms)"
printf '  decision after another worker booked: median %8s ms   p95 %8s ms\n' \
	"$(get decision_after_other_write_median_ms)" "$(get decision_after_other_write_p95_ms)"
echo "  (share of free slots among the one-hour invitations: $(get single_free_share))"
MEDIAN=$(get decision_single_median_ms)
if awk -v m="$MEDIAN" 'BEGIN { exit !(m < 20) }'; then
	echo "time per booking decision: $MEDIAN ms (goal: under 20 ms) - met"
else
	echo "time per booking decision: $MEDIAN ms (goal: under 20 ms) - NOT met"
fi
