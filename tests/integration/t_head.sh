#!/bin/bash
# t_head.sh — the writable HEAD/: every kind of edit, status and commit
# while mounted, reading the result back from tags/ and commits/, and a
# daemon killed with SIGKILL during writes losing nothing fsynced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mountlib.sh"

R=$T/repo M=$T/mnt H=$T/mnt/HEAD
JPG1="$LABELME"/bbox_detection/data_annotated/2011_000003.jpg
JPG2="$LABELME"/bbox_detection/data_annotated/2011_000006.jpg
folio init "$R" >/dev/null
export FOLIO_REPO=$R
mkdir -p "$T/src/labels"; cp "$JPG1" "$T/src/a.jpg"; echo '{"x": 1}' > "$T/src/labels/a.json"
folio add "$T/src" --as ds && folio commit -m base >/dev/null && folio tag base
check "mount" mount_repo "$R" "$M"

# Every kind of edit.
check "HEAD shows the stage" test -f "$H/ds/a.jpg"
check "create with cp" cp "$JPG2" "$H/ds/b.jpg"
check "write a text file" bash -c "echo 'cat' > '$H/ds/classes.txt'"
check "append" bash -c "echo 'dog' >> '$H/ds/classes.txt'"
check "write at an offset" bash -c "printf 'XY' | dd of='$H/ds/labels/a.json' bs=1 seek=2 conv=notrunc status=none"
check "truncate" truncate -s 4 "$H/ds/labels/a.json"
check "mkdir" mkdir -p "$H/ds/new/deeper"
check "an empty folder is listed" test -d "$H/ds/new/deeper"
check "file in a new folder" cp "$JPG1" "$H/ds/new/deeper/c.jpg"
check "rename a file" mv "$H/ds/b.jpg" "$H/ds/b2.jpg"
check "rename a folder" mv "$H/ds/new" "$H/ds/moved"
check "chmod +x" bash -c "printf '#!/bin/sh\n' > '$H/ds/run.sh' && chmod +x '$H/ds/run.sh'"
check "symlink" ln -s b2.jpg "$H/ds/link"
check "unlink" bash -c "cp '$JPG1' '$H/ds/tmp.jpg' && rm '$H/ds/tmp.jpg'"
check "rmdir" bash -c "mkdir '$H/ds/gone' && rmdir '$H/ds/gone'"
check_exit 1 "rmdir of a non-empty folder" rmdir "$H/ds/moved"
check "fsync" bash -c "echo synced > '$H/ds/synced.txt' && sync '$H/ds/synced.txt'"
check "statfs" df "$H"
check_exit 1 "hard links are refused" ln "$H/ds/b2.jpg" "$H/ds/hard.jpg"
check_exit 1 "a path git cannot hold" mkdir "$H/ds/.git"

check_eq "content reads back" "$(cat "$H/ds/classes.txt")" "$(printf 'cat\ndog')"
check_eq "offset write + truncate" "$(cat "$H/ds/labels/a.json")" '{"XY'
check "renamed file content" cmp "$H/ds/b2.jpg" "$JPG2"
check "renamed folder content" cmp "$H/ds/moved/deeper/c.jpg" "$JPG1"

# The CLI sees every closed file; commit while mounted.
check "status" folio status --json
check_eq "status" "$(json 'sorted(c["path"] for c in j["diff"]["changes"])' < "$T/.out")" \
	"['ds/b2.jpg', 'ds/classes.txt', 'ds/labels/a.json', 'ds/link', 'ds/moved/deeper/c.jpg', 'ds/run.sh', 'ds/synced.txt']"
check "commit while mounted" folio commit -m "edited through the mount"
check "tag it" folio tag v2
check "HEAD still shows the same files" cmp "$H/ds/b2.jpg" "$JPG2"
check "tags/v2 appears" appeared "$M/tags/v2/ds/b2.jpg"
check "read back from tags/" cmp "$M/tags/v2/ds/moved/deeper/c.jpg" "$JPG1"
check_eq "text read back" "$(cat "$M/tags/v2/ds/classes.txt")" "$(printf 'cat\ndog')"
check "exec bit committed" test -x "$M/tags/v2/ds/run.sh"
check "link committed" test "$(readlink "$M/tags/v2/ds/link")" = b2.jpg
check "image stored as an lfs pointer" bash -c "git --git-dir='$R/git' show v2:ds/b2.jpg | grep -q '^oid sha256:'"
check "text stored as a plain blob" test "$(git --git-dir="$R/git" show v2:ds/classes.txt)" = "$(printf 'cat\ndog')"
V2=$(folio log --json -n1 | json 'j[0]["id"]')
check "read back from commits/" cmp "$M/commits/$V2/ds/b2.jpg" "$JPG2"
check "the base version is unchanged" cmp "$M/tags/base/ds/a.jpg" "$JPG1"

