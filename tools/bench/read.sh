#!/usr/bin/env bash
# read.sh — read benchmark: folio's FUSE mount vs the same files on native
# ext4 vs squashfuse on a squashfs image of them.
#
#   make bench-read                   (builds folio, genimages, genfiles,
#                                      readfiles first)
#   tools/bench/read.sh               (with the binaries in build/release/bin)
#
# Data (generated, untimed), one dataset version:
#   images/  BENCH_SMALL_N photo-like JPEGs of ~100 KB (genimages)
#   big/     BENCH_BIG_N files of 5 MiB of pseudo-random bytes (genfiles;
#            incompressible, so folio stores them raw)
#   small/   BENCH_FLAT_N label-like text files of 200-2000 bytes in ONE
#            folder (genfiles --text)
# The same tree is (1) the native copy: a plain folder on the work dir's file
# system, (2) a folio repository (folio add images big small; commit; tag v1),
# read through `folio mount` at MNT/commits/<id of v1>/, once in the default
# mode and once with -o passthrough, (3) a squashfs image made by mksquashfs
# with its default settings (gzip, 128 KiB blocks, fragments), mounted with
# squashfuse (and squashfuse_ll, the low-level variant from the same package).
#
# Tests, for every system:
#   images, big    read every file once in a shuffled order (same order on
#                  every system) with 1 and with 8 threads (readfiles): the
#                  first pass right after a fresh mount (cold daemon, warm OS
#                  cache of the backing store), then a second pass (warm)
#   small/ folder  opendir/readdir + lstat of every entry (readfiles
#                  --stat-list), right after a fresh mount and again; then
#                  one read of all its files (8 threads; informative only)
# Before each fresh mount the backing files (the native tree, the squashfs
# image, folio's objects/ and git/) are read once so they sit in the page
# cache. Before a big-file block, the files behind big/ (native big/, the
# squashfs image, folio's 5 MiB objects) are first dropped from the page
# cache (pagecache --drop) and read back, so that every system's copy sits
# in the folios a read gives (see refill_big); nothing else is dropped. FUSE caches start empty because every
# cold pass follows a fresh mount. For native ext4 the "cold" pass is
# therefore also a warm-page-cache read: the reference for both passes.
# Systems take turns in a rotating order in every block, so a slow spell
# of a noisy machine does not always hit the same one. After the warm passes
# an untimed 8-thread pass hashes every file; each system's hash must equal
# native's (exit 3 at the end if not).
#
# Prints a table of files/s and MB/s with the ratio to native, the
# listing times, PASS/FAIL lines for the targets, and a markdown block for
# docs/benchmarks.md. Exits 0 even if a target fails; non-zero on errors.
#
# Environment:
#   BENCH_SMALL_N=20000   JPEGs in images/
#   BENCH_BIG_N=200       5 MiB files in big/
#   BENCH_FLAT_N=100000   small files in the one folder small/
#   BENCH_REPS=3          repetitions of every measurement (a fresh mount
#                         each); the report shows the median (mean of the
#                         two middle values for an even count) and range.
#                         One repetition of all seven systems takes about
#                         5 minutes on 2 vCPUs, three about 14
#   BENCH_WARM_RUNS=3     every system runs every warm (second) pass this
#                         many times in a row on the same mount and uses
#                         the run with the median time: a warm pass of the
#                         5 MiB files takes ~0.1 s, where one scheduling
#                         hiccup moves the figure by 10%, and native gets
#                         the same treatment, so the ratio compares like
#                         with like
#   BENCH_BIG_REFILL=1    1: before every big-file block drop the files
#                         behind big/ from the page cache and read them
#                         back, on every system (see refill_big); 0: leave
#                         them in the folios their writes (or a re-read
#                         after an eviction) left
#   BENCH_NATIVE=link     link: after the import, native images/ and big/
#                         files become hard links to folio's object files
#                         of the same bytes, so native ext4 and folio read
#                         the same page-cache pages (the ratio is then what
#                         the mount adds; separate copies land in different
#                         memory, and on this VM that alone moved warm 5 MiB
#                         ratios by 15% between repetitions); copy: keep the
#                         separate copies genfiles/genimages wrote
#   BENCH_NATIVE_RUNS=3   native ext4 runs every pass this many times and
#                         uses the run with the median time (it is the
#                         denominator of every ratio, and cheap)
#   BENCH_SYSTEMS="native squashfuse squashfuse_ll folio folio-plain folio-pt folio-uring"
#                         which systems to run (native is always run).
#                         folio mounts with no mode named (the daemon
#                         chooses: passthrough,uring here, as the bench
#                         turns io_uring on), folio-plain with -o plain,
#                         folio-pt with -o passthrough, folio-uring with
#                         -o uring, folio-pt-uring (not in the default
#                         list: it is what folio chooses) with
#                         -o passthrough,uring. For folio and the uring
#                         modes the bench turns the fuse module's
#                         enable_uring parameter on for the run and back
#                         after (root only)
#   BENCH_DIR=/tmp        where the work dir is made (needs ~3.5x the data)
#   BENCH_KEEP=1          keep the work dir
#   FOLIO, GENIMAGES, GENFILES, READFILES   binaries (default
#                         build/release/bin/...)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/common.sh
. "$HERE/common.sh"

BIN=$HERE/../../build/release/bin
FOLIO=${FOLIO:-$BIN/folio}
GENIMAGES=${GENIMAGES:-$BIN/genimages}
GENFILES=${GENFILES:-$BIN/genfiles}
READFILES=${READFILES:-$BIN/readfiles}
PAGECACHE=${PAGECACHE:-$BIN/pagecache}
SMALL_N=${BENCH_SMALL_N:-20000}
BIG_N=${BENCH_BIG_N:-200}
FLAT_N=${BENCH_FLAT_N:-100000}
REPS=${BENCH_REPS:-3}
read -r -a SQFS_OPTS <<<"${BENCH_SQFS_OPTS--noI -noD -noF -noX}"
FOLIO_ALL="folio folio-plain folio-pt folio-uring folio-pt-uring"
SYSTEMS_IN=${BENCH_SYSTEMS:-native squashfuse squashfuse_ll folio folio-plain folio-pt folio-uring}
BIG_BYTES=$((5 * 1024 * 1024))
FLAT_MIN=200
FLAT_MAX=2000
SEED=42
NATIVE_RUNS=${BENCH_NATIVE_RUNS:-3}
WARM_RUNS=${BENCH_WARM_RUNS:-3}
NATIVE_MODE=${BENCH_NATIVE:-link}
BIG_REFILL=${BENCH_BIG_REFILL:-1}

