#!/usr/bin/env bash
# import.sh — import benchmark: folio vs git + git-lfs vs git-annex.
#
#   make bench-import                 (builds folio and genimages first)
#   FOLIO=... GENIMAGES=... tools/bench/import.sh
#
# Generates BENCH_N photo-like JPEGs (~100 KB each), then, side by side on
# identical warm copies of them:
#   folio:     folio add DIR + folio commit
#   git-lfs:   git add DIR + git commit, with git lfs track '*.jpg'
#   git-annex: git annex add DIR + git commit (default config; also -J2)
# and prints files/s, MB/s and peak RSS per tool and the ratio folio/peer.
# Then it replaces BENCH_CHANGE_PCT % of the images with new content (same
# names), adds + commits again with each tool, and prints how much each
# store grew. Ends with PASS/FAIL per criterion and a markdown block for
# docs/benchmarks.md. Exits 0 even if a criterion fails (it is a report);
# exits non-zero if any command fails.
#
# Environment:
#   BENCH_N=5000          number of images
#   BENCH_CHANGE_PCT=5    percentage of images replaced for the 2nd version
#   BENCH_SIZE_KB=100     approximate JPEG size
#   BENCH_ANNEX_J2=1      also run git annex add -J2 (0 to skip)
#   BENCH_REPS=3          version-1 imports per tool (fresh repos each time);
#                         the report uses each tool's median run
#   BENCH_DIR=/tmp        where the work dir is made (needs ~5x the data)
#   BENCH_KEEP=1          keep the work dir
#   FOLIO, GENIMAGES      binaries (default: build/release/bin/...)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/common.sh
. "$HERE/common.sh"

FOLIO=${FOLIO:-$(dirname "$0")/../../build/release/bin/folio}
GENIMAGES=${GENIMAGES:-$(dirname "$0")/../../build/release/bin/genimages}
N=${BENCH_N:-5000}
PCT=${BENCH_CHANGE_PCT:-5}
SIZE_KB=${BENCH_SIZE_KB:-100}
ANNEX_J2=${BENCH_ANNEX_J2:-1}
REPS=${BENCH_REPS:-3}

# Criteria (from the issue).
NEED_ANNEX=3
NEED_LFS=1.5
NEED_GROWTH=6

# ---- checks --------------------------------------------------------------

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
# check_uint NAME VALUE MIN MAX
check_uint() {
	if ! is_uint "$2" || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		die "$1 must be an integer in $3..$4 (got '$2')"
	fi
}
check_uint BENCH_N "$N" 1 99999
check_uint BENCH_CHANGE_PCT "$PCT" 1 100
check_uint BENCH_SIZE_KB "$SIZE_KB" 1 100000
check_uint BENCH_REPS "$REPS" 1 100

[ -x "$FOLIO" ] || die "no folio binary at $FOLIO (run make, or set FOLIO)"
[ -x "$GENIMAGES" ] || die "no genimages binary at $GENIMAGES (make build/release/bin/genimages, or set GENIMAGES)"
FOLIO=$(cd "$(dirname "$FOLIO")" && pwd)/$(basename "$FOLIO")
GENIMAGES=$(cd "$(dirname "$GENIMAGES")" && pwd)/$(basename "$GENIMAGES")
for t in git git-lfs git-annex "$BENCH_TIME"; do
	command -v "$t" >/dev/null || die "$t not found (tools/deps.sh --bench installs it)"
done
"$BENCH_TIME" -f '%M' true 2>&1 >/dev/null | grep -qE '^[0-9]+$' ||
	die "$BENCH_TIME is not GNU time (tools/deps.sh --bench installs package 'time')"

bench_workdir folio-bench-import

# The peers run with a private, empty global git config and fixed
# identities, so nothing from ~/.gitconfig changes what they do.
: >"$WORK/gitconfig"
export GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export LC_ALL=C

echo "folio import benchmark: $N images of ~$SIZE_KB KB, then $PCT% replaced"
echo "work dir: $WORK"
echo

