#!/bin/bash
# t_views.sh — @-views through a real mount: pipelines as folders, the same
# sets as `folio query`, statistics and exports, previews, views of HEAD,
# slices; exports checked against the source labels, re-imported, read by
# torchvision's ImageFolder, and index.html rendered by headless Chromium.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mountlib.sh"

R=$T/repo
M=$T/mnt
VOC=$LABELME/bbox_detection/data_dataset_voc
COCO=$LABELME/instance_segmentation/data_dataset_coco
export FOLIO_REPO=$R GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org

check "init" folio init "$R"
check "import voc" folio import --format voc "$VOC" --as voc -q
check "import coco" folio import --format coco "$COCO" --as coco -q
check "commit" folio commit -m "labelme sets"
check "tag v1" folio tag v1
check "mount" mount_repo "$R" "$M"
V=$M/tags/v1

# Views are reachable by name, never listed with the dataset.
check_eq "version listing has no views" "$(ls "$V" | tr '\n' ' ')" "coco voc "
check_eq "find sees only the dataset" "$(cd "$V" && find . | grep -c @)" "0"
check "ls @" ls "$V/@"
check_out '@where'
check_eq "@ lists the views" "$(ls "$V/@" | tr '\n' ' ')" \
	"@balance @by @export @history @issues @limit @preview @sample @slices @sort @stats @where "
check_eq "@by lists facet fields" "$(ls "$V/@by" | head -2 | tr '\n' ' ')" "bands class "

# A pipeline folder is the set folio query prints.
same_set() {  # PIPELINE: mount listing (files) == folio query (paths)
	local got want
	got=$(cd "$V/$1" && find . -type f | sed 's|^\./||' | sort)
	want=$(folio query v1 "$1" | sort)
	if [ "$got" = "$want" ] && [ -n "$want" ]; then ok; else
		fail "$1: mount has [$got], query has [$want]"
	fi
}
same_set "@where/class=person"
same_set "@where/class=car,brightness=lt:0.9"
same_set "@where/not:class=person"
same_set "@by/class/bus"
same_set "@by/format/jpeg"
same_set "@where/labeled=1/@by/class/person"
same_set "@balance/class"
same_set "@sample/5"
same_set "@sample/5:7"
same_set "@where/class=person/@sample/3/@where/count.person=ge:2"
check_eq "@by/class values" "$(ls "$V/@by/class" | tr '\n' ' ')" \
	"_none bottle bus car chair person sofa "
check_eq "@by/class/person count" "$(find "$V/@by/class/person" -type f | wc -l)" \
	"$(folio query v1 @by/class/person --count)"
check_eq "a view under @/ lists the same files" "$(cd "$V/@/@where/class=person" && find . | sort)" \
	"$(cd "$V/@where/class=person" && find . | sort)"
check "and is a folder of its own (one name per folder inode)" test \
	"$(stat -c %i "$V/@/@where/class=person")" != "$(stat -c %i "$V/@where/class=person")"
check_eq "symbols and shell-safe spelling give one folder" \
	"$(stat -c %i "$V/@where/brightness<0.5")" "$(stat -c %i "$V/@where/brightness=lt:0.5")"

# Ranked sets: flat names, the rank then the path with '/' written %2F
# (and '%' %25), so three 2011_000025.jpg in three folders stay apart.
R3="1_voc%2FAnnotationsVisualization%2F2011_000025.jpg 2_coco%2FJPEGImages%2F2011_000025.jpg 3_voc%2FJPEGImages%2F2011_000025.jpg"
check_eq "@sort/-brightness names" "$(ls "$V/@sort/-brightness/@limit/3" | tr '\n' ' ')" "$R3 "
check "query --json ranks" sh -c "'$FOLIO' query v1 @sort/-brightness/@limit/3 --json > '$T/rank.json'"
check_eq "query ranks the same" "$(json '" ".join(s["name"] for s in j["samples"])' < "$T/rank.json")" "$R3"
for n in $(ls "$V/@sort/-brightness/@limit/20"); do
	p=$(printf '%s' "$n" | sed 's/^[0-9]*_//; s/%2F/\//g; s/%25/%/g')
	check_eq "ranked name $n is the file $p" "$(stat -c %i "$V/@sort/-brightness/@limit/20/$n")" \
		"$(stat -c %i "$V/$p")"
done
check_eq "ranks are padded to the set's size" "$(ls "$V/@sort/-brightness/@limit/20" | head -1 | cut -d_ -f1)" "01"
check_eq "@sample is reproducible" "$(ls -R "$V/@sample/4")" "$(ls -R "$V/@sample/4")"
check_eq "@limit/1" "$(find "$V/@limit/1" -type f | wc -l)" "1"

