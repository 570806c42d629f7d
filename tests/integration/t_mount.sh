#!/bin/bash
# t_mount.sh — the mount: layout, reads against `folio cat`, stable and
# shared inodes, EROFS, refs appearing live, parallel readers, xattr
# probes, statfs, mount errors, mount(8) type, clean unmount.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mountlib.sh"

R=$T/repo M=$T/mnt SRC=$T/src
mkdir -p "$SRC/images/sub" "$SRC/labels"
cp "$LABELME"/bbox_detection/data_annotated/*.jpg "$SRC/images/"
cp "$LABELME"/bbox_detection/data_annotated/*.json "$SRC/labels/"
cp "$LABELME"/instance_segmentation/data_annotated/*.jpg "$SRC/images/sub/"
head -c 3000000 /dev/urandom > "$SRC/big.bin"
python3 -c 'print("text line\n" * 50000, end="")' > "$SRC/big.txt"    # stored as zstd
printf '#!/bin/sh\n' > "$SRC/run.sh"; chmod +x "$SRC/run.sh"
ln -s images/sub "$SRC/latest"
: > "$SRC/empty"
folio init "$R" >/dev/null
export FOLIO_REPO=$R
folio add "$SRC" --as ds && folio commit -m v1 >/dev/null && folio tag v1
check "a compressible file is stored as zstd" bash -c "ls $R/objects/*/*.zst | grep -q ."
V1=$(folio log --json -n1 | json 'j[0]["id"]')

check "mount" mount_repo "$R" "$M"
check "top level" test "$(ls "$M" | tr '\n' ' ')" = "HEAD branches commits log tags "
# Refs, log entries and commit prefixes are folders of the version
# (t_refdirs.sh has the rest).
same_dir() { diff -r --no-dereference "$1" "$2" >/dev/null && test -d "$1" && ! test -L "$1"; }
check "tags/v1 is the commit's folder" same_dir "$M/tags/v1" "$M/commits/$V1"
check "branches/main" same_dir "$M/branches/main" "$M/commits/$V1"
check "log entry" bash -c "ls '$M/log' | grep -q -- '-${V1:0:12}\$'"
check "commit prefix is a folder" same_dir "$M/commits/${V1:0:8}" "$M/commits/$V1"
check "find lists the dataset" test "$(cd "$M/commits/$V1" && find . -type f | wc -l)" = "$(cd "$SRC" && find . -type f | wc -l)"

# Every file reads back exactly what `folio cat` gives; modes and sizes.
while read -r f; do
	folio cat "v1:ds/$f" > "$T/cat.out"
	cmp -s "$M/tags/v1/ds/$f" "$T/cat.out" && ok || fail "content of $f"
	check_eq "size of $f" "$(stat -c %s "$M/tags/v1/ds/$f")" "$(stat -c %s "$SRC/$f")"
done < <(cd "$SRC" && find . -type f | sed 's|^\./||')
check "exec bit" test -x "$M/tags/v1/ds/run.sh"
check "read-only file mode" test "$(stat -c %a "$M/tags/v1/ds/labels/2011_000003.json")" = 444
check "symlink in a version" test "$(readlink "$M/tags/v1/ds/latest")" = images/sub
check "cp -r out of a version" cp -r "$M/tags/v1/ds" "$T/copy"
check "the copy equals the source" diff -r --no-dereference "$T/copy" "$SRC"

# Writes to versions: EROFS.
for cmd in "touch $M/tags/v1/ds/new" "rm $M/tags/v1/ds/empty" "mkdir $M/commits/$V1/x" \
	   "mv $M/tags/v1/ds/empty $M/tags/v1/ds/e2" "cp $SRC/run.sh $M/commits/$V1/ds/run.sh" \
	   "chmod 777 $M/tags/v1/ds/run.sh" "ln -s x $M/commits/$V1/l"; do
	check_exit 1 "refused: $cmd" bash -c "$cmd"
	check_err "Read-only file system"
done

# Inodes: identical content shares one; stable across remounts.
a=$(stat -c %i "$M/tags/v1/ds/images/2011_000003.jpg")
b=$(stat -c %i "$M/tags/v1/ds/images/sub/2011_000003.jpg")
check_eq "identical content shares an inode" "$a" "$b"

# xattr probes are answered at once (and the kernel stops asking).
xattr_probe() {
	/usr/bin/python3 - "$1" <<'PY'
import errno, os, sys
try:
    os.getxattr(sys.argv[1], "user.x")
    sys.exit(1)
except OSError as e:
    sys.exit(0 if e.errno in (errno.ENOTSUP, errno.ENODATA) else 2)
PY
}
check "an xattr probe gets 'not supported', not an error" xattr_probe "$M/tags/v1/ds/run.sh"
check "and a listing of xattrs is empty" test -z "$(/usr/bin/python3 -c 'import os,sys; print(os.listxattr(sys.argv[1]) if hasattr(os, "listxattr") else "")' "$M/tags/v1/ds/run.sh" 2>/dev/null | tr -d '[]')"
check "df on the mount" df "$M"
check "ls -l of a version" ls -lR "$M/tags/v1/"

