#!/usr/bin/env bash
# bench/run-soak.sh - one hour of mixed mail at a steady rate through every module; RSS and open
# files over time, and whether every message was accounted for.
#
#   bench/run-soak.sh                     # one hour (SOAK_SECONDS=3600), 100 messages a second
#   SOAK_SECONDS=120 bench/run-soak.sh    # a short check that everything works
#
# mailwarden (workers = 6) runs every module: virus (libclamav, a database of EICAR and a few
# hash signatures made here), spam (builtin rules, no SPF/DNSBL/Bayes: no network), resources (a
# room with an owner), invitations (a user with a policy), gpg (a recipient whose key is in the
# keyring made here) and footer (apply_to = all), and reinjects into smtp-sink. bench/soak-client.py
# sends SOAK_RATE messages a second over SOAK_CLIENTS connections, each with its own queue id
# (XFORWARD IDENT): clean mail, spam, viruses, banned attachments, invitations to the room and to
# the user, mail to the key holder, malformed and ambiguous MIME, 1 MiB messages, and now and then
# a session of garbage commands (see the client's header for the mix). A 4xx is retried.
#
# Every SOAK_SAMPLE seconds a line: elapsed, messages sent / answered 250 / 4xx, messages the sink
# received, total and largest worker RSS, the master's RSS, open files of master and workers,
# worker restarts. At the end: the growth from the first sample after warm-up (the second) to the
# last, the verdicts from mailwarden's summary lines, and checks: every message answered 250 has
# its summary line with that reply, nothing was lost, no worker died, the log has no crash.
#
# Environment: MW_BUILD_DIR (default build/; measure a Release build), SOAK_SECONDS (3600),
# SOAK_SAMPLE (60), SOAK_RATE (100 messages/s), SOAK_CLIENTS (4: fewer than the
# workers, as docs/postfix.md asks of Postfix's concurrency; the garbage sessions need a free one), BENCH_KEEP=1 keeps the files.
# shellcheck disable=SC2119,SC2153
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-3600}
SAMPLE=${SOAK_SAMPLE:-60}
RATE=${SOAK_RATE:-100}
CLIENTS=${SOAK_CLIENTS:-4}

bench_init mw-soak
GPG_SECRET=$BENCH_TMP/gnupg-secret
KEYRING=$BENCH_TMP/keyring
stop_agents() {
	local home
	for home in "$GPG_SECRET" "$KEYRING"; do
		if [[ -d $home ]]; then gpgconf --homedir "$home" --kill all >/dev/null 2>&1 || true; fi
	done
}
# shellcheck disable=SC2154 # soak_rc is set in the trap itself
trap 'soak_rc=$?; stop_agents; (exit $soak_rc); bench_cleanup' EXIT

bench_need_postfix_tools
bench_need_procps
command -v python3 >/dev/null || bench_apt_install python3
if ! command -v gpg >/dev/null || ! command -v gpgconf >/dev/null; then bench_apt_install gnupg; fi
MW_BIN=$(bench_mailwarden_binary)
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)

# ------------------------------------------------------------------ data for the modules

STATE=$BENCH_TMP/state
DB=$BENCH_TMP/clamav
mkdir -p "$STATE/calendars" "$DB"
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
{
	printf '%s:68:Soak.Eicar\n' "$(printf '%s' "$EICAR" | md5sum | cut -d' ' -f1)"
	head -c 16000 /dev/urandom | od -An -v -tx1 | tr -d ' \n' | fold -w 32 |
		awk '{ printf "%s:%d:Soak.Synthetic.%d\n", $0, 1000 + NR * 7, NR }'
} >"$DB/soak.hdb"
printf 'Soak.Eicar.Body:0:*:%s\n' "$(printf '%s' "$EICAR" | od -An -v -tx1 | tr -d ' \n')" >"$DB/soak.ndb"

bench_gpg_keyring bob@example.org "$GPG_SECRET" "$KEYRING"
stop_agents

