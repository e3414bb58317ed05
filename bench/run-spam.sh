#!/usr/bin/env bash
# bench/run-spam.sh - the spam module's builtin engine against amavisd-new + SpamAssassin
#
#   bench/run-spam.sh            # 3 runs of each, alternating, ~1 minute plus amavisd's start
#   bench/run-spam.sh --quick    # 1 small run of each: checks that everything works
#   bench/run-spam.sh --keep     # keep the temp dir (configs, logs)
#
# The same 4 KiB message (an ordinary business mail) goes with smtp-source, 10 sessions, either
#   smtp-source -> mailwarden (modules = spam: the shipped rules, GTUBE, Bayes trained on 400
#                  generated messages; SPF/DNSBL do not run: smtp-source sends no XFORWARD)
#                -> smtp-sink
# or
#   smtp-source -> amavisd-new (SpamAssassin in-process, $sa_local_tests_only = 1: no network
#                  tests; no virus scanner) -> smtp-sink
# Runs alternate (mailwarden, amavisd, mailwarden, ...) so a busy neighbour slows both alike.
# msgs/s = messages answered 2xx / wall time of smtp-source; each run's count is checked against
# what smtp-sink received. Goal (issue 5): mailwarden >= 50x amavisd-new + SpamAssassin.
# Root is needed (amavisd switches to its user; packages are installed when missing).
# Environment: MW_BUILD_DIR (default build, Release), BENCH_RUNS (3), BENCH_MW_COUNT (6000),
# BENCH_AMAVIS_COUNT (300), BENCH_KEEP.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

RUNS=${BENCH_RUNS:-3}
MW_COUNT=${BENCH_MW_COUNT:-6000}
AMAVIS_COUNT=${BENCH_AMAVIS_COUNT:-300}
SESSIONS=10
GOAL=50
for arg in "$@"; do
	case $arg in
	--quick) RUNS=1 MW_COUNT=1000 AMAVIS_COUNT=40 ;;
	--keep) BENCH_KEEP=1 ;;
	*) echo "usage: $0 [--quick] [--keep]" >&2; exit 1 ;;
	esac
done

bench_init mw-bench-spam
[[ $(id -u) == 0 ]] || bench_die "run as root (amavisd-new changes to its own user)"
bench_need_procps
bench_need_postfix_tools
command -v amavisd >/dev/null && [[ -d /usr/share/perl5/Mail/SpamAssassin ]] ||
	{ bench_log "installing amavisd-new and spamassassin..."; bench_apt_install amavisd-new spamassassin; }
MW_BIN=$(bench_mailwarden_binary)
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)
[[ $BUILD_TYPE == Release ]] || bench_warn "mailwarden is a ${BUILD_TYPE:-unknown} build: measure a Release build"
"$MW_BIN" --help 2>&1 | grep -q learn || bench_die "$MW_BIN has no learn command"

# ------------------------------------------------------------------ the message (4 KiB)
MSG=$BENCH_TMP/message.eml
{
	printf 'From: Alice Martin <alice@partner.example>\r\nTo: Bob Stone <to@example.org>\r\n'
	printf 'Subject: Minutes of the planning meeting\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n'
	printf 'Message-ID: <bench-1@partner.example>\r\nMIME-Version: 1.0\r\n'
	printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob,\r\n\r\n'
	line='we went through the open points of the release plan and agreed on the next steps.'
	: >"$BENCH_TMP/body"
	while (($(wc -c <"$BENCH_TMP/body") < 3700)); do
		printf '%s Carol updates the test plan, Dave reviews the budget draft.\r\n' "$line" >>"$BENCH_TMP/body"
	done
	cat "$BENCH_TMP/body"
	printf '\r\nRegards,\r\nAlice\r\n'
} >"$MSG"
MSG_SIZE=$(wc -c <"$MSG")

# ------------------------------------------------------------------ mailwarden: config, Bayes training
bench_pick_port_var SINK_PORT
bench_pick_port_var MW_PORT
bench_pick_port_var AMAVIS_PORT
bench_start_sink "$SINK_PORT"
cp "$BENCH_REPO/modules/spam/spam.rules" "$BENCH_TMP/spam.rules"
MW_MODULES=spam bench_mw_write_conf "$BENCH_TMP/mw.conf" "$MW_PORT" "$SINK_PORT" \
	'[spam]' "rules = $BENCH_TMP/spam.rules" 'bayes = true'

