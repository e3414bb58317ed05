#!/usr/bin/env bash
# bench/run-core.sh - throughput and memory of the mailwarden core (no modules).
#
#   bench/run-core.sh [--direct-only] [--quick] [--keep]
#
# Measures messages per second (median of BENCH_RUNS runs, each about BENCH_SECONDS long) for
# 4 KiB and 100 KiB messages at 1 and 10 sessions, for
#   direct:      smtp-source -> smtp-sink
#   mailwarden:  smtp-source -> mailwarden (modules =, workers = 10) -> smtp-sink
# then the workers' RSS after the 4 KiB runs and the RSS growth while one 50 MiB message passes.
# See bench/README.md for how to read the output.
#
# Environment:
#   MW_BUILD_DIR     where the mailwarden binary is (default: build/, built if absent)
#   BENCH_SECONDS    target length of one run (default 3)
#   BENCH_RUNS       runs per figure, the median is reported (default 3)
#   BENCH_NO_REUSE=1 one connection per message (default: sessions reuse their connection, -d)
#   BENCH_BIG_SIZE   size of the large message in bytes (default 52428800)
#   BENCH_KEEP=1     keep the temp dir (logs, config) even on success
# bench_sink_count takes an optional file; SINK_PORT is set by bench_pick_port_var
# shellcheck disable=SC2119,SC2153
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

DIRECT_ONLY=0
while (($#)); do
	case $1 in
	--direct-only) DIRECT_ONLY=1 ;;
	--quick) BENCH_SECONDS=${BENCH_SECONDS:-1} BENCH_RUNS=${BENCH_RUNS:-1} ;;
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

BENCH_SECONDS=${BENCH_SECONDS:-3}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_BIG_SIZE=${BENCH_BIG_SIZE:-52428800}
SIZES=(4096 102400)
SESSIONS=(1 10)
GOAL_RATIO=45     # % of direct, 10 sessions, 4 KiB
GOAL_RSS_MIB=16   # per worker after the 4 KiB runs
GOAL_GROWTH_MIB=8 # per worker while the large message passes
RUN_LIMIT=$(awk -v s="$BENCH_SECONDS" 'BEGIN { l = s * 10; if (l < 60) l = 60; printf "%d", l }')
CLK_TCK=$(getconf CLK_TCK)

bench_init mw-bench-core
bench_need_procps
bench_need_postfix_tools

size_label() { if (($1 % 1024 == 0)); then printf '%d KiB' $(($1 / 1024)); else printf '%d B' "$1"; fi; }

# ------------------------------------------------------------------ set up

MW_FAILED=0   # mailwarden did not start, died, or lost messages
MW_PROBLEMS=()
note_problem() {
	MW_PROBLEMS+=("$*")
	printf '  !! %s\n' "$*"
}

bench_pick_port_var SINK_PORT
bench_pick_port_var MW_PORT
bench_start_sink "$SINK_PORT"

COMMIT=$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "mailwarden core benchmark - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT"
echo "temp dir $BENCH_TMP; smtp-sink on 127.0.0.1:$SINK_PORT; runs of ~${BENCH_SECONDS}s, median of $BENCH_RUNS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $LOAD_BEFORE (anything above ~0.3 means other work shares the 2 cores)"

MW_BIN=""
MW_BUILD_TYPE=""
if ((DIRECT_ONLY)); then
	echo "mailwarden: skipped (--direct-only)"