# Set files are the original files (same inode, same bytes).
f=voc/JPEGImages/2011_000003.jpg
check_eq "same inode as the version file" "$(stat -c %i "$V/@where/class=person/$f")" "$(stat -c %i "$V/$f")"
check "same bytes as folio cat" cmp "$V/@where/class=person/$f" <(folio cat "v1:$f")

# Bad input: a clear error from query, EINVAL from the mount, and a log line.
check_exit 2 "query with a bad expression" folio query v1 "@where/brightness=lt:abc"
check_err "column 15: expected a number"
check_exit 2 "query with an unknown field" folio query v1 "@where/clas=car"
check_err "did you mean 'class'"
check_exit 2 "query with a stage after an output" folio query v1 "@stats/@limit/3"
check_err "nothing can follow it"
check_exit 2 "query with a bad count" folio query v1 "@limit/-3"
check_exit 2 "ls of a bad expression" ls "$V/@where/brightness=lt:abc"
check_err "Invalid argument"
check_exit 2 "ls of a bad facet" ls "$V/@by/nosuchfield"
check_exit 2 "ls of a bad sort" ls "$V/@sort/nosuch"
check_exit 2 "ls of a missing slice" ls "$V/@slices/nope"
check "daemon log names the bad expression" grep -q "expected a number after 'lt:'" "$R/cache/foliofs.log"
sed -i '/expected a number\|unknown field\|not a facet\|no such slice/d' "$R/cache/foliofs.log"
check_exit 1 "a view path is read-only" touch "$V/@where/class=person/new.jpg"

# @stats
S=$V/@where/class=person/@stats
check "stats listing" ls "$S"
check_eq "stats files" "$(ls "$S" | tr '\n' ' ')" \
	"brightness.png classes.csv classes.png features.csv index.html mosaic.jpg samples.csv sizes.png summary.json "
check_eq "summary.json samples" "$(json 'j["samples"]' < "$S/summary.json")" \
	"$(folio query v1 @where/class=person --count)"
check_eq "summary.json person images" "$(json 'j["classes"]["person"]["images"]' < "$S/summary.json")" \
	"$(folio query v1 @where/class=person --count)"
check_eq "classes.csv header" "$(head -1 "$S/classes.csv")" "class,images,objects"
check_eq "samples.csv rows" "$(($(wc -l < "$S/samples.csv") - 1))" "$(folio query v1 @where/class=person --count)"
for p in classes.png sizes.png brightness.png; do
	check "$p is a PNG" sh -c "vipsheader -f format '$S/$p' >/dev/null && [ \"\$(vipsheader -f width '$S/$p')\" -gt 100 ]"
done
check "mosaic.jpg decodes" vipsheader "$S/mosaic.jpg"
if [ -x /usr/bin/chromium ]; then
	check "index.html renders in headless Chromium" timeout 300 /usr/bin/chromium --headless \
		--no-sandbox --disable-gpu --allow-file-access-from-files \
		--screenshot="$T/stats.png" --window-size=1000,1400 "file://$S/index.html"
	check "the screenshot is a page with plots" sh -c \
		"[ \"\$(vipsheader -f width '$T/stats.png')\" = 1000 ] && \
		 [ \"\$(vips avg '$T/stats.png' | cut -d. -f1)\" -lt 250 ]"
	check "Chromium's DOM has the class table" sh -c "timeout 300 /usr/bin/chromium --headless \
		--no-sandbox --disable-gpu --dump-dom 'file://$S/index.html' 2>/dev/null | grep -q 'id=\"classes\"'"
else
	fail "chromium is not installed (tools/deps.sh installs it)"
fi

# @preview: the image with its boxes drawn, the same size.
P=$V/@preview/$f
check "preview decodes" vipsheader "$P"
check_eq "preview keeps the size" "$(vipsheader -f width "$P")x$(vipsheader -f height "$P")" \
	"$(vipsheader -f width "$V/$f")x$(vipsheader -f height "$V/$f")"
check "preview differs from the image" sh -c "! cmp -s '$P' '$V/$f'"
check_eq "preview lists the set" "$(ls "$V/@where/class=bus/@preview/voc/JPEGImages")" "2011_000025.jpg"

# @export
E=$V/@export
check_eq "export formats" "$(ls "$E" | tr '\n' ' ')" "coco files.txt imagefolder manifest.csv voc yolo "
check_eq "files.txt lines" "$(wc -l < "$E/files.txt")" "$(folio query v1 --count)"
check "files.txt paths exist" sh -c "while read -r p; do [ -f \"\$p\" ] || exit 1; done < '$E/files.txt'"
check_eq "manifest header" "$(head -1 "$E/manifest.csv")" "path,sha256,size,width,height,classes"
check "manifest sha256 is right" sh -c "line=\$(grep '^$f,' '$E/manifest.csv'); \
	[ \"\$(echo \"\$line\" | cut -d, -f2)\" = \"\$(sha256sum '$V/$f' | cut -d' ' -f1)\" ]"
