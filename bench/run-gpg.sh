#!/usr/bin/env bash
# bench/run-gpg.sh - what the gpg module costs: messages per second for a 100 KiB message
# encrypted for one recipient, and the CPU time per message (mailwarden plus the gpg runs).
#
#   bench/run-gpg.sh [--quick] [--keep]
#
# A key for to@example.org (smtp-source's recipient) is generated in a throwaway GnuPG home and
# its public half put in a keyring of its own. Three mailwarden instances (workers = 10,
# local_domains = example.org) reinject into one smtp-sink:
#   baseline: modules =       (the core alone)
#   gpg:      modules = gpg   (every message gets encrypted for to@example.org), the keyring as
#                             gpg makes it
#   tuned:    modules = gpg   with a copy of the keyring whose gpg.conf says no-random-seed-file
#                             (see modules/gpg/README.md: without it, gpg runs contend for the
#                             keyring's random_seed file, so the module encrypts one at a time
#                             across workers; with it, they encrypt in parallel)
# The message is a 100 KiB multipart/mixed (a short text and a base64 attachment). Before the
# runs, the message is put through `mailwarden scan` once and the result decrypted with gpg, so
# the figures are known to be for real encryption. Then, for 1 and 10 parallel sessions, the
# script sends message after message (median of BENCH_RUNS runs of about BENCH_SECONDS each,
# baseline and gpg alternating) and reports messages per second, the gpg rate as % of the
# baseline, and the CPU time per message of the mailwarden processes including the gpg
# processes they ran (their children's CPU time). It checks that every message the gpg
# instance handled was encrypted (summary lines with gpg=encrypted:1).
#
# Environment:
#   MW_BUILD_DIR     where a mailwarden binary built with the gpg module is (default: build/,
#                    built if absent); measure a Release build
#   BENCH_SECONDS    target length of one run (default 3)
#   BENCH_RUNS       runs per figure, the median is reported (default 3)
#   BENCH_KEEP=1     keep the temp dir (logs, configs, message) even on success
# shellcheck disable=SC2119,SC2153,SC2154
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
RUN_LIMIT=$(awk -v s="$BENCH_SECONDS" 'BEGIN { l = s * 10; if (l < 60) l = 60; printf "%d", l }')
CLK_TCK=$(getconf CLK_TCK)
MSG_SIZE=102400

bench_init mw-bench-gpg
GPG_SECRET=$BENCH_TMP/gnupg-secret
GPG_KEYRING=$BENCH_TMP/keyring
GPG_TUNED=$BENCH_TMP/keyring-tuned

# stop_agents - the gpg-agent that key generation and the decryption check start (secret home
# only; the keyring is used with --no-autostart and mailwarden never starts one)
stop_agents() {
	local home
	for home in "$GPG_SECRET" "$GPG_KEYRING" "$GPG_TUNED"; do
		if [[ -d $home ]]; then gpgconf --homedir "$home" --kill all >/dev/null 2>&1 || true; fi
	done
}
# on any exit: agents first, then lib.sh's cleanup (which needs the exit status in $?)
# shellcheck disable=SC2154 # assigned inside the trap
trap 'bench_gpg_rc=$?; stop_agents; (exit $bench_gpg_rc); bench_cleanup' EXIT

bench_need_procps
bench_need_postfix_tools
if ! command -v gpg >/dev/null || ! command -v gpgconf >/dev/null; then bench_apt_install gnupg; fi

# ------------------------------------------------------------------ key, keyring, message

bench_gpg_keyring to@example.org "$GPG_SECRET" "$GPG_KEYRING"
cp -a "$GPG_KEYRING" "$GPG_TUNED"
echo 'no-random-seed-file' >"$GPG_TUNED/gpg.conf"