# a generated labeled set, so that Bayes really classifies (400 messages, over its minimum)
gen_corpus() { # DIR LABEL COUNT
	awk -v dir="$1" -v label="$2" -v n="$3" 'BEGIN {
		srand(label == "spam" ? 7 : 11)
		split("the and you your for this that with have from will please today time just about", common)
		split("offer cheap pills winner casino bonus guaranteed discount credit loan luxury replica prize claim lottery investment profit bitcoin", spam)
		split("meeting agenda project schedule review patch release build commit branch minutes report budget draft document slides lunch", ham)
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/%04d.eml", dir, i)
			printf "From: x%d@%s.example\r\nSubject: %s %s\r\nMessage-ID: <%s-%d@corpus>\r\n\r\n", i, label, \
				(label == "spam" ? spam[int(rand() * 17) + 1] : ham[int(rand() * 17) + 1]), common[int(rand() * 16) + 1], label, i > f
			for (w = 0; w < 60; w++) {
				r = rand()
				if (r < 0.5) word = common[int(rand() * 16) + 1]
				else if ((r < 0.93) == (label == "spam")) word = spam[int(rand() * 17) + 1]
				else word = ham[int(rand() * 17) + 1]
				printf "%s%s", word, (w % 12 == 11 ? "\r\n" : " ") > f
			}
			close(f)
		}
	}'
}
mkdir -p "$BENCH_TMP/corpus/spam" "$BENCH_TMP/corpus/ham"
gen_corpus "$BENCH_TMP/corpus/spam" spam 200
gen_corpus "$BENCH_TMP/corpus/ham" ham 200
"$MW_BIN" -c "$BENCH_TMP/mw.conf" learn --spam "$BENCH_TMP/corpus/spam" >"$BENCH_TMP/learn.out"
"$MW_BIN" -c "$BENCH_TMP/mw.conf" learn --ham "$BENCH_TMP/corpus/ham" >>"$BENCH_TMP/learn.out"
bench_log "bayes: $(tail -n 1 "$BENCH_TMP/learn.out")"
bench_mw_start "$MW_BIN" "$BENCH_TMP/mw.conf" "$MW_PORT" || bench_die "mailwarden did not start"

# ------------------------------------------------------------------ amavisd-new + SpamAssassin
AMAVIS_HOME=$BENCH_TMP/amavis
# amavisd refuses a config file (or folder) that its own user could change: keep it in a root folder
AMAVIS_CONF=$BENCH_TMP/amavis-conf/amavisd.conf
mkdir -p "$AMAVIS_HOME/tmp" "$AMAVIS_HOME/db" "$AMAVIS_HOME/var" "$BENCH_TMP/amavis-conf"
cat >"$AMAVIS_CONF" <<EOF
use strict;
\$MYHOME = '$AMAVIS_HOME';
\$TEMPBASE = '$AMAVIS_HOME/tmp';
\$db_home = '$AMAVIS_HOME/db';
\$helpers_home = '$AMAVIS_HOME/var';
\$pid_file = '$AMAVIS_HOME/amavisd.pid';
\$lock_file = '$AMAVIS_HOME/amavisd.lock';
\$daemon_user = 'amavis';
\$daemon_group = 'amavis';
\$mydomain = 'bench.test';
\$myhostname = 'bench.test';
\$max_servers = $SESSIONS;
\$max_requests = 1000;
\$child_timeout = 300;
\$inet_socket_bind = '127.0.0.1';
\$inet_socket_port = $AMAVIS_PORT;
@inet_acl = qw(127.0.0.1);
\$forward_method = 'smtp:[127.0.0.1]:$SINK_PORT';
\$notify_method = \$forward_method;
@local_domains_maps = (['.example.org']);
@bypass_virus_checks_maps = (1);
@av_scanners = ();
@av_scanners_backup = ();
\$sa_local_tests_only = 1;
\$sa_tag_level_deflt = 2.0;
\$sa_tag2_level_deflt = 6.31;
\$sa_kill_level_deflt = 6.31;
\$final_spam_destiny = D_PASS;
\$enable_dkim_verification = 0;
\$enable_dkim_signing = 0;
\$enable_db = 0;
\$enable_zmq = 0;
\$do_syslog = 0;
\$LOGFILE = '$AMAVIS_HOME/amavis.log';
\$log_level = 0;
1;
EOF
chown -R amavis:amavis "$AMAVIS_HOME"
chmod 755 "$BENCH_TMP/amavis-conf"
chmod 644 "$AMAVIS_CONF"
chmod 755 "$BENCH_TMP"
bench_log "starting amavisd-new (loading SpamAssassin takes a while)..."
amavisd -c "$AMAVIS_CONF" foreground >"$AMAVIS_HOME/stdout.log" 2>&1 &
AMAVIS_PID=$!
bench_track "$AMAVIS_PID"
if ! bench_wait_smtp 127.0.0.1 "$AMAVIS_PORT" 180 "$AMAVIS_PID"; then
	tail -n 20 "$AMAVIS_HOME/stdout.log" "$AMAVIS_HOME/amavis.log" 2>/dev/null >&2 || true
	bench_die "amavisd-new did not come up on port $AMAVIS_PORT"
