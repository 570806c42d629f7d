#!/bin/bash
# index.sh — sample-table benchmark (make bench-index).
#
# Part 1, on BENCH_INDEX_N (20,000) generated ~100 KB JPEGs (genimages):
#   - full build of the sample table without pixel features (header facts
#     and labels only) and with them, from an empty cache: images/s;
#   - 5% of the images replaced (new content, same names), committed, and
#     the new version indexed: seconds, and the ratio to the full build
#     (the target is at most 0.10).
# Part 2, on a synthetic label set of BENCH_INDEX_BIG (100,000) samples
# (1,000 distinct small JPEGs under 100,000 names in one folder, a COCO
# file with 1-4 boxes of 20 classes per image):
#   - table build for 100,000 samples (labels dominate);
#   - through a fresh mount: listing of a @where folder (ls -f of its
#     image folder), the first time (the table is loaded from the cache,
#     the expression evaluated over 100,000 rows, the view built) and
#     again; targets < 100 ms and < 10 ms;
#   - the daemon's resident memory before and after that view: MiB per
#     100,000 samples.
# Run it alone: the machine has 2 cores and times are wall-clock.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/bench/common.sh
. "$ROOT/tools/bench/common.sh"
FOLIO=${FOLIO:-$ROOT/build/release/bin/folio}
GENIMAGES=${GENIMAGES:-$ROOT/build/release/bin/genimages}
N=${BENCH_INDEX_N:-20000}
BIG=${BENCH_INDEX_BIG:-100000}
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.org FOLIO_NO_PROGRESS=1

bench_cleanup_hook() {
	[ -n "${WORK:-}" ] && mountpoint -q "$WORK/mnt" 2>/dev/null && "$FOLIO" umount "$WORK/mnt" || true
}
bench_workdir folio-bench-index
ms() { calc "($2 - $1) / 1e6"; }
jget() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

echo "== part 1: $N generated JPEGs"
R=$WORK/repo
"$GENIMAGES" "$WORK/img" "$N" --seed 1 >/dev/null
"$FOLIO" init "$R" >/dev/null
export FOLIO_REPO=$R
"$FOLIO" add "$WORK/img" --as img >/dev/null
"$FOLIO" commit -m v1 >/dev/null

build() {  # LABEL ARGS...: index from an empty cache; prints seconds
	rm -rf "$R/cache/features" "$R/cache/index"
	sync
	"$FOLIO" index "$@" --json > "$WORK/log/$1.json" 2>&1 || die "folio index $*: $(cat "$WORK/log/$1.json")"
	jget seconds < "$WORK/log/$1.json"
}
t_nopix=$(build HEAD --no-pixels)
t_pix=$(build HEAD)
echo "full build without pixels: $(fmt 2 "$t_nopix") s = $(fmt 2 "$(calc "$N / $t_nopix")") images/s"
echo "full build with pixels:    $(fmt 2 "$t_pix") s = $(fmt 2 "$(calc "$N / $t_pix")") images/s"

# 5% new content under the same names (every 20th image)
"$GENIMAGES" "$WORK/img" $((N / 20)) --seed 2 --start 0 --stride 20 >/dev/null
"$FOLIO" add "$WORK/img" --as img >/dev/null
"$FOLIO" commit -m v2 >/dev/null
"$FOLIO" index HEAD --json > "$WORK/log/incr.json"
t_inc=$(jget seconds < "$WORK/log/incr.json")
computed=$(jget computed < "$WORK/log/incr.json")
reused=$(jget reused < "$WORK/log/incr.json")
echo "5% changed, incremental:   $(fmt 2 "$t_inc") s ($computed computed, $reused rows reused) = $(fmt 2 "$(calc "$t_inc / $t_pix")") of the full build (target <= 0.10)"

echo "== part 2: $BIG samples"
R2=$WORK/big
mkdir -p "$WORK/pool" "$WORK/bigsrc/img"
"$GENIMAGES" "$WORK/pool" 1000 --size-kb 4 --seed 5 >/dev/null
/usr/bin/python3 - "$WORK/pool" "$WORK/bigsrc" "$BIG" <<'EOF'
import json, os, random, sys
pool, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.listdir(pool))
rnd = random.Random(7)
classes = ["car", "truck", "bus", "person", "bicycle", "dog", "cat", "bird", "boat", "train",
           "chair", "sofa", "bottle", "cow", "horse", "sheep", "plane", "tv", "table", "plant"]
images, anns = [], []
for i in range(n):
    name = f"img/s{i:06d}.jpg"
    os.link(os.path.join(pool, files[i % len(files)]), os.path.join(out, name))
    images.append({"id": i + 1, "file_name": name, "width": 160, "height": 120})
    for _ in range(rnd.randint(1, 4)):
        w, h = rnd.uniform(5, 80), rnd.uniform(5, 60)
        anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": rnd.randint(1, 20),
                     "bbox": [round(rnd.uniform(0, 160 - w), 1), round(rnd.uniform(0, 120 - h), 1),
                              round(w, 1), round(h, 1)], "area": w * h, "iscrowd": 0})