# ---- images --------------------------------------------------------------

NCH=$(((N * PCT + 50) / 100))
[ "$NCH" -ge 1 ] || NCH=1
STRIDE=$((N / NCH))

t0=$(now_ns)
"$GENIMAGES" "$WORK/src/images" "$N" --size-kb "$SIZE_KB" --seed 1 2>&1
# New content for every STRIDE-th image (same names): the second version.
"$GENIMAGES" "$WORK/change/images" "$NCH" --size-kb "$SIZE_KB" --seed 2 --stride "$STRIDE" 2>&1
t1=$(now_ns)
echo "generated images in $(fmt 1 "$(calc "($t1 - $t0) / 1e9")") s (not part of the results)"

files_bytes() {
	find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }'
}
BYTES=$(files_bytes "$WORK/src/images")
CH_BYTES=$(files_bytes "$WORK/change/images")
NFILES=$(find "$WORK/src/images" -type f | wc -l)
[ "$NFILES" -eq "$N" ] || die "genimages wrote $NFILES files, expected $N"
MB=$(calc "$BYTES / 1e6")

# ---- one identical copy per tool and run (untimed) --------------------------
#
# git-lfs and git-annex need the files inside their work tree; folio copies
# from anywhere, so its copy sits next to (not inside) its repository. Each
# tool gets its own `cp -r` of the same folder, so none reads files another
# tool has touched (annex even replaces its files with symlinks).

TOOLS=(folio lfs annex)
[ "$ANNEX_J2" = 1 ] && TOOLS+=(annexj2)
NT=${#TOOLS[@]}
declare -A NAME=([folio]=folio [lfs]=git-lfs [annex]=git-annex [annexj2]="git-annex -J2")
declare -A REPO DATA STORE

setup_git() { # DIR
	git init -q "$1"
	git -C "$1" config user.name bench
	git -C "$1" config user.email bench@example.invalid
	# No automatic gc/repack inside the timed commits (it would otherwise
	# run detached and bleed into the next tool's measurement). This only
	# ever helps the peers.
	git -C "$1" config gc.auto 0
}

# prepare TOOL BASE: a fresh repository and copy of the images under BASE.
prepare() {
	local t=$1 b=$2
	case $t in
	folio)
		REPO[$t]=$b/folio/repo
		DATA[$t]=$b/folio/images
		STORE[$t]=${REPO[$t]}
		mkdir -p "$b/folio"
		"$FOLIO" init "${REPO[$t]}" >"$WORK/log/folio_init.log" 2>&1 ||
			die "folio init failed: $(cat "$WORK/log/folio_init.log")"
		;;
	lfs)
		REPO[$t]=$b/lfs
		DATA[$t]=$b/lfs/images
		STORE[$t]=$b/lfs/.git
		setup_git "${REPO[$t]}"
		(
			cd "${REPO[$t]}"
			git lfs install --local >/dev/null
			git lfs track '*.jpg' >/dev/null
			git add .gitattributes
			git commit -q -m 'track *.jpg with git-lfs'
		)
		;;
	annex | annexj2)
		REPO[$t]=$b/$t
		DATA[$t]=$b/$t/images
		STORE[$t]=$b/$t/.git
		setup_git "${REPO[$t]}"
		git -C "${REPO[$t]}" annex init -q bench >/dev/null
		;;
	esac
	cp -r "$WORK/src/images" "${DATA[$t]}"
}

