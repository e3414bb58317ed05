#!/usr/bin/env bash
# bench/run-virus.sh - the virus module against amavisd-new and clamsmtp, and the memory of one
# shared libclamav engine.
#
#   bench/run-virus.sh [--quick] [--keep] [--no-peers] [--no-memory]
#
# Throughput, messages per second at 10 sessions with a 4 KiB MIME message (a text part and a
# base64 attachment), median of BENCH_RUNS runs of about BENCH_SECONDS each, runs of the four
# pipelines interleaved so that a busy neighbour slows them alike:
#   mailwarden + virus (libclamav)  smtp-source -> mailwarden (workers = 10, engine in-process)
#   mailwarden + virus (clamd)      smtp-source -> mailwarden (engine = clamd)   -> clamd
#   amavisd-new + clamd             smtp-source -> amavisd (10 children, spam checks off) -> clamd
#   clamsmtp + clamd                smtp-source -> clamsmtpd -> clamd
# each reinjecting into one smtp-sink. Every filter uses the same clamd (or, for libclamav, the same
# database): BENCH_SIGS synthetic MD5 hash signatures plus EICAR. Before measuring, each pipeline
# must discard an EICAR message and pass a clean one, so nothing is measured that does not scan.
#
# Memory: total PSS (/proc/PID/smaps_rollup) of mailwarden's master and 10 workers holding the
# libclamav engine with that database, after the throughput runs, against the same with 1 worker
# (one engine); goal: less than 1.5 times. The engine's own size (the master's RSS growth over a
# master without modules) and clamd's RSS with the same database are printed for scale.
#
# Temporary files (signatures, logs, every filter's spool and temp directories) are on a tmpfs
# (/dev/shm) unless TMPDIR is set or BENCH_TMPFS=0: the peers' documentation recommends a RAM disk
# for their temp directories, and libclamav's mail parser writes temp files too.
#
# Environment:
#   MW_BUILD_DIR     where the mailwarden binary is (default build/, built if absent); it must
#                    have the virus module; measure a Release build
#   BENCH_SECONDS    target length of one run (default 3)
#   BENCH_RUNS       runs per figure, the median is reported (default 3)
#   BENCH_SIGS       synthetic hash signatures in the database (default 500000)
#   BENCH_TMPFS=0    keep temporary files under TMPDIR or /tmp
#   BENCH_KEEP=1     keep the temp dir (logs, configs) even on success
# Runs as root on loopback only; installs clamav-daemon, amavisd-new and clamsmtp when missing
# (no service is left running: an install that starts one is undone by PID).
# BENCH_KEEP and BENCH_FAILED are read by lib.sh; EICAR is literal on purpose
# shellcheck disable=SC2119,SC2153,SC2034,SC2016
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

PEERS=1
MEMORY=1
while (($#)); do
	case $1 in
	--quick) BENCH_SECONDS=${BENCH_SECONDS:-1} BENCH_RUNS=${BENCH_RUNS:-1} ;;
	--keep) BENCH_KEEP=1 ;;
	--no-peers) PEERS=0 ;;
	--no-memory) MEMORY=0 ;;
	-h | --help)
		sed -n '2,/^# Runs as root/p' "$0" | sed 's/^# \{0,1\}//'
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
BENCH_SIGS=${BENCH_SIGS:-500000}
SESSIONS=10
MSG_SIZE=4096
GOAL_VS_AMAVIS=20
GOAL_PSS_RATIO=1.5
RUN_LIMIT=$(awk -v s="$BENCH_SECONDS" 'BEGIN { l = s * 10; if (l < 60) l = 60; printf "%d", l }')