else
	MW_BIN=$(bench_mailwarden_binary) || { MW_FAILED=1; MW_BIN=""; }
	if [[ -n $MW_BIN ]]; then
		CONF=$BENCH_TMP/mailwarden.conf
		# large enough for the big-message test (the default limit is 50 MiB including headers)
		bench_mw_write_conf "$CONF" "$MW_PORT" "$SINK_PORT" \
			"max_message_size = $((BENCH_BIG_SIZE * 2))"
		echo "mailwarden: $MW_BIN on 127.0.0.1:$MW_PORT, reinject to :$SINK_PORT, workers = 10, no modules"
		MW_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)
		MW_SANITIZE=$(sed -n 's/^MW_SANITIZE:[A-Z]*=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)
		[[ $MW_SANITIZE == ON ]] && MW_BUILD_TYPE="${MW_BUILD_TYPE:-?}+sanitizers"
		echo "mailwarden build type: ${MW_BUILD_TYPE:-unknown}"
		[[ ${MW_BUILD_TYPE:-} == Release ]] ||
			echo "  note: not a Release build: its figures understate mailwarden (MW_BUILD_DIR= a Release build dir)"
		if bench_mw_start "$MW_BIN" "$CONF" "$MW_PORT"; then
			sleep 0.5 # let every worker come up before counting them
			MW_WORKERS_START=$(bench_mw_workers | sort -n | tr '\n' ' ')
			bench_mw_note_workers
			echo "mailwarden: master pid $MW_PID, workers: ${MW_WORKERS_START:-none}"
			[[ -n $MW_WORKERS_START ]] || note_problem "the master has no child processes (workers)"
		else
			MW_FAILED=1
			note_problem "mailwarden failed to start: only the direct figures are measured"
		fi
	else
		note_problem "no mailwarden binary"
	fi
fi
echo

mw_usable() { ((DIRECT_ONLY == 0 && MW_FAILED == 0)) && bench_mw_alive; }

# check_mw_alive CONTEXT - after a run: a dead master is a failure, with the log tail
check_mw_alive() {
	((DIRECT_ONLY == 0 && MW_FAILED == 0)) || return 0
	bench_mw_alive && return 0
	MW_FAILED=1
	local rc=0
	wait "$MW_PID" 2>/dev/null || rc=$?
	note_problem "mailwarden master (pid $MW_PID) died during $1 (exit status $rc); last log lines:"
	tail -n 30 "$MW_LOG" | sed 's/^/  | /'
	bench_untrack "$MW_PID"
	MW_PID=""
	bench_mw_kill_orphans
}

# ------------------------------------------------------------------ throughput

# calibrate PORT SIZE SESSIONS - message count for a run of about BENCH_SECONDS (sets CAL_COUNT);
# runs growing batches until one takes at least 0.3 s. These batches also warm everything up.
calibrate() {
	local port=$1 size=$2 sessions=$3 n rate
	n=$((sessions * 20))
	((n < 100)) && n=100
	while :; do
		bench_source "$port" "$size" "$sessions" "$n" "$RUN_LIMIT"
		if ((SRC_ERRORS > 0)) || [[ $SRC_RC != 0 ]]; then
			note_problem "calibration on port $port ($(size_label "$size") x$sessions, $n msgs): $SRC_ERRORS smtp-source errors (exit $SRC_RC), e.g. $(grep -m1 -E "warning:|fatal:" "$SRC_ERR" || echo "?")"
			break
		fi
		if awk -v e="$SRC_ELAPSED" 'BEGIN { exit !(e >= 0.3) }' || ((n >= 1000000)); then break; fi
		n=$((n * 4))
	done
	rate=$(bench_calc "$n / ($SRC_ELAPSED > 0.001 ? $SRC_ELAPSED : 0.001)")
	CAL_COUNT=$(awk -v r="$rate" -v s="$BENCH_SECONDS" -v m="$sessions" 'BEGIN {
		c = int(r * s); if (c < m * 5) c = m * 5; if (c < 20) c = 20; if (c > 2000000) c = 2000000; print c }')
}

# one_run KIND PORT SIZE SESSIONS COUNT RUN - one measured run; appends the rate to RATES_<KIND>
one_run() {
	local kind=$1 port=$2 size=$3 sessions=$4 count=$5 run=$6 before after delivered ok rate
	local cpu0=0 cpu1=0 pids=""
	if [[ $kind == mw ]]; then
		bench_mw_note_workers
		pids="$MW_PID $(bench_mw_workers | tr '\n' ' ')"
		# shellcheck disable=SC2086
		cpu0=$(bench_cpu_ticks $pids)
	fi
	before=$(bench_sink_count)
	bench_source "$port" "$size" "$sessions" "$count" "$RUN_LIMIT"
	sleep 0.05 # the sink's counter is written as "." arrives; give it a moment
	after=$(bench_sink_count)
	delivered=$((after - before))
	ok=$((count - SRC_ERRORS))
	((ok < 0)) && ok=0
	# rate of the messages that got their 2xx (a run that hit the time limit counts what arrived)
	[[ $SRC_RC == 124 ]] && ok=$delivered
	rate=$(bench_calc "$ok / $SRC_ELAPSED")
	printf '  %-7s x%-2s %-10s run %d: %7d msgs in %6.2f s = %6.0f msgs/s' "$(size_label "$size")" \
		"$sessions" "$([[ $kind == mw ]] && echo mailwarden || echo direct)" "$run" "$count" "$SRC_ELAPSED" "$rate"
	if [[ $kind == mw ]]; then
		# shellcheck disable=SC2086
		cpu1=$(bench_cpu_ticks $pids)
		CPU_TICKS=$((CPU_TICKS + cpu1 - cpu0))
		CPU_MSGS=$((CPU_MSGS + ok))
	fi
	if ((SRC_ERRORS > 0)) || [[ $SRC_RC != 0 ]]; then
		printf '  [%d errors, smtp-source exit %s]\n' "$SRC_ERRORS" "$SRC_RC"
		sed 's/^/      /' "$SRC_ERR" | sort | uniq -c | sort -rn | head -n 5
		ERRORS=$((ERRORS + SRC_ERRORS))
		[[ $kind == mw ]] && note_problem "$(size_label "$size") x$sessions run $run: $SRC_ERRORS smtp-source errors (exit $SRC_RC), e.g. $(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || echo '?')"
	else
		echo
	fi
	if ((delivered != ok)); then
		note_problem "$(size_label "$size") x$sessions $kind run $run: $ok messages accepted but $delivered reached smtp-sink"
		[[ $kind == mw ]] && LOST=$((LOST + ok - delivered))
	fi
	if [[ $kind == mw ]]; then RATES_MW+=("$rate"); else RATES_DIRECT+=("$rate"); fi
}

declare -A RES_DIRECT RES_MW RES_RATIO RES_CPU RES_ERR
ERRORS_TOTAL=0
LOST=0
WORKER_RSS_MAX_KB=""

for size in "${SIZES[@]}"; do
	for sessions in "${SESSIONS[@]}"; do
		key="$size/$sessions"
		RATES_DIRECT=()
		RATES_MW=()
		ERRORS=0
		CPU_TICKS=0
		CPU_MSGS=0
		calibrate "$SINK_PORT" "$size" "$sessions"
		count_direct=$CAL_COUNT
		count_mw=""
		if mw_usable; then
			calibrate "$MW_PORT" "$size" "$sessions"
			count_mw=$CAL_COUNT
			check_mw_alive "calibration"
		fi
		# alternate direct and mailwarden runs so that a noisy neighbour hurts both alike
		for ((run = 1; run <= BENCH_RUNS; run++)); do
			one_run direct "$SINK_PORT" "$size" "$sessions" "$count_direct" "$run"
			if [[ -n $count_mw ]] && mw_usable; then
				one_run mw "$MW_PORT" "$size" "$sessions" "$count_mw" "$run"
				check_mw_alive "the $(size_label "$size") x$sessions runs"
			fi
		done
		RES_DIRECT[$key]=$(bench_median "${RATES_DIRECT[@]}")
		RES_MW[$key]=-
		RES_RATIO[$key]=-
		RES_CPU[$key]=-
		if ((${#RATES_MW[@]} == BENCH_RUNS)); then
			RES_MW[$key]=$(bench_median "${RATES_MW[@]}")
			RES_RATIO[$key]=$(awk -v m="${RES_MW[$key]}" -v d="${RES_DIRECT[$key]}" 'BEGIN { printf "%.0f", 100 * m / d }')
			((CPU_MSGS > 0)) && RES_CPU[$key]=$(awk -v t="$CPU_TICKS" -v h="$CLK_TCK" -v n="$CPU_MSGS" \
				'BEGIN { printf "%.0f", t / h * 1e6 / n }')
		fi
		RES_ERR[$key]=$ERRORS
		ERRORS_TOTAL=$((ERRORS_TOTAL + ERRORS))
	done

	# ---------------------------------------------------------- worker RSS after the 4 KiB runs
	if ((size == 4096)) && mw_usable; then
		echo
		echo "mailwarden worker memory after the 4 KiB runs:"
		max=0
		for w in $(bench_mw_workers); do
			rss=$(bench_status_kb "$w" VmRSS)
			hwm=$(bench_status_kb "$w" VmHWM)
			printf '  worker %-8s VmRSS %6s MiB   VmHWM %6s MiB\n' "$w" "$(bench_kb_to_mib "$rss")" "$(bench_kb_to_mib "$hwm")"
			((rss > max)) && max=$rss
		done
		printf '  master %-8s VmRSS %6s MiB\n' "$MW_PID" "$(bench_kb_to_mib "$(bench_status_kb "$MW_PID" VmRSS)")"
		WORKER_RSS_MAX_KB=$max
		printf '  max worker VmRSS: %s MiB (goal < %d MiB)\n' "$(bench_kb_to_mib "$max")" "$GOAL_RSS_MIB"
		echo
	fi
done

# ------------------------------------------------------------------ one large message

BIG_GROWTH_KB=""
if mw_usable; then
	echo
	echo "RSS growth while one $(bench_kb_to_mib $((BENCH_BIG_SIZE / 1024))) MiB message passes through mailwarden:"
	declare -A BASE PEAK
	HWM_RESET=1
	workers=$(bench_mw_workers)
	for w in $workers; do
		BASE[$w]=$(bench_status_kb "$w" VmRSS)
		PEAK[$w]=${BASE[$w]}
		# "5" resets VmHWM to the current RSS (proc(5), clear_refs), so VmHWM afterwards is the
		# exact peak of this transfer, between our 50 ms samples too
		echo 5 >"/proc/$w/clear_refs" 2>/dev/null || HWM_RESET=0
	done
	before=$(bench_sink_count)
	BIG_ERR=$BENCH_TMP/source-big.err
	t0=$(bench_now)
	timeout -k 5 300 smtp-source -A -M bench.example -f from@example.org -t to@example.org \
		-s 1 -m 1 -l "$BENCH_BIG_SIZE" "127.0.0.1:$MW_PORT" >/dev/null 2>"$BIG_ERR" &
	big_pid=$!
	bench_track "$big_pid"
	samples=0
	while kill -0 "$big_pid" 2>/dev/null; do
		for w in $workers; do
			r=$(bench_status_kb "$w" VmRSS)
			((r > PEAK[$w])) && PEAK[$w]=$r
		done
		samples=$((samples + 1))
		sleep 0.05
	done
	big_rc=0
	wait "$big_pid" || big_rc=$?
	bench_untrack "$big_pid"
	t1=$(bench_now)
	sleep 0.1
	delivered=$(($(bench_sink_count) - before))
	BIG_GROWTH_KB=0
	big_worker=""
	for w in $workers; do
		peak=${PEAK[$w]}
		if ((HWM_RESET)); then
			hwm=$(bench_status_kb "$w" VmHWM)
			((hwm > peak)) && peak=$hwm
		fi
		g=$((peak - BASE[$w]))
		if ((g > BIG_GROWTH_KB)) || [[ -z $big_worker ]]; then
			BIG_GROWTH_KB=$g
			big_worker=$w
		fi
	done
	elapsed=$(bench_calc "$t1 - $t0")
	printf '  sent in %.2f s (%s MiB/s), smtp-source exit %s, %d delivered to smtp-sink, %d RSS samples\n' \
		"$elapsed" "$(awk -v b="$BENCH_BIG_SIZE" -v e="$elapsed" 'BEGIN { printf "%.1f", b / 1048576 / e }')" \
		"$big_rc" "$delivered" "$samples"
	printf '  busiest worker %s: VmRSS before %s MiB, peak %s MiB (%s)\n' "$big_worker" \
		"$(bench_kb_to_mib "${BASE[$big_worker]}")" "$(bench_kb_to_mib $((BASE[$big_worker] + BIG_GROWTH_KB)))" \
		"$( ((HWM_RESET)) && echo "VmHWM after a reset, and 50 ms samples" || echo "50 ms samples only: VmHWM reset not permitted")"
	printf '  peak RSS growth: %s MiB (goal < %d MiB)\n' "$(bench_kb_to_mib "$BIG_GROWTH_KB")" "$GOAL_GROWTH_MIB"
	if [[ $big_rc != 0 ]] || grep -qE 'warning:|fatal:' "$BIG_ERR"; then
		note_problem "large message: smtp-source exit $big_rc: $(head -c 300 "$BIG_ERR" | tr '\n' ' ')"
		ERRORS_TOTAL=$((ERRORS_TOTAL + 1))
	fi
	((delivered == 1)) || note_problem "large message: $delivered copies reached smtp-sink (expected 1)"
	check_mw_alive "the large message"
fi

# ------------------------------------------------------------------ stop mailwarden, read its log

MW_STOP_NOTE=""
LOG_ISSUES=0
LOG_ACTIONS=""
if ((DIRECT_ONLY == 0)) && [[ -n ${MW_PID:-} ]]; then
	workers_end=$(bench_mw_workers | sort -n | tr '\n' ' ')
	if [[ -n ${MW_WORKERS_START:-} && $workers_end != "$MW_WORKERS_START" ]]; then
		replaced=$(comm -23 <(tr ' ' '\n' <<<"$MW_WORKERS_START" | grep . | sort) \
			<(tr ' ' '\n' <<<"$workers_end" | grep . | sort) | wc -l)
		((replaced > 0)) && note_problem "$replaced of the workers started are gone (crashed or recycled): start [$MW_WORKERS_START] end [$workers_end]"
	fi
	bench_mw_stop 15
	MW_STOP_NOTE=$MW_EXIT
	echo
	echo "mailwarden stopped with SIGTERM: $MW_EXIT"
	[[ $MW_EXIT == "exit status 0" ]] || note_problem "mailwarden on SIGTERM: $MW_EXIT"
fi
if [[ -n ${MW_LOG:-} && -s $MW_LOG ]]; then
	LOG_ISSUES=$(grep -ciE 'error|warn|crit|fatal|abort|assert|segv|sanitizer|timed? ?out|refused|reset' "$MW_LOG" || true)
	echo "mailwarden log: $(wc -l <"$MW_LOG") lines, $LOG_ISSUES that look like problems"
	LOG_ACTIONS=$(grep -o ' action=[A-Za-z_-]*' "$MW_LOG" | sort | uniq -c |
		awk '{ sub(/^action=/, "", $2); printf "%s%s %s", sep, $2, $1; sep = ", " }' || true)
	[[ -n $LOG_ACTIONS ]] && echo "mailwarden log, actions: $LOG_ACTIONS"
	if ((LOG_ISSUES > 0)); then
		grep -iE 'error|warn|crit|fatal|abort|assert|segv|sanitizer|timed? ?out|refused|reset' "$MW_LOG" |
			sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/  | /'
		note_problem "$LOG_ISSUES suspicious lines in the mailwarden log"
	fi
fi
((LOST > 0)) && { MW_FAILED=1; note_problem "$LOST messages answered 2xx by mailwarden never reached smtp-sink"; }

# ------------------------------------------------------------------ table and summary

goal_mark() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN {
	if (v == "" || v == "-") { print "n/a"; exit }
	ok = (op == ">=") ? (v + 0 >= g) : (v + 0 < g); print ok ? "PASS" : "FAIL" }'; }

TABLE=$BENCH_TMP/table.txt
{
	printf '%-8s %8s %14s %18s %8s %14s %7s\n' size sessions "direct msgs/s" "mailwarden msgs/s" "ratio %" "mw CPU us/msg" errors
	for size in "${SIZES[@]}"; do
		for sessions in "${SESSIONS[@]}"; do
			key="$size/$sessions"
			mw=${RES_MW[$key]}
			[[ $mw != - ]] && mw=$(bench_fmt_int "$mw")
			printf '%-8s %8s %14s %18s %8s %14s %7s\n' "$(size_label "$size")" "$sessions" \
				"$(bench_fmt_int "${RES_DIRECT[$key]}")" "$mw" "${RES_RATIO[$key]}" "${RES_CPU[$key]}" "${RES_ERR[$key]}"
		done
	done
} >"$TABLE"

ratio_goal=${RES_RATIO[4096/10]}
rss_mib=""
[[ -n $WORKER_RSS_MAX_KB ]] && rss_mib=$(bench_kb_to_mib "$WORKER_RSS_MAX_KB")
growth_mib=""
[[ -n $BIG_GROWTH_KB ]] && growth_mib=$(bench_kb_to_mib "$BIG_GROWTH_KB")

echo
echo "==================== mailwarden core benchmark: summary ===================="
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT${MW_BUILD_TYPE:+, $MW_BUILD_TYPE build}," \
	"median of $BENCH_RUNS runs of ~${BENCH_SECONDS}s," \
	"smtp-source $([[ ${BENCH_NO_REUSE:-0} == 1 ]] && echo 'one connection per message' || echo 'reusing connections (-d)')"
echo "load average before the run: $LOAD_BEFORE"
cat "$TABLE"
ratio_txt=$ratio_goal
[[ $ratio_txt != - ]] && ratio_txt="$ratio_txt%"
echo "goal: 10 sessions 4 KiB >= ${GOAL_RATIO}% of direct: $ratio_txt $(goal_mark "$ratio_goal" "$GOAL_RATIO" ">=")"
echo "goal: max worker VmRSS after the 4 KiB runs < ${GOAL_RSS_MIB} MiB: ${rss_mib:--} MiB $(goal_mark "$rss_mib" "$GOAL_RSS_MIB" "<")"
echo "goal: worker RSS growth for one $(bench_kb_to_mib $((BENCH_BIG_SIZE / 1024))) MiB message < ${GOAL_GROWTH_MIB} MiB: ${growth_mib:--} MiB $(goal_mark "$growth_mib" "$GOAL_GROWTH_MIB" "<")"
echo "smtp-source errors: $ERRORS_TOTAL; messages lost: $LOST; mailwarden log lines that look like problems: $LOG_ISSUES${MW_STOP_NOTE:+; SIGTERM: $MW_STOP_NOTE}"
[[ -n $LOG_ACTIONS ]] && echo "mailwarden log actions: $LOG_ACTIONS"
if ((${#MW_PROBLEMS[@]})); then
	echo "problems:"
	printf '  - %s\n' "${MW_PROBLEMS[@]}"
fi
echo "============================================================================"

if ((DIRECT_ONLY)); then exit 0; fi
if ((MW_FAILED || ERRORS_TOTAL > 0)); then
	BENCH_FAILED=1
	exit 1
fi
exit 0