# run_tool TOOL TAG: add + commit, timed separately (keys TOOL_add/commit/total TAG).
run_tool() {
	local t=$1 v=$2 r=${REPO[$1]} d=${DATA[$1]}
	local msg="v${v%%r*}"
	sync # nobody's dirty pages get written back during somebody else's run
	bench_warm "$d"
	case $t in
	folio)
		bench_run "${t}_add$v" "$FOLIO" -R "$r" add "$d"
		bench_run "${t}_commit$v" "$FOLIO" -R "$r" commit -m "$msg"
		;;
	lfs)
		bench_run "${t}_add$v" git -C "$r" add images
		bench_run "${t}_commit$v" git -C "$r" commit -q -m "$msg"
		;;
	annex)
		bench_run "${t}_add$v" git -C "$r" annex add --quiet images
		bench_run "${t}_commit$v" git -C "$r" commit -q -m "$msg"
		;;
	annexj2)
		bench_run "${t}_add$v" git -C "$r" annex add --quiet -J2 images
		bench_run "${t}_commit$v" git -C "$r" commit -q -m "$msg"
		;;
	esac
	T[${t}_total$v]=$(calc "${T[${t}_add$v]} + ${T[${t}_commit$v]}")
	C[${t}_total$v]=$(calc "${C[${t}_add$v]} + ${C[${t}_commit$v]}")
	local ma=${M[${t}_add$v]} mc=${M[${t}_commit$v]}
	M[${t}_total$v]=$((ma > mc ? ma : mc))
}

# Sanity: every tool really stored N files, the peers through lfs/annex.
count_v1() {
	local t=$1 r=${REPO[$1]}
	case $t in
	folio) "$FOLIO" -R "$r" ls HEAD images -r | grep -c '\.jpg$' ;;
	lfs) git -C "$r" lfs ls-files | grep -c '\.jpg$' ;;
	annex | annexj2) git -C "$r" annex find --include='*' images | grep -c '\.jpg$' ;;
	esac
}

# ---- version 1: import everything, BENCH_REPS times -------------------------
#
# Each run uses fresh repositories and copies; the tools take turns in a
# rotating order (run 1: folio first, run 2: git-lfs first, ...) so that a
# slow spell of a noisy machine does not always hit the same tool. The
# report uses each tool's median run (by add + commit time).

declare -A SIZE0 SIZE1 SIZE2 SPREAD
for ((rep = 1; rep <= REPS; rep++)); do
	base=$WORK/run$rep
	for t in "${TOOLS[@]}"; do
		prepare "$t" "$base"
	done
	order=()
	for ((i = 0; i < NT; i++)); do
		t=${TOOLS[$(((i + rep - 1) % NT))]}
		order+=("${NAME[$t]}")
		SIZE0[$t]=$(bench_du "${STORE[$t]}")
		run_tool "$t" "1r$rep"
		SIZE1[$t]=$(bench_du "${STORE[$t]}")
	done
	for t in "${TOOLS[@]}"; do
		c=$(count_v1 "$t" || true)
		[ "$c" -eq "$N" ] || die "${NAME[$t]}: version 1 holds $c images, expected $N"
	done
	line="run $rep/$REPS (order:$(printf ' %s,' "${order[@]}")"
	line="${line%,}):"
	for t in "${TOOLS[@]}"; do
		line="$line ${NAME[$t]} $(fmt 2 "${T[${t}_total1r$rep]}") s;"
	done
	echo "${line%;}"
	if [ "$rep" -lt "$REPS" ]; then
		chmod -R u+w "$base"
		rm -rf "$base"
	fi
done

