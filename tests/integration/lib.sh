# lib.sh — shared helpers for folio's integration tests (sourced).
#
# Each test script gets a private temp dir in $T, removed by a trap; checks
# count into passed/failed and the script exits non-zero if any failed.
set -u

: "${FOLIO:?set FOLIO to the folio binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/folio-it.XXXXXX")
passed=0
failed=0
cleanup_hooks=()

on_exit() {
	local h
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$T"
}
trap on_exit EXIT

ok() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	echo "FAIL [$(basename "$0"):${BASH_LINENO[1]}] $*" >&2
}

# check DESCRIPTION COMMAND...: passes when the command exits 0.
check() {
	local what=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then ok; else
		fail "$what (exit $?): $(head -c 600 "$T/.err")"
	fi
}

# check_exit CODE DESCRIPTION COMMAND...: passes when the command exits CODE.
check_exit() {
	local want=$1 what=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	local got=$?
	if [ "$got" = "$want" ]; then ok; else
		fail "$what: exit $got, wanted $want: $(head -c 600 "$T/.err")"
	fi
}

# check_err PATTERN: the last command's stderr matches PATTERN (grep -E).
check_err() {
	if grep -qE -- "$1" "$T/.err"; then ok; else
		fail "stderr does not match /$1/: $(head -c 600 "$T/.err")"
	fi
}

# check_out PATTERN: the last command's stdout matches PATTERN (grep -E).
check_out() {
	if grep -qE -- "$1" "$T/.out"; then ok; else
		fail "stdout does not match /$1/: $(head -c 600 "$T/.out")"
	fi
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', wanted '$3'"; fi
}

# wait_until [-t SECONDS] COMMAND...: runs COMMAND every 0.05 s until it
# succeeds; fails once SECONDS (default $WAIT_TIMEOUT, else 120) have
# passed. For what happens "soon" -- a mount answering, the refs watcher
# noticing a commit, a daemon exiting, a helper taking a lock: a sanitizer
# build on a machine whose cores are busy can take many times longer than
# usual, so only a hang may fail a test, never slowness.
wait_until() {
	local limit=${WAIT_TIMEOUT:-120}
	if [ "$1" = -t ]; then limit=$2; shift 2; fi
	local end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# hold_lock FILE: starts a process that holds flock(2) on FILE until it is
# killed (registered in the exit trap), and returns once it holds it; its
# pid is in $locker.
hold_lock() {
	( flock 9 && exec sleep 3600 ) 9>"$1" &
	locker=$!
	cleanup_hooks+=("kill $locker 2>/dev/null")
	wait_until not flock -n "$1" true
}

# not COMMAND...: succeeds when COMMAND fails (for wait_until and check).
not() { ! "$@"; }

# json EXPR < file: evaluates a Python expression on the parsed JSON (as j).
json() {
	/usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

folio() { "$FOLIO" "$@"; }

finish() {
	echo "$(basename "$0"): $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# Real photographs from a Debian package (labelme-examples).
LABELME=/usr/share/doc/labelme-examples/examples