# Targets (from the issue).
NEED_WARM_SMALL=0.6 # warm JPEG reads, files/s vs native
NEED_BIG=0.9        # warm 5 MiB reads, MB/s vs native
NEED_COLD=0.2       # every first pass after mounting vs native
NEED_LS1=5          # list+stat time vs native, first time after mounting
NEED_LS2=1.5        # list+stat time vs native, second time

export LC_ALL=C

# ---- checks --------------------------------------------------------------

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
check_uint() { # NAME VALUE MIN MAX
	if ! is_uint "$2" || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		die "$1 must be an integer in $3..$4 (got '$2')"
	fi
}
check_uint BENCH_SMALL_N "$SMALL_N" 1 99999
check_uint BENCH_BIG_N "$BIG_N" 1 9999
check_uint BENCH_FLAT_N "$FLAT_N" 1 999999
check_uint BENCH_REPS "$REPS" 1 20
check_uint BENCH_NATIVE_RUNS "$NATIVE_RUNS" 1 9
check_uint BENCH_WARM_RUNS "$WARM_RUNS" 1 9
case $NATIVE_MODE in link | copy) ;; *) die "BENCH_NATIVE must be link or copy, not '$NATIVE_MODE'" ;; esac
case $BIG_REFILL in 0 | 1) ;; *) die "BENCH_BIG_REFILL must be 0 or 1, not '$BIG_REFILL'" ;; esac

abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
for v in GENIMAGES GENFILES READFILES; do
	[ -x "${!v}" ] || die "no ${v,,} binary at ${!v} (make bench-read builds it, or set $v)"
	printf -v "$v" '%s' "$(abspath "${!v}")"
done

declare -A NAME=([native]="ext4 (native)" [squashfuse]=squashfuse [squashfuse_ll]=squashfuse_ll
	[folio]="folio (default)" [folio-plain]="folio -o plain" [folio-pt]="folio -o passthrough"
	[folio-uring]="folio -o uring" [folio-pt-uring]="folio -o passthrough,uring")
# the mount options of each folio mode
declare -A FOLIO_OPT=([folio]="" [folio-plain]=plain [folio-pt]=passthrough [folio-uring]=uring
	[folio-pt-uring]="passthrough,uring")
SYSTEMS=(native)
for s in $SYSTEMS_IN; do
	[ -n "${NAME[$s]:-}" ] || die "unknown system '$s' in BENCH_SYSTEMS (native squashfuse squashfuse_ll $FOLIO_ALL)"
	[ "$s" = native ] || SYSTEMS+=("$s")
