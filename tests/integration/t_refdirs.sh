#!/bin/bash
# t_refdirs.sh — branches/<name>, tags/<name>, log/<entry> and
# commits/<prefix> are folders to every tool, at the path with no trailing
# slash: find, du, tar, cp -r, rsync -a, os.walk and glob('**') see the
# version's files. A file has one inode wherever it is reached; folders get
# their own per place. Refs that move show the new version within a bounded
# wait, while a process whose cwd is in the old one keeps reading it. Views
# work under ref folders.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mountlib.sh"

R=$T/repo M=$T/mnt SRC=$T/src
EX=$LABELME/bbox_detection/data_annotated
mkdir -p "$SRC/images/a/deep" "$SRC/images/b" "$SRC/labels/a"
cp "$EX"/2011_000003.jpg "$EX"/2011_000006.jpg "$SRC/images/a/"
cp "$EX"/2011_000025.jpg "$SRC/images/a/deep/"
cp "$LABELME"/instance_segmentation/data_annotated/*.jpg "$SRC/images/b/"
cp "$EX"/*.json "$SRC/labels/a/"
printf 'version one\n' > "$SRC/notes.txt"
ln -s notes.txt "$SRC/readme"
printf '#!/bin/sh\n' > "$SRC/run.sh"; chmod +x "$SRC/run.sh"
export FOLIO_REPO=$R
folio init "$R" >/dev/null
folio add "$SRC" --as ds >/dev/null && folio commit -m v1 >/dev/null && folio tag v1
V1=$(folio log --json -n1 | json 'j[0]["id"]')
T1=$(folio log --json -n1 | json 'j[0]["time"]')
folio branch feature/x v1
# v2: one file more, one less, one changed
printf 'version two\n' > "$T/notes.txt"
folio add "$T/notes.txt" --as ds/notes.txt >/dev/null
folio add "$EX/2011_000025.jpg" --as ds/images/new.jpg >/dev/null
folio rm ds/images/a/2011_000006.jpg >/dev/null
folio commit -m v2 >/dev/null
V2=$(folio log --json -n1 | json 'j[0]["id"]')
check "export v1" folio export v1 "$T/exp1"
check "export v2" folio export main "$T/exp2"

check "mount" mount_repo "$R" "$M"
# copies of read-only folders are read-only: let the temp dir go
cleanup_hooks+=("find '$T' -xdev -type d -exec chmod u+w {} + 2>/dev/null")
LOG1=$(ls "$M/log" | grep -- "-${V1:0:12}\$")
check "a log entry for v1" test -n "$LOG1"

# What a tool sees under DIR: relative paths of files, links and folders.
tree_of() { (cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort); }
tree_of "$T/exp1" > "$T/want1"
tree_of "$T/exp2" > "$T/want2"
nfiles1=$(grep -c '^f ' "$T/want1")

for P in tags/v1 branches/feature/x "log/$LOG1" "commits/${V1:0:8}"; do
	check "$P is a folder, not a link" bash -c "test -d '$M/$P' && ! test -L '$M/$P'"
	check_eq "find $P (no trailing slash)" "$(find "$M/$P" -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort)" "$(cat "$T/want1")"
	check_eq "find $P -name '*.jpg'" "$(find "$M/$P" -name '*.jpg' | wc -l)" "$(grep -c '^f .*\.jpg$' "$T/want1")"
	d=$(du -s "$M/$P" | cut -f1)
	check "du -s $P is not zero" test "$d" -gt 0
	check_eq "du -s $P equals du of commits/<id>" "$d" "$(du -s "$M/commits/$V1" | cut -f1)"
	check_eq "file inode under $P equals the one under commits/<id>" \
		"$(stat -c %i "$M/$P/ds/images/a/2011_000003.jpg")" "$(stat -c %i "$M/commits/$V1/ds/images/a/2011_000003.jpg")"
	check "folder inodes under $P are its own" test "$(stat -c %i "$M/$P")" != "$(stat -c %i "$M/commits/$V1")" \
		-a "$(stat -c %i "$M/$P/ds/images")" != "$(stat -c %i "$M/commits/$V1/ds/images")"
	check_eq "mtime of $P is the commit time" "$(stat -c %Y "$M/$P")" "$T1"
done
check "tags/v1 and branches/feature/x have distinct folder inodes" \
	test "$(stat -c %i "$M/tags/v1/ds")" != "$(stat -c %i "$M/branches/feature/x/ds")"
check_eq "the same inode again after the others were visited" \
	"$(stat -c %i "$M/tags/v1/ds/images")" "$(stat -c %i "$M/tags/v1/ds/images")"

# tar, cp -r, rsync -a: a tree equal to `folio export v1`.
check_eq "tar -C MNT tags/v1 lists the files" \
	"$(tar -cf - -C "$M" tags/v1 | tar -tf - | grep -v '/$' | grep -c '\.jpg$')" "$(grep -c '^f .*\.jpg$' "$T/want1")"
check "tar of tags/v1 unpacks" bash -c "mkdir '$T/untar' && tar -cf - -C '$M' tags/v1 | tar -xf - -C '$T/untar'"
check "the unpacked tree equals the export" diff -r --no-dereference "$T/untar/tags/v1" "$T/exp1"
check "cp -r tags/v1" cp -r "$M/tags/v1" "$T/cp1"
check "the copy equals the export" diff -r --no-dereference "$T/cp1" "$T/exp1"
check "cp -r log/<entry>" cp -r "$M/log/$LOG1" "$T/cplog"
check "that copy equals the export" diff -r --no-dereference "$T/cplog" "$T/exp1"
check "rsync -a tags/v1" rsync -a "$M/tags/v1" "$T/rs"
check "the rsync'd tree equals the export" diff -r --no-dereference "$T/rs/v1" "$T/exp1"
check_eq "rsync -a keeps the exec bit" "$(stat -c %a "$T/rs/v1/ds/run.sh")" 555

# Python: os.walk and glob('**').
walk() {
	/usr/bin/python3 - "$1" <<'PY'
import glob, os, sys
top = sys.argv[1]
files = sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)
print(len(files), *files)
print(len(glob.glob('**/*.jpg', root_dir=top, recursive=True)))
PY
}
walk "$T/exp1" > "$T/walk.want"
check_eq "os.walk and glob('**') on tags/v1" "$(walk "$M/tags/v1")" "$(cat "$T/walk.want")"
check_eq "os.walk and glob('**') on branches/feature/x" "$(walk "$M/branches/feature/x")" "$(cat "$T/walk.want")"
check "walked something" test "$(head -c 2 "$T/walk.want")" != "0 "