check_eq "coco lists the labelled images" "$(json 'len(j["images"])' < "$E/coco/annotations.json")" \
	"$(folio query v1 @where/labeled=1 --count)"
check_eq "yolo data.yaml names person first" "$(grep -m1 -- '- ' "$E/yolo/data.yaml" | tr -d ' ')" "-person"
check "yolo image is the original" cmp "$E/yolo/images/$f" "$V/$f"

# YOLO labels match the source VOC boxes (pixels, from the package's XML).
folio labels v1 --list --json > "$T/labels.json"
cat > "$T/yolo_check.py" <<'EOF'
import json, sys, glob, os, xml.etree.ElementTree as ET
export, vocdir, labels = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
names = [l.strip()[2:].strip().strip('"') for l in open(export + "/data.yaml") if l.startswith("  - ")]
checked = 0
for xmlf in glob.glob(vocdir + "/Annotations/*.xml"):
    r = ET.parse(xmlf).getroot()
    stem = os.path.splitext(os.path.basename(xmlf))[0]
    W, H = int(r.find("size/width").text), int(r.find("size/height").text)
    src = sorted((o.find("name").text,) + tuple(float(o.find("bndbox/" + k).text)
                 for k in ("xmin", "ymin", "xmax", "ymax")) for o in r.findall("object"))
    got = []
    for line in open(f"{export}/labels/voc/JPEGImages/{stem}.txt"):
        c, cx, cy, w, h = line.split()
        cx, cy, w, h = float(cx) * W, float(cy) * H, float(w) * W, float(h) * H
        got.append((names[int(c)], cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    got.sort()
    assert len(got) == len(src), (stem, got, src)
    for g, s in zip(got, src):
        assert g[0] == s[0], (stem, g, s)
        # VOC corners are 1-based pixel indices: allow one pixel
        assert all(abs(a - b) <= 1.01 for a, b in zip(g[1:], s[1:])), (stem, g, s)
        checked += 1
print(checked)
EOF
check "yolo labels match the VOC boxes" /usr/bin/python3 "$T/yolo_check.py" "$E/yolo" "$VOC" "$T/labels.json"
check_out '^[1-9][0-9]*$'

# Export, then import: the same boxes.
roundtrip() {  # FORMAT
	local fmt=$1
	local r2=$T/rt-$fmt
	rm -rf "$T/out-$fmt" "$r2"
	cp -rL "$E/$fmt" "$T/out-$fmt" || { fail "cp of @export/$fmt"; return; }
	FOLIO_REPO=$r2 "$FOLIO" init "$r2" >/dev/null &&
	FOLIO_REPO=$r2 "$FOLIO" import --format "$fmt" "$T/out-$fmt" --as x -q >/dev/null &&
	FOLIO_REPO=$r2 "$FOLIO" labels : --list --json > "$T/rt-$fmt.json" ||
		{ fail "import of the $fmt export: $(FOLIO_REPO=$r2 "$FOLIO" labels : 2>&1 | head -3)"; return; }
	check "$fmt export round-trips" /usr/bin/python3 - "$T/labels.json" "$T/rt-$fmt.json" "$fmt" <<'EOF'
import json, sys
a, b, fmt = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
prefix = {"yolo": "x/images/", "coco": "x/images/", "voc": "x/JPEGImages/"}[fmt]
size = {an["image"]: (an["width"], an["height"]) for an in a["annotations"]}
def boxes(j, strip):
    out = {}
    for an in j["annotations"]:
        if an["prediction"]:
            continue
        img = an["image"]
        if strip:
            if not img.startswith(prefix):
                continue
            img = img[len(prefix):]
        # YOLO boxes stay fractions until the image size is known
        W, H = size.get(img, (1, 1)) if an.get("relative") else (1, 1)
        objs = sorted((o["class"], tuple(v * (W if i % 2 == 0 else H) for i, v in
                       enumerate(o.get("box") or ()))) for o in an["objects"])
        if objs:
            out[img] = objs
    return out
A, B = boxes(a, False), boxes(b, True)
assert sorted(A) == sorted(B), (sorted(A), sorted(B))
for k in A:
    for (ca, ba), (cb, bb) in zip(A[k], B[k]):
        assert ca == cb, (k, ca, cb)
        assert all(abs(x - y) < 0.01 for x, y in zip(ba, bb)), (k, ba, bb)
EOF
}
roundtrip yolo
roundtrip coco
roundtrip voc

# @by/class is ImageFolder-shaped: torchvision loads it with workers.
cat > "$T/tv.py" <<'EOF'
import sys, os, torch, torchvision
from torchvision import transforms
root = sys.argv[1]
ds = torchvision.datasets.ImageFolder(root, transform=transforms.Compose(
    [transforms.Resize((64, 64)), transforms.ToTensor()]))
files = sum(len(fs) for _, _, fs in os.walk(root))
assert len(ds) == files, (len(ds), files)
assert ds.classes == sorted(os.listdir(root)), ds.classes
n = 0
for x, y in torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, shuffle=True):
    assert x.shape[1:] == (3, 64, 64)
    n += x.shape[0]
assert n == len(ds)
print(n, len(ds.classes))
EOF
if /usr/bin/python3 -c 'import torchvision' 2>/dev/null; then
	check "torchvision ImageFolder + DataLoader over @by/class" /usr/bin/python3 "$T/tv.py" "$V/@by/class"
	check_out '^[0-9]+ 7$'
	check "torchvision over @export/imagefolder" /usr/bin/python3 "$T/tv.py" "$E/imagefolder"
else
	fail "python3-torchvision is not installed (tools/deps.sh installs it)"
fi

# Slices: saved in the dataset, listed in the next version.
check "slice save" folio slice save persons "@where/class=person" -m "people"
check_exit 2 "slice save with a bad pipeline" folio slice save bad "@where/brightness=lt:x"
check_exit 2 "slice save with a bad name" folio slice save ../x "@where/class=person"
check "commit the slice" folio commit -m "slice"
check "tag v2" folio tag v2
check "tags/v2 appears" appeared "$M/tags/v2/@slices/persons"
check_eq "@slices lists it" "$(ls "$M/tags/v2/@slices")" "persons"
check_eq "a slice is its pipeline" "$(cd "$M/tags/v2/@slices/persons" && find . -type f | sort)" \
	"$(cd "$M/tags/v2/@where/class=person" && find . -type f | sort)"
check "slice list" folio slice list HEAD
check_out "persons	@where/class=person	people"

# HEAD's views are the stage's: they follow edits.
check_eq "HEAD/@by/class" "$(ls "$M/HEAD/@by/class" | tr '\n' ' ')" "_none bottle bus car chair person sofa "
check "copy a new image into HEAD" cp "$V/$f" "$M/HEAD/new.jpg"
lists_only() { [ "$(ls "$1")" = "$2" ]; }   # DIR NAME
check "HEAD views see it" wait_until lists_only "$M/HEAD/@where/path=glob:new.jpg" new.jpg
check "query of the stage agrees" sh -c "'$FOLIO' query : @where/path=glob:new.jpg | grep -qx new.jpg"

# @history: every version of one file, by date and commit.
check "commit new.jpg" folio commit -m "new image"
sleep 1.1   # names are by the second: keep the two commits apart
check "replace new.jpg" cp "$V/voc/JPEGImages/2011_000025.jpg" "$M/HEAD/new.jpg"
check "commit the new content" folio commit -m "new content"
H=$M/branches/main/@history/new.jpg
versions_are() { [ "$(ls "$1" | wc -l)" = "$2" ]; }   # DIR COUNT
check "two versions of new.jpg (once branches/main has moved)" wait_until versions_are "$H" 2
check "the newest is the current content" cmp "$H/$(ls "$H" | tail -1)" "$V/voc/JPEGImages/2011_000025.jpg"
check "the oldest is the first content" cmp "$H/$(ls "$H" | head -1)" "$V/$f"
check_eq "history names carry date and id" "$(ls "$H" | tail -1 | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z-[0-9a-f]{12}\.jpg$')" "1"
check_eq "@history mirrors folders" "$(ls "$M/branches/main/@history" | tr '\n' ' ')" "coco new.jpg voc "
check_eq "one version of an unchanged file" "$(ls "$M/branches/main/@history/$f" | wc -l)" "1"
check_exit 2 "no history of a missing file" ls "$M/branches/main/@history/nope.jpg"

# Outputs are kept by (tree, pipeline) across mounts.
cp "$S/summary.json" "$T/summary-before.json"
check "umount" folio umount "$M"
check "output manifests are kept" sh -c "ls '$R'/cache/views/*.tree | grep -q ."
check "mount again" mount_repo "$R" "$M"
check "the same summary after a remount" cmp "$S/summary.json" "$T/summary-before.json"
check "a damaged manifest is regenerated" sh -c "for m in '$R'/cache/views/*.tree; do echo garbage > \$m; done"
check "umount again" folio umount "$M"
check "mount a third time" mount_repo "$R" "$M"
check "the same summary from a regenerated output" cmp "$S/summary.json" "$T/summary-before.json"
check "umount" folio umount "$M"
scan_log "$R"
finish