# New commits, branches and tags appear (the refs watcher: usually within
# a second).
cp "$LABELME"/bbox_detection/data_annotated/2011_000006.jpg "$T/x.jpg"
folio add "$T/x.jpg" --as ds/new.jpg && folio commit -m v2 >/dev/null
folio tag v2 && folio branch feature/x v1
V2=$(folio log --json -n1 | json 'j[0]["id"]')
check "tags/v2 appears" appeared "$M/tags/v2/ds/new.jpg"
check "branches/main moved" wait_until test -e "$M/branches/main/ds/new.jpg"
check "a branch with a slash" wait_until test -d "$M/branches/feature/x/ds"
check "it is v1" same_dir "$M/branches/feature/x" "$M/commits/$V1"
check "through it" test -f "$M/branches/feature/x/ds/run.sh"
check "commits/ lists both" test "$(ls "$M/commits" | grep -c '^[0-9a-f]\{40\}$')" = 2
c=$(stat -c %i "$M/tags/v2/ds/images/2011_000003.jpg")
check_eq "same file in two versions shares an inode" "$c" "$a"
folio tag -d v2
check "a deleted tag disappears" wait_until test ! -e "$M/tags/v2"

# Many parallel readers with checksums.
(cd "$SRC" && find . -type f -exec md5sum {} + | sort -k2) > "$T/want.md5"
for i in 1 2 3 4 5 6 7 8; do
	(cd "$M/tags/v1/ds" && find . -type f -exec md5sum {} + | sort -k2 > "$T/got$i.md5") &
done
wait
for i in 1 2 3 4 5 6 7 8; do check "reader $i checksums" cmp "$T/want.md5" "$T/got$i.md5"; done

# Mount errors: non-empty folder, missing repository, second mount.
mkdir -p "$T/full"; touch "$T/full/x"
check_exit 1 "mount on a non-empty folder" folio mount "$R" "$T/full"
check_err "not empty"
check_exit 3 "mount a missing repository" folio mount "$T/nope" "$T/m2"
check_exit 1 "mount a repository twice" folio mount "$R" "$T/m2" 2>/dev/null || true
mkdir -p "$T/m3"
check_exit 1 "mount a repository twice" folio mount "$R" "$T/m3"
check_err "already mounted"

# Mount options: a mode or scheduling value that does not exist is refused.
check_exit 2 "an unknown mount option" folio mount -o bogus "$R" "$T/m2"
check_err "unknown mount option 'bogus'"
check_exit 2 "uring_sched with a bad value" folio mount -o uring,uring_sched=fast "$R" "$T/m2"
check_err "uring_sched takes idle or normal, not 'fast'"

# Unmount while a file is open: refused with a clear message; --lazy works.
exec 7< "$M/tags/v1/ds/big.bin"
check_exit 4 "umount while a file is open" folio umount "$M"
check_err "busy"
check "still serving" cmp "$M/tags/v1/ds/big.bin" "$SRC/big.bin"
check "umount --lazy" folio umount --lazy "$M"
check "the open file still reads" cmp /dev/fd/7 "$SRC/big.bin"
exec 7<&-
check "daemon gone once the file is closed" daemon_gone "$M"

# A locked repository refuses to mount with a clear error.
mkdir -p "$T/m4"
check "another process holds the lock" hold_lock "$R/lock"
FOLIO_LOCK_TIMEOUT=1 check_exit 1 "mount a locked repository" folio mount "$R" "$T/m4"
check_err "locked"
kill $locker; wait $locker 2>/dev/null

# mount(8): `-t fuse.foliofs` runs foliofs from PATH (make install puts it
# in /usr/local/bin); `-t fuse 'PROGRAM#REPO'` takes the program's path and
# goes through the same mount.fuse3 helper.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/m5"
	cleanup_hooks+=("force_unmount '$T/m5'")
	check "mount -t fuse PROGRAM#REPO" mount -t fuse "$FOLIOFS#$R" "$T/m5"
	check "reads through it" cmp "$T/m5/tags/v1/ds/big.bin" "$SRC/big.bin"
	check "umount" folio umount "$T/m5"
	if command -v foliofs >/dev/null && [ "$(command -v foliofs)" -ef "$FOLIOFS" ]; then
		check "mount -t fuse.foliofs" mount -t fuse.foliofs "$R" "$T/m5"
		check "umount" folio umount "$T/m5"
	fi
fi
# Paths with a space and a comma: the repository (it names the mount's
# source, which libfuse splits at commas) and the mount point (the kernel's
# mount table writes a space as \040), for mount, reads and umount.
R2="$T/a repo, too" M2="$T/mount point"
cp -r "$R" "$R2"
check "mount a repository whose path has a space and a comma" mount_repo "$R2" "$M2"
check "reads through it" cmp "$M2/tags/v1/ds/big.bin" "$SRC/big.bin"
check "the mount names its repository" grep -qF 'folio:'"$T"'/a\040repo,\040too ' /proc/self/mountinfo
check "umount at a path with a space" folio umount "$M2"
check "and it is gone" bash -c "! mountpoint -q '$M2'"
scan_log "$R2"
scan_log "$R"
finish
