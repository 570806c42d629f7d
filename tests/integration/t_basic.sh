#!/bin/bash
# t_basic.sh — the versioning workflow end to end on real photos
# (labelme-examples): init, add, status, commit, log, show, diff, tag,
# branch, switch, ls, cat, export, and that stock git and git-lfs accept
# what folio writes.
. "$(dirname "$0")/lib.sh"

R=$T/repo
SRC=$T/src
mkdir -p "$SRC/images/sub" "$SRC/labels"
cp "$LABELME"/bbox_detection/data_annotated/*.jpg "$SRC/images/"
cp "$LABELME"/bbox_detection/data_annotated/*.json "$SRC/labels/"
cp "$LABELME"/instance_segmentation/data_annotated/*.jpg "$SRC/images/sub/"
printf '#!/bin/sh\necho hi\n' > "$SRC/prepare.sh"; chmod +x "$SRC/prepare.sh"
printf 'cat\ndog\n' > "$SRC/classes.txt"
ln -s images/sub "$SRC/latest"
nfiles=$(find "$SRC" -type f -o -type l | wc -l)

check "init" folio init "$R"
check_exit 1 "init twice refuses a non-empty folder" folio init "$R"
check_err "not empty"
check "init in a folder whose parents are missing" folio init "$T/new-home/datasets/pets"
check "and it is a repository" folio -R "$T/new-home/datasets/pets" status
touch "$T/a-file"
check_exit 3 "init below a file" folio init "$T/a-file/pets"
check_err "a-file"
export FOLIO_REPO=$R

check "status on an empty repo" folio status
check_out "no commits yet"
check "add a folder with --as" folio add "$SRC" --as ds
check "status --json" folio status --json
check_eq "status lists every file as added" "$(json 'j["diff"]["added"]' < "$T/.out")" "$nfiles"
check_eq "status branch" "$(json 'j["branch"]' < "$T/.out")" "main"

GIT_AUTHOR_NAME="Ada Tester" GIT_AUTHOR_EMAIL=ada@example.org check "first commit" folio commit -m "first version"
check_out "^\[main [0-9a-f]{12}\] first version"
check_exit 1 "commit with nothing staged" folio commit -m again
check_err "nothing to commit"
check_exit 2 "commit without a message" folio commit

# Kinds: images are lfs pointers, text files plain blobs, links kept.
check "ls -l -r" folio ls HEAD -r -l
check_out "lfs .* ds/images/2011_000003.jpg$"
check_out "blob .* ds/classes.txt$"
check_out "100755 blob .* ds/prepare.sh$"
check_out "120000 link .* ds/latest$"
check "ls a folder" folio ls HEAD ds
check_out "^images/$"
check_out "^classes.txt$"
check "ls --json" folio ls main ds/images --json
check_eq "ls --json lists the folder" "$(json '[e["name"] for e in j if e["type"]=="dir"]' < "$T/.out")" "['sub']"
check_exit 3 "ls of a missing folder" folio ls HEAD nope

# cat returns the exact bytes.
for f in images/2011_000003.jpg labels/2011_000003.json prepare.sh images/sub/2011_000003.jpg; do
	folio cat "HEAD:ds/$f" > "$T/cat.out"
	check "cat ds/$f equals the source" cmp "$T/cat.out" "$SRC/$f"
done
check_exit 3 "cat a missing file" folio cat HEAD:ds/missing.jpg
check_err "no such file"

# Stock git reads the history; git-lfs accepts the pointers.
check "git log --stat" git --git-dir="$R/git" log --stat
check_out "ds/images/2011_000003.jpg"
check_out "Ada Tester"
git --git-dir="$R/git" show HEAD:ds/images/2011_000003.jpg > "$T/pointer"
check "pointer text" grep -q '^version https://git-lfs.github.com/spec/v1$' "$T/pointer"
check "git lfs pointer --check" git lfs pointer --check --file "$T/pointer"
check "plain blob is the text itself" cmp <(git --git-dir="$R/git" show HEAD:ds/classes.txt) "$SRC/classes.txt"

# Second version: modify, remove, rename, add.
check "tag v1" folio tag v1
check "annotated tag" folio tag v1-annotated -m "the first release"
cp "$LABELME"/bbox_detection/data_annotated/2011_000006.jpg "$T/new.jpg"
check "add replaces a file" folio add "$T/new.jpg" --as ds/images/2011_000003.jpg
check "rm" folio rm ds/labels/2011_000025.json
check_exit 2 "rm a folder without -r" folio rm ds/labels
check "mv a file" folio mv ds/classes.txt ds/meta/classes.txt
check "mv a folder" folio mv ds/images/sub ds/more
check "add a new file" folio add "$SRC/labels/2011_000006.json" --as ds/extra.json
check "diff v1 against the stage" folio diff v1 --json
check_eq "modified" "$(json '[c["path"] for c in j["changes"] if c["status"]=="modified"]' < "$T/.out")" "['ds/images/2011_000003.jpg']"
check_eq "removed" "$(json '[c["path"] for c in j["changes"] if c["status"]=="removed"]' < "$T/.out")" "['ds/labels/2011_000025.json']"
check_eq "renamed count" "$(json 'j["renamed"]' < "$T/.out")" "$(( $(ls "$SRC/images/sub" | wc -l) + 1 ))"
check_eq "added" "$(json '[c["path"] for c in j["changes"] if c["status"]=="added"]' < "$T/.out")" "['ds/extra.json']"
check "commit 2" folio commit -m "second version"

# VERSION forms: branch, tag, full id, abbreviated id, HEAD~N.
full=$(folio log --json -n 1 | json 'j[0]["id"]')
first=$(folio log --json | json 'j[1]["id"]')
check_eq "log has two commits" "$(folio log --json | json 'len(j)')" "2"
check_eq "HEAD~1 is the first" "$(folio show HEAD~1 --json | json 'j["id"]')" "$first"
check_eq "tag v1 is the first" "$(folio show v1 --json | json 'j["id"]')" "$first"
check_eq "annotated tag peels" "$(folio show v1-annotated --json | json 'j["id"]')" "$first"
check_eq "abbreviated id" "$(folio show "${first:0:7}" --json | json 'j["id"]')" "$first"
check_eq "full id" "$(folio show "$full" --json | json 'j["id"]')" "$full"
check_exit 3 "unknown version" folio show no-such-version
check_err "no-such-version"
check "log --oneline" folio log --oneline
check_out "second version"
check "diff v1 main" folio diff v1 main
check_out "^R ds/images/sub/.* -> ds/more/"
check_out "^M ds/images/2011_000003.jpg"
check "show lists the changes" folio show
check_out "^D ds/labels/2011_000025.json"

# The old version is unchanged.
folio cat v1:ds/images/2011_000003.jpg > "$T/old.jpg"
check "v1 keeps the old bytes" cmp "$T/old.jpg" "$SRC/images/2011_000003.jpg"

# Branches and switch.
check "branch create" folio branch experiment v1
check "branch list" folio branch --json
check_eq "two branches, main current" "$(json '[(b["name"], b["head"]) for b in j]' < "$T/.out")" "[('experiment', False), ('main', True)]"
check "switch" folio switch experiment
check_eq "stage follows the branch" "$(folio ls : ds/images -r | wc -l)" "$(folio ls v1 ds/images -r | wc -l)"
check "commit on the branch" folio add "$T/new.jpg" --as ds/only-on-branch.jpg
check "commit on the branch" folio commit -m "branch work"
check "main does not have it" bash -c "! $FOLIO ls main -r | grep -q only-on-branch"
folio add "$T/new.jpg" --as ds/uncommitted.jpg
check_exit 7 "switch refuses to lose staged changes" folio switch main
check_err "would be lost"
check "switch --discard" folio switch main --discard
check_exit 2 "delete current branch" folio branch -d main
check "delete other branch" folio branch -d experiment
check_exit 2 "bad branch name" folio branch "bad..name"
check_exit 1 "existing tag without -f" folio tag v1
check "tag -f moves" folio tag -f v1 HEAD
check "tag -d" folio tag -d v1

# Export materialises a version byte for byte.
check "export" folio export v1-annotated "$T/out"
check "export equals the source" diff -r --no-dereference "$T/out/ds" "$SRC"
check "exec bit kept" test -x "$T/out/ds/prepare.sh"
check "link kept" test "$(readlink "$T/out/ds/latest")" = images/sub
check_exit 1 "export into a non-empty folder" folio export HEAD "$T/out"
check "export --copy is writable" folio export HEAD "$T/out2" --copy
check "copy is writable" test -w "$T/out2/ds/extra.json"
check "export into a folder whose parents are missing" folio export v1-annotated "$T/new/deeper/out"
check "all of it" diff -r --no-dereference "$T/new/deeper/out/ds" "$SRC"
check_exit 3 "export below a file" folio export HEAD "$T/out/ds/classes.txt/sub"
check_err "classes.txt"

# Repository discovery: cwd and parents, -R, FOLIO_REPO.
unset FOLIO_REPO
check "discovered from a subfolder" bash -c "cd '$R/objects' && $FOLIO log -n 1 --oneline"
check "-R" folio -R "$R" log -n 1
# The global -R / --repo REPO / --repo=REPO also after the command name.
check "-R after the command" folio log -n 1 -R "$R"
check "--repo after the command" folio ls HEAD ds --repo "$R"
check "--repo= after the command" folio status --repo="$R"
check "-RREPO after the command" folio diff v1-annotated HEAD "-R$R"
check "-R between a command's own options" folio log --oneline -R "$R" -n 1
check_exit 3 "-R after the command is used" folio status -R "$T/no-repo"
check_err "no-repo"
check_exit 2 "-R after the command needs a value" folio log -R
check_err "needs a value"
check "an option's value that looks like -R stays its value" folio -R "$R" tag noted -m -R
check_eq "the tag message" "$(git --git-dir="$R/git" tag -l --format='%(contents:subject)' noted)" "-R"
check_exit 3 "after --, -R is an argument" folio -R "$R" ls HEAD -- -R
check_exit 3 "no repository" bash -c "cd '$T' && $FOLIO status"
check_err "no folio repository"

check "fsck clean" folio -R "$R" fsck
check_out "no problems"

# Progress bars: drawn when stdout is a terminal, silent otherwise.
if command -v script >/dev/null; then
	mkdir -p "$T/pb"; for i in $(seq 1 50); do echo "$i" > "$T/pb/$i.txt"; done
	check "add on a terminal" env -u FOLIO_NO_PROGRESS script -qec "$FOLIO -R $R add $T/pb" "$T/tty.log"
	check "the bar was drawn" grep -q "add .*100%.*50/50 files" "$T/tty.log"
	check "fsck on a terminal" env -u FOLIO_NO_PROGRESS script -qec "$FOLIO -R $R fsck" "$T/tty.log"
	check "fsck bar" grep -q "fsck .*100%" "$T/tty.log"
	check "export on a terminal" env -u FOLIO_NO_PROGRESS script -qec "$FOLIO -R $R export : $T/pbout" "$T/tty.log"
	check "export bar" grep -q "export .*100%" "$T/tty.log"
	env -u FOLIO_NO_PROGRESS "$FOLIO" -R "$R" add "$T/pb" --as pb2 > "$T/plain.out" 2> "$T/plain.err"
	check_eq "silent when not a terminal" "$(cat "$T/plain.out" "$T/plain.err")" ""
fi
finish