fi
# one message through each first: warms up both (SpamAssassin compiles its rules lazily)
bench_source "$MW_PORT" "$MSG" 1 20 60
bench_source "$AMAVIS_PORT" "$MSG" "$SESSIONS" 20 120
sleep 0.5

# ------------------------------------------------------------------ measured runs
declare -a MW_RATES=() AM_RATES=()
ERRORS=0
LOST=0
measure() { # NAME PORT COUNT LIMIT
	local name=$1 port=$2 count=$3 limit=$4 before after got rate ok
	before=$(bench_sink_count)
	bench_source "$port" "$MSG" "$SESSIONS" "$count" "$limit"
	sleep 0.3
	after=$(bench_sink_count)
	got=$((after - before))
	ok=$((count - SRC_ERRORS))
	rate=$(bench_calc "$ok / $SRC_ELAPSED")
	printf '  %-26s run %d: %6d msgs in %6.2f s = %8.1f msgs/s%s\n' "$name" "$run" "$ok" "$SRC_ELAPSED" \
		"$rate" "$( ((SRC_ERRORS)) && echo " [$SRC_ERRORS errors, smtp-source exit $SRC_RC]")"
	ERRORS=$((ERRORS + SRC_ERRORS))
	((got >= ok)) || { LOST=$((LOST + ok - got)); bench_warn "$name: $ok answered 2xx, $got reached smtp-sink"; }
	RATE=$rate
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
bench_log "message: $MSG_SIZE bytes, $SESSIONS sessions, $RUNS run(s) each"
for ((run = 1; run <= RUNS; run++)); do
	measure "mailwarden (spam builtin)" "$MW_PORT" "$MW_COUNT" 300
	MW_RATES+=("$RATE")
	measure "amavisd-new + SpamAssassin" "$AMAVIS_PORT" "$AMAVIS_COUNT" 600
	AM_RATES+=("$RATE")
done

# what each said about the message
MW_NOTE=$(grep -o 'spam=[^ ]*' "$MW_LOG" | sort | uniq -c | sort -rn | head -n 1 || true)
AM_HITS=$(grep -o 'Hits: [-0-9.]*' "$AMAVIS_HOME/amavis.log" | sort | uniq -c | sort -rn | head -n 1 || true)

bench_mw_stop 15
bench_kill_pid "$AMAVIS_PID" 20
bench_untrack "$AMAVIS_PID"

MW_MED=$(bench_median "${MW_RATES[@]}")
AM_MED=$(bench_median "${AM_RATES[@]}")
RATIO=$(bench_calc "$MW_MED / $AM_MED")
PASS=$(awk -v r="$RATIO" -v g="$GOAL" 'BEGIN { print (r >= g) ? "PASS" : "FAIL" }')
echo
echo "==================== spam module benchmark: summary ===================="
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"${BUILD_TYPE:-unknown} build, median of $RUNS run(s), $SESSIONS sessions, $MSG_SIZE-byte message"
echo "load average before the runs: $LOAD_BEFORE"
printf '%-42s %12s\n' pipeline "msgs/s"
printf '%-42s %12s\n' "mailwarden, spam builtin (rules+Bayes)" "$(bench_fmt_int "$MW_MED")"
printf '%-42s %12s\n' "amavisd-new + SpamAssassin (local tests)" "$(awk -v x="$AM_MED" 'BEGIN { printf "%.1f", x }')"
printf 'ratio: %.1fx (goal >= %dx): %s\n' "$RATIO" "$GOAL" "$PASS"
echo "mailwarden said: ${MW_NOTE:-?}; amavisd-new said: ${AM_HITS:-?}"
echo "smtp-source errors: $ERRORS; messages lost: $LOST; mailwarden on SIGTERM: $MW_EXIT"
echo "========================================================================"
((ERRORS == 0 && LOST == 0)) || { BENCH_FAILED=1; exit 1; }
exit 0
