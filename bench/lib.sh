# shellcheck shell=bash
# Functions here set globals for their callers (SRC_*, SINK_*, MW_*):
# shellcheck disable=SC2034
# bench/lib.sh - helpers shared by the mailwarden benchmark scripts.
#
# Source it from a script that runs under `set -euo pipefail`:
#
#   BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   . "$BENCH_DIR/lib.sh"
#   bench_init            # temp dir in $BENCH_TMP, EXIT trap that kills every tracked pid
#   bench_need_postfix_tools
#   port=$(bench_pick_port)
#   bench_start_sink "$port"
#   ...
#
# Everything here uses loopback only. Every process a script starts in the background must
# be passed to bench_track so that the EXIT trap kills it by pid, even when the script fails.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_LIB_DIR/.." && pwd)
BENCH_TRACKED=()   # pids to kill on exit
BENCH_PORTS=()     # ports handed out by bench_pick_port in this run
BENCH_TMP=""
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_FAILED=0     # set to 1 by a script to keep the temp dir for inspection

bench_log() { printf '%s\n' "$*"; }
bench_warn() { printf 'WARNING: %s\n' "$*" >&2; }
bench_die() {
	printf 'ERROR: %s\n' "$*" >&2
	BENCH_FAILED=1
	exit 1
}

# bench_now - wall clock in seconds with microseconds, without forking
bench_now() { printf '%s' "${EPOCHREALTIME/,/.}"; }

# bench_calc EXPR - floating point arithmetic (mawk/gawk), e.g. bench_calc "3 / 7"
bench_calc() { awk "BEGIN { printf \"%.6f\", ($1) }"; }

# bench_fmt_int X - round to an integer for display
bench_fmt_int() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }

# bench_median X... - median of the numbers given (mean of the middle two for an even count)
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- temp dir and cleanup

# bench_track PID... - remember pids to kill on exit
bench_track() { BENCH_TRACKED+=("$@"); }

# bench_untrack PID - forget a pid that has been waited for (so a reused pid is never killed)
bench_untrack() {
	local i
	for i in "${!BENCH_TRACKED[@]}"; do
		[[ ${BENCH_TRACKED[i]} == "$1" ]] && unset "BENCH_TRACKED[i]"
	done
	BENCH_TRACKED=("${BENCH_TRACKED[@]}")
}

# bench_kill_pid PID [GRACE_SECONDS] - SIGTERM, wait, then SIGKILL; quiet if already gone
bench_kill_pid() {
	local pid=$1 grace=${2:-5} i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# reap it if it is our child (otherwise kill -0 sees the zombie until we wait)
		if ! [[ -e /proc/$pid ]] || [[ $(bench_proc_state "$pid") == Z ]]; then
			wait "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null && [[ $(bench_proc_state "$pid") != Z ]]; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# bench_pid_alive PID - running (a zombie that has not been waited for is not alive)
bench_pid_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[[ $(bench_proc_state "$1") != Z ]]
}