# Link counts: 2 + subfolders, as find and fts expect.
check_eq "nlink of ds/images" "$(stat -c %h "$M/tags/v1/ds/images")" 4
check_eq "nlink of ds/images/a" "$(stat -c %h "$M/tags/v1/ds/images/a")" 3
check_eq "nlink of a leaf folder" "$(stat -c %h "$M/tags/v1/ds/images/a/deep")" 2
check_eq "nlink of the version root" "$(stat -c %h "$M/tags/v1")" 3
check_eq "nlink of tags/" "$(stat -c %h "$M/tags")" 3
check_eq "nlink of branches/ (feature, main)" "$(stat -c %h "$M/branches")" 4
check_eq "nlink of the mount root" "$(stat -c %h "$M")" 7
check "ls -l of branches/ shows folders" bash -c "ls -l '$M/branches' | grep -q '^d.* main\$'"
check "ls -lR of tags/" ls -lR "$M/tags"
check "ls -l of log/" ls -l "$M/log"
check "ls -l of commits/" ls -l "$M/commits"

# Versions are read-only, at the ref folder and under it.
for cmd in "touch $M/tags/v1/new" "mkdir $M/tags/v1/x" "rm $M/tags/v1/ds/notes.txt" \
	   "rmdir $M/tags/v1/ds/images/a/deep" "mv $M/tags/v1/ds $M/tags/v1/ds2" \
	   "rm -r $M/branches/main" "cp $SRC/run.sh $M/branches/main/ds/run.sh" \
	   "chmod 700 $M/tags/v1"; do
	check_exit 1 "refused: $cmd" bash -c "$cmd"
	check_err "Read-only file system"