# Median run per tool -> the unsuffixed keys (..._add1, ..._commit1, ...).
for t in "${TOOLS[@]}"; do
	med=$(for ((rep = 1; rep <= REPS; rep++)); do
		echo "${T[${t}_total1r$rep]} $rep"
	done | sort -g | awk -v n="$REPS" 'NR == int((n + 1) / 2) { print $2 }')
	for k in add commit total; do
		T[${t}_${k}1]=${T[${t}_${k}1r$med]}
		M[${t}_${k}1]=${M[${t}_${k}1r$med]}
		C[${t}_${k}1]=${C[${t}_${k}1r$med]}
	done
	SPREAD[$t]=$(for ((rep = 1; rep <= REPS; rep++)); do
		echo "${T[${t}_total1r$rep]}"
	done | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
done

# ---- version 2: replace PCT % of the images -------------------------------

for t in "${TOOLS[@]}"; do
	# --remove-destination: annex's files are now symlinks into its
	# read-only object store; replace the link, never write through it.
	find "$WORK/change/images" -type f -exec cp --remove-destination -t "${DATA[$t]}" {} +
done
first=$(find "$WORK/change/images" -type f | sort | head -n 1)
cmp -s "$first" "$WORK/src/images/$(basename "$first")" &&
	die "changed image $first is identical to the original"
sync

for t in "${TOOLS[@]}"; do
	run_tool "$t" 2
	SIZE2[$t]=$(bench_du "${STORE[$t]}")
done

# ---- report ---------------------------------------------------------------

mib() { fmt 1 "$(calc "$1 / 1024")"; }
mb() { fmt 1 "$(calc "$1 / 1e6")"; }

# Rows are kept so the markdown block can repeat them.
ROWS1=() ROWS2=() ROWSG=()
declare -A FPS1

for t in "${TOOLS[@]}"; do
	FPS1[$t]=$(calc "$N / ${T[${t}_total1]}")
done
for t in "${TOOLS[@]}"; do
	if [ "$t" = folio ]; then
		ratio="-"
	else
		ratio="$(fmt 2 "$(calc "${FPS1[folio]} / ${FPS1[$t]}")")x"
	fi
	ROWS1+=("${NAME[$t]}|$N|$(fmt 2 "${T[${t}_add1]}")|$(fmt 2 "${T[${t}_commit1]}")|$(fmt 2 "${T[${t}_total1]}")|$(fmt 2 "${C[${t}_total1]}")|$(fmt 0 "${FPS1[$t]}")|$(fmt 1 "$(calc "$MB / ${T[${t}_total1]}")")|$(mib "${M[${t}_add1]}")|$(mib "${M[${t}_commit1]}")|${SPREAD[$t]}|$ratio")
	ROWS2+=("${NAME[$t]}|$NCH|$(fmt 2 "${T[${t}_add2]}")|$(fmt 2 "${T[${t}_commit2]}")|$(fmt 2 "${T[${t}_total2]}")|$(fmt 0 "$(calc "$NCH / ${T[${t}_total2]}")")|$(mib "${M[${t}_total2]}")")
	grow=$((SIZE2[$t] - SIZE1[$t]))
	case $t in folio) what="repo dir" ;; *) what=".git" ;; esac
	ROWSG+=("${NAME[$t]}|$what|$(mb "${SIZE1[$t]}")|$(mb "${SIZE2[$t]}")|$(mb "$grow")|$(fmt 2 "$(calc "100 * $grow / ${SIZE1[$t]}")")%|$(fmt 1 "$(calc "100 * (${SIZE1[$t]} - ${SIZE0[$t]}) / $BYTES")")%")
done

