#!/bin/bash
# t_faults.sh — faults: a full disk, a locked repository, a corrupted
# object, commits killed at random moments, gc racing adds.
. "$(dirname "$0")/lib.sh"

JPG="$LABELME"/bbox_detection/data_annotated/2011_000003.jpg

# --- A full disk: a 4 MiB tmpfs. ---
SMALL=$T/small
mkdir -p "$SMALL"
if mount -t tmpfs -o size=4m tmpfs "$SMALL" 2>/dev/null; then
	cleanup_hooks+=("umount -l '$SMALL'")
	check "init on a small disk" folio init "$SMALL/repo"
	check "add a photo" folio -R "$SMALL/repo" add "$JPG"
	check "commit" folio -R "$SMALL/repo" commit -m "fits"
	head -c $((6 * 1024 * 1024)) /dev/urandom > "$T/big.bin"
	check_exit 6 "add more than the disk holds" folio -R "$SMALL/repo" add "$T/big.bin"
	check_err "big.bin"; check_err "[Nn]o space"
	check_eq "no temp files left" "$(find "$SMALL/repo/objects/tmp" -type f | wc -l)" "0"
	check "the committed photo still reads" cmp <(folio -R "$SMALL/repo" cat HEAD:2011_000003.jpg) "$JPG"
	check "fsck clean after ENOSPC" folio -R "$SMALL/repo" fsck
	# Fill the disk completely, then try to commit: the branch must not move.
	head -c $((3 * 1024 * 1024)) /dev/urandom > "$T/mid.bin"
	folio -R "$SMALL/repo" add "$T/mid.bin" >/dev/null 2>&1
	before=$(git --git-dir="$SMALL/repo/git" rev-parse main)
	dd if=/dev/zero of="$SMALL/filler" bs=64k >/dev/null 2>&1 || true
	folio -R "$SMALL/repo" commit -m "may not fit" >/dev/null 2>&1
	after=$(git --git-dir="$SMALL/repo/git" rev-parse main)
	rm -f "$SMALL/filler"
	if [ "$before" != "$after" ]; then
		check_eq "a commit on a full disk that moved the branch is whole" \
			"$(git --git-dir="$SMALL/repo/git" rev-parse "$after^")" "$before"
	fi
	check "fsck clean after a commit on a full disk" folio -R "$SMALL/repo" fsck
else
	echo "skip: cannot mount tmpfs (not root?)"
fi

# --- A repository locked by another process. ---
R=$T/repo
folio init "$R" >/dev/null
export FOLIO_REPO=$R
folio add "$JPG" && folio commit -m base >/dev/null
folio add "$LABELME"/bbox_detection/data_annotated/2011_000006.jpg
# One process holds the lock (flock's child would inherit it otherwise).
check "another process holds the lock" hold_lock "$R/lock"
FOLIO_LOCK_TIMEOUT=1 check_exit 4 "commit while locked" folio commit -m blocked
check_err "locked"; check_err "FOLIO_LOCK_TIMEOUT"
FOLIO_LOCK_TIMEOUT=1 check_exit 4 "add while locked" folio add "$JPG" --as other.jpg
kill $locker; wait $locker 2>/dev/null
check "commit after the lock is gone" folio commit -m unblocked

# --- A corrupted object: fsck names it, cat refuses it. ---
oid=$(git --git-dir="$R/git" show HEAD:2011_000003.jpg | sed -n 's/^oid sha256://p')
obj=$R/objects/${oid:0:2}/${oid:2}
check "the object is a plain file" test -f "$obj"
chmod u+w "$obj"
printf '\x00\x01\x02' | dd of="$obj" bs=1 seek=5000 conv=notrunc 2>/dev/null
check_exit 5 "fsck finds the corruption" folio fsck
check_err "$oid"; check_err "2011_000003.jpg"
check_out "PROBLEMS FOUND"
check_exit 5 "cat refuses corrupt bytes" folio cat HEAD:2011_000003.jpg
check_err "corrupt"
cp "$JPG" "$obj"
check "fsck clean once repaired" folio fsck

# --- Commits killed at random moments. ---
mkdir -p "$T/gen"
for round in 1 2 3 4 5 6 7 8; do
	rm -rf "$T/gen"; mkdir -p "$T/gen"
	for i in $(seq 1 400); do echo "round $round file $i $RANDOM" > "$T/gen/f$i.txt"; done
	folio add "$T/gen" --as "round$round" >/dev/null
	old=$(git --git-dir="$R/git" rev-parse main)
	folio commit -m "round $round" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	new=$(git --git-dir="$R/git" rev-parse main)
	if [ "$new" = "$old" ]; then ok; else
		check_eq "round $round: a moved branch has the old commit as parent" \
			"$(git --git-dir="$R/git" rev-parse "$new^")" "$old"
	fi
	check "round $round: the repository opens" folio status
	check "round $round: fsck is clean" folio fsck
	# Finish the round so the next one starts clean.
	folio commit -m "round $round (again)" >/dev/null 2>&1 || true
done
check_eq "every round's files are committed" "$(folio ls HEAD -r | grep -c '^round')" "3200"

# --- gc never drops what a concurrent add just wrote. ---
folio add "$T/big.bin" --as unreachable.bin 2>/dev/null || head -c 100000 /dev/urandom > "$T/big.bin"
folio add "$T/big.bin" --as unreachable.bin
folio rm unreachable.bin
check "gc --dry-run" folio gc --dry-run
check_out "would remove 1 unreachable"
check "gc" folio gc
check_out "removed 1 unreachable"
mkdir -p "$T/many"
for i in $(seq 1 1500); do head -c 2000 /dev/urandom > "$T/many/r$i.bin"; done
folio add "$T/many" &
adder=$!
for i in 1 2 3 4 5; do folio gc >/dev/null 2>&1; sleep 0.05; done
wait $adder
check_eq "the concurrent add staged everything" "$(folio ls : many -r | wc -l)" "1500"
check "fsck: every staged object survived gc" folio fsck
check "commit it" folio commit -m many
check "gc after" folio gc
check "fsck after gc" folio fsck
finish