MSG=$BENCH_TMP/message.eml
{
	printf 'From: <from@example.org>\nTo: <to@example.org>\nSubject: quarterly report\n'
	printf 'Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <bench@example.org>\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="mix"\n\n'
	printf -- '--mix\nContent-Type: text/plain; charset=us-ascii\n\n'
	for ((i = 0; i < 30; i++)); do printf 'Line %02d of the covering note: the report is attached.\n' "$i"; done
	printf -- '\n--mix\nContent-Type: application/octet-stream; name="report.bin"\n'
	printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="report.bin"\n\n'
} >"$MSG"
# fill up to MSG_SIZE with base64 of random bytes (77 bytes a line with its LF), then close
have=$(($(stat -c %s "$MSG") + 8))
lines=$(((MSG_SIZE - have) / 77))
head -c $((lines * 57)) /dev/urandom | base64 -w 76 >>"$MSG"
printf -- '--mix--\n' >>"$MSG"
size=$(stat -c %s "$MSG")

# ------------------------------------------------------------------ mailwarden

MW_BIN=$(bench_mailwarden_binary)
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$MW_BIN")/CMakeCache.txt" 2>/dev/null || true)

bench_pick_port_var SINK_PORT
bench_pick_port_var BASE_PORT
bench_pick_port_var GPG_PORT
bench_pick_port_var TUNED_PORT

# write_conf NAME PORT MODULES KEYRING - the config of one instance, with a state_dir of its own
write_conf() {
	local name=$1 port=$2 modules=$3 keyring=$4 conf=$BENCH_TMP/$1.conf
	mkdir -p "$BENCH_TMP/$name"
	MW_MODULES=$modules bench_mw_write_conf "$conf" "$port" "$SINK_PORT" \
		"local_domains = example.org" "" "[gpg]" "keyring = $keyring"
	sed -i "s|^state_dir = .*|state_dir = $BENCH_TMP/$name|" "$conf"
}
write_conf base "$BASE_PORT" "" "$GPG_KEYRING"
write_conf gpg "$GPG_PORT" "gpg" "$GPG_KEYRING"
write_conf tuned "$TUNED_PORT" "gpg" "$GPG_TUNED"

if ! "$MW_BIN" -c "$BENCH_TMP/gpg.conf" --check-config >"$BENCH_TMP/check.log" 2>&1; then
	cat "$BENCH_TMP/check.log" >&2
	bench_die "$MW_BIN cannot run the gpg module (built without it? set MW_BUILD_DIR to a build with modules/gpg)"
fi

# the figures must be for real encryption: one pass through scan, decrypted with the secret key
mkdir -p "$BENCH_TMP/scan"
"$MW_BIN" -c "$BENCH_TMP/gpg.conf" scan --from from@example.org --to to@example.org \
	--out "$BENCH_TMP/scan" "$MSG" >"$BENCH_TMP/scan.log" 2>&1 ||
	{ cat "$BENCH_TMP/scan.log" >&2; bench_die "mailwarden scan failed"; }
grep -q 'gpg=encrypted:1' "$BENCH_TMP/scan.log" ||
	{ cat "$BENCH_TMP/scan.log" >&2; bench_die "scan did not encrypt the message"; }
sed -n '/^-----BEGIN PGP MESSAGE-----/,/^-----END PGP MESSAGE-----/p' "$BENCH_TMP/scan/1.eml" | tr -d '\r' |
	gpg --homedir "$GPG_SECRET" --batch --decrypt >"$BENCH_TMP/decrypted.eml" 2>"$BENCH_TMP/decrypt.log" ||
	{ cat "$BENCH_TMP/decrypt.log" >&2; bench_die "the encrypted message does not decrypt"; }
# the body of the decrypted entity is the message's body, byte for byte (scan reads the file as
# it is; over SMTP the line ends would be CRLF)
cmp -s <(sed '1,/^$/d' "$BENCH_TMP/decrypted.eml") <(sed '1,/^$/d' "$MSG") ||
	bench_die "the decrypted body differs from the message's body"
stop_agents

COMMIT=$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
echo "gpg module benchmark - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT"
echo "mailwarden: $MW_BIN (build type ${BUILD_TYPE:-unknown}); runs of ~${BENCH_SECONDS}s, median of $BENCH_RUNS"
echo "message: $size bytes (multipart/mixed, base64 attachment), one recipient with a key (checked: encrypts and decrypts)"
[[ ${BUILD_TYPE:-} == Release ]] ||
	echo "  note: not a Release build: its figures understate mailwarden (MW_BUILD_DIR= a Release build dir)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