done
has() { # SYSTEM: is it being run?
	local s
	for s in "${SYSTEMS[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}
is_folio() { [ -n "${FOLIO_OPT[$1]+set}" ]; }
uses_uring() { is_folio "$1" && [[ ${FOLIO_OPT[$1]} == *uring* ]]; }
uses_pt() { is_folio "$1" && [[ ${FOLIO_OPT[$1]} == passthrough* ]]; }
USE_FOLIO=0 USE_SQFS=0 USE_URING=0
for s in "${SYSTEMS[@]}"; do
	is_folio "$s" && USE_FOLIO=1
	uses_uring "$s" && USE_URING=1
	# the default mode takes io_uring when the kernel offers it
	[ "$s" = folio ] && USE_URING=1
done
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_WAS=
if [ "$USE_URING" = 1 ]; then
	[ -w "$URING_PARAM" ] ||
		die "folio, folio-uring and folio-pt-uring need $URING_PARAM (Linux 6.14+, root); leave them out of BENCH_SYSTEMS"
	URING_WAS=$(cat "$URING_PARAM")
	echo Y >"$URING_PARAM" || die "cannot turn on $URING_PARAM"
fi
if has squashfuse || has squashfuse_ll; then USE_SQFS=1; fi

for t in mountpoint fusermount3; do
	command -v "$t" >/dev/null || die "$t not found (Debian packages util-linux, fuse3)"
done
[ -e /dev/fuse ] || die "/dev/fuse is missing: FUSE is not available here"
if [ "$USE_SQFS" = 1 ]; then
	for t in mksquashfs squashfuse squashfuse_ll; do
		if has "$t" || [ "$t" = mksquashfs ]; then
			command -v "$t" >/dev/null ||
				die "$t not found (Debian packages squashfs-tools, squashfuse; or leave it out of BENCH_SYSTEMS)"
		fi
	done
fi
if [ "$USE_FOLIO" = 1 ]; then
	[ -x "$FOLIO" ] || die "no folio binary at $FOLIO (run make, or set FOLIO)"
	FOLIO=$(abspath "$FOLIO")
	"$FOLIO" mount --help >/dev/null 2>&1 ||
		die "'folio mount' is not available in $FOLIO (build foliofs, or set BENCH_SYSTEMS without folio)"
	command -v git >/dev/null || die "git not found"
fi

if [ ${#SQFS_OPTS[@]} -eq 0 ]; then
	SQFS_DESC="with its defaults: gzip, 128 KiB blocks"
else
	SQFS_DESC="with ${SQFS_OPTS[*]}, otherwise defaults (128 KiB blocks, fragments)"
fi

# ---- work dir, disk and memory --------------------------------------------

bench_workdir folio-bench-read

DATA_EST=$((SMALL_N * (100 * 1024 + 4096) + BIG_N * (BIG_BYTES + 4096) + FLAT_N * 4096))
COPIES=1
[ "$USE_FOLIO" = 1 ] && COPIES=$((COPIES + 1))
[ "$USE_SQFS" = 1 ] && COPIES=$((COPIES + 1))
NEED_DISK=$((DATA_EST * COPIES * 11 / 10 + 512 * 1024 * 1024))
AVAIL=$(df -B1 --output=avail "$WORK" | tail -n 1 | tr -d ' ')
if [ "$AVAIL" -lt "$NEED_DISK" ]; then
	die "not enough disk space in $(dirname "$WORK"): need about $((NEED_DISK >> 30)) GiB ($COPIES copies of ~$((DATA_EST >> 20)) MiB), have $((AVAIL >> 30)) GiB; set BENCH_DIR or smaller BENCH_*_N"
fi
# (in KiB: mawk's %d stops at 2^31 - 1)
MEM_AVAIL=$(($(awk '/^MemAvailable/ { print $2 }' /proc/meminfo) * 1024))
# Backing copies plus the FUSE page cache of one mounted copy.
if [ "$MEM_AVAIL" -lt $((DATA_EST * (COPIES + 1))) ]; then
	echo "bench: warning: only $((MEM_AVAIL >> 20)) MiB of memory available for ~$((DATA_EST * (COPIES + 1) >> 20)) MiB of page cache; 'warm OS cache' may not hold" >&2
fi

# Private copies of the binaries, so a rebuild during the run changes nothing
# (folio starts the foliofs next to it).
mkdir -p "$WORK/bin"
cp "$READFILES" "$WORK/bin/readfiles"
READFILES=$WORK/bin/readfiles
if [ "$USE_FOLIO" = 1 ]; then
	cp "$FOLIO" "$WORK/bin/folio"
	[ ! -x "$(dirname "$FOLIO")/foliofs" ] || cp "$(dirname "$FOLIO")/foliofs" "$WORK/bin/foliofs"
	FOLIO=$WORK/bin/folio
fi

DATA=$WORK/data
REPO=$WORK/folio/repo
IMG=$WORK/sqfs/data.sqfs
LISTS=$WORK/lists
mkdir -p "$WORK/mnt" "$WORK/sqfs" "$WORK/folio" "$LISTS"

declare -A PID=() # foreground FUSE daemons this script started, by system
PT_LOG=()         # foliofs's passthrough summary after every passthrough mount
UR_LOG=()         # and its io_uring summary after every io_uring mount
DEF_MODE=()       # the mode the default chose, after every default mount

# Unmount everything under $WORK/mnt (deepest first), then end our daemons.
bench_cleanup_hook() {
	local mp s
	# the fuse module's enable_uring goes back to what it was
	[ -n "${URING_WAS:-}" ] && echo "$URING_WAS" >"$URING_PARAM" 2>/dev/null
	[ -n "${WORK:-}" ] || return 0
	awk -v p="$WORK/mnt/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r mp; do
			fusermount3 -u "$mp" 2>/dev/null ||
				{ [ -n "${FOLIO:-}" ] && "$FOLIO" umount "$mp" 2>/dev/null; } ||
				umount -l "$mp" 2>/dev/null ||
				echo "bench: warning: could not unmount $mp" >&2
		done
	for s in "${!PID[@]}"; do
		if kill -0 "${PID[$s]}" 2>/dev/null; then
			kill "${PID[$s]}" 2>/dev/null || true
		fi
		wait "${PID[$s]}" 2>/dev/null || true
	done
}

echo "folio read benchmark: $SMALL_N JPEGs of ~100 KB, $BIG_N files of 5 MiB, $FLAT_N small files in one folder"
echo "systems: ${SYSTEMS[*]}; repetitions: $REPS"
echo "work dir: $WORK"
echo

T_START=$(now_ns)

# ---- data (untimed) --------------------------------------------------------

t0=$(now_ns)
mkdir -p "$DATA"
"$GENIMAGES" "$DATA/images" "$SMALL_N" --size-kb 100 --seed 1 --threads "$(nproc)" >"$WORK/log/genimages.log" 2>&1 ||
	die "genimages failed: $(tail -n 5 "$WORK/log/genimages.log")"
"$GENFILES" "$DATA/big" "$BIG_N" --size "$BIG_BYTES" --seed 2 --prefix big_ --suffix .bin \
	--threads "$(nproc)" >"$WORK/log/genfiles_big.log" 2>&1 ||
	die "genfiles failed: $(cat "$WORK/log/genfiles_big.log")"
"$GENFILES" "$DATA/small" "$FLAT_N" --min "$FLAT_MIN" --max "$FLAT_MAX" --text --seed 3 \
	--prefix lbl_ --suffix .txt --threads "$(nproc)" >"$WORK/log/genfiles_small.log" 2>&1 ||
	die "genfiles failed: $(cat "$WORK/log/genfiles_small.log")"
(cd "$DATA" && find images -type f | sort) >"$LISTS/images"
(cd "$DATA" && find big -type f | sort) >"$LISTS/big"
[ "$(wc -l <"$LISTS/images")" -eq "$SMALL_N" ] || die "expected $SMALL_N images"
[ "$(wc -l <"$LISTS/big")" -eq "$BIG_N" ] || die "expected $BIG_N big files"
[ "$(find "$DATA/small" -type f | wc -l)" -eq "$FLAT_N" ] || die "expected $FLAT_N small files"
sync
t1=$(now_ns)

sum_sizes() { find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }'; }
IMG_BYTES=$(sum_sizes "$DATA/images")
BIG_TOTAL=$(sum_sizes "$DATA/big")
FLAT_BYTES=$(sum_sizes "$DATA/small")
mb() { fmt "${2:-1}" "$(calc "$1 / 1e6")"; }
echo "generated data in $(fmt 1 "$(calc "($t1 - $t0) / 1e9")") s: images $(mb "$IMG_BYTES") MB, big $(mb "$BIG_TOTAL") MB, small/ $(mb "$FLAT_BYTES") MB (not part of the results)"

if [ "$USE_FOLIO" = 1 ]; then
	t0=$(now_ns)
	{
		"$FOLIO" init "$REPO" &&
			"$FOLIO" -R "$REPO" add "$DATA/images" "$DATA/big" "$DATA/small" &&
			"$FOLIO" -R "$REPO" commit -m "read benchmark data" &&
			"$FOLIO" -R "$REPO" tag v1
	} >"$WORK/log/folio_import.log" 2>&1 || die "folio import failed: $(tail -n 5 "$WORK/log/folio_import.log")"
	CID=$(git --git-dir="$REPO/git" rev-parse 'v1^{commit}')
	sync
	t1=$(now_ns)
	echo "folio: imported in $(fmt 1 "$(calc "($t1 - $t0) / 1e9")") s, commit $CID; objects/ $(mb "$(bench_du "$REPO/objects")") MB, git/ $(mb "$(bench_du "$REPO/git")") MB"
fi

# BENCH_NATIVE=link: every native file of images/ and big/ becomes a hard
# link to folio's object file of the same content (raw objects are named by
# the SHA-256 of their bytes). Native ext4 and folio's passthrough then read
# the very same page-cache pages, and a ratio measures what the mount adds,
# not where in (virtual) memory each copy's pages landed.
LINKED=0 UNLINKED=0
if [ "$USE_FOLIO" = 1 ] && [ "$NATIVE_MODE" = link ]; then
	while read -r h f; do
		o=$REPO/objects/${h:0:2}/${h:2}
		if [ -f "$o" ]; then
			ln -f "$o" "$DATA/$f" || die "cannot link $DATA/$f to $o"
			LINKED=$((LINKED + 1))
		else
			UNLINKED=$((UNLINKED + 1))
		fi
	done < <(cd "$DATA" && find images big -type f -print0 | xargs -0 -r -P "$(nproc)" -n 1000 sha256sum)
	[ "$LINKED" -gt 0 ] || die "no native file could be linked to a folio object (BENCH_NATIVE=copy keeps separate copies)"
	echo "native: $LINKED files of images/ and big/ are hard links to folio's object files ($UNLINKED kept as copies)"
fi
if [ "$USE_SQFS" = 1 ]; then
	t0=$(now_ns)
	mksquashfs "$DATA" "$IMG" -noappend -quiet -no-progress -processors "$(nproc)" "${SQFS_OPTS[@]}" >"$WORK/log/mksquashfs.log" 2>&1 ||
		die "mksquashfs failed: $(tail -n 5 "$WORK/log/mksquashfs.log")"
	sync
	t1=$(now_ns)
	echo "squashfs: image made in $(fmt 1 "$(calc "($t1 - $t0) / 1e9")") s, $(mb "$(stat -c %s "$IMG")") MB (mksquashfs $SQFS_DESC)"
fi

# ---- mounting -----------------------------------------------------------------

# warm SYSTEM: read the backing files of SYSTEM once (page cache).
warm() {
	case $1 in
	native) "$READFILES" -j 2 --no-hash "$DATA" >/dev/null ;;
	squashfuse | squashfuse_ll) cat "$IMG" >/dev/null ;;
	folio*) "$READFILES" -j 2 --no-hash "$REPO/objects" "$REPO/git" >/dev/null ;;
	esac
}

