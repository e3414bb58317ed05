#!/usr/bin/env bash
# bench/run-footer.sh - what the footer module costs: throughput and CPU per message.
#
#   bench/run-footer.sh [--quick] [--keep]
#
# Two mailwarden instances (workers = 10) reinject into one smtp-sink:
#   baseline: modules =            (the core alone)
#   footer:   modules = footer     (local_domains = example.org, so smtp-source's sender
#                                   from@example.org is outbound and every message gets a footer)
# For three messages - a 4 KiB plain text, a multipart/alternative with quoted-printable text and
# HTML (both parts get a footer), and a 1 MiB multipart/mixed whose body is a short text and the
# rest a base64 attachment (the footer must not cost in proportion to the attachment) - it sends
# with 10 sessions and reports messages per second (median of BENCH_RUNS runs of about
# BENCH_SECONDS each), the footer's rate as % of the baseline, and the CPU time per message of
# the mailwarden processes. It checks that the footer instance really added footers (its summary
# lines say footer=added).
#
# Environment:
#   MW_BUILD_DIR     where the mailwarden binary is (default: build/, built if absent)
#   BENCH_SECONDS    target length of one run (default 3)
#   BENCH_RUNS       runs per figure, the median is reported (default 3)
#   BENCH_KEEP=1     keep the temp dir (logs, configs, messages) even on success
# BENCH_KEEP and BENCH_FAILED are read by lib.sh; SINK_PORT is set by bench_pick_port_var
# shellcheck disable=SC2034,SC2153
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

