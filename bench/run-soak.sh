#!/usr/bin/env bash
# bench/run-soak.sh - a long run at a steady rate with modules on; RSS and open files over time.
#
#   bench/run-soak.sh            # one hour (SOAK_SECONDS=3600)
#   SOAK_SECONDS=120 bench/run-soak.sh
#
# smtp-source sends batches of a 4 KiB message (SOAK_BATCH messages, 4 sessions) about every
# second to mailwarden (workers = 4; modules: spam (builtin rules, no SPF/DNSBL/Bayes), footer,
# and resources/invitations on an empty directory, i.e. the modules that need no outside service;
# ClamAV and gpg need their own data) which reinjects to smtp-sink. Every SOAK_SAMPLE seconds it
# prints: elapsed, messages accepted by the sink, total and max worker RSS, the master's RSS, open
# files of master and workers, worker restarts. At the end: the growth from the first to the last
# sample. Memory or file descriptors that keep growing over the hour are a leak.
#
# Environment: MW_BUILD_DIR (default build/), SOAK_SECONDS (3600), SOAK_SAMPLE (60),
# SOAK_BATCH (200 messages a second).
# shellcheck disable=SC2153
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-3600}
SAMPLE=${SOAK_SAMPLE:-60}
BATCH=${SOAK_BATCH:-200}

bench_init soak
bench_need_postfix_tools
MW_BIN=$(bench_mailwarden_binary)
bench_pick_port_var MW_PORT
bench_pick_port_var SINK_PORT
bench_start_sink "$SINK_PORT"

STATE=$BENCH_TMP/state
mkdir -p "$STATE/calendars"
printf 'footer text for the soak test\n' >"$BENCH_TMP/footer.txt"
printf '[user:alice@example.org]\nname = Alice\n' >"$BENCH_TMP/directory.conf"
CONF=$BENCH_TMP/mailwarden.conf
cat >"$CONF" <<CONF
[mailwarden]
listen = 127.0.0.1:$MW_PORT
reinject = 127.0.0.1:$SINK_PORT
state_dir = $STATE
hostname = soak.test
workers = 4
timeout = 60
modules = spam, footer, resources, invitations
local_domains = example.org
directory = $BENCH_TMP/directory.conf
calendars = dir:$STATE/calendars

[spam]
engine = builtin
rules = $BENCH_REPO/modules/spam/spam.rules
spf = false
bayes = false

[footer]
text = $BENCH_TMP/footer.txt
apply_to = all
CONF
"$MW_BIN" -c "$CONF" 2>"$BENCH_TMP/mailwarden.log" &
MW_PID=$!
bench_track "$MW_PID"
bench_wait_smtp 127.0.0.1 "$MW_PORT" 20 "$MW_PID" ||
	{ tail -20 "$BENCH_TMP/mailwarden.log" >&2; bench_die "mailwarden did not start"; }

# sample - one line of figures
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sample() {
	local t=$1 total=0 max=0 wfd=0 w rss
	for w in $(bench_children "$MW_PID"); do
		rss=$(bench_status_kb "$w" VmRSS)
		total=$((total + rss))
		((rss > max)) && max=$rss
		wfd=$((wfd + $(fds "$w")))
	done
	LAST="$t $(bench_sink_count) $total $max $(bench_status_kb "$MW_PID" VmRSS) $(fds "$MW_PID") $wfd $(grep -c 'replacing it' "$BENCH_TMP/mailwarden.log" || true)"
	printf '%8s %10s %12s %10s %10s %9s %9s %9s\n' $LAST
}

printf '%8s %10s %12s %10s %10s %9s %9s %9s\n' elapsed delivered workersRSSkB maxRSSkB masterkB masterfd workerfd restarts
start=$(bench_now)
next=0
FIRST=""
while :; do
	now=$(bench_calc "$(bench_now) - $start")
	elapsed=${now%.*}
	if ((elapsed >= next)); then
		sample "$elapsed"
		[[ -n $FIRST ]] || FIRST=$LAST
		next=$((next + SAMPLE))
	fi
	((elapsed >= SECONDS_TOTAL)) && break
	bench_pid_alive "$MW_PID" || { tail -20 "$BENCH_TMP/mailwarden.log" >&2; bench_die "mailwarden died"; }
	bench_source "$MW_PORT" 4096 4 "$BATCH" 30
	((SRC_ERRORS == 0)) || bench_warn "smtp-source reported $SRC_ERRORS error(s)"
	sleep 0.2
done
sample "$elapsed"
read -r _ d0 w0 _ m0 mf0 wf0 _ <<<"$FIRST"
read -r _ d1 w1 _ m1 mf1 wf1 r1 <<<"$LAST"
printf '\nsummary: %s messages in %s s; workers RSS %s -> %s kB, master %s -> %s kB, fds master %s -> %s, workers %s -> %s, worker restarts %s\n' \
	"$((d1 - d0))" "$elapsed" "$w0" "$w1" "$m0" "$m1" "$mf0" "$mf1" "$wf0" "$wf1" "$r1"