# big_backing SYSTEM: NUL-separated paths of the files that hold big/ for
# SYSTEM (for squashfuse the whole image).
big_backing() {
	case $1 in
	native) find "$DATA/big" -type f -print0 ;;
	squashfuse | squashfuse_ll) printf '%s\0' "$IMG" ;;
	folio*) find "$REPO/objects" -type f -size "${BIG_BYTES}c" ! -name '*.zst' -print0 ;;
	esac
}

# refill_big SYSTEM: drop the files that hold big/ for SYSTEM from the page
# cache and read them back, so every system's 5 MiB files sit in the cache
# in the folios that reading (readahead) gives, not in whatever folios the
# writes that made them gave (ext4 sizes folios by the write: 4 KiB to
# 2 MiB, and a warm read of the same bytes runs up to 1.6x faster in 2 MiB
# folios), and not in what a re-read after some eviction gave.
refill_big() {
	big_backing "$1" | "$PAGECACHE" --drop >/dev/null ||
		die "pagecache --drop failed for ${NAME[$1]}"
	big_backing "$1" | xargs -0 -r cat >/dev/null
}

# pc_big SYSTEM: how the page cache holds the files behind big/ for SYSTEM.
pc_big() {
	local out
	if out=$(big_backing "$1" | "$PAGECACHE" 2>&1); then
		echo "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "%.0f MiB resident, mean folio %s KiB (%s)", v["resident_kib"] / 1024, v["mean_folio_kib"], v["sizes"] }'
	else
		echo "unknown (${out##*pagecache: })"
	fi
}

# Percentage of the backing files of SYSTEM in the page cache.
resident() {
	local what
	case $1 in
	native) what=("$DATA") ;;
	squashfuse | squashfuse_ll) what=("$IMG") ;;
	folio*) what=("$REPO/objects" "$REPO/git") ;;
	esac
	find "${what[@]}" -type f -print0 | xargs -0 -r fincore -b -n -r -o RES,SIZE 2>/dev/null |
		awk '{ r += ($1 < $2 ? $1 : $2); s += $2 } END { printf "%.1f", s ? 100 * r / s : 0 }'
}

wait_mounted() { # MNT SYSTEM [PID]
	local i
	for ((i = 0; i < 200; i++)); do
		mountpoint -q "$1" && return 0
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			die "${NAME[$2]} exited before mounting: $(tail -n 5 "$WORK/log/mount_$2.log")"
		fi
		sleep 0.05
	done
	die "${NAME[$2]} did not mount $1 within 10 s"
}

# mount_fresh SYSTEM: sets ROOT to the dataset's root as SYSTEM shows it.
ROOT=
mount_fresh() {
	local s=$1 m=$WORK/mnt/$1
	case $s in
	native)
		ROOT=$DATA
		return
		;;
	squashfuse | squashfuse_ll)
		mkdir -p "$m"
		"$s" -f "$IMG" "$m" >>"$WORK/log/mount_$s.log" 2>&1 &
		PID[$s]=$!
		wait_mounted "$m" "$s" "${PID[$s]}"
		ROOT=$m
		;;
	folio*)
		mkdir -p "$m"
		local opt=()
		[ -n "${FOLIO_OPT[$s]}" ] && opt=(-o "${FOLIO_OPT[$s]}")
		"$FOLIO" mount "$REPO" "$m" "${opt[@]}" >>"$WORK/log/mount_$s.log" 2>&1 ||
			die "${NAME[$s]} mount failed: $(tail -n 5 "$WORK/log/mount_$s.log")"
		wait_mounted "$m" "$s"
		ROOT=$m/commits/$CID
		;;
	esac
}

# Is a process running with argument MNT (the daemon serving it)?
daemon_of() {
	local f a
	for f in /proc/[0-9]*/cmdline; do
		{
			while IFS= read -r -d '' a; do
				[ "$a" = "$1" ] && return 0
			done <"$f"
		} 2>/dev/null
	done
	return 1
}