cat >"$BENCH_TMP/directory.conf" <<'EOF'
[user:alice@example.org]
name = Alice Adams
policy = EVENT_ACCEPT_IF_NO_CONFLICT, EVENT_REJECT_IF_CONFLICT, ALL_MANUAL

[user:boss@example.org]
name = The Boss

[user:bob@example.org]
name = Bob

[user:carol@example.org]
name = Carol

[resource:room101@example.org]
name = Room 101
owner = boss@example.org
policy = ACT_ACCEPT_AND_NOTIFY
EOF
printf 'footer text for the soak test\n' >"$BENCH_TMP/footer.txt"

bench_pick_port_var MW_PORT
bench_pick_port_var SINK_PORT
bench_start_sink "$SINK_PORT"
CONF=$BENCH_TMP/mailwarden.conf
cat >"$CONF" <<CONF
[mailwarden]
listen = 127.0.0.1:$MW_PORT
reinject = 127.0.0.1:$SINK_PORT
state_dir = $STATE
hostname = soak.test
workers = 6
timeout = 60
modules = virus, spam, resources, invitations, gpg, footer
local_domains = example.org
directory = $BENCH_TMP/directory.conf
calendars = dir:$STATE/calendars

[virus]
engine = libclamav
database = $DB

[spam]
engine = builtin
rules = $BENCH_REPO/modules/spam/spam.rules
spf = false
bayes = false

[invitations]
timezone = UTC

[gpg]
keyring = $KEYRING

[footer]
text = $BENCH_TMP/footer.txt
apply_to = all
CONF
"$MW_BIN" -c "$CONF" --check-config >"$BENCH_TMP/check.log" 2>&1 ||
	{ cat "$BENCH_TMP/check.log" >&2; bench_die "the soak config does not check (a build without every module?)"; }
bench_mw_start "$MW_BIN" "$CONF" "$MW_PORT" || bench_die "mailwarden did not start"
bench_mw_note_workers

COMMIT=$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "mailwarden soak - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT, $MW_BIN (${BUILD_TYPE:-unknown build type})"
echo "$SECONDS_TOTAL s at $RATE messages/s over $CLIENTS connections; modules: virus, spam, resources, invitations, gpg, footer; workers = 6"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

STATUS=$BENCH_TMP/client.status
ACCEPTED=$BENCH_TMP/client.accepted
python3 "$BENCH_DIR/soak-client.py" "$MW_PORT" "$SECONDS_TOTAL" "$RATE" "$CLIENTS" "$STATUS" "$ACCEPTED" \
	2>"$BENCH_TMP/client.err" &
CLIENT_PID=$!
bench_track "$CLIENT_PID"

# sample ELAPSED - one line of figures into $LAST, printed
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sample() {
	local t=$1 total=0 max=0 wfd=0 w rss sent=0 ok=0 temp=0
	bench_mw_note_workers
	for w in $(bench_mw_workers); do
		rss=$(bench_status_kb "$w" VmRSS)
		total=$((total + rss))
		((rss > max)) && max=$rss
		wfd=$((wfd + $(fds "$w")))
	done
	[[ -s $STATUS ]] && read -r sent ok temp _ <"$STATUS"
	LAST="$t $sent $ok $temp $(bench_sink_count) $total $max $(bench_status_kb "$MW_PID" VmRSS) $(fds "$MW_PID") $wfd $(grep -c 'replacing it' "$MW_LOG" || true)"
	# shellcheck disable=SC2086
	printf '%7s %9s %9s %5s %9s %12s %9s %9s %8s %8s %8s\n' $LAST
}

