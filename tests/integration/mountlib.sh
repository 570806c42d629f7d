# mountlib.sh — helpers for tests that mount for real (sourced after lib.sh).
#
# mount_repo REPO MNT [OPTS...]: mounts and waits until both MNT and
# MNT/HEAD answer; registers an unmount in the exit trap. scan_log REPO:
# the daemon log must hold no error, sanitizer report or crash. Waits go
# through wait_until (lib.sh): generous deadlines, never a fixed sleep.

FOLIOFS=$(dirname "$FOLIO")/foliofs

# Lazily detaches every mount at or under MNT, deepest first. It reads the
# mount table rather than stat()ing, because a mount whose daemon was killed
# answers stat with ENOTCONN and so looks like no mount to mountpoint(1).
force_unmount() {
	local m p _
	m=$(realpath -m "$1")
	# field 5 is the mount point with \040 for a space (and \011, \012,
	# \134): \0NNN is what printf %b reads as octal
	while read -r _ _ _ _ p _; do
		printf -v p '%b' "${p//\\/\\0}"
		if [ "$p" = "$m" ] || [[ $p == "$m/"* ]]; then echo "${#p} $p"; fi
	done </proc/self/mountinfo | sort -rn | cut -d' ' -f2- |
		while IFS= read -r p; do umount -l "$p" 2>/dev/null || fusermount3 -uz "$p" 2>/dev/null; done
	return 0
}

# mount_ready MNT: waits until MNT and MNT/HEAD answer.
mount_answers() { mountpoint -q "$1" && mountpoint -q "$1/HEAD"; }
mount_ready() { wait_until mount_answers "$1"; }

# appeared PATH: waits until PATH exists (the refs watcher or the stage
# made it appear).
appeared() {
	wait_until test -e "$1"
}

# daemon_gone MNT: waits until no foliofs serves MNT any more.
daemon_serves() { pgrep -f "foliofs.*$1\$" >/dev/null; }
daemon_gone() { wait_until not daemon_serves "$1"; }

mount_repo() {
	local repo=$1 mnt=$2; shift 2
	mkdir -p "$mnt"
	cleanup_hooks+=("force_unmount '$mnt'")
	"$FOLIO" mount "$repo" "$mnt" "$@" || return 1
	mount_ready "$mnt" && return 0
	echo "mount of $repo on $mnt did not become ready" >&2
	return 1
}

# A daemon's log must be free of errors and sanitizer findings.
scan_log() {
	local log=$1/cache/foliofs.log
	if [ ! -f "$log" ]; then fail "no daemon log at $log"; return; fi
	if grep -nE 'AddressSanitizer|LeakSanitizer|runtime error|ThreadSanitizer|Segmentation|Aborted|cannot|failed|error' "$log" >"$T/.logscan"; then
		fail "daemon log has problems: $(head -c 800 "$T/.logscan")"
	else
		ok
	fi
}
