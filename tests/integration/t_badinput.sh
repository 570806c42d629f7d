#!/bin/bash
# t_badinput.sh — every path and argument a user can type, done wrong:
# clear errors that name the file, the right exit code, and nothing already
# staged or committed is lost.
. "$(dirname "$0")/lib.sh"

R=$T/repo
folio init "$R" >/dev/null
export FOLIO_REPO=$R
mkdir -p "$T/ok"
cp "$LABELME"/bbox_detection/data_annotated/2011_000003.jpg "$T/ok/a.jpg"
folio add "$T/ok" && folio commit -m base >/dev/null
stage_before=$(folio status --json)

same_stage() { check_eq "stage unchanged after: $1" "$(folio status --json)" "$stage_before"; }

# Destination paths that leave the dataset or are not portable.
check_exit 2 "--as absolute" folio add "$T/ok/a.jpg" --as /etc/a.jpg
check_err "absolute path"; same_stage "absolute --as"
check_exit 2 "--as with .." folio add "$T/ok/a.jpg" --as ../a.jpg
check_err "'\.\.'"; same_stage "--as .."
check_exit 2 "--as with . component" folio add "$T/ok/a.jpg" --as x/./a.jpg
check_exit 2 "--as .git" folio add "$T/ok/a.jpg" --as .git/a.jpg

mkdir -p "$T/bad1"; cp "$T/ok/a.jpg" "$T/bad1/good.jpg"
cp "$T/ok/a.jpg" "$T/bad1/$(printf 'caf\xe9.jpg')"
check_exit 2 "non-UTF-8 file name" folio add "$T/bad1"
check_err "not valid UTF-8"; check_err "bad1"; same_stage "non-UTF-8 name"

mkdir -p "$T/bad2"; cp "$T/ok/a.jpg" "$T/bad2/$(printf 'new\nline.jpg')"
check_exit 2 "control character in a name" folio add "$T/bad2"
check_err "control character"; same_stage "control character"

check_exit 3 "missing source" folio add "$T/does-not-exist"
check_err "does-not-exist"

mkfifo "$T/fifo"
check_exit 2 "a FIFO" folio add "$T/fifo"
check_err "not a regular file"

# Unreadable file: run as an unprivileged user (root reads anything).
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	U=$T/user; mkdir -p "$U/src"
	cp "$T/ok/a.jpg" "$U/src/readable.jpg"
	cp "$T/ok/a.jpg" "$U/src/secret.jpg"; chmod 000 "$U/src/secret.jpg"
	chown -R nobody "$U"; chmod 755 "$T"
	asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- env HOME="$U" "$@"; }
	check "init as nobody" asnobody "$FOLIO" init "$U/repo"
	check_exit 8 "unreadable file" asnobody env FOLIO_REPO="$U/repo" "$FOLIO" add "$U/src"
	check_err "secret.jpg"; check_err "[Pp]ermission denied"
	check_eq "nothing staged" "$(asnobody env FOLIO_REPO="$U/repo" "$FOLIO" ls : -r | wc -l)" "0"
	check_exit 1 "--keep-going skips it and says so" asnobody env FOLIO_REPO="$U/repo" "$FOLIO" add -k "$U/src"
	check_err "skipped: .*secret.jpg"
	check_eq "the readable file is staged" "$(asnobody env FOLIO_REPO="$U/repo" "$FOLIO" ls : -r)" "src/readable.jpg"
else
	echo "skip: setpriv or user nobody missing"
fi

# A file and a folder at one path.
check_exit 2 "file/folder conflict" folio add "$T/ok/a.jpg" --as ok/a.jpg/inner.jpg
check_err "both a file and a folder"; same_stage "conflict"

# Bad versions and paths for the read commands.
check_exit 3 "unknown version" folio ls nope
check_err "nope"
check_exit 2 "cat without a colon" folio cat HEAD
check_exit 3 "cat a missing path" folio cat HEAD:ok/zzz.jpg
check_exit 3 "diff with a bad version" folio diff HEAD nope
check_exit 3 "log from a bad version" folio log nope
check_exit 2 "unknown option" folio log --frobnicate
check_err "unknown option"
check_exit 2 "option missing its value" folio log -n
check_exit 2 "bad -n" folio log -n many
check_exit 2 "unknown command" folio frobnicate
check_exit 2 "bad tag name" folio tag "a b"
check_exit 2 "bad branch name" folio branch "x~1"
check_exit 3 "rm a missing path" folio rm not/there
check_exit 3 "mv a missing path" folio mv not/there elsewhere
check_exit 2 "mv into itself" folio mv ok ok/sub
check_exit 2 "mv to .." folio mv ok/a.jpg ../a.jpg
check_exit 2 "bad --jobs" folio add -j 0 "$T/ok"
check_exit 3 "-R to a folder that is no repository" folio -R "$T/ok" status
check_err "not a folio repository"

# A damaged stage file is reported with file and line, not a crash.
cp "$R/stage/index" "$T/index.bak"
echo "garbage line" >> "$R/stage/index"
check_exit 5 "corrupt stage" folio status
check_err "stage/index:[0-9]+"
cp "$T/index.bak" "$R/stage/index"

# Every command answers --help.
for c in init add rm mv status commit log show diff ls cat export tag branch switch fsck gc; do
	check "$c --help" folio "$c" --help
	check_out "^usage: folio"
done
check "folio --help" folio --help
check_out "Exit codes"
check "fsck still clean" folio fsck
finish
