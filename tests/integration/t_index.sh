#!/bin/bash
# t_index.sh — folio index: features of every image of a version, computed
# once per distinct object and reused from the cache afterwards; broken
# images are reported by path, not fatal.
. "$(dirname "$0")/lib.sh"

R=$T/repo
mkdir -p "$T/d/sub"
cp "$LABELME"/bbox_detection/data_annotated/*.jpg "$LABELME"/bbox_detection/data_annotated/*.json "$T/d/"
cp "$LABELME"/bbox_detection/data_annotated/2011_000003.jpg "$T/d/sub/same.jpg"
head -c 5000 /dev/urandom > "$T/d/broken.jpg"
head -c 30000 "$LABELME"/bbox_detection/data_annotated/2011_000006.jpg > "$T/d/truncated.jpg"
folio init "$R" >/dev/null
export FOLIO_REPO=$R
folio add "$T/d" --as ds && folio commit -m v1 >/dev/null

check "index" folio index --json
check_eq "images" "$(json 'j["images"]' < "$T/.out")" 6
check_eq "identical content counted once" "$(json 'j["distinct"]' < "$T/.out")" 5
check_eq "decodable" "$(json 'j["decodable"]' < "$T/.out")" 3
check_eq "undecodable: garbage and a truncated JPEG" "$(json 'j["undecodable"]' < "$T/.out")" 2
check_eq "each computed once" "$(json 'j["computed"]' < "$T/.out")" 5
check "cache files exist" test "$(find "$R/cache/features" -type f | wc -l)" -ge 5
check "second run" folio index --json
check_eq "second run computes nothing" "$(json 'j["computed"]' < "$T/.out")" 0
check "text output names the broken files" folio index
check_out "undecodable: ds/broken.jpg"
check_out "undecodable: ds/truncated.jpg"
# A new version with one new image computes only that one.
cp "$LABELME"/instance_segmentation/data_annotated/2011_000025.jpg "$T/new.jpg"
printf 'x' >> "$T/new.jpg"
folio add "$T/new.jpg" --as ds/new.jpg && folio commit -m v2 >/dev/null
check "index v2" folio index HEAD --json
check_eq "only the new image is computed" "$(json 'j["computed"]' < "$T/.out")" 1
check "header-only mode" folio index HEAD~1 --no-pixels --json
check_exit 3 "unknown version" folio index nope
check_exit 2 "bad --jobs" folio index -j 0
finish