bench_start_sink "$SINK_PORT"

# start_instance NAME PORT - start it; sets PID_<NAME> and LOG_<NAME>
start_instance() {
	local name=$1 port=$2
	MW_PID=""
	bench_mw_start "$MW_BIN" "$BENCH_TMP/$name.conf" "$port" || bench_die "mailwarden ($name) did not start"
	# the daemon keeps writing to the moved file
	mv "$MW_LOG" "$BENCH_TMP/$name.log"
	printf -v "PID_$name" '%s' "$MW_PID"
	printf -v "LOG_$name" '%s' "$BENCH_TMP/$name.log"
	bench_mw_note_workers
}
start_instance base "$BASE_PORT"
start_instance gpg "$GPG_PORT"
start_instance tuned "$TUNED_PORT"
MW_PID="" # all are tracked by pid; they are stopped at the end (or by bench_cleanup)
sleep 0.5

# cpu_ticks PID... - utime+stime plus the CPU time of waited-for children (gpg) of the pids
cpu_ticks() {
	local pid line total=0 f
	for pid in "$@"; do
		line=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		line=${line##*) }
		read -r -a f <<<"$line"
		total=$((total + f[11] + f[12] + f[13] + f[14]))
	done
	printf '%s' "$total"
}

# calibrate PORT SESSIONS - message count for a run of about BENCH_SECONDS (sets CAL_COUNT)
calibrate() {
	local port=$1 sessions=$2 n=$(($2 * 4)) rate
	while :; do
		bench_source "$port" "$MSG" "$sessions" "$n" "$RUN_LIMIT"
		((SRC_ERRORS == 0)) || bench_die "calibration on $port: $SRC_ERRORS errors: $(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || true)"
		if awk -v e="$SRC_ELAPSED" 'BEGIN { exit !(e >= 0.5) }' || ((n >= 100000)); then break; fi
		n=$((n * 4))
	done
	rate=$(bench_calc "$n / ($SRC_ELAPSED > 0.001 ? $SRC_ELAPSED : 0.001)")
	CAL_COUNT=$(awk -v r="$rate" -v s="$BENCH_SECONDS" -v m="$sessions" \
		'BEGIN { c = int(r * s); if (c < 4 * m) c = 4 * m; if (c < 20) c = 20; print c }')
}

# measure PID PORT SESSIONS COUNT - one run; sets RATE and CPU_US (per message)
measure() {
	local pid=$1 port=$2 sessions=$3 count=$4 pids cpu0 cpu1
	pids="$pid $(bench_children "$pid" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	cpu0=$(cpu_ticks $pids)
	bench_source "$port" "$MSG" "$sessions" "$count" "$RUN_LIMIT"
	# shellcheck disable=SC2086
	cpu1=$(cpu_ticks $pids)
	((SRC_ERRORS == 0)) || bench_die "run on $port: $SRC_ERRORS smtp-source errors: $(grep -m1 -E 'warning:|fatal:' "$SRC_ERR" || true)"
	RATE=$(bench_calc "$count / $SRC_ELAPSED")
	CPU_US=$(awk -v t="$((cpu1 - cpu0))" -v h="$CLK_TCK" -v n="$count" 'BEGIN { printf "%.0f", t / h * 1e6 / n }')
}

declare -A RESULT
HEADLINE=""
INSTANCES=(base gpg tuned)
for sessions in 1 10; do
	echo
	echo "$sessions session(s):"
	declare -A COUNT=() RATES=() CPUS=()
	for name in "${INSTANCES[@]}"; do
		port_var=${name^^}_PORT
		calibrate "${!port_var}" "$sessions"
		COUNT[$name]=$CAL_COUNT
	done
	for ((run = 1; run <= BENCH_RUNS; run++)); do
		line="  run $run:"
		# rotate which goes first, so that a busy neighbour hurts all alike
		for ((k = 0; k < ${#INSTANCES[@]}; k++)); do
			name=${INSTANCES[(k + run - 1) % ${#INSTANCES[@]}]}
			port_var=${name^^}_PORT
			pid_var=PID_$name
			measure "${!pid_var}" "${!port_var}" "$sessions" "${COUNT[$name]}"
			RATES[$name]="${RATES[$name]:-} $RATE"
			CPUS[$name]="${CPUS[$name]:-} $CPU_US"
			line=$(printf '%s  %s %5d msgs %7.1f msgs/s %6s us CPU/msg' "$line" "$name" \
				"${COUNT[$name]}" "$RATE" "$CPU_US")
		done
		echo "$line"
	done
	declare -A MED=() MEDCPU=()
	for name in "${INSTANCES[@]}"; do
		# shellcheck disable=SC2086 # the lists are space-separated numbers
		MED[$name]=$(bench_median ${RATES[$name]})
		# shellcheck disable=SC2086
		MEDCPU[$name]=$(bench_median ${CPUS[$name]})
	done
	RESULT[$sessions]=$(printf '%8s %10.0f %10.1f %6.1f%% %10.1f %6.1f%% %9.0f %9.0f %9.0f' "$sessions" \
		"${MED[base]}" "${MED[gpg]}" "$(bench_calc "100 * ${MED[gpg]} / ${MED[base]}")" \
		"${MED[tuned]}" "$(bench_calc "100 * ${MED[tuned]} / ${MED[base]}")" \
		"${MEDCPU[base]}" "${MEDCPU[gpg]}" "${MEDCPU[tuned]}")
	HEADLINE="$HEADLINE${HEADLINE:+; }$sessions session(s): $(printf '%.1f' "${MED[gpg]}") msgs/s"
	HEADLINE="$HEADLINE ($(printf '%.1f' "${MED[tuned]}") with no-random-seed-file)"
done

# stop the instances: each must drain and exit 0 on SIGTERM
STOPS=""
for name in "${INSTANCES[@]}"; do
	pid_var=PID_$name
	MW_PID=${!pid_var}
	bench_mw_stop 15
	STOPS="$STOPS${STOPS:+, }$name: $MW_EXIT"
	[[ $MW_EXIT == "exit status 0" ]] || STOP_FAILED=1
done

# every message the gpg instances took was encrypted
total=0 encrypted=0 problems=0
for name in gpg tuned; do
	log_var=LOG_$name
	total=$((total + $(grep -c ' gpg=' "${!log_var}" || true)))
	encrypted=$((encrypted + $(grep -c 'gpg=encrypted:1' "${!log_var}" || true)))
	problems=$((problems + $(grep -ciE 'warning|critical|error' "${!log_var}" || true)))
done
sent=$(bench_sink_count)

echo
echo "==================== gpg module benchmark: summary ===================="
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $COMMIT${BUILD_TYPE:+, $BUILD_TYPE build}," \
	"median of $BENCH_RUNS runs of ~${BENCH_SECONDS}s, smtp-source reusing connections (-d), workers = 10"
echo "message: $size bytes, one recipient (to@example.org) with a key; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s %10s %10s %7s %10s %7s %9s %9s %9s\n' sessions "base/s" "gpg/s" "ratio" "tuned/s" "ratio" \
	"base us" "gpg us" "tuned us"
for sessions in 1 10; do echo "${RESULT[$sessions]}"; done
echo "(msgs/s; CPU us per message: mailwarden master and workers plus the gpg processes they ran;"
echo " gpg = keyring as gpg makes it, encryptions one at a time;"
echo " tuned = the keyring's gpg.conf has no-random-seed-file, encryptions in parallel)"
echo "figure: 100 KiB message encrypted for one recipient: $HEADLINE"
echo "gpg instances: $encrypted of $total messages encrypted; log lines that look like problems: $problems;" \
	"smtp-sink received $sent in all"
echo "SIGTERM: $STOPS"
echo "======================================================================="
if ((total == 0 || encrypted != total || problems > 0 || ${STOP_FAILED:-0})); then
	BENCH_FAILED=1
	bench_die "a gpg instance did not encrypt every message, logged problems or did not stop cleanly (logs in $BENCH_TMP)"
fi
exit 0
