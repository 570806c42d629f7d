#!/bin/bash
# head.sh — edits through the mount's writable HEAD/ of a large dataset
# (make bench-head).
#
# A version of BENCH_HEAD_BASE (100,000) label files of 200-2,000 bytes in
# one folder, committed and mounted. The same edits are made to a plain
# copy of the folder on the work dir's file system (ext4) and through
# MNT/HEAD/, in alternating order over BENCH_HEAD_REPS (3) rounds, each
# round with fresh names:
#   new        cp -r of a folder of BENCH_HEAD_N (1,000) new files of 1-2 KB
#   overwrite  BENCH_HEAD_N existing files rewritten in place by the shell
#              (open, truncate, write, close: the label-fixing loop)
#   fsync      BENCH_HEAD_N new files written by dd conv=fsync, one each
# Reported: files/s (median of the rounds) and the ratio to ext4. HEAD/
# saves every close durably (the object is fsynced, then the stage), which
# ext4's cp and shell writes do not do: the fsync line compares like with
# like. Then `folio status` and `folio commit` of all the edits, and the
# stage's size on disk (index and journal).
# Run it alone: the machine has 2 cores and times are wall-clock.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/bench/common.sh
. "$ROOT/tools/bench/common.sh"
FOLIO=${FOLIO:-$ROOT/build/release/bin/folio}
GENFILES=${GENFILES:-$ROOT/build/release/bin/genfiles}
BASE=${BENCH_HEAD_BASE:-100000}
N=${BENCH_HEAD_N:-1000}
REPS=${BENCH_HEAD_REPS:-3}
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.org FOLIO_NO_PROGRESS=1
for v in "$BASE" "$N" "$REPS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_HEAD_BASE, BENCH_HEAD_N and BENCH_HEAD_REPS must be positive integers"
done
[ "$N" -le "$BASE" ] || die "BENCH_HEAD_N ($N) must not exceed BENCH_HEAD_BASE ($BASE)"
[ -x "$FOLIO" ] && [ -x "$GENFILES" ] || die "build first (make), or set FOLIO and GENFILES"

bench_cleanup_hook() {
	[ -n "${WORK:-}" ] && mountpoint -q "$WORK/mnt" 2>/dev/null && "$FOLIO" umount "$WORK/mnt" || true
}
bench_workdir folio-bench-head

echo "folio HEAD/ edit benchmark: a folder of $BASE files, $N files per edit, $REPS rounds"
R=$WORK/repo M=$WORK/mnt NAT=$WORK/native
mkdir -p "$WORK/src/labels" "$M"
"$GENFILES" "$WORK/src/labels" "$BASE" --min 200 --max 2000 --text --suffix .txt >/dev/null
t0=$(now_ns)
"$FOLIO" init "$R" >/dev/null
export FOLIO_REPO=$R
"$FOLIO" add "$WORK/src" --as ds >/dev/null
"$FOLIO" commit -m base >/dev/null
"$FOLIO" tag base
echo "dataset: $BASE files imported and committed in $(fmt 1 "$(calc "($(now_ns) - $t0) / 1e9")") s (untimed)"
mkdir -p "$NAT/ds" && cp -r "$WORK/src/labels" "$NAT/ds/"
"$FOLIO" mount "$R" "$M"
H=$M/HEAD

# the edits' inputs: fresh names every round
for r in $(seq 1 "$REPS"); do
	mkdir -p "$WORK/new$r"
	"$GENFILES" "$WORK/new$r" "$N" --min 1000 --max 2000 --text --seed "$((r + 10))" --prefix "r${r}_" --suffix .txt >/dev/null
done
mapfile -t OLD < <(cd "$WORK/src/labels" && ls | head -n "$N")

secs() { calc "($2 - $1) / 1e9"; }
declare -A S=()   # S[system.test.round] = seconds

edit_new() { cp -r "$WORK/new$2" "$1/ds/new$2"; }
edit_overwrite() {
	local f
	for f in "${OLD[@]}"; do printf '0 0.5 0.5 0.1 0.1 round %s\n' "$2" > "$1/ds/labels/$f"; done
}
edit_fsync() {
	local f
	mkdir -p "$1/ds/sync$2"
	for f in "$WORK/new$2"/*; do dd if="$f" of="$1/ds/sync$2/${f##*/}" conv=fsync status=none; done
}