# CLI changes show up in HEAD/.
folio add "$JPG2" --as ds/from-cli.jpg
check "a CLI add appears in HEAD/" appeared "$H/ds/from-cli.jpg"
folio rm ds/from-cli.jpg

# A file still open for writing: the commit keeps its last closed version.
# (The writer holds one descriptor and never forks: every close() of any
# copy of it -- a shell's dup for a redirection, a child's exec -- is a
# FLUSH and so a save point.)
/usr/bin/python3 - "$H/ds/partial.txt" "$T/ready" "$T/go" <<'PY' &
import os, sys, time
path, ready, go = sys.argv[1:]
f = open(path, "w")
f.write("half"); f.flush()
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
f.write(" and the rest"); f.close()
PY
pywriter=$!
check "the writer has written half" wait_until test -e "$T/ready"
check "status while a file is half written" folio status --json
check_eq "not staged while open for writing" "$(json '[c["path"] for c in j["diff"]["changes"] if c["path"]=="ds/partial.txt"]' < "$T/.out")" "[]"
touch "$T/go"; wait $pywriter
check "status once closed" folio status --json
check_eq "staged once closed" "$(json '[c["path"] for c in j["diff"]["changes"] if c["path"]=="ds/partial.txt"]' < "$T/.out")" "['ds/partial.txt']"
check_eq "with its whole content" "$(folio cat :ds/partial.txt)" "half and the rest"
folio commit -m partial >/dev/null

# Parallel writers.
for i in $(seq 1 8); do (head -c 200000 /dev/urandom > "$T/w$i" && cp "$T/w$i" "$H/ds/par$i.bin") & done
wait
for i in $(seq 1 8); do check "parallel writer $i" cmp "$H/ds/par$i.bin" "$T/w$i"; done

# SIGKILL during writes: what was fsynced survives.
mkdir -p "$T/kill"
for i in $(seq 1 20); do head -c 50000 /dev/urandom > "$T/kill/f$i"; done
for i in $(seq 1 10); do dd if="$T/kill/f$i" of="$H/ds/k$i.bin" conv=fsync status=none; done
( for i in $(seq 11 20); do cat "$T/kill/f$i" > "$H/ds/k$i.bin"; done ) 2>/dev/null &
writer=$!
sleep 0.05
pkill -9 -f "foliofs.*$M\$"
check "the killed daemon is gone" daemon_gone "$M"
wait $writer 2>/dev/null
check_exit 1 "mount over the dead mount is refused" folio mount "$R" "$M"
check_err "folio mount already.*folio umount"
check "umount of a dead mount detaches it" folio umount "$M"
check_err "had stopped; detached"
check "nothing left mounted" bash -c "! grep -q ' $M' /proc/self/mounts"
check "remount after SIGKILL" mount_repo "$R" "$M"
for i in $(seq 1 10); do check "fsynced file $i survived" cmp "$H/ds/k$i.bin" "$T/kill/f$i"; done
check "fsck clean after SIGKILL" folio fsck
check "commit after SIGKILL" folio commit -m "after the crash"

# Saves append to stage/journal, not a rewrite of the stage; the CLI
# reads the journal; a commit folds it in; a line cut by a crash is
# ignored, and the next save cuts it off.
check "a file in HEAD (the first save after a commit writes the stage)" cp "$JPG2" "$H/ds/j0.jpg"
check "another file" cp "$JPG1" "$H/ds/j1.jpg"
check "is a record in the stage's journal" grep -q ' ds/j1.jpg$' "$R/stage/journal"
check "folio status reads the journal" bash -c "\"\$FOLIO\" status | grep -q 'A ds/j1.jpg'"
check "a commit folds it in" bash -c "\"\$FOLIO\" commit -m j1 >/dev/null && test ! -e '$R/stage/journal'"
check "another file" cp "$JPG2" "$H/ds/j2.jpg"
check "umount" folio umount "$M"
printf '0badc0de + L 100644 deadbe' >> "$R/stage/journal"
check "a cut journal line is ignored" bash -c "\"\$FOLIO\" status | grep -q 'A ds/j2.jpg'"
check "remount" mount_repo "$R" "$M"
check "HEAD still has the file" cmp "$H/ds/j2.jpg" "$JPG2"
check "a save after the cut line" cp "$JPG1" "$H/ds/j3.jpg"
check "both changes in the stage" test "$(folio status | grep -c 'A ds/j[23].jpg')" = 2
check "fsck clean" folio fsck
check "umount" folio umount "$M"
check "no mount left" bash -c "! mountpoint -q '$M'"
scan_log "$R"
finish
