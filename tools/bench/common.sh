# shellcheck shell=bash disable=SC2034
# common.sh — helpers shared by the benchmark scripts in tools/bench/.
# Source it from bash (the scripts run with `set -euo pipefail`).
#
#   bench_workdir NAME        make $WORK under ${BENCH_DIR:-/tmp}, removed on
#                             exit unless BENCH_KEEP=1; a script may define
#                             bench_cleanup_hook (e.g. to unmount), which
#                             runs first on exit
#   bench_run KEY CMD...      run CMD (output to $WORK/log/KEY.log), record
#                             wall seconds in T[KEY], peak RSS (KiB) in
#                             M[KEY] and CPU seconds (user + system) in
#                             C[KEY]; a failing CMD aborts the benchmark
#   bench_warm DIR            read every file under DIR once (page cache)
#   bench_du DIR              apparent size of DIR in bytes (du -sb)
#   calc EXPR                 floating-point arithmetic via awk
#   bench_env_md              markdown lines describing machine and tools

BENCH_TIME=${BENCH_TIME:-/usr/bin/time}

declare -gA T=() M=() C=()

die() {
	echo "bench: error: $*" >&2
	exit 1
}

bench_cleanup() {
	local rc=$?
	if declare -F bench_cleanup_hook >/dev/null; then
		bench_cleanup_hook || true
	fi
	if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			echo "bench: kept work dir $WORK" >&2
		else
			# annex makes its objects read-only; make everything removable.
			chmod -R u+w "$WORK" 2>/dev/null || true
			# --one-file-system: never descend into a mount left behind.
			rm -rf --one-file-system "$WORK"
		fi
	fi
	exit "$rc"
}

bench_workdir() {
	local base=${BENCH_DIR:-/tmp}
	mkdir -p "$base"
	WORK=$(mktemp -d "$base/$1.XXXXXX")
	mkdir -p "$WORK/log"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# md_table HEADER ROWS...: a markdown table; cells are separated by '|'.
md_table() { # HEADER ROWS...
	local h=$1 r
	shift
	echo "| ${h//|/ | } |"
	local sep=${h//[^|]/}
	echo "|---${sep//|/|---}|"
	for r in "$@"; do echo "| ${r//|/ | } |"; done
}

now_ns() {
	date +%s%N
}

# Wall time comes from date(1) in nanoseconds (GNU time's %e only has
# centiseconds); peak RSS comes from GNU time's %M, which is the ru_maxrss
# that wait4() returns for the command: the largest resident set of any
# single process in its tree that was waited for (a max, not a sum).
bench_run() {
	local key=$1 t0 t1 tf log
	shift
	tf="$WORK/log/$key.time"
	log="$WORK/log/$key.log"
	t0=$(now_ns)
	if ! "$BENCH_TIME" -f '%e %M %U %S' -o "$tf" "$@" >"$log" 2>&1; then
		echo "bench: error: '$*' failed; last lines of its output:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	t1=$(now_ns)
	T[$key]=$(calc "($t1 - $t0) / 1e9")
	M[$key]=$(awk 'END { print $2 }' "$tf")
	C[$key]=$(awk 'END { printf "%.2f", $3 + $4 }' "$tf")
}

bench_warm() {
	find "$1" -type f -print0 | xargs -0 -r cat >/dev/null
}

bench_du() {
	du -sb "$1" | cut -f1
}

calc() {
	awk "BEGIN { printf \"%.6f\", $1 }"
}

# fmt PRECISION NUMBER
fmt() {
	awk -v p="$1" -v x="$2" 'BEGIN { printf "%.*f", p, x }'
}

# Version line of a tool, or "absent".
tool_version() {
	"$@" 2>/dev/null | head -n 1 || echo absent
}

bench_env_md() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -srm)"
	echo "- CPU: ${cpu:-unknown}, $(nproc) cores; RAM $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- OS: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- file system of the work dir: $(df --output=fstype "$WORK" | tail -n 1)"
}