while (($#)); do
	case $1 in
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
SESSIONS=10
RUN_LIMIT=$(awk -v s="$BENCH_SECONDS" 'BEGIN { l = s * 10; if (l < 60) l = 60; printf "%d", l }')
CLK_TCK=$(getconf CLK_TCK)

bench_init mw-bench-footer
bench_need_procps
bench_need_postfix_tools

# ------------------------------------------------------------------ messages and configs

MSG_DIR=$BENCH_TMP/messages
mkdir -p "$MSG_DIR"

# plain: 4 KiB of UTF-8 text, 8bit
{
	printf 'From: <from@example.org>\nTo: <to@example.org>\nSubject: plain\n'
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
	for ((i = 0; i < 60; i++)); do printf 'Zeile %02d: Grüße aus Köln, ein ganz normaler Satz.\n' "$i"; done
} >"$MSG_DIR/plain.eml"

# alternative: text and HTML, quoted-printable
{
	printf 'From: <from@example.org>\nTo: <to@example.org>\nSubject: alternative\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="alt"\n\n'
	printf 'This is a multi-part message in MIME format.\n--alt\n'
	printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n'
	for ((i = 0; i < 60; i++)); do printf 'Zeile %02d: Gr=C3=BC=C3=9Fe aus K=C3=B6ln, ein ganz normaler Satz.\n' "$i"; done
	printf '\n--alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n'
	printf '<html><head><meta charset=3D"utf-8"></head><body>\n'
	for ((i = 0; i < 60; i++)); do printf '<p>Zeile %02d: Gr=C3=BC=C3=9Fe aus K=C3=B6ln.</p>\n' "$i"; done
	printf '</body></html>\n--alt--\n'
} >"$MSG_DIR/alternative.eml"

# mixed: a short body and a 1 MiB base64 attachment
{
	printf 'From: <from@example.org>\nTo: <to@example.org>\nSubject: attachment\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="mix"\n\n'
	printf -- '--mix\nContent-Type: text/plain; charset=us-ascii\n\nThe report is attached.\n\n'
	printf -- '--mix\nContent-Type: application/octet-stream; name="report.bin"\n'
	printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="report.bin"\n\n'
	head -c 786432 /dev/urandom | base64 -w 76
	printf -- '--mix--\n'
} >"$MSG_DIR/mixed.eml"

printf 'Example AG · Vertraulich: diese Nachricht ist nur für den Empfänger bestimmt.\nLegal <legal@example.org> & Co.\n' \
	>"$BENCH_TMP/footer.txt"
printf '<p style="color:#666">Example AG &middot; <b>Vertraulich</b></p>\n' >"$BENCH_TMP/footer.html"

bench_pick_port_var SINK_PORT
bench_pick_port_var BASE_PORT
bench_pick_port_var FOOTER_PORT
bench_start_sink "$SINK_PORT"

MW_BIN=$(bench_mailwarden_binary)
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)

COMMIT=$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "footer module benchmark - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT"
echo "mailwarden: $MW_BIN (build type ${BUILD_TYPE:-unknown}); runs of ~${BENCH_SECONDS}s, median of $BENCH_RUNS, $SESSIONS sessions"
[[ ${BUILD_TYPE:-} == Release ]] ||
	echo "  note: not a Release build: its figures understate mailwarden (MW_BUILD_DIR= a Release build dir)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A PIDS LOGS
# start_instance NAME PORT MODULES - a mailwarden of its own (state, log); sets PIDS[NAME], LOGS[NAME]
start_instance() {
	local name=$1 port=$2 modules=$3 conf=$BENCH_TMP/$1.conf
	mkdir -p "$BENCH_TMP/$name"
	MW_MODULES=$modules bench_mw_write_conf "$conf" "$port" "$SINK_PORT" \
		"local_domains = example.org" "max_message_size = 10m" "" "[footer]" \
		"text = $BENCH_TMP/footer.txt" "html = $BENCH_TMP/footer.html"
	sed -i "s|^state_dir = .*|state_dir = $BENCH_TMP/$name|" "$conf"
	MW_PID=""
	bench_mw_start "$MW_BIN" "$conf" "$port" || bench_die "mailwarden ($name) did not start"
	mv "$MW_LOG" "$BENCH_TMP/$name.log" 2>/dev/null || true
	MW_LOG=$BENCH_TMP/$name.log
	PIDS[$name]=$MW_PID
	LOGS[$name]=$MW_LOG
	bench_mw_note_workers
}

# the log file was moved while the daemon writes to it: it keeps writing to the moved file
start_instance base "$BASE_PORT" ""
start_instance footer "$FOOTER_PORT" "footer"
MW_PID="" # both are tracked by pid; bench_cleanup kills them
sleep 0.5

# calibrate PORT MSG - message count for a run of about BENCH_SECONDS (sets CAL_COUNT)
calibrate() {
	local port=$1 msg=$2 n=20 rate
	while :; do
		bench_source "$port" "$msg" "$SESSIONS" "$n" "$RUN_LIMIT"
		((SRC_ERRORS == 0)) || bench_die "calibration on $port: $SRC_ERRORS errors: $(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || true)"
		if awk -v e="$SRC_ELAPSED" 'BEGIN { exit !(e >= 0.3) }' || ((n >= 200000)); then break; fi
		n=$((n * 4))
	done
	rate=$(bench_calc "$n / ($SRC_ELAPSED > 0.001 ? $SRC_ELAPSED : 0.001)")
	CAL_COUNT=$(awk -v r="$rate" -v s="$BENCH_SECONDS" 'BEGIN { c = int(r * s); if (c < 50) c = 50; print c }')
}

# measure PID PORT MSG COUNT - one run; sets RATE and CPU_US (per message, master + workers)
measure() {
	local pid=$1 port=$2 msg=$3 count=$4 pids cpu0 cpu1
	pids="$pid $(bench_children "$pid" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	cpu0=$(bench_cpu_ticks $pids)
	bench_source "$port" "$msg" "$SESSIONS" "$count" "$RUN_LIMIT"
	# shellcheck disable=SC2086
	cpu1=$(bench_cpu_ticks $pids)
	((SRC_ERRORS == 0)) || bench_die "run on $port: $SRC_ERRORS smtp-source errors: $(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || true)"
	RATE=$(bench_calc "$count / $SRC_ELAPSED")
	CPU_US=$(awk -v t="$((cpu1 - cpu0))" -v h="$CLK_TCK" -v n="$count" 'BEGIN { printf "%.0f", t / h * 1e6 / n }')
}

declare -A RESULT
for name in plain alternative mixed; do
	msg=$MSG_DIR/$name.eml
	size=$(stat -c %s "$msg")
	echo
	echo "$name ($((size / 1024)) KiB):"
	calibrate "$BASE_PORT" "$msg"
	count=$CAL_COUNT
	base_rates=()
	footer_rates=()
	base_cpu=()
	footer_cpu=()
	# warm both up, then alternate which goes first so that a noisy neighbour hurts both alike
	bench_source "$FOOTER_PORT" "$msg" "$SESSIONS" "$((count / 4 + 10))" "$RUN_LIMIT"
	for ((run = 1; run <= BENCH_RUNS; run++)); do
		for which in $( ((run % 2)) && echo "base footer" || echo "footer base"); do
			if [[ $which == base ]]; then
				measure "${PIDS[base]}" "$BASE_PORT" "$msg" "$count"
				base_rates+=("$RATE")
				base_cpu+=("$CPU_US")
			else
				measure "${PIDS[footer]}" "$FOOTER_PORT" "$msg" "$count"
				footer_rates+=("$RATE")
				footer_cpu+=("$CPU_US")
			fi
		done
		printf '  run %d: %6d msgs  baseline %7.0f msgs/s %6s us CPU/msg   footer %7.0f msgs/s %6s us CPU/msg\n' \
			"$run" "$count" "${base_rates[-1]}" "${base_cpu[-1]}" "${footer_rates[-1]}" "${footer_cpu[-1]}"
	done
	rate_base=$(bench_median "${base_rates[@]}")
	rate_footer=$(bench_median "${footer_rates[@]}")
	cpu_base=$(bench_median "${base_cpu[@]}")
	cpu_footer=$(bench_median "${footer_cpu[@]}")
	RESULT[$name]=$(printf '%-12s %6s KiB %9.0f %9.0f %5.0f%% %9.0f %9.0f %+8.0f' "$name" "$((size / 1024))" \
		"$rate_base" "$rate_footer" "$(bench_calc "100 * $rate_footer / $rate_base")" \
		"$cpu_base" "$cpu_footer" "$(bench_calc "$cpu_footer - $cpu_base")")
done

sleep 0.5
added=$(grep -c 'footer=added' "${LOGS[footer]}" || true)
others=$(grep -c 'footer=' "${LOGS[footer]}" || true)
echo
echo "summary ($SESSIONS sessions; msgs/s median of $BENCH_RUNS; CPU = master + workers per message):"
printf '%-12s %10s %9s %9s %6s %9s %9s %8s\n' message size baseline footer ratio "cpu base" "cpu foot" "+us/msg"
for name in plain alternative mixed; do echo "${RESULT[$name]}"; done
echo "footer instance: $added summary lines with footer=added (of $others with a footer note)"
if ((added == 0 || added != others)); then
	BENCH_FAILED=1
	echo "PROBLEM: not every message through the footer instance got its footer" >&2
	grep 'footer=' "${LOGS[footer]}" | grep -v 'footer=added' | head -n 3 >&2 || true
	exit 1
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# stop both: SIGTERM, drain, workers checked (bench_mw_stop works on MW_PID)
for name in base footer; do
	MW_PID=${PIDS[$name]}
	bench_mw_stop 10
	echo "mailwarden ($name) stopped: $MW_EXIT"
done