unmount() { # SYSTEM
	local s=$1 m=$WORK/mnt/$1 i
	case $s in
	native) return ;;
	squashfuse | squashfuse_ll)
		fusermount3 -u "$m" || die "could not unmount $m"
		wait "${PID[$s]}" || true
		unset "PID[$s]"
		;;
	folio*)
		"$FOLIO" umount "$m" >>"$WORK/log/mount_$s.log" 2>&1 || fusermount3 -u "$m" ||
			die "could not unmount $m"
		# The daemon is not our child: wait (up to 10 s) until it is gone.
		for ((i = 0; i < 200; i++)); do
			daemon_of "$m" || break
			sleep 0.05
		done
		# The mode the default chose (it logs it at INIT).
		local chosen=
		if [ "$s" = folio ]; then
			chosen=$(grep -o 'mode: .*, chosen at INIT' "$REPO/cache/foliofs.log" 2>/dev/null |
				tail -n 1 | sed 's/^mode: //; s/, chosen at INIT$//' || true)
			DEF_MODE+=("${chosen:-no mode line in REPO/cache/foliofs.log}")
		fi
		# Its last words say how many opens went through passthrough.
		if uses_pt "$s" || [[ $chosen == passthrough* ]]; then
			PT_LINE=$(grep -o 'passthrough: .*' "$REPO/cache/foliofs.log" 2>/dev/null | tail -n 1 || true)
			PT_LOG+=("${PT_LINE:-no passthrough summary in REPO/cache/foliofs.log}")
		fi
		if uses_uring "$s" || [[ $chosen == *uring* ]]; then
			UR_LINE=$(grep -o 'io_uring: [0-9]* requests served.*' "$REPO/cache/foliofs.log" 2>/dev/null | tail -n 1 || true)
			UR_LOG+=("${UR_LINE:-no io_uring summary in REPO/cache/foliofs.log}")
		fi
		;;
	esac
	! mountpoint -q "$m" || die "$m is still mounted"
}

# ---- measuring --------------------------------------------------------------

declare -A FPS=() MBPS=() SECS=() LS=() ST=() HASH=() BYTES=() FLATRD=()
kv() { # LINE KEY
	local w
	for w in $1; do
		[ "${w%%=*}" = "$2" ] && { echo "${w#*=}"; return; }
	done
	die "no $2= in readfiles output: $1"
}
readf() { # readfiles ARGS... -> stdout line; dies with the error output on failure
	local out
	if ! out=$("$READFILES" "$@" 2>"$WORK/log/readfiles.err"); then
		die "readfiles $* failed: $(head -n 5 "$WORK/log/readfiles.err")"
	fi
	echo "$out"
}

say() { printf '  rep %d  %-15s %-21s %s\n' "$@"; }

# measure SYSTEM PASS readfiles-ARGS...: one run; for a warm pass
# WARM_RUNS runs, and for native (the denominator of every ratio, and cheap)
# NATIVE_RUNS runs, if more; the output of the run with the median time.
measure() {
	local s=$1 n=1 i
	[ "$2" = warm ] && n=$WARM_RUNS
	[ "$s" = native ] && [ "$NATIVE_RUNS" -gt "$n" ] && n=$NATIVE_RUNS
	shift 2
	for ((i = 0; i < n; i++)); do readf "$@"; done |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) print substr($i, 9), $0 }' |
		sort -g | awk -v n="$n" 'NR == int((n + 1) / 2)' | cut -d' ' -f2-
}

# read_block SYSTEM SET THREADS REP
read_block() {
	local s=$1 set=$2 j=$3 rep=$4 pass out k
	for pass in cold warm; do
		out=$(measure "$s" "$pass" -j "$j" --no-hash --seed "$SEED" --list "$LISTS/$set" "$ROOT")
		k="$s|$set|$j|$pass|$rep"
		FPS[$k]=$(kv "$out" files_per_s)
		MBPS[$k]=$(kv "$out" MB_per_s)
		SECS[$k]=$(kv "$out" seconds)
		say "$rep" "$set -j$j" "${NAME[$s]}" "$pass $(fmt 0 "${FPS[$k]}") files/s, $(fmt 1 "${MBPS[$k]}") MB/s"
	done
	if [ "$j" = 8 ] && [ -z "${HASH[$s|$set]:-}" ]; then
		out=$(readf -j 8 --list "$LISTS/$set" "$ROOT")
		HASH[$s|$set]=$(kv "$out" hash)
		BYTES[$s|$set]=$(kv "$out" bytes)
	fi
}

# flat_block SYSTEM REP: list+stat small/ twice, then read its files once.
flat_block() {
	local s=$1 rep=$2 pass out k
	for pass in cold warm; do
		out=$(measure "$s" "$pass" --stat-list "$ROOT/small")
		k="$s|$pass|$rep"
		SECS[$k]=$(kv "$out" seconds)
		LS[$k]=$(kv "$out" list_seconds)
		ST[$k]=$(kv "$out" stat_seconds)
		[ "$(kv "$out" entries)" -eq "$FLAT_N" ] ||
			die "${NAME[$s]}: listed $(kv "$out" entries) entries in small/, expected $FLAT_N"
		[ -n "${HASH[$s|stat]:-}" ] || HASH[$s|stat]=$(kv "$out" hash)
		say "$rep" "small/ ls+stat" "${NAME[$s]}" "$pass $(fmt 3 "${SECS[$k]}") s (list $(fmt 3 "${LS[$k]}") + stat $(fmt 3 "${ST[$k]}"))"
	done
	out=$(readf -j 8 --seed "$SEED" "$ROOT/small")
	FLATRD[$s|$rep]=$(kv "$out" files_per_s)
	[ -n "${HASH[$s|small]:-}" ] || {
		HASH[$s|small]=$(kv "$out" hash)
		BYTES[$s|small]=$(kv "$out" bytes)
	}
	say "$rep" "small/ read -j8" "${NAME[$s]}" "after listing $(fmt 0 "${FLATRD[$s|$rep]}") files/s"
}