printf '%7s %9s %9s %5s %9s %12s %9s %9s %8s %8s %8s\n' elapsed sent 250 4xx sink workersRSSkB maxRSSkB masterkB masterfd workerfd restarts
start=$(bench_now)
next=0
SAMPLES=()
while bench_pid_alive "$CLIENT_PID"; do
	elapsed=$(bench_calc "$(bench_now) - $start")
	elapsed=${elapsed%.*}
	if ((elapsed >= next)); then
		sample "$elapsed"
		SAMPLES+=("$LAST")
		next=$((next + SAMPLE))
	fi
	bench_mw_alive || { tail -20 "$MW_LOG" >&2; bench_die "mailwarden died"; }
	sleep 1
done
CLIENT_RC=0
wait "$CLIENT_PID" || CLIENT_RC=$?
bench_untrack "$CLIENT_PID"
sleep 2 # the last replies' summary lines
sample "$(bench_fmt_int "$(bench_calc "$(bench_now) - $start")")"
SAMPLES+=("$LAST")

# ------------------------------------------------------------------ report

BASE=${SAMPLES[1]:-${SAMPLES[0]}}
read -r t0 _ _ _ _ w0 x0 m0 mf0 wf0 _ <<<"$BASE"
read -r t1 sent ok temp sink w1 x1 m1 mf1 wf1 restarts <<<"$LAST"
read -r _ _ _ rejected conn_errors garbage garbage_failures <"$STATUS"
echo
echo "growth from ${t0} s to ${t1} s: workers' RSS $w0 -> $w1 kB, largest worker $x0 -> $x1 kB, master $m0 -> $m1 kB, fds master $mf0 -> $mf1, workers $wf0 -> $wf1"
echo "client: $sent messages sent, $ok answered 250, $temp 4xx answers (retried), $rejected 5xx, $conn_errors connection failures; $garbage garbage sessions, $garbage_failures not answered properly"
echo "sink: $sink messages received (variants, replies and notices included; discarded and quarantined mail not)"
echo "mailwarden summary lines, actions: $(grep ' txn=' "$MW_LOG" | grep -o ' action=[A-Za-z_-]*' | sort | uniq -c |
	awk '{ sub(/^action=/, "", $2); printf "%s%s %s", sep, $2, $1; sep = ", " }')"
echo "notes: $(grep ' txn=' "$MW_LOG" | grep -oE ' (virus|spam|resources|invitations|gpg|footer)=[^ ]+' |
	sed -E 's/=[-0-9.]+\//=/; s/:[^/]*\//:/' | sort | uniq -c |
	sort -rn | head -24 | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"

# every queue id answered 250 must have a summary line saying 250
grep -oE '^.*S[0-9]{8}: txn=.* reply="250' "$MW_LOG" | grep -oE 'S[0-9]{8}: txn' | cut -c1-9 | sort -u >"$BENCH_TMP/logged.250"
MISSING=$(comm -23 "$ACCEPTED" "$BENCH_TMP/logged.250" | grep -c . || true)
CRASHES=$(grep -ciE 'crash|signal|sanitizer|assert|abort|watchdog' "$MW_LOG" || true)
PROBLEMS=$(grep -ciE 'error|warn|crit|fatal' "$MW_LOG" || true)
bench_mw_stop 30
echo "mailwarden stopped with SIGTERM: $MW_EXIT; log: $(wc -l <"$MW_LOG") lines, $PROBLEMS with error/warning, $CRASHES about crashes"
((PROBLEMS == 0)) || grep -iE 'error|warn|crit|fatal' "$MW_LOG" | sed -E 's/S[0-9]{8}/S*/; s/txn=[^ ]*/txn=*/' | cut -c1-200 | sort | uniq -c | sort -rn | head -10
[[ -s $BENCH_TMP/client.err ]] && { echo "client messages:"; head -20 "$BENCH_TMP/client.err"; }
echo "checks: 250 answers without their summary line: $MISSING; client exit status $CLIENT_RC; worker restarts $restarts"
((MISSING == 0 && CLIENT_RC == 0 && CRASHES == 0 && restarts == 0)) || { BENCH_FAILED=1; echo "SOAK FAILED"; exit 1; }
echo "SOAK PASSED"
