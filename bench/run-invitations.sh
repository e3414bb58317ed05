#!/usr/bin/env bash
# bench/run-invitations.sh - throughput and latency of the invitations module.
#
#   bench/run-invitations.sh [--quick] [--keep]
#
# Starts smtp-sink and mailwarden (modules = invitations, 4 workers, a directory with one
# user whose policy is EVENT_ACCEPT_IF_NO_CONFLICT, EVENT_REJECT_IF_CONFLICT, ALL_MANUAL and
# a dir: calendar store in a temp dir) and sends BENCH_MESSAGES distinct one-hour REQUESTs
# (random slots in one year, so the calendar grows and answers are ACCEPTED or DECLINED)
# from BENCH_CLIENTS parallel SMTP clients. Each message: policy match, calendar lock,
# conflict check against every stored object (busy cache), REPLY built and emitted, copy
# stored. Then the same number of the same mails to a recipient that is no user (the
# module only looks up the recipient) as the baseline. Reported: messages per second and
# the median and p95 of the per-message SMTP transaction time (MAIL FROM to the final 250).
#
# Environment:
#   MW_BUILD_DIR     a build dir with mailwarden built with the invitations module
#                    (default: build/, built Release if absent)
#   BENCH_MESSAGES, BENCH_CLIENTS (default 1000, 4)
#   BENCH_KEEP=1     keep the temp dir
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

BENCH_MESSAGES=${BENCH_MESSAGES:-1000}
BENCH_CLIENTS=${BENCH_CLIENTS:-4}
while (($#)); do
	case $1 in
	--quick) BENCH_MESSAGES=200 ;;
	--keep) export BENCH_KEEP=1 ;;
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

bench_init mw-bench-invitations
bench_need_postfix_tools
command -v python3 >/dev/null || bench_die "python3 is needed for the SMTP clients"
MW_BIN=$(bench_mailwarden_binary)
"$MW_BIN" --help 2>&1 | grep -q . || true
echo "mailwarden: $MW_BIN"
echo "load average before: $(cut -d' ' -f1 /proc/loadavg)"

cat >"$BENCH_TMP/directory.conf" <<'EOF'
[user:alice@example.org]
name = Alice Adams
policy = EVENT_ACCEPT_IF_NO_CONFLICT, EVENT_REJECT_IF_CONFLICT, ALL_MANUAL
EOF

sink_port=$(bench_pick_port)
bench_start_sink "$sink_port"
mw_port=$(bench_pick_port)
MW_MODULES=invitations bench_mw_write_conf "$BENCH_TMP/mailwarden.conf" "$mw_port" "$sink_port" \
	"directory = $BENCH_TMP/directory.conf" "calendars = dir:$BENCH_TMP/calendars" \
	"local_domains = example.org" "[invitations]" "timezone = UTC"
sed -i 's/^workers = .*/workers = 4/' "$BENCH_TMP/mailwarden.conf"
bench_mw_start "$MW_BIN" "$BENCH_TMP/mailwarden.conf" "$mw_port" || bench_die "mailwarden did not start"

# client.py RCPT TAG - BENCH_MESSAGES invitations over BENCH_CLIENTS connections; prints
# "elapsed median_ms p95_ms failures"
cat >"$BENCH_TMP/client.py" <<'EOF'
import random, smtplib, sys, threading, time
port, rcpt, tag, total, clients = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
org = "olga@partner.test"
def message(i):
    rnd = random.Random(i)
    day, hour = rnd.randrange(365), rnd.randrange(8, 18)
    start = time.strftime("%Y%m%dT%H0000Z", time.gmtime(1798761600 + day * 86400 + hour * 3600))
    end = time.strftime("%Y%m%dT%H0000Z", time.gmtime(1798761600 + day * 86400 + hour * 3600 + 3600))
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nMETHOD:REQUEST\r\n"
           "BEGIN:VEVENT\r\nUID:%s-%d\r\nSEQUENCE:0\r\nDTSTAMP:20260701T080000Z\r\n"
           "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Bench %d\r\nORGANIZER:mailto:%s\r\n"
           "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n") % (tag, i, start, end, i, org, rcpt)
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: Bench %d\r\nMessage-ID: <%s.%d@partner.test>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n%s"
            ) % (org, rcpt, i, tag, i, ics)
times, failures, lock = [], [0], threading.Lock()
def worker(k):
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    for i in range(k, total, clients):
        t0 = time.monotonic()
        try:
            s.sendmail(org, [rcpt], message(i).encode())
        except Exception:
            with lock:
                failures[0] += 1
            continue
        with lock:
            times.append(time.monotonic() - t0)
    s.quit()
t0 = time.monotonic()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
[t.start() for t in threads]
[t.join() for t in threads]
elapsed = time.monotonic() - t0
times.sort()
med = times[len(times) // 2] * 1000 if times else 0
p95 = times[int(len(times) * 0.95)] * 1000 if times else 0
print("%.3f %.2f %.2f %d" % (elapsed, med, p95, failures[0]))
EOF

run() {
	local rcpt=$1 tag=$2 out
	out=$(timeout -k 5 600 python3 "$BENCH_TMP/client.py" "$mw_port" "$rcpt" "$tag" \
		"$BENCH_MESSAGES" "$BENCH_CLIENTS") || bench_die "client failed"
	read -r elapsed med p95 fail <<<"$out"
	printf '  %-34s %6d msgs in %7.2f s = %7.1f msg/s; per message median %6.2f ms, p95 %6.2f ms; failures %d\n' \
		"$3" "$BENCH_MESSAGES" "$elapsed" "$(bench_calc "$BENCH_MESSAGES / $elapsed")" "$med" "$p95" "$fail"
}

echo "invitations: $BENCH_MESSAGES REQUESTs, $BENCH_CLIENTS clients, 4 workers"
run alice@example.org inv "user (policy, conflicts, REPLY, store)"
run nobody@example.net base "baseline (no user: passed on)"
stored=$(find "$BENCH_TMP/calendars" -name '*.ics' | wc -l)
accepted=$(grep -c "=accepted" "$MW_LOG" || true)
declined=$(grep -c "=declined" "$MW_LOG" || true)
echo "  stored copies: $stored; accepted: $accepted; declined: $declined"
bench_mw_stop 15
echo "mailwarden stop: $MW_EXIT"