declare -A RESIDENT=() PCBIG=()
BLOCKS=("images 1" "images 8" "big 1" "big 8" "flat")
NS=${#SYSTEMS[@]}
echo
echo "measuring (cold = first pass after a fresh mount, warm = second pass):"
for ((rep = 1; rep <= REPS; rep++)); do
	for ((b = 0; b < ${#BLOCKS[@]}; b++)); do
		for ((i = 0; i < NS; i++)); do
			s=${SYSTEMS[$(((i + b + rep - 1) % NS))]}
			case ${BLOCKS[$b]} in
			big*)
				[ "$BIG_REFILL" = 0 ] || refill_big "$s"
				[ -n "${PCBIG[$s]:-}" ] || PCBIG[$s]=$(pc_big "$s")
				;;
			esac
			warm "$s"
			r=$(resident "$s")
			if [ -z "${RESIDENT[$s]:-}" ] || awk "BEGIN { exit !($r < ${RESIDENT[$s]}) }"; then
				RESIDENT[$s]=$r
			fi
			mount_fresh "$s"
			if is_folio "$s"; then
				[ -d "$ROOT" ] || die "${NAME[$s]}: $ROOT is not a folder"
			fi
			# shellcheck disable=SC2086
			case ${BLOCKS[$b]} in
			flat) flat_block "$s" "$rep" ;;
			*) read_block "$s" ${BLOCKS[$b]} "$rep" ;;
			esac
			unmount "$s"
		done
	done
done

# ---- checks of what was read ---------------------------------------------------

BAD=()
for s in "${SYSTEMS[@]}"; do
	for w in images big small stat; do
		if [ "${HASH[$s|$w]}" != "${HASH[native|$w]}" ]; then
			BAD+=("${NAME[$s]}: $w differ from native (hash ${HASH[$s|$w]} vs ${HASH[native|$w]}, bytes ${BYTES[$s|$w]:-} vs ${BYTES[native|$w]:-})")
		fi
	done
done
[ "${BYTES[native|images]}" -eq "$IMG_BYTES" ] || BAD+=("native: read ${BYTES[native|images]} image bytes, expected $IMG_BYTES")
[ "${BYTES[native|big]}" -eq "$BIG_TOTAL" ] || BAD+=("native: read ${BYTES[native|big]} big-file bytes, expected $BIG_TOTAL")

T_END=$(now_ns)

REFILL_NOTE=""
[ "$BIG_REFILL" = 0 ] || REFILL_NOTE=", after the drop and read-back"
PC_LINE="page cache of the files behind big/ right before the first big-file pass$REFILL_NOTE:$(for s in "${SYSTEMS[@]}"; do case $s in squashfuse*) ;; *) printf ' %s %s;' "${NAME[$s]}" "${PCBIG[$s]:-not measured}" ;; esac; done | sed 's/;$//')"

# ---- report ------------------------------------------------------------------

# A ratio with 2 decimals, 3 below 0.1.
xr() { awk -v r="$1" 'BEGIN { printf (r < 0.1 ? "%.3fx" : "%.2fx"), r }'; }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { # PRECISION VALUES...
	local p=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v p="$p" 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.*f-%.*f", p, lo, p, hi }'; }
reps_of() { # ARRAY-NAME KEY-PREFIX: values over reps
	local -n a=$1
	local r
	for ((r = 1; r <= REPS; r++)); do echo "${a[$2|$r]}"; done
}

declare -A MFPS=() MMBPS=() MSECS=() MLS=() MST=() RATIO=() LRATIO=()
ROWS=()
for set in images big; do
	for j in 1 8; do
		for pass in cold warm; do
			for s in "${SYSTEMS[@]}"; do
				k="$s|$set|$j|$pass"
				# shellcheck disable=SC2046
				MFPS[$k]=$(median $(reps_of FPS "$k"))
				# shellcheck disable=SC2046
				MMBPS[$k]=$(median $(reps_of MBPS "$k"))
			done
			for s in "${SYSTEMS[@]}"; do
				k="$s|$set|$j|$pass"
				RATIO[$k]=$(calc "${MFPS[$k]} / ${MFPS[native|$set|$j|$pass]}")
				if [ "$set" = images ]; then
					# shellcheck disable=SC2046
					rg="$(range 0 $(reps_of FPS "$k")) files/s"
				else
					# shellcheck disable=SC2046
					rg="$(range 1 $(reps_of MBPS "$k")) MB/s"
				fi
				ROWS+=("$set|$j|$pass|${NAME[$s]}|$(fmt 0 "${MFPS[$k]}")|$(fmt 1 "${MMBPS[$k]}")|$rg|$(xr "${RATIO[$k]}")")
			done
		done
	done
done
LROWS=()
for pass in cold warm; do
	for s in "${SYSTEMS[@]}"; do
		k="$s|$pass"
		# shellcheck disable=SC2046
		MSECS[$k]=$(median $(reps_of SECS "$k"))
		# shellcheck disable=SC2046
		MLS[$k]=$(median $(reps_of LS "$k"))
		# shellcheck disable=SC2046
		MST[$k]=$(median $(reps_of ST "$k"))
	done
	for s in "${SYSTEMS[@]}"; do
		k="$s|$pass"
		LRATIO[$k]=$(calc "${MSECS[$k]} / ${MSECS[native|$pass]}")
		# shellcheck disable=SC2046
		LROWS+=("$pass|${NAME[$s]}|$(fmt 3 "${MLS[$k]}")|$(fmt 3 "${MST[$k]}")|$(fmt 3 "${MSECS[$k]}")|$(range 3 $(reps_of SECS "$k"))|$(fmt 0 "$(calc "$FLAT_N / ${MSECS[$k]}")")|$(xr "${LRATIO[$k]}")")
	done
done
FROWS=()
# shellcheck disable=SC2046
NATFLAT=$(median $(reps_of FLATRD native))
for s in "${SYSTEMS[@]}"; do
	# shellcheck disable=SC2046
	m=$(median $(reps_of FLATRD "$s"))
	FROWS+=("${NAME[$s]}|$(fmt 0 "$m")|$(xr "$(calc "$m / $NATFLAT")")")
done

table() { # FORMAT HEADER ROWS...
	local f=$1 h=$2 r
	shift 2
	IFS='|' read -r -a c <<<"$h"
	# shellcheck disable=SC2059
	printf "$f" "${c[@]}"
	for r in "$@"; do
		IFS='|' read -r -a c <<<"$r"
		# shellcheck disable=SC2059
		printf "$f" "${c[@]}"
	done
}

RHEAD="files|threads|pass|system|files/s|MB/s|range over reps|vs native"
echo
echo "== reads: every file once, shuffled; images = $SMALL_N JPEGs ($(mb "$IMG_BYTES") MB), big = $BIG_N x 5 MiB ($(mb "$BIG_TOTAL") MB)"
echo "   median of $REPS fresh mount(s); each warm pass is the median of $WARM_RUNS runs (native: of $NATIVE_RUNS runs of every pass); vs native = speed / native's speed in the same pass"
table '%-7s %7s %5s  %-21s %9s %9s %23s %9s\n' "$RHEAD" "${ROWS[@]}"
LHEAD="pass|system|list s|stat s|total s|range over reps|entries/s|time vs native"
echo
echo "== small/: opendir+readdir of $FLAT_N entries, then lstat of each (cold = first after a fresh mount)"
table '%-5s  %-21s %8s %8s %8s %15s %10s %14s\n' "$LHEAD" "${LROWS[@]}"
FHEAD="system|files/s|vs native"
echo
echo "== small/: read all $FLAT_N files once after the listing, 8 threads (informative, no target)"
table '%-21s %9s %9s\n' "$FHEAD" "${FROWS[@]}"
echo
echo "$PC_LINE"
echo "page cache residency of the backing files right before each fresh mount, lowest seen:$(for s in "${SYSTEMS[@]}"; do printf ' %s %s%%;' "${NAME[$s]}" "${RESIDENT[$s]}"; done | sed 's/;$//')"
if [ ${#DEF_MODE[@]} -gt 0 ]; then
	echo "folio (default), the mode it chose at each of its ${#DEF_MODE[@]} mounts: $(printf '%s\n' "${DEF_MODE[@]}" |
		sort | uniq -c | awk '{ n = $1; $1 = ""; printf "%s%s x%d", sep, substr($0, 2), n; sep = "; " }')"
fi
if [ ${#UR_LOG[@]} -gt 0 ]; then
	echo "foliofs with io_uring, over its ${#UR_LOG[@]} mounts: $(printf '%s\n' "${UR_LOG[@]}" |
		awk '/^io_uring: [0-9]+ requests served/ { r += $2; next } { u++ }
		END { printf "%.0f requests served through io_uring queues", r; if (u) printf ", %d mounts without a summary", u }')"
fi
if [ ${#PT_LOG[@]} -gt 0 ]; then
	echo "foliofs with passthrough, over its ${#PT_LOG[@]} mounts: $(printf '%s\n' "${PT_LOG[@]}" |
		awk '/^passthrough: [0-9]+ opens passed through, [0-9]+ plain/ { p += $2; n += $6; next } { u++ }
		END { printf "%.0f opens passed through, %.0f plain", p, n; if (u) printf ", %d mounts without a summary", u }')"
fi
if [ ${#BAD[@]} -eq 0 ]; then
	echo "content check: every system read the same bytes under the same names as native (hash of all files; names, types and sizes of small/)"
else
	echo "content check FAILED:"
	printf '  %s\n' "${BAD[@]}"
fi

# ---- targets ------------------------------------------------------------------

verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
FOLIO_SYS=()
for s in $FOLIO_ALL; do has "$s" && FOLIO_SYS+=("$s"); done
CRIT=()
if [ ${#FOLIO_SYS[@]} -gt 0 ]; then
	REF=${FOLIO_SYS[0]} # the default mode when it was run
	# best_read KEY-SUFFIX: "NAME RATIO" of the folio mode with the best ratio
	best() { # ARRAY-NAME KEY-SUFFIX higher|lower
		local -n arr=$1
		local s best="" bv=""
		for s in "${FOLIO_SYS[@]}"; do
			v=${arr[$s|$2]}
			if [ -z "$bv" ] || awk "BEGIN { exit !($v $([ "$3" = higher ] && echo '>' || echo '<') $bv) }"; then
				bv=$v best=$s
			fi
		done
		echo "best mode: ${NAME[$best]} $(fmt 2 "$bv")x"
	}
	for j in 1 8; do
		r=${RATIO[$REF|images|$j|warm]}
		CRIT+=("$(verdict "$r >= $NEED_WARM_SMALL") warm JPEG reads, $j thread(s): ${NAME[$REF]} $(fmt 2 "$r")x native files/s (need >= ${NEED_WARM_SMALL}x) [$(best RATIO "images|$j|warm" higher)]")
	done
	for j in 1 8; do
		r=${RATIO[$REF|big|$j|warm]}
		CRIT+=("$(verdict "$r >= $NEED_BIG") warm 5 MiB reads, $j thread(s): ${NAME[$REF]} $(fmt 2 "$r")x native MB/s (need >= ${NEED_BIG}x) [$(best RATIO "big|$j|warm" higher)]")
	done
	for set in images big; do
		for j in 1 8; do
			r=${RATIO[$REF|$set|$j|cold]}
			CRIT+=("$(verdict "$r >= $NEED_COLD") cold first pass, $set, $j thread(s): ${NAME[$REF]} $(fmt 2 "$r")x native (need >= ${NEED_COLD}x) [$(best RATIO "$set|$j|cold" higher)]")
		done
	done
	r=${LRATIO[$REF|cold]}
	CRIT+=("$(verdict "$r <= $NEED_LS1") list+stat $FLAT_N entries, first after mounting: ${NAME[$REF]} $(fmt 2 "$r")x native time (need <= ${NEED_LS1}x) [$(best LRATIO cold lower)]")
	r=${LRATIO[$REF|warm]}
	CRIT+=("$(verdict "$r <= $NEED_LS2") list+stat $FLAT_N entries, second time: ${NAME[$REF]} $(fmt 2 "$r")x native time (need <= ${NEED_LS2}x) [$(best LRATIO warm lower)]")
	# Every folio figure at or ahead of squashfuse (the peer the issue names).
	for peer in squashfuse squashfuse_ll; do
		has "$peer" || continue
		for s in "${FOLIO_SYS[@]}"; do
			behind=() n=0
			for set in images big; do
				for j in 1 8; do
					for pass in cold warm; do
						n=$((n + 1))
						a=${MFPS[$s|$set|$j|$pass]} p=${MFPS[$peer|$set|$j|$pass]}
						if awk "BEGIN { exit !($a < $p) }"; then
							behind+=("$set -j$j $pass $(fmt 2 "$(calc "$a / $p")")x")
						fi
					done
				done
			done
			for pass in cold warm; do
				n=$((n + 1))
				a=${MSECS[$s|$pass]} p=${MSECS[$peer|$pass]}
				if awk "BEGIN { exit !($a > $p) }"; then
					behind+=("ls+stat $pass $(fmt 2 "$(calc "$p / $a")")x")
				fi
			done
			line="${NAME[$s]} at or ahead of $peer in $((n - ${#behind[@]}))/$n figures"
			[ ${#behind[@]} -eq 0 ] || line="$line; behind in: $(printf '%s, ' "${behind[@]}" | sed 's/, $//')"
			if [ "$peer" = squashfuse ] && [ "$s" = "$REF" ]; then
				CRIT+=("$([ ${#behind[@]} -eq 0 ] && echo PASS || echo FAIL) $line")
			else
				CRIT+=("INFO $line")
			fi
		done
	done
	# Each mode on its own: which of the ten ratio targets it meets.
	for s in "${FOLIO_SYS[@]}"; do
		miss=() n=0
		for j in 1 8; do
			n=$((n + 2))
			r=${RATIO[$s|images|$j|warm]}
			awk "BEGIN { exit !($r < $NEED_WARM_SMALL) }" && miss+=("images -j$j warm $(fmt 2 "$r")x")
			r=${RATIO[$s|big|$j|warm]}
			awk "BEGIN { exit !($r < $NEED_BIG) }" && miss+=("big -j$j warm $(fmt 2 "$r")x")
			for set in images big; do
				n=$((n + 1))
				r=${RATIO[$s|$set|$j|cold]}
				awk "BEGIN { exit !($r < $NEED_COLD) }" && miss+=("$set -j$j cold $(fmt 2 "$r")x")
			done
		done
		n=$((n + 2))
		r=${LRATIO[$s|cold]}
		awk "BEGIN { exit !($r > $NEED_LS1) }" && miss+=("ls+stat cold $(fmt 2 "$r")x")
		r=${LRATIO[$s|warm]}
		awk "BEGIN { exit !($r > $NEED_LS2) }" && miss+=("ls+stat warm $(fmt 2 "$r")x")
		line="${NAME[$s]} alone meets $((n - ${#miss[@]}))/$n ratio targets"
		[ ${#miss[@]} -eq 0 ] || line="$line; misses: $(printf '%s, ' "${miss[@]}" | sed 's/, $//')"
		CRIT+=("INFO $line")
	done
	echo
	echo "targets (checked on ${NAME[$REF]}; [best mode] is the best folio mode for that figure):"
	printf '%s\n' "${CRIT[@]}"
else
	echo
	echo "targets: not checked (no folio system in BENCH_SYSTEMS)"
fi
echo
echo "total run time: $(fmt 0 "$(calc "($T_END - $T_START) / 1e9")") s"

# ---- markdown for docs/benchmarks.md --------------------------------------

cmd="make bench-read"
[ -n "${MAKELEVEL:-}" ] || cmd="tools/bench/read.sh"
envs=""
for v in BENCH_SMALL_N BENCH_BIG_N BENCH_FLAT_N BENCH_REPS BENCH_WARM_RUNS BENCH_NATIVE BENCH_BIG_REFILL BENCH_SYSTEMS; do
	[ -n "${!v:-}" ] && envs="$envs$v=\"${!v}\" "
done
versions="fuse3 $(fusermount3 --version 2>&1 | awk '{ print $NF }')"
if [ "$USE_SQFS" = 1 ]; then
	versions="$versions, squashfuse $(dpkg-query -W -f='${Version}' squashfuse 2>/dev/null || squashfuse --version 2>&1 | awk 'NR == 1 { print $2 }') ($(squashfuse --version 2>&1 | awk 'NR == 1 { print $1, $2 }') reported), $(mksquashfs -version 2>&1 | awk 'NR == 1 { print $1, $3 }')"
fi
[ "$USE_FOLIO" = 1 ] && versions="$versions, $("$FOLIO" --version 2>/dev/null || echo "folio (unknown version)")"

NATIVE_DESC=""
REFILL_MD=""
[ "$BIG_REFILL" = 0 ] || REFILL_MD="Before every big-file block, every system's files behind big/ (native
big/, the squashfs image, folio's 5 MiB object files) are dropped from the page
cache and read back, so all sit in the folios a read gives, whatever wrote them."
[ "$LINKED" -gt 0 ] && NATIVE_DESC=" (the $LINKED files of images/ and big/ as hard links to folio's object files of the same bytes, so that both read the same page-cache pages)"
FOLIO_MODES=$(for s in $FOLIO_ALL; do if has "$s"; then printf '%s, ' "${NAME[$s]}"; fi; done | sed 's/, $//')
SQFS_SYS=$(for s in squashfuse squashfuse_ll; do if has "$s"; then printf '%s and ' "$s"; fi; done | sed 's/ and $//')
echo
echo "----- 8< ----- markdown for docs/benchmarks.md -----"
cat <<EOF
## Read: $SMALL_N JPEGs, $BIG_N files of 5 MiB, a folder of $FLAT_N files

Command: \`$envs$cmd\`

$(bench_env_md)
- $versions

One dataset version: images/ with $SMALL_N JPEGs of ~100 KB ($(mb "$IMG_BYTES") MB), big/ with
$BIG_N files of 5 MiB of random bytes ($(mb "$BIG_TOTAL") MB), small/ with $FLAT_N text files of
$FLAT_MIN-$FLAT_MAX bytes. Systems: the files on native ext4$NATIVE_DESC; folio's FUSE mount of
the version (MNT/commits/<id>/) in the modes $FOLIO_MODES; $SQFS_SYS on a
\`mksquashfs\` image made $SQFS_DESC.
Every file is read once (open, read 256 KiB at a time, close) in the same shuffled
order on every system, by 1 or 8 threads. *cold* is the first pass right after a
fresh mount (the daemon's and the kernel's FUSE caches empty, the backing files in
the page cache), *warm* the passes after it; for native ext4 both are page-cache
reads. $REFILL_MD
Every system runs the warm pass $WARM_RUNS times in a row (native ext4: every
pass $NATIVE_RUNS times) and keeps the run with the median time. Median of $REPS
fresh mount(s), systems in rotating order; vs native = speed / native speed.

EOF
md_table "$RHEAD" "${ROWS[@]}"
cat <<EOF

Listing: opendir + readdir of small/ ($FLAT_N entries), then lstat of every entry;
*cold* right after a fresh mount, *warm* the times after it (the median of
$WARM_RUNS). vs native = time / native time.

EOF
md_table "$LHEAD" "${LROWS[@]}"
echo
md_table "system|small/ read after listing, files/s (8 threads)|vs native" "${FROWS[@]}"
echo
for c in "${CRIT[@]}"; do echo "- ${c/ /: }"; done
echo "- $PC_LINE"
if [ ${#BAD[@]} -eq 0 ]; then
	echo "- content: every system read the same bytes as native"
else
	for c in "${BAD[@]}"; do echo "- content check FAILED: $c"; done
fi
echo "----- >8 -----"

if [ ${#BAD[@]} -gt 0 ]; then
	echo "bench: error: some system read different content than native (see above)" >&2
	exit 3
fi