done

# Views under ref folders: the same files, folders of their own.
check_eq "tags/v1/@where" "$(find "$M/tags/v1/@where/size=gt:0" -type f | wc -l)" \
	"$(grep -c '^f .*\.jpg$' "$T/want1")"
check_eq "a view's file is the version's inode" \
	"$(stat -c %i "$M/tags/v1/@where/size=gt:0/ds/images/a/2011_000003.jpg")" \
	"$(stat -c %i "$M/commits/$V1/ds/images/a/2011_000003.jpg")"
check "a view folder under tags/v1 has its own inode" test \
	"$(stat -c %i "$M/tags/v1/@where/size=gt:0")" != "$(stat -c %i "$M/commits/$V1/@where/size=gt:0")"
check "branches/main/@stats" test -s "$M/branches/main/@stats/summary.json"
check "@ under a log entry" bash -c "ls '$M/log/$LOG1/@' | grep -q '@where'"

# The same version through every path, in turns: no dentry fights (EIO).
for i in 1 2 3; do
	for P in "commits/$V1" tags/v1 branches/feature/x "log/$LOG1" "commits/${V1:0:8}" "commits/$V1/@where/size=gt:0"; do
		find "$M/$P" -mindepth 1 >/dev/null 2>"$T/find.err" || { fail "find $P round $i: $(head -c 300 "$T/find.err")"; continue; }
		ok
	done
done

# Moving refs: the new version shows within a bounded wait (polled).
eventually() { for _ in $(seq 1 100); do "$@" && return 0; sleep 0.1; done; return 1; }
same_tree() { [ "$(tree_of "$1")" = "$(cat "$2")" ]; }
check "tags/v1 before the move" same_tree "$M/tags/v1" "$T/want1"
check "folio tag -f v1 main" folio tag -f v1 main
check "tags/v1 shows v2" eventually same_tree "$M/tags/v1" "$T/want2"
check_eq "and reads v2's bytes" "$(cat "$M/tags/v1/ds/notes.txt")" "version two"
check "a new tag appears" folio tag v0 "$V1"
check "tags/v0 shows v1" eventually same_tree "$M/tags/v0" "$T/want1"
check "a deleted tag disappears" folio tag -d v0
check "tags/v0 is gone" eventually test ! -e "$M/tags/v0"
check "a moved nested branch" folio branch -f feature/x main
check "branches/feature/x shows v2" eventually same_tree "$M/branches/feature/x" "$T/want2"

# A process whose cwd is in branches/main keeps its version after a commit.
mkfifo "$T/go"
(
	cd "$M/branches/main/ds" || exit 1
	read -r _ < "$T/go"
	find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort > "$T/old.tree"
	cat notes.txt > "$T/old.notes"
) &
reader=$!
main_ino=$(stat -c %i "$M/branches/main")
cleanup_hooks+=("kill $reader 2>/dev/null")
printf 'version three\n' > "$T/notes.txt"
folio add "$T/notes.txt" --as ds/notes.txt >/dev/null
folio commit -m v3 >/dev/null
check "branches/main shows v3" eventually bash -c "[ \"\$(cat '$M/branches/main/ds/notes.txt')\" = 'version three' ]"
echo go > "$T/go"
wait $reader
check_eq "the old cwd still lists v2" "$(cat "$T/old.tree")" "$(sed -n 's|^\(.\) ds/|\1 |p' "$T/want2")"
check_eq "and reads v2's bytes" "$(cat "$T/old.notes")" "version two"
check "main's folder is a new inode" test "$(stat -c %i "$M/branches/main")" != "$main_ino"

scan_log "$R"
finish