table() { # FORMAT HEADER ROWS...
	local f=$1 h=$2
	shift 2
	# shellcheck disable=SC2086,SC2059
	printf "$f" ${h//|/ }
	local r
	for r in "$@"; do
		IFS='|' read -r -a c <<<"$r"
		# shellcheck disable=SC2059
		printf "$f" "${c[@]}"
	done
}

echo
echo "== version 1: import $N files, $(fmt 1 "$MB") MB (warm page cache; add + commit; median run of $REPS)"
table '%-14s %6s %7s %9s %8s %6s %8s %6s %8s %11s %14s %11s\n' \
	"tool|files|add_s|commit_s|total_s|cpu_s|files/s|MB/s|RSS_add|RSS_commit|total_s_range|folio/peer" "${ROWS1[@]}"
echo
echo "== version 2: $NCH of $N images ($PCT%) replaced with new content, $(mb "$CH_BYTES") MB; add DIR + commit again"
table '%-14s %8s %8s %9s %8s %14s %8s\n' \
	"tool|changed|add_s|commit_s|total_s|changed_files/s|RSS" "${ROWS2[@]}"
echo
echo "== store growth from version 1 to version 2 (du -sb)"
table '%-14s %-9s %12s %11s %10s %9s %18s\n' \
	"tool|measured|v1_MB|v2_MB|growth_MB|growth|v1_store/data" "${ROWSG[@]}"
echo
echo "MB = 10^6 bytes; RSS columns are peak resident set in MiB as GNU time %M reports it:"
echo "the ru_maxrss of the command's process tree, i.e. the largest single process"
echo "(for git-lfs that includes the git-lfs filter-process child, for annex the git"
echo "helpers it waits for) - a maximum, not the sum of concurrent processes."
echo "cpu_s = user + system seconds of the command's process tree (add + commit)."
echo "folio/peer = folio files/s / peer files/s (add + commit). v1 store/data = store size"
echo "after v1 minus its empty size, relative to the image bytes. Peer repos run with"
echo "gc.auto=0 (no housekeeping inside timed commits)."

RA=$(calc "${FPS1[folio]} / ${FPS1[annex]}")
RL=$(calc "${FPS1[folio]} / ${FPS1[lfs]}")
GF=$(calc "100 * (${SIZE2[folio]} - ${SIZE1[folio]}) / ${SIZE1[folio]}")
verdict() { # OK-EXPR
	if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi
}
CRIT=(
	"$(verdict "$RA >= $NEED_ANNEX") folio/git-annex files/s = $(fmt 2 "$RA")x (need >= ${NEED_ANNEX}x)"
	"$(verdict "$RL >= $NEED_LFS") folio/git-lfs files/s = $(fmt 2 "$RL")x (need >= ${NEED_LFS}x)"
	"$(verdict "$GF <= $NEED_GROWTH") folio store growth with $PCT% of images changed = $(fmt 2 "$GF")% (need <= $NEED_GROWTH%)"
)
echo
printf '%s\n' "${CRIT[@]}"

# ---- markdown for docs/benchmarks.md --------------------------------------

cmd="make bench-import"
[ -n "${MAKELEVEL:-}" ] || cmd="tools/bench/import.sh"
envs=""
for v in BENCH_N BENCH_CHANGE_PCT BENCH_SIZE_KB BENCH_ANNEX_J2 BENCH_REPS; do
	[ -n "${!v:-}" ] && envs="$envs$v=${!v} "
done

echo
echo "----- 8< ----- markdown for docs/benchmarks.md -----"
cat <<EOF
## Import: $N JPEGs of ~$SIZE_KB KB

Command: \`$envs$cmd\`

$(bench_env_md)
- git $(git --version | awk '{ print $3 }'), $(git lfs version | awk '{ print $1 }'), git-annex $(git annex version --raw 2>/dev/null || git annex version | awk 'NR == 1 { print $3 }'), $("$FOLIO" --version 2>/dev/null || echo "folio (unknown version)")

Version 1: import $N files, $(fmt 1 "$MB") MB, from a warm page cache; each
tool works on its own identical copy of the images. Seconds are wall time;
each tool's median run of $REPS (fresh repositories, rotating order). CPU s
is user + system time of all processes of the median run.

EOF
md_table "tool|files|add s|commit s|total s|CPU s|files/s|MB/s|peak RSS add (MiB)|peak RSS commit (MiB)|total s, all runs (min-max)|folio/peer" "${ROWS1[@]}"
cat <<EOF

Version 2: $NCH images ($PCT%) replaced with new content under the same
names ($(mb "$CH_BYTES") MB), then the whole folder added and committed again.

EOF
md_table "tool|changed files|add s|commit s|total s|changed files/s|peak RSS (MiB)" "${ROWS2[@]}"
echo
md_table "tool|measured|v1 MB|v2 MB|growth MB|growth|v1 store / data" "${ROWSG[@]}"
echo
for c in "${CRIT[@]}"; do echo "- ${c/ /: }"; done
cat <<EOF

Peak RSS is GNU time's %M: the largest single process of the command's tree
(ru_maxrss), not a sum. MB = 10^6 bytes. The peers' repositories run with
gc.auto=0, so no housekeeping falls inside (or after) a timed commit.
EOF
echo "----- >8 -----"