json.dump({"images": images, "annotations": anns,
           "categories": [{"id": k + 1, "name": c} for k, c in enumerate(classes)]},
          open(os.path.join(out, "annotations.json"), "w"))
EOF
"$FOLIO" init "$R2" >/dev/null
export FOLIO_REPO=$R2
"$FOLIO" add "$WORK/bigsrc/img" --as img >/dev/null
"$FOLIO" add "$WORK/bigsrc/annotations.json" --as annotations.json >/dev/null
"$FOLIO" commit -m big >/dev/null
"$FOLIO" tag big
"$FOLIO" index big --json > "$WORK/log/big.json"
t_big=$(jget seconds < "$WORK/log/big.json")
echo "table build, $BIG samples: $(fmt 2 "$t_big") s = $(fmt 2 "$(calc "$BIG / $t_big")") samples/s"
"$FOLIO" query big "@where/class=car,count.person=ge:2" --count > "$WORK/log/q.count"
echo "@where/class=car,count.person=ge:2 selects $(cat "$WORK/log/q.count") samples"

mkdir -p "$WORK/mnt"
"$FOLIO" mount "$R2" "$WORK/mnt"
PID=$(cat "$R2/mount.lock" 2>/dev/null | grep -oE '[0-9]+' | head -1 || true)
[ -n "$PID" ] || PID=$(pgrep -n foliofs)
ls "$WORK/mnt/tags/big/img" > /dev/null   # the version itself, as a user would have it
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
# ls -f: no sorting, no stat; the mount lists no "." and ".." in views
list() { ls -f "$1" | grep -cvxE '\.|\.\.'; }
D="$WORK/mnt/tags/big/@where/class=car,count.person=ge:2/img"
t0=$(now_ns); n1=$(list "$D"); t1=$(now_ns)
n2=$(list "$D"); t2=$(now_ns)
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
first=$(ms "$t0" "$t1"); second=$(ms "$t1" "$t2")
echo "@where listing, first:  $(fmt 2 "$first") ms ($n1 entries; target < 100 ms)"
echo "@where listing, again:  $(fmt 2 "$second") ms (target < 10 ms)"
[ "$n1" = "$n2" ] && [ "$n1" = "$(cat "$WORK/log/q.count")" ] || die "listings differ: $n1, $n2, query $(cat "$WORK/log/q.count")"
# a broad query: a large folder to build and list
D2="$WORK/mnt/tags/big/@where/class=car/img"
t0=$(now_ns); b1=$(list "$D2"); t1=$(now_ns)
list "$D2" > /dev/null; t2=$(now_ns)
bfirst=$(ms "$t0" "$t1"); bsecond=$(ms "$t1" "$t2")
t0=$(now_ns); list "$WORK/bigsrc/img" > /dev/null; t1=$(now_ns)
native=$(ms "$t0" "$t1")
echo "@where/class=car ($b1 entries): first $(fmt 2 "$bfirst") ms, again $(fmt 2 "$bsecond") ms; native ext4 listing of all $BIG files: $(fmt 2 "$native") ms"
echo "daemon RSS: $((rss0 / 1024)) MiB before the view, $((rss1 / 1024)) MiB after: $(fmt 2 "$(calc "($rss1 - $rss0) / 1024 * 100000 / $BIG")") MiB per 100,000 samples"
"$FOLIO" umount "$WORK/mnt"

cat <<EOF

| measure | result | target |
| --- | --- | --- |
| table build without pixel features, $N JPEGs | $(fmt 2 "$(calc "$N / $t_nopix")") images/s | |
| table build with pixel features, $N JPEGs | $(fmt 2 "$(calc "$N / $t_pix")") images/s | >= 400 |
| 5% changed, incremental build / full build | $(fmt 2 "$(calc "$t_inc / $t_pix")") ($(fmt 2 "$t_inc") s / $(fmt 2 "$t_pix") s) | <= 0.10 |
| table build, $BIG samples (labels, 1,000 distinct images) | $(fmt 2 "$(calc "$BIG / $t_big")") samples/s | |
| @where listing over $BIG samples, first | $(fmt 2 "$first") ms | < 100 ms |
| @where listing, again | $(fmt 2 "$second") ms | < 10 ms |
| broad @where/class=car ($b1 entries), first / again | $(fmt 2 "$bfirst") / $(fmt 2 "$bsecond") ms (native ext4 listing of all $BIG: $(fmt 2 "$native") ms) | |
| daemon RSS for the $BIG-sample table and view | $(fmt 2 "$(calc "($rss1 - $rss0) / 1024 * 100000 / $BIG")") MiB per 100,000 samples | |
EOF
bench_env_md