# bench_proc_state PID - the one-letter state from /proc/PID/stat (R, S, Z...), empty if gone
bench_proc_state() {
	local line
	line=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	line=${line##*) }
	printf '%s' "${line%% *}"
}

bench_cleanup() {
	local rc=$? i pid
	trap - EXIT INT TERM
	# a mailwarden master gets SIGTERM first and its workers are checked (see bench_mw_stop)
	if [[ -n ${MW_PID:-} ]]; then bench_mw_stop 5 || true; fi
	bench_mw_kill_orphans || true
	# newest first: load generators, then the filter, then the sink
	for ((i = ${#BENCH_TRACKED[@]} - 1; i >= 0; i--)); do
		pid=${BENCH_TRACKED[i]}
		bench_kill_pid "$pid" 5
	done
	if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
		if [[ $BENCH_KEEP == 1 || $BENCH_FAILED == 1 || $rc != 0 ]]; then
			printf 'files kept in %s\n' "$BENCH_TMP" >&2
		else
			rm -rf -- "$BENCH_TMP"
		fi
	fi
	exit "$rc"
}

# bench_init [NAME] - make the temp dir ($BENCH_TMP) and install the EXIT trap
bench_init() {
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/${1:-mw-bench}.XXXXXX")
	chmod 755 "$BENCH_TMP"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ---------------------------------------------------------------- tools

# bench_apt_install PKG... - apt-get install, with one apt-get update and retry on failure
bench_apt_install() {
	local log=${BENCH_TMP:-/tmp}/apt.log
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$log" 2>&1; then
		apt-get update >>"$log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 ||
			{ tail -n 20 "$log" >&2; bench_die "apt-get install $* failed"; }
	fi
}

# bench_postfix_master_pid - pid of a running system Postfix master, or nothing
bench_postfix_master_pid() {
	local pidfile=/var/spool/postfix/pid/master.pid pid
	[[ -r $pidfile ]] || return 0
	pid=$(tr -dc '0-9' <"$pidfile")
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == master ]]; then
		printf '%s' "$pid"
	fi
	return 0
}

# bench_need_postfix_tools - smtp-source and smtp-sink from Debian's postfix, installed with
# "No configuration" and no Postfix left running by the install
bench_need_postfix_tools() {
	command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null && return 0
	[[ $(id -u) == 0 ]] || bench_die "smtp-source/smtp-sink missing; run as root to install postfix"
	local before pid
	before=$(bench_postfix_master_pid)
	bench_log "installing postfix (for smtp-source and smtp-sink), no configuration..."
	echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
	bench_apt_install postfix
	pid=$(bench_postfix_master_pid)
	if [[ -n $pid && -z $before ]]; then
		bench_log "the postfix install started a master (pid $pid): stopping it"
		postfix stop >/dev/null 2>&1 || true
		bench_kill_pid "$pid" 10
	fi
	if ! command -v smtp-source >/dev/null || ! command -v smtp-sink >/dev/null; then
		bench_die "postfix installed but smtp-source/smtp-sink not found"
	fi
}

# bench_need_procps - pgrep
bench_need_procps() {
	command -v pgrep >/dev/null && return 0
	bench_apt_install procps
}

# bench_mailwarden_binary - print the path of build/mailwarden ($MW_BUILD_DIR), building it if absent
bench_mailwarden_binary() {
	local build=${MW_BUILD_DIR:-$BENCH_REPO/build}
	if [[ ! -x $build/mailwarden ]]; then
		bench_log "no $build/mailwarden: building it (Release)" >&2
		command -v cmake >/dev/null || bench_die "cmake not installed"
		(cd "$BENCH_REPO" && cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >&2 &&
			cmake --build "$build" -j2 >&2) || bench_die "building mailwarden failed"
		[[ -x $build/mailwarden ]] || bench_die "build finished but $build/mailwarden is missing"
	fi
	printf '%s' "$build/mailwarden"
}

# ---------------------------------------------------------------- ports

# bench_port_in_use PORT - true if any TCP socket (any state) has that local port
bench_port_in_use() {
	local want=$1 f sl laddr rest
	for f in /proc/net/tcp /proc/net/tcp6; do
		[[ -r $f ]] || continue
		while read -r sl laddr rest; do
			[[ $sl == sl ]] && continue
			if ((16#${laddr##*:} == want)); then return 0; fi
		done <"$f"
	done
	return 1
}

# bench_pick_port - a free high port (20000-59999) not used by anything nor handed out before.
# Prints it; call as port=$(bench_pick_port) then bench_note_port "$port", or use
# bench_pick_port_var NAME which does both.
bench_pick_port() {
	local p i used q
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		used=0
		for q in "${BENCH_PORTS[@]}"; do [[ $q == "$p" ]] && used=1; done
		((used)) && continue
		bench_port_in_use "$p" && continue
		printf '%s' "$p"
		return 0
	done
	bench_die "no free port found"
}

# bench_pick_port_var NAME - pick a port into variable NAME and reserve it for this run
bench_pick_port_var() {
	local p
	p=$(bench_pick_port)
	BENCH_PORTS+=("$p")
	printf -v "$1" '%s' "$p"
}

# bench_wait_port HOST PORT TIMEOUT [PID] - wait until a TCP connect succeeds; fails early if
# PID (the server) dies
bench_wait_port() {
	local host=$1 port=$2 timeout=$3 pid=${4:-} deadline
	deadline=$(bench_calc "$(bench_now) + $timeout")
	while :; do
		if (exec 2>/dev/null 3<>"/dev/tcp/$host/$port"); then return 0; fi
		if [[ -n $pid ]] && ! bench_pid_alive "$pid"; then return 1; fi
		if awk -v n="$(bench_now)" -v d="$deadline" 'BEGIN { exit !(n > d) }'; then return 1; fi
		sleep 0.05
	done
}

# bench_wait_smtp HOST PORT TIMEOUT [PID] - wait until the server sends a 220 greeting
# (a listening socket alone is not enough: the kernel accepts before any worker runs)
bench_wait_smtp() {
	local host=$1 port=$2 timeout=$3 pid=${4:-} deadline line
	deadline=$(bench_calc "$(bench_now) + $timeout")
	while :; do
		line=$(
			exec 2>/dev/null
			exec 3<>"/dev/tcp/$host/$port" || exit 1
			IFS= read -r -t 2 l <&3 || exit 1
			printf 'QUIT\r\n' >&3
			printf '%s' "$l"
		) 2>/dev/null || line=""
		[[ $line == 220* ]] && return 0
		if [[ -n $pid ]] && ! bench_pid_alive "$pid"; then return 1; fi
		if awk -v n="$(bench_now)" -v d="$deadline" 'BEGIN { exit !(n > d) }'; then return 1; fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- smtp-sink

# bench_start_sink PORT [EXTRA_OPTS...] - smtp-sink on 127.0.0.1:PORT in the background,
# counting messages (-c) into $BENCH_TMP/sink-PORT.out; sets SINK_PID and SINK_OUT
bench_start_sink() {
	local port=$1
	shift
	SINK_OUT=$BENCH_TMP/sink-$port.out
	# -u: required when started as root; -m: connections handled at once; 1024: listen backlog
	smtp-sink -c -u nobody -m 512 -t 120 "$@" "127.0.0.1:$port" 1024 >"$SINK_OUT" 2>&1 &
	SINK_PID=$!
	bench_track "$SINK_PID"
	bench_wait_smtp 127.0.0.1 "$port" 10 "$SINK_PID" ||
		{ cat "$SINK_OUT" >&2; bench_die "smtp-sink did not start on port $port"; }
}

# bench_sink_count [OUT_FILE] - messages smtp-sink has received so far (its -c counter)
bench_sink_count() {
	local f=${1:-$SINK_OUT} n
	n=$(tail -c 200 "$f" 2>/dev/null | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n 1) || true
	printf '%s' "${n#mesg=}"
	[[ -n $n ]] || printf 0
}

# bench_gpg_keyring ADDRESS SECRET_HOME KEYRING_HOME - a new key for ADDRESS in SECRET_HOME (made
# here, mode 700) and its public half imported into KEYRING_HOME (made here); the caller stops the
# agents (gpgconf --homedir DIR --kill all) at its exit
bench_gpg_keyring() {
	local address=$1 secret=$2 keyring=$3 log=$BENCH_TMP/keygen.log
	mkdir -m 700 "$secret" "$keyring"
	gpg --homedir "$secret" --batch --passphrase '' --quick-gen-key "Bench <$address>" \
		future-default default never >"$log" 2>&1 ||
		{ cat "$log" >&2; bench_die "gpg could not generate the key"; }
	gpg --homedir "$secret" --batch --export "$address" |
		gpg --homedir "$keyring" --batch --no-autostart --import >>"$log" 2>&1 ||
		{ cat "$log" >&2; bench_die "gpg could not import the key"; }
}

# ---------------------------------------------------------------- smtp-source

# bench_source PORT SIZE SESSIONS COUNT LIMIT_SECONDS [EXTRA_OPTS...]
# SIZE is a body length in bytes (smtp-source -l, generated lines of X) or the path of a prepared
# message file, headers and body (smtp-source -F; lines starting with '.' are dot-stuffed for you).
# Runs smtp-source once in the background (tracked) and waits. Sets:
#   SRC_ELAPSED  wall seconds, SRC_RC exit status (124 = hit the time limit),
#   SRC_ERRORS   warning/fatal lines printed by smtp-source, SRC_ERR the stderr file
# Sessions reuse their connection (-d) like Postfix's connection cache does, unless
# BENCH_NO_REUSE=1. -A keeps going after a non-2xx reply so that errors are counted.
BENCH_SRC_N=0
bench_source() {
	local port=$1 size=$2 sessions=$3 count=$4 limit=$5 t0 t1 pid
	shift 5
	local reuse=(-d) what=(-l "$size")
	[[ $size =~ ^[0-9]+$ ]] || what=(-F "$size")
	[[ ${BENCH_NO_REUSE:-0} == 1 ]] && reuse=()
	BENCH_SRC_N=$((BENCH_SRC_N + 1))
	SRC_ERR=$BENCH_TMP/source-$BENCH_SRC_N.err
	t0=$(bench_now)
	timeout -k 5 "$limit" smtp-source -A "${reuse[@]}" -M bench.example -f from@example.org \
		-t to@example.org -s "$sessions" -m "$count" "${what[@]}" "$@" "127.0.0.1:$port" \
		>/dev/null 2>"$SRC_ERR" &
	pid=$!
	bench_track "$pid"
	SRC_RC=0
	wait "$pid" || SRC_RC=$?
	bench_untrack "$pid"
	t1=$(bench_now)
	SRC_ELAPSED=$(bench_calc "$t1 - $t0")
	SRC_ERRORS=$(grep -cE 'warning:|fatal:' "$SRC_ERR" || true)
	if [[ $SRC_RC != 0 && $SRC_ERRORS == 0 ]]; then SRC_ERRORS=1; fi
}

# ---------------------------------------------------------------- /proc

# bench_status_kb PID FIELD - a kB figure from /proc/PID/status (VmRSS, VmHWM...), 0 if gone
bench_status_kb() {
	local k v rest
	while read -r k v rest; do
		if [[ $k == "$2:" ]]; then
			printf '%s' "$v"
			return 0
		fi
	done <"/proc/$1/status" 2>/dev/null || true
	printf 0
}

# bench_children PID - the pids of PID's children, one a line
bench_children() { pgrep -P "$1" || true; }

# bench_cpu_ticks PID... - utime+stime (clock ticks) summed over the pids
bench_cpu_ticks() {
	local pid line total=0 f
	for pid in "$@"; do
		line=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		line=${line##*) }
		read -r -a f <<<"$line"
		# after "pid (comm) ": state=0 ... utime=11 stime=12
		total=$((total + f[11] + f[12]))
	done
	printf '%s' "$total"
}

# bench_kb_to_mib KB - "12.3"
bench_kb_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- mailwarden

# bench_mw_write_conf FILE LISTEN_PORT REINJECT_PORT [EXTRA_LINE...] - a [mailwarden] config with
# modules = $MW_MODULES (default: none); EXTRA_LINEs are appended verbatim (more [mailwarden] keys
# first, then module sections)
bench_mw_write_conf() {
	local conf=$1 lport=$2 rport=$3 line
	shift 3
	mkdir -p "$BENCH_TMP/state"
	{
		echo '[mailwarden]'
		echo "listen = 127.0.0.1:$lport"
		echo "reinject = 127.0.0.1:$rport"
		echo 'workers = 10'
		echo "state_dir = $BENCH_TMP/state"
		echo 'hostname = bench.test'
		echo 'timeout = 60'
		echo "modules = ${MW_MODULES:-}"
		for line in "$@"; do echo "$line"; done
	} >"$conf"
}

# bench_mw_start BINARY CONF PORT - start `mailwarden -c CONF` in the foreground, in the
# background, stderr (and stdout) to $BENCH_TMP/mailwarden.log; wait for its 220 greeting.
# Sets MW_PID and MW_LOG. Returns 1 (after printing the log tail) if it does not come up.
bench_mw_start() {
	local bin=$1 conf=$2 port=$3
	MW_LOG=$BENCH_TMP/mailwarden.log
	MW_EXE=$(readlink -f "$bin")
	MW_KNOWN_WORKERS=()
	"$bin" -c "$conf" >>"$MW_LOG" 2>&1 &
	MW_PID=$!
	bench_track "$MW_PID"
	if ! bench_wait_smtp 127.0.0.1 "$port" 20 "$MW_PID"; then
		local why
		if bench_mw_alive; then
			bench_mw_stop 5
			why="still running, stopped: $MW_EXIT"
		else
			local rc=0
			wait "$MW_PID" 2>/dev/null || rc=$?
			bench_untrack "$MW_PID"
			MW_PID=""
			why="exited with status $rc"
		fi
		# stdout: this belongs in the report
		printf 'mailwarden did not come up on 127.0.0.1:%s (no 220 greeting; %s). Last lines of %s:\n' \
			"$port" "$why" "$MW_LOG"
		tail -n 30 "$MW_LOG" | sed 's/^/  | /'
		return 1
	fi
}

# bench_mw_alive - the master started by bench_mw_start is still running
bench_mw_alive() {
	[[ -n ${MW_PID:-} ]] && bench_pid_alive "$MW_PID"
}

# bench_mw_workers - the master's children (the workers), one pid a line
bench_mw_workers() { bench_children "$MW_PID"; }

# bench_mw_note_workers - remember the current workers (not in a subshell), so that workers
# orphaned by a dying master can still be killed by pid at the end
MW_KNOWN_WORKERS=()
bench_mw_note_workers() {
	local w k seen
	[[ -n ${MW_PID:-} ]] || return 0
	for w in $(bench_mw_workers); do
		seen=0
		for k in "${MW_KNOWN_WORKERS[@]}"; do [[ $k == "$w" ]] && seen=1; done
		((seen)) || MW_KNOWN_WORKERS+=("$w")
	done
}

# bench_mw_kill_orphans - SIGKILL every noted worker still running the mailwarden binary
bench_mw_kill_orphans() {
	local w
	for w in "${MW_KNOWN_WORKERS[@]}"; do
		if bench_pid_alive "$w" && [[ $(readlink -f "/proc/$w/exe" 2>/dev/null) == "${MW_EXE:-}" ]]; then
			printf 'killing mailwarden worker %s left running\n' "$w" >&2
			kill -KILL "$w" 2>/dev/null || true
		fi
	done
}

# bench_mw_stop [GRACE] - SIGTERM the master, wait up to GRACE s (default 15) for it to drain
# and exit, SIGKILL it (and any worker left) after that. Sets MW_EXIT ("status N", "killed").
bench_mw_stop() {
	local grace=${1:-15} i workers w
	MW_EXIT="not running"
	[[ -n ${MW_PID:-} ]] || return 0
	workers=$(bench_mw_workers)
	if kill -0 "$MW_PID" 2>/dev/null; then
		kill -TERM "$MW_PID" 2>/dev/null || true
		for ((i = 0; i < grace * 20; i++)); do
			[[ $(bench_proc_state "$MW_PID") == Z || ! -e /proc/$MW_PID ]] && break
			sleep 0.05
		done
		if [[ -e /proc/$MW_PID && $(bench_proc_state "$MW_PID") != Z ]]; then
			kill -KILL "$MW_PID" 2>/dev/null || true
			MW_EXIT="did not exit within ${grace}s of SIGTERM: killed"
		fi
	fi
	local rc=0
	wait "$MW_PID" 2>/dev/null || rc=$?
	[[ $MW_EXIT == "not running" ]] && MW_EXIT="exit status $rc"
	bench_untrack "$MW_PID"
	for w in $workers; do
		for ((i = 0; i < 40; i++)); do
			kill -0 "$w" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$w" 2>/dev/null; then
			MW_EXIT="$MW_EXIT; worker $w left behind: killed"
			kill -KILL "$w" 2>/dev/null || true
		fi
	done
	MW_PID=""
}
