#!/bin/bash
# demo.sh — a five-minute tour of folio on real photos that Debian ships
# (labelme-examples). Builds nothing itself: `make demo` builds first.
# The repository is left in build/demo/repo for you to explore; the tour
# mounts it on build/demo/mnt and unmounts before it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
FOLIO=${FOLIO:-$PWD/build/release/bin/folio}
EX=/usr/share/doc/labelme-examples/examples
D=$PWD/build/demo
rm -rf "$D"
mkdir -p "$D/photos"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# A small detection dataset: photos with their labelme JSON and VOC XML.
cp "$EX"/bbox_detection/data_annotated/*.jpg "$EX"/bbox_detection/data_annotated/*.json "$D/photos/"
mkdir -p "$D/photos/voc"
cp "$EX"/bbox_detection/data_dataset_voc/Annotations/*.xml "$D/photos/voc/"
cp "$EX"/bbox_detection/labels.txt "$D/photos/labels.txt" 2>/dev/null || printf 'person\ncar\n' > "$D/photos/labels.txt"

export FOLIO_REPO=$D/repo
cd "$D"
say "Create a repository and add a folder of photos and labels"
run "$FOLIO" init repo
run "$FOLIO" add photos
run "$FOLIO" status
run "$FOLIO" commit -m "Import the labelme bbox examples"
run "$FOLIO" tag v1

say "Images are git-lfs pointers in the history; labels are plain text"
run "$FOLIO" ls -l v1 photos
run git --git-dir=repo/git show v1:photos/2011_000003.jpg

say "A second version: replace one photo, drop a label file, rename another"
cp "$EX"/instance_segmentation/data_annotated/2011_000006.jpg photos/2011_000003.jpg
touch photos/2011_000003.jpg
run "$FOLIO" add photos
run "$FOLIO" rm photos/voc/2011_000025.xml
run "$FOLIO" mv photos/labels.txt photos/classes.txt
run "$FOLIO" commit -m "Swap one photo, drop a VOC file, rename the class list"
run "$FOLIO" log --oneline
run "$FOLIO" diff v1 HEAD

say "Every version stays addressable: read v1's photo back byte for byte"
"$FOLIO" cat v1:photos/2011_000003.jpg | cmp - "$EX"/bbox_detection/data_annotated/2011_000003.jpg && echo "v1:photos/2011_000003.jpg is the original photo"

say "Materialise a version as plain files for a training job"
run "$FOLIO" export v1 "$D/v1-files"
find "$D/v1-files" -type f | sort | head -5

say "Verify every object and every version"
run "$FOLIO" fsck
run git --git-dir=repo/git log --stat --oneline -1

say "Mount it: every version is a folder, HEAD/ is writable"
mkdir -p "$D/mnt"
cleanup() { "$FOLIO" umount "$D/mnt" 2>/dev/null || umount -l "$D/mnt/HEAD" "$D/mnt" 2>/dev/null || true; }
trap cleanup EXIT
run "$FOLIO" mount repo "$D/mnt"
run ls "$D/mnt"
run ls -l "$D/mnt/tags" "$D/mnt/log"
run ls -l "$D/mnt/tags/v1/photos"
cmp "$D/mnt/tags/v1/photos/2011_000003.jpg" "$EX"/bbox_detection/data_annotated/2011_000003.jpg && echo "tags/v1/photos/2011_000003.jpg is the original photo, read through the mount"
say "Edit HEAD/ like any folder, then commit"
run cp "$EX"/bbox_detection/data_annotated/2011_000025.jpg "$D/mnt/HEAD/photos/extra.jpg"
run "$FOLIO" status
run "$FOLIO" commit -m "Add a photo through the mount"
sleep 1
run ls -l "$D/mnt/branches/"

say "Views: labels and image features make curated sets, facets, statistics, exports"
run "$FOLIO" labels v1
run ls "$D/mnt/tags/v1/@"
run ls "$D/mnt/tags/v1/@by/class/"
run find "$D/mnt/tags/v1/@where/class=person,brightness=gt:0.3" -type f
run ls "$D/mnt/tags/v1/@sort/-sharpness/"
run ls "$D/mnt/tags/v1/@stats/"
run head -12 "$D/mnt/tags/v1/@stats/classes.csv"
run ls "$D/mnt/tags/v1/@export/" "$D/mnt/tags/v1/@export/yolo/"
run "$FOLIO" query v1 @where/class=person --json
echo "Open $D/mnt/tags/v1/@stats/index.html in a browser while mounted; docs/views.md has the rest."
run "$FOLIO" umount "$D/mnt"
trap - EXIT

printf '\nThe repository is in %s; try: FOLIO_REPO=%s %s log\n' "$D/repo" "$D/repo" "$FOLIO"
printf 'and mount it again: %s mount %s %s\n' "$FOLIO" "$D/repo" "$D/mnt"