# the first save after a commit writes the whole stage (once): not timed
cp "$WORK/new1/$(ls "$WORK/new1" | head -n 1)" "$H/ds/warmup.txt"
cp "$WORK/new1/$(ls "$WORK/new1" | head -n 1)" "$NAT/ds/warmup.txt"

for r in $(seq 1 "$REPS"); do
	for t in new overwrite fsync; do
		order="native head"
		[ $(((r + ${#t}) % 2)) = 0 ] || order="head native"
		for sys in $order; do
			dst=$NAT
			[ "$sys" = head ] && dst=$H
			a=$(now_ns)
			"edit_$t" "$dst" "$r"
			b=$(now_ns)
			S[$sys.$t.$r]=$(secs "$a" "$b")
			echo "  round $r  $t  $sys  $(fmt 3 "${S[$sys.$t.$r]}") s"
		done
	done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ROWS=()
echo
printf '%-10s %-8s %10s %10s  %s\n' edit system files/s "s (median)" "vs ext4"
for t in new overwrite fsync; do
	for sys in native head; do
		vals=()
		for r in $(seq 1 "$REPS"); do vals+=("${S[$sys.$t.$r]}"); done
		m=$(median "${vals[@]}")
		fps=$(calc "$N / $m")
		[ "$sys" = native ] && nat_fps=$fps
		ratio=$(fmt 2 "$(calc "$fps / $nat_fps")")
		name="ext4"
		[ "$sys" = head ] && name="folio HEAD/"
		printf '%-10s %-12s %10s %10s  %sx\n' "$t" "$name" "$(fmt 0 "$fps")" "$(fmt 3 "$m")" "$ratio"
		ROWS+=("$t|$name|$(fmt 0 "$fps")|$(fmt 3 "$m")|${ratio}x")
	done
done

a=$(now_ns)
"$FOLIO" status > "$WORK/log/status.txt"
t_status=$(secs "$a" "$(now_ns)")
changes=$(wc -l < "$WORK/log/status.txt")
idx=$(stat -c %s "$R/stage/index")
jrn=$(stat -c %s "$R/stage/journal" 2>/dev/null || echo 0)
a=$(now_ns)
"$FOLIO" commit -m edits >/dev/null
t_commit=$(secs "$a" "$(now_ns)")
"$FOLIO" umount "$M"
# every edit made through HEAD/ is in the commit
want=$((REPS * N * 2 + 1))
got=$("$FOLIO" diff base HEAD | grep -c '^A' || true)
echo
echo "stage on disk before the commit: index $(fmt 1 "$(calc "$idx / 1e6")") MB, journal $(fmt 1 "$(calc "$jrn / 1e6")") MB"
echo "folio status: $(fmt 3 "$t_status") s for $changes changes; folio commit: $(fmt 2 "$t_commit") s"
echo "content check: the commit added $got files (expected $want)"
[ "$got" = "$want" ] || die "the commit has $got added files, expected $want"

echo
echo "----- 8< ----- markdown for docs/benchmarks.md -----"
echo "## Edits through HEAD/ of a folder of $BASE files"
echo
echo "Command: \`make bench-head\`"
echo
bench_env_md
echo
echo "$N files per edit, median of $REPS rounds in alternating order; ext4 is a plain copy"
echo "of the folder. HEAD/ saves every close durably; cp and shell writes on ext4 do not,"
echo "the fsync row (dd conv=fsync per file on both) compares like with like."
echo
md_table "edit|system|files/s|seconds|vs ext4" "${ROWS[@]}"
echo
echo "- stage before the commit: index $(fmt 1 "$(calc "$idx / 1e6")") MB, journal $(fmt 1 "$(calc "$jrn / 1e6")") MB"
echo "- \`folio status\`: $(fmt 3 "$t_status") s for $changes changes; \`folio commit\`: $(fmt 2 "$t_commit") s"
echo "----- >8 -----"