if [[ ${BENCH_TMPFS:-1} == 1 && -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
	export TMPDIR=/dev/shm
fi
bench_init mw-bench-virus
bench_need_procps
bench_need_postfix_tools
[[ $(id -u) == 0 ]] || bench_die "run as root (clamd, amavisd and clamsmtpd are started here)"

PROBLEMS=()
note_problem() {
	PROBLEMS+=("$*")
	printf '  !! %s\n' "$*"
}

# ------------------------------------------------------------------ packages

# need_packages PKG:COMMAND... - install what is missing; a service the install starts is stopped
need_packages() {
	local want=() item pkg cmd pidfile pid
	local -A before=()
	local pidfiles=(/run/clamav/clamd.pid /run/clamav/freshclam.pid /run/amavis/amavisd.pid
		/run/clamsmtp/clamsmtpd.pid /var/run/clamsmtp/clamsmtpd.pid)
	for item in "$@"; do
		pkg=${item%%:*} cmd=${item#*:}
		command -v "$cmd" >/dev/null || want+=("$pkg")
	done
	((${#want[@]})) || return 0
	for pidfile in "${pidfiles[@]}"; do before[$pidfile]=$(cat "$pidfile" 2>/dev/null || true); done
	bench_log "installing ${want[*]} (services are not started)..."
	local created=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		created=1
	fi
	bench_apt_install "${want[@]}" || true
	((created)) && rm -f /usr/sbin/policy-rc.d
	for pidfile in "${pidfiles[@]}"; do
		pid=$(cat "$pidfile" 2>/dev/null || true)
		if [[ -n $pid && $pid != "${before[$pidfile]}" ]] && kill -0 "$pid" 2>/dev/null; then
			bench_log "the install started pid $pid ($pidfile): stopping it"
			bench_kill_pid "$pid" 10
		fi
	done
}

need_packages clamav-daemon:clamd
if ((PEERS)); then need_packages amavisd-new:amavisd clamsmtp:clamsmtpd; fi
command -v clamd >/dev/null || bench_die "clamd missing (Debian package clamav-daemon)"

# ------------------------------------------------------------------ data

DB=$BENCH_TMP/db
mkdir -p "$DB"
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

# make_db - BENCH_SIGS random MD5 signatures (as many as a large hash database has) plus EICAR
make_db() {
	local md5
	md5=$(printf '%s' "$EICAR" | md5sum | cut -d' ' -f1)
	{
		printf '%s:68:Bench.Eicar\n' "$md5"
		head -c $((BENCH_SIGS * 16)) /dev/urandom | od -An -v -tx1 | tr -d ' \n' |
			fold -w 32 | awk '{ printf "%s:%d:Bench.Synthetic.%d\n", $0, 1000 + (NR * 7919) % 900000, NR }'
	} >"$DB/bench.hdb"
	# the EICAR string anywhere (in a message body), as the official databases find it
	printf 'Bench.Eicar.Body:0:*:%s\n' "$(printf '%s' "$EICAR" | od -An -v -tx1 | tr -d ' \n')" \
		>"$DB/bench.ndb"
}

# make_message FILE SIZE - a MIME message of SIZE bytes (CRLF): text part and base64 attachment
make_message() {
	local file=$1 size=$2 head text tail attach_len=2000 actual i
	head=$'From: <from@example.org>\nTo: <to@example.org>\nSubject: quarterly report\nMessage-ID: <bench.1@example.org>\nDate: Sun, 22 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="=-bench-boundary"\n\n--=-bench-boundary\nContent-Type: text/plain; charset=us-ascii\n\n'
	text=$'Hello,\n\nplease find the report attached. The figures are as discussed.\n\nRegards\n'
	tail=$'--=-bench-boundary\nContent-Type: application/pdf; name="report.pdf"\nContent-Disposition: attachment; filename="report.pdf"\nContent-Transfer-Encoding: base64\n\n'
	head -c 65536 /dev/urandom >"$file.bin"
	for i in 1 2 3; do
		{
			printf '%s%s%s' "$head" "$text" "$tail"
			head -c "$attach_len" "$file.bin" | base64 -w 76
			printf -- '--=-bench-boundary--\n'
		} | sed 's/$/\r/' >"$file"
		actual=$(stat -c %s "$file")
		# base64: 4 characters per 3 bytes, plus CRLF after every 76
		attach_len=$((attach_len + (size - actual) * 3 * 76 / (4 * 78)))
	done
	rm -f "$file.bin"
}

make_db
MSG=$BENCH_TMP/msg-4k.eml
make_message "$MSG" "$MSG_SIZE"
EICAR_MSG=$BENCH_TMP/eicar.eml
printf 'From: <from@example.org>\r\nTo: <to@example.org>\r\nSubject: eicar\r\n\r\n%s\r\n' "$EICAR" >"$EICAR_MSG"

bench_pick_port_var SINK_PORT
bench_pick_port_var MWL_PORT
bench_pick_port_var MWC_PORT
bench_pick_port_var AMAVIS_PORT
bench_pick_port_var CLAMSMTP_PORT
bench_start_sink "$SINK_PORT"

COMMIT=$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "mailwarden virus benchmark - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT"
echo "temp dir $BENCH_TMP ($(stat -f -c %T "$BENCH_TMP")); smtp-sink on 127.0.0.1:$SINK_PORT"
echo "database: $BENCH_SIGS synthetic MD5 hash signatures + EICAR ($(du -sh "$DB" | cut -f1))"
echo "message: $(stat -c %s "$MSG") bytes, text + base64 attachment; $SESSIONS sessions; runs of ~${BENCH_SECONDS}s, median of $BENCH_RUNS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (anything above ~0.3 means other work shares the 2 cores)"

# ------------------------------------------------------------------ clamd

CLAMD_SOCK=$BENCH_TMP/clamd.sock
mkdir -p "$BENCH_TMP/clamd-tmp"
cat >"$BENCH_TMP/clamd.conf" <<EOF
LocalSocket $CLAMD_SOCK
LocalSocketMode 666
DatabaseDirectory $DB
TemporaryDirectory $BENCH_TMP/clamd-tmp
LogFile $BENCH_TMP/clamd.log
Foreground yes
MaxThreads 20
MaxQueue 200
StreamMaxLength 50M
SelfCheck 3600
EOF

MW_BIN=$(bench_mailwarden_binary)
MW_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)
printf '[mailwarden]\nstate_dir = %s\nmodules = virus\n[virus]\nengine = clamd\nclamd_socket = unix:%s\ntimeout = 5\n' \
	"$BENCH_TMP/state-ping" "$CLAMD_SOCK" >"$BENCH_TMP/ping.conf"
PING_OUT=$("$MW_BIN" -c "$BENCH_TMP/ping.conf" --check-config 2>&1 || true)
[[ $PING_OUT == *"clamd unreachable"* ]] ||
	bench_die "$MW_BIN has no virus module (build it with modules/virus): $PING_OUT"

# clamd_ping - clamd answers PING with PONG (mailwarden --check-config does exactly that)
clamd_ping() { "$MW_BIN" -c "$BENCH_TMP/ping.conf" --check-config >/dev/null 2>&1; }

t0=$(bench_now)
clamd --foreground --config-file="$BENCH_TMP/clamd.conf" >"$BENCH_TMP/clamd.out" 2>&1 &
CLAMD_PID=$!
bench_track "$CLAMD_PID"
for ((i = 0; i < 1200; i++)); do
	clamd_ping && break
	bench_pid_alive "$CLAMD_PID" || break
	sleep 0.1
done
clamd_ping || { tail -n 20 "$BENCH_TMP/clamd.log" >&2; bench_die "clamd did not start"; }
CLAMD_LOAD=$(bench_calc "$(bench_now) - $t0")
CLAMD_RSS_KB=$(bench_status_kb "$CLAMD_PID" VmRSS)
printf 'clamd: pid %s, database loaded in %.1f s, VmRSS %s MiB\n' "$CLAMD_PID" "$CLAMD_LOAD" \
	"$(bench_kb_to_mib "$CLAMD_RSS_KB")"

# ------------------------------------------------------------------ filters

echo "mailwarden: $MW_BIN (${MW_BUILD_TYPE:-unknown build type})"
[[ ${MW_BUILD_TYPE:-} == Release ]] || echo "  note: not a Release build: its figures understate mailwarden"

declare -A NAME PORT PID LOG UP
KINDS=(mwl mwc amavis clamsmtp)
NAME[mwl]="mailwarden + virus (libclamav)"
NAME[mwc]="mailwarden + virus (clamd)"
NAME[amavis]="amavisd-new + clamd"
NAME[clamsmtp]="clamsmtp + clamd"
PORT[mwl]=$MWL_PORT PORT[mwc]=$MWC_PORT PORT[amavis]=$AMAVIS_PORT PORT[clamsmtp]=$CLAMSMTP_PORT

# mw_conf FILE PORT WORKERS VIRUS_LINE... - a mailwarden config with [virus]
mw_conf() {
	local file=$1 port=$2 workers=$3
	shift 3
	mkdir -p "$BENCH_TMP/state-$port" "$BENCH_TMP/mwtmp-$port"
	{
		echo '[mailwarden]'
		echo "listen = 127.0.0.1:$port"
		echo "reinject = 127.0.0.1:$SINK_PORT"
		echo "workers = $workers"
		echo "state_dir = $BENCH_TMP/state-$port"
		echo 'hostname = bench.test'
		echo 'timeout = 60'
		echo 'modules = virus'
		echo '[virus]'
		echo "tmpdir = $BENCH_TMP/mwtmp-$port"
		printf '%s\n' "$@"
	} >"$file"
}

# start_mw KIND WORKERS VIRUS_LINE... - a mailwarden master in the background (PID[KIND])
start_mw() {
	local kind=$1 workers=$2 conf
	shift 2
	conf=$BENCH_TMP/$kind.conf
	mw_conf "$conf" "${PORT[$kind]}" "$workers" "$@"
	if ! "$MW_BIN" -c "$conf" --check-config >"$BENCH_TMP/$kind.check" 2>&1; then
		note_problem "${NAME[$kind]}: --check-config failed: $(tr '\n' ' ' <"$BENCH_TMP/$kind.check")"
		return 1
	fi
	LOG[$kind]=$BENCH_TMP/$kind.log
	local t0
	t0=$(bench_now)
	"$MW_BIN" -c "$conf" >>"${LOG[$kind]}" 2>&1 &
	PID[$kind]=$!
	bench_track "${PID[$kind]}"
	if ! bench_wait_smtp 127.0.0.1 "${PORT[$kind]}" 300 "${PID[$kind]}"; then
		note_problem "${NAME[$kind]} did not come up; log: $(tail -n 5 "${LOG[$kind]}" | tr '\n' ' ')"
		return 1
	fi
	sleep 0.5
	local loaded
	loaded=$(grep -o 'engine loaded.*' "${LOG[$kind]}" | tail -n 1 || true)
	printf '%s: master pid %s, up in %.1f s%s\n' "${NAME[$kind]}" "${PID[$kind]}" \
		"$(bench_calc "$(bench_now) - $t0")" "${loaded:+ ($loaded)}"
}

# stop_master PID - SIGTERM a master and, after it, any child it left
stop_master() {
	local pid=$1 children c
	children=$(bench_children "$pid" | tr '\n' ' ')
	bench_kill_pid "$pid" 15
	bench_untrack "$pid"
	for c in $children; do bench_kill_pid "$c" 2; done
}

start_amavis() {
	local home=$BENCH_TMP/amavis
	# amavisd refuses a config file in a directory its user can write: home and config stay root's
	mkdir -p "$home/tmp" "$home/db" "$home/var" "$home/conf"
	chown amavis:amavis "$home/tmp" "$home/db" "$home/var" 2>/dev/null ||
		{ note_problem "amavisd-new: no 'amavis' user"; return 1; }
	cat >"$home/conf/amavisd.conf" <<EOF
use strict;
\$MYHOME = '$home';
\$TEMPBASE = "\$MYHOME/tmp";
\$db_home = "\$MYHOME/db";
\$helpers_home = "\$MYHOME/var";
\$pid_file = "\$MYHOME/var/amavisd.pid";
\$lock_file = "\$MYHOME/var/amavisd.lock";
\$daemon_user = 'amavis';
\$daemon_group = 'amavis';
\$mydomain = 'bench.test';
\$myhostname = 'bench.test';
\$inet_socket_bind = '127.0.0.1';
\$inet_socket_port = $AMAVIS_PORT;
@inet_acl = qw(127.0.0.1);
\$forward_method = 'smtp:[127.0.0.1]:$SINK_PORT';
\$notify_method = \$forward_method;
\$max_servers = $SESSIONS;
\$max_requests = 100000;
\$child_timeout = 120;
@bypass_spam_checks_maps = (1);
@bypass_virus_checks_maps = (0);
\$enable_dkim_verification = 0;
\$enable_dkim_signing = 0;
\$enable_db = 0;
\$enable_zmq = 0;
\$nanny_details_level = 0;
\$log_level = 0;
\$do_syslog = 0;
\$LOGFILE = "\$MYHOME/var/amavis.log";
@local_domains_maps = (1);
\$final_virus_destiny = D_DISCARD;
\$final_banned_destiny = D_PASS;
\$virus_admin = undef;
\$QUARANTINEDIR = undef;
\$virus_quarantine_method = undef;
@av_scanners = (
  ['ClamAV-clamd', \\&ask_daemon, ["CONTSCAN {}\\n", "$CLAMD_SOCK"],
   qr/\\bOK\$/m, qr/\\bFOUND\$/m, qr/^.*?: (?!Infected Archive)(.*) FOUND\$/m ],
);
@av_scanners_backup = ();
1;
EOF
	LOG[amavis]=$BENCH_TMP/amavis.out
	amavisd -c "$home/conf/amavisd.conf" foreground >"${LOG[amavis]}" 2>&1 &
	PID[amavis]=$!
	bench_track "${PID[amavis]}"
	if ! bench_wait_smtp 127.0.0.1 "$AMAVIS_PORT" 60 "${PID[amavis]}"; then
		note_problem "amavisd-new did not come up: $(tail -n 5 "${LOG[amavis]}" "$home/var/amavis.log" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	sleep 1
	echo "amavisd-new: pid ${PID[amavis]}, $(bench_children "${PID[amavis]}" | wc -l) children, $(amavisd -V 2>/dev/null | head -n 1)"
}

start_clamsmtp() {
	mkdir -p "$BENCH_TMP/clamsmtp-tmp"
	cat >"$BENCH_TMP/clamsmtpd.conf" <<EOF
OutAddress: 127.0.0.1:$SINK_PORT
Listen: 127.0.0.1:$CLAMSMTP_PORT
ClamAddress: $CLAMD_SOCK
TempDirectory: $BENCH_TMP/clamsmtp-tmp
Action: drop
MaxConnections: 64
TimeOut: 180
Header: X-Virus-Scanned: ClamAV using ClamSMTP
EOF
	LOG[clamsmtp]=$BENCH_TMP/clamsmtp.log
	clamsmtpd -d 1 -f "$BENCH_TMP/clamsmtpd.conf" -p "$BENCH_TMP/clamsmtpd.pid" >"${LOG[clamsmtp]}" 2>&1 &
	PID[clamsmtp]=$!
	bench_track "${PID[clamsmtp]}"
	if ! bench_wait_smtp 127.0.0.1 "$CLAMSMTP_PORT" 30 "${PID[clamsmtp]}"; then
		note_problem "clamsmtpd did not come up: $(tail -n 5 "${LOG[clamsmtp]}" | tr '\n' ' ')"
		return 1
	fi
	echo "clamsmtp: pid ${PID[clamsmtp]}, $(clamsmtpd -v 2>&1 | head -n 1)"
}

start_mw mwl 10 "database = $DB" && UP[mwl]=1
start_mw mwc 10 'engine = clamd' "clamd_socket = unix:$CLAMD_SOCK" && UP[mwc]=1
if ((PEERS)); then
	if command -v amavisd >/dev/null; then start_amavis && UP[amavis]=1; else note_problem "amavisd-new not installed"; fi
	if command -v clamsmtpd >/dev/null; then start_clamsmtp && UP[clamsmtp]=1; else note_problem "clamsmtp not installed"; fi
fi
echo

# sanity KIND - EICAR must not reach the sink, a clean message must
sanity() {
	local kind=$1 port=${PORT[$1]} before after
	before=$(bench_sink_count)
	bench_source "$port" "$EICAR_MSG" 1 1 60
	sleep 0.3
	after=$(bench_sink_count)
	if ((after != before)); then
		note_problem "${NAME[$kind]}: the EICAR message was delivered: not scanning; left out"
		return 1
	fi
	bench_source "$port" "$MSG" 1 1 60
	sleep 0.3
	after=$(bench_sink_count)
	if ((after != before + 1 || SRC_ERRORS > 0)); then
		note_problem "${NAME[$kind]}: the clean message did not arrive ($(head -n 1 "$SRC_ERR")); left out"
		return 1
	fi
}

echo "sanity: each filter must discard EICAR and deliver the clean message"
ACTIVE=()
for kind in "${KINDS[@]}"; do
	[[ -n ${UP[$kind]:-} ]] || continue
	if sanity "$kind"; then
		ACTIVE+=("$kind")
		printf '  %-32s ok\n' "${NAME[$kind]}"
	fi
done
echo

# calibrate KIND - the message count for a run of about BENCH_SECONDS (CAL[KIND]); warms up too
declare -A CAL
calibrate() {
	local kind=$1 n=$((SESSIONS * 20)) rate
	while :; do
		bench_source "${PORT[$kind]}" "$MSG" "$SESSIONS" "$n" "$RUN_LIMIT"
		if ((SRC_ERRORS > 0)) || [[ $SRC_RC != 0 ]]; then
			note_problem "${NAME[$kind]}: calibration: $SRC_ERRORS smtp-source errors (exit $SRC_RC), e.g. $(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || echo '?')"
			break
		fi
		if awk -v e="$SRC_ELAPSED" 'BEGIN { exit !(e >= 0.5) }' || ((n >= 1000000)); then break; fi
		n=$((n * 4))
	done
	rate=$(bench_calc "$n / ($SRC_ELAPSED > 0.001 ? $SRC_ELAPSED : 0.001)")
	CAL[$kind]=$(awk -v r="$rate" -v s="$BENCH_SECONDS" -v m="$SESSIONS" 'BEGIN {
		c = int(r * s); if (c < m * 5) c = m * 5; if (c > 2000000) c = 2000000; print c }')
}

declare -A RATES
LOST=0
one_run() {
	local kind=$1 run=$2 count=${CAL[$1]} before after delivered ok rate
	before=$(bench_sink_count)
	bench_source "${PORT[$kind]}" "$MSG" "$SESSIONS" "$count" "$RUN_LIMIT"
	sleep 0.1
	after=$(bench_sink_count)
	delivered=$((after - before))
	ok=$((count - SRC_ERRORS))
	((ok < 0)) && ok=0
	[[ $SRC_RC == 124 ]] && ok=$delivered
	rate=$(bench_calc "$ok / $SRC_ELAPSED")
	RATES[$kind]="${RATES[$kind]:-} $rate"
	printf '  %-32s run %d: %6d msgs in %6.2f s = %7.1f msgs/s' "${NAME[$kind]}" "$run" "$count" "$SRC_ELAPSED" "$rate"
	if ((SRC_ERRORS > 0)) || [[ $SRC_RC != 0 ]]; then
		printf '  [%d errors, exit %s: %s]' "$SRC_ERRORS" "$SRC_RC" "$(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || true)"
		note_problem "${NAME[$kind]} run $run: $SRC_ERRORS smtp-source errors"
	fi
	echo
	if ((delivered != ok)); then
		note_problem "${NAME[$kind]} run $run: $ok messages accepted but $delivered reached smtp-sink"
		LOST=$((LOST + ok - delivered))
	fi
}

echo "throughput, 4 KiB, $SESSIONS sessions (calibrating...)"
for kind in "${ACTIVE[@]}"; do calibrate "$kind"; done
for ((run = 1; run <= BENCH_RUNS; run++)); do
	for kind in "${ACTIVE[@]}"; do one_run "$kind" "$run"; done
done
echo

declare -A MEDIAN
printf '%-34s %10s %14s\n' "pipeline" "msgs/s" "vs amavisd-new"
for kind in "${KINDS[@]}"; do
	if [[ -z ${RATES[$kind]:-} ]]; then
		printf '%-34s %10s\n' "${NAME[$kind]}" "not measured"
		continue
	fi
	# shellcheck disable=SC2086
	MEDIAN[$kind]=$(bench_median ${RATES[$kind]})
done
for kind in "${KINDS[@]}"; do
	[[ -n ${MEDIAN[$kind]:-} ]] || continue
	vs="-"
	[[ -n ${MEDIAN[amavis]:-} ]] && vs=$(awk -v a="${MEDIAN[$kind]}" -v b="${MEDIAN[amavis]}" 'BEGIN { printf "%.1fx", a / b }')
	printf '%-34s %10.1f %14s\n' "${NAME[$kind]}" "${MEDIAN[$kind]}" "$vs"
done
if [[ -n ${MEDIAN[mwl]:-} && -n ${MEDIAN[amavis]:-} ]]; then
	ratio=$(bench_calc "${MEDIAN[mwl]} / ${MEDIAN[amavis]}")
	awk -v r="$ratio" -v g="$GOAL_VS_AMAVIS" 'BEGIN { exit !(r >= g) }' && verdict=met || verdict="NOT met"
	printf 'goal: libclamav engine >= %dx amavisd-new: %.1fx, %s\n' "$GOAL_VS_AMAVIS" "$ratio" "$verdict"
else
	echo "goal: libclamav engine >= ${GOAL_VS_AMAVIS}x amavisd-new: not measured"
fi
if [[ -n ${MEDIAN[mwl]:-} && -n ${MEDIAN[clamsmtp]:-} ]]; then
	awk -v a="${MEDIAN[mwl]}" -v b="${MEDIAN[clamsmtp]}" 'BEGIN { exit !(a > b) }' && verdict=met || verdict="NOT met"
	printf 'goal: libclamav engine ahead of clamsmtp: %.1f vs %.1f msgs/s, %s\n' "${MEDIAN[mwl]}" "${MEDIAN[clamsmtp]}" "$verdict"
else
	echo "goal: libclamav engine ahead of clamsmtp: not measured"
fi
echo

# ------------------------------------------------------------------ memory

# pss_kb PID - Pss from smaps_rollup (kB), 0 if gone
pss_kb() { awk '/^Pss:/ { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

# group_pss MASTER - "total master workers min max" PSS in kB for a master and its children
group_pss() {
	local master=$1 total w p min="" max=0 wsum=0 n=0
	total=$(pss_kb "$master")
	local mpss=$total
	for w in $(bench_children "$master"); do
		p=$(pss_kb "$w")
		total=$((total + p))
		wsum=$((wsum + p))
		n=$((n + 1))
		[[ -z $min || $p -lt $min ]] && min=$p
		((p > max)) && max=$p
	done
	echo "$total $mpss $n ${min:-0} $max"
}

if ((MEMORY)) && [[ -n ${UP[mwl]:-} ]]; then
	echo "memory: PSS (proportional set size: shared pages divided among the processes sharing them)"
	read -r TOT10 M10 N10 MIN10 MAX10 <<<"$(group_pss "${PID[mwl]}")"
	printf '  %-40s total %7s MiB  (master %s MiB, %d workers %s..%s MiB each)\n' \
		"mailwarden, 10 workers, after the runs:" "$(bench_kb_to_mib "$TOT10")" "$(bench_kb_to_mib "$M10")" \
		"$N10" "$(bench_kb_to_mib "$MIN10")" "$(bench_kb_to_mib "$MAX10")"
	# the others leave the CPU and the memory to the two single-engine measurements
	for kind in mwc amavis clamsmtp; do
		if [[ -n ${PID[$kind]:-} ]]; then stop_master "${PID[$kind]}"; fi
	done
	bench_pick_port_var MW1_PORT
	bench_pick_port_var MW0_PORT
	PORT[mw1]=$MW1_PORT NAME[mw1]="mailwarden + virus (libclamav), 1 worker"
	PORT[mw0]=$MW0_PORT NAME[mw0]="mailwarden without modules"
	if start_mw mw1 1 "database = $DB"; then
		bench_source "$MW1_PORT" "$MSG" 1 200 "$RUN_LIMIT"
		read -r TOT1 M1 N1 MIN1 MAX1 <<<"$(group_pss "${PID[mw1]}")"
		printf '  %-40s total %7s MiB  (master %s MiB, worker %s MiB), after 200 messages\n' \
			"mailwarden, 1 worker (one engine):" "$(bench_kb_to_mib "$TOT1")" "$(bench_kb_to_mib "$M1")" \
			"$(bench_kb_to_mib "$MAX1")"
		ENGINE_MASTER_RSS=$(bench_status_kb "${PID[mw1]}" VmRSS)
		stop_master "${PID[mw1]}"
		# the engine's own size: the master's RSS over that of a master without modules
		printf '[mailwarden]\nlisten = 127.0.0.1:%s\nreinject = 127.0.0.1:%s\nworkers = 1\nstate_dir = %s\nmodules =\n' \
			"$MW0_PORT" "$SINK_PORT" "$BENCH_TMP/state-$MW0_PORT" >"$BENCH_TMP/mw0.conf"
		"$MW_BIN" -c "$BENCH_TMP/mw0.conf" >>"$BENCH_TMP/mw0.log" 2>&1 &
		PID[mw0]=$!
		bench_track "${PID[mw0]}"
		if bench_wait_smtp 127.0.0.1 "$MW0_PORT" 30 "${PID[mw0]}"; then
			BARE_RSS=$(bench_status_kb "${PID[mw0]}" VmRSS)
			ENGINE_KB=$((ENGINE_MASTER_RSS - BARE_RSS))
			printf '  %-40s %7s MiB  (master RSS %s MiB with it, %s MiB without modules)\n' \
				"the libclamav engine itself:" "$(bench_kb_to_mib "$ENGINE_KB")" \
				"$(bench_kb_to_mib "$ENGINE_MASTER_RSS")" "$(bench_kb_to_mib "$BARE_RSS")"
			printf '  %-40s %7s MiB\n' "10 engines, one per worker, would be:" "$(bench_kb_to_mib $((ENGINE_KB * 10)))"
		fi
		stop_master "${PID[mw0]}"
		printf '  %-40s %7s MiB  (VmRSS, loaded in %.1f s)\n' "clamd with the same database:" \
			"$(bench_kb_to_mib "$CLAMD_RSS_KB")" "$CLAMD_LOAD"
		PSS_RATIO=$(bench_calc "$TOT10 / $TOT1")
		awk -v r="$PSS_RATIO" -v g="$GOAL_PSS_RATIO" 'BEGIN { exit !(r < g) }' && verdict=met || verdict="NOT met"
		printf 'goal: PSS of 10 workers < %sx one engine: %.2fx (%s / %s MiB), %s\n' "$GOAL_PSS_RATIO" "$PSS_RATIO" \
			"$(bench_kb_to_mib "$TOT10")" "$(bench_kb_to_mib "$TOT1")" "$verdict"
	fi
	echo
fi

# ------------------------------------------------------------------ end

for kind in "${KINDS[@]}"; do
	if [[ -n ${PID[$kind]:-} ]] && bench_pid_alive "${PID[$kind]}"; then stop_master "${PID[$kind]}"; fi
done
if ((LOST > 0)); then note_problem "$LOST messages answered 2xx never reached smtp-sink"; fi
if ((${#PROBLEMS[@]})); then
	echo "problems:"
	printf '  - %s\n' "${PROBLEMS[@]}"
	BENCH_FAILED=1
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
