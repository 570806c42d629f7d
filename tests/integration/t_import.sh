#!/bin/bash
# t_import.sh — `folio import` of real datasets from Debian packages (the
# labelme-examples VOC and COCO sets, Fashion-MNIST's IDX files), labels
# read in place (`folio labels`), auto-detection without dataset.json, and
# hostile or malformed label files: named with file and line, refused,
# while the rest of the dataset still indexes.
. "$(dirname "$0")/lib.sh"

R=$T/repo
FMNIST=/usr/share/datasets/fashion-mnist
VOC=$LABELME/bbox_detection/data_dataset_voc
COCO=$LABELME/instance_segmentation/data_dataset_coco

check "init" folio init "$R"
export FOLIO_REPO=$R

# Usage errors.
check_exit 2 "import without --format" folio import "$VOC"
check_exit 2 "import with an unknown format" folio import --format pascal "$VOC"
check_exit 3 "import of a missing folder" folio import --format voc "$T/nope"
check_exit 2 "voc wants a VOC folder" folio import --format voc "$COCO"
check_err "Annotations"

# Pascal VOC: the folder as it is, labels declared in .folio/dataset.json.
check "import voc" folio import --format voc "$VOC" --as voc
check_out "3 images with labels, 9 objects"
check "cat dataset.json" folio cat :.folio/dataset.json
check_eq "voc source declared" "$(json '[(s["format"], s["path"], s["images"]) for s in j["labels"]]' < "$T/.out")" \
	"[('voc', 'voc/Annotations', 'voc/JPEGImages')]"
check "label files kept as they are" cmp <(folio cat :voc/Annotations/2011_000003.xml) "$VOC/Annotations/2011_000003.xml"

# COCO: a JSON file and the images it names (also the folder form).
check "import coco (file)" folio import --format coco "$COCO/annotations.json" --as coco
check "only the named images were copied" folio ls : coco -r
check_eq "coco files" "$(sort "$T/.out" | tr '\n' ' ')" \
	"coco/JPEGImages/2011_000003.jpg coco/JPEGImages/2011_000006.jpg coco/JPEGImages/2011_000025.jpg coco/annotations.json "
check "import coco (folder)" folio import --format coco "$COCO" --as coco-folder -q

# Fashion-MNIST from IDX files: PNGs in <split>/<class>/<n>.png.
check "import idx" folio import --format idx "$FMNIST" --as fmnist --limit 100
check_err "Fashion-MNIST"
check "ls fmnist/train" folio ls : fmnist/train
check_eq "class folders" "$(tr '\n' ' ' < "$T/.out")" \
	"ankle-boot/ bag/ coat/ dress/ pullover/ sandal/ shirt/ sneaker/ t-shirt-top/ trouser/ "
first=$(folio ls : fmnist/train/ankle-boot | head -1)
folio cat ":fmnist/train/ankle-boot/$first" > "$T/img.png"
check "a PNG of 28x28 grey pixels" bash -c "vipsheader '$T/img.png' | grep -q '28x28 uchar, 1 band'"
check "ls -l: PNGs are lfs" folio ls : fmnist/test/bag -l
check_out " lfs "

GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org check "commit" folio commit -m "imported sets"
check "labels --json" folio labels HEAD --json
check_eq "images with labels" "$(json 'j["images"]' < "$T/.out")" "209"
check_eq "objects" "$(json 'j["objects"]' < "$T/.out")" "233"
check_eq "formats" "$(json 'sorted((k, v["images"], v["objects"]) for k, v in j["formats"].items())' < "$T/.out")" \
	"[('coco', 6, 24), ('imagefolder', 200, 200), ('voc', 3, 9)]"
check_eq "splits" "$(json 'j["splits"]' < "$T/.out")" "{'test': 100, 'train': 100}"
check_eq "classes: Fashion-MNIST's first (declared), then VOC's, COCO's" \
	"$(json '[c["name"] for c in j["classes"]][:12]' < "$T/.out")" \
	"['t-shirt-top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot', 'person', 'bus']"
check_eq "class count" "$(json 'len(j["classes"])' < "$T/.out")" "31"
check_eq "persons" "$(json '[c["objects"] for c in j["classes"] if c["name"]=="person"][0]' < "$T/.out")" "18"
check_eq "no errors" "$(json 'len(j["errors"])' < "$T/.out")" "0"
check "labels (text)" folio labels HEAD
check_out "^209 images with labels, 233 objects, 31 classes; 0 errors"
check_out "^  voc +3 images +9 objects +3 label files"
check "labels --errors with none" folio labels HEAD --errors
check "labels --list" folio labels HEAD --list
check_out "^voc/JPEGImages/2011_000003.jpg	voc	2	person 191,107.369,122,222; person 365,83,135,250$"

# Hostile and malformed label files: refused or reported with file and
# line; everything else still indexes.
mkdir -p "$T/evil/Annotations" "$T/evil/JPEGImages" "$T/badcoco" "$T/native"
cp "$VOC/JPEGImages/2011_000003.jpg" "$T/evil/JPEGImages/good.jpg"
cat > "$T/evil/Annotations/good.xml" <<'EOF'
<annotation><filename>good.jpg</filename><object><name>cat</name>
<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>
EOF
cat > "$T/evil/Annotations/evil.xml" <<'EOF'
<annotation>
  <filename>../../etc/passwd</filename>
  <object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>
</annotation>
EOF
cp "$VOC/JPEGImages/2011_000006.jpg" "$T/badcoco/ok.jpg"
cat > "$T/badcoco/annotations.json" <<'EOF'
{
  "images": [
    {"id": 1, "file_name": "ok.jpg", "width": 500, "height": 375},
    {"id": 2, "file_name": "/etc/shadow"}
  ],
  "annotations": [
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
    {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4]}
  ],
  "categories": [{"id": 1, "name": "thing"}]
}
EOF
cp "$VOC/JPEGImages/2011_000025.jpg" "$T/native/n.jpg"
printf '{"folio_labels": 1, "objects": [{"class": "dog", "box": [1, 2, 3, 4]}]}\n' > "$T/native/n.json"
printf '{\n  "folio_labels": 1,\n  "image": "n.jpg",\n  "objects": [{"class": "dog", "bo' > "$T/native/broken.json"
check "import a VOC set with a hostile filename" folio import --format voc "$T/evil" --as evil
check_out "1 errors"
check "import COCO with an absolute file_name" folio import --format coco "$T/badcoco" --as badcoco -q
check "import native labels with a truncated file" folio import --format native "$T/native" --as native -q
check "files under evil/" folio ls : evil -r
check_eq "only the dataset's own files came in" "$(sort "$T/.out" | tr '\n' ' ')" \
	"evil/Annotations/evil.xml evil/Annotations/good.xml evil/JPEGImages/good.jpg "
GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org check "commit the bad sets" folio commit -m "bad labels"
check_exit 1 "labels --errors exits 1" folio labels HEAD --errors
check_out "^evil/Annotations/evil.xml:2: image path '../../etc/passwd' refused"
check_out "^badcoco/annotations.json:4: images\[1\]: image path '/etc/shadow' refused: absolute path"
check_out "^badcoco/annotations.json:8: annotations\[1\]: \"image_id\" 2 is not in \"images\""
check_out "^native/broken.json:4: JSON ends early"
check_eq "four errors" "$(wc -l < "$T/.out")" "4"
check "labels --json after the bad sets" folio labels HEAD --json
check_eq "the rest still indexes" "$(json '(j["images"], j["objects"])' < "$T/.out")" "(212, 236)"
check_eq "nothing from outside the dataset" \
	"$(folio labels HEAD --json --list | json '[a["image"] for a in j["annotations"] if "passwd" in a["image"] or "shadow" in a["image"]]')" "[]"
check "labels summary lists errors" folio labels HEAD
check_out "^  evil/Annotations/evil.xml:2: "

# The other formats, on the unit tests' small fixtures.
FIX=$(cd "$(dirname "$0")/../data/labels" && pwd)
R3=$T/repo3
check "init a third repo" folio init "$R3"
check "import yolo" folio -R "$R3" import --format yolo "$FIX/yolo" --as y -q
check "import imagefolder" folio -R "$R3" import --format imagefolder "$FIX/imagefolder" --as if -q
check "import coco folder" folio -R "$R3" import --format coco "$FIX/coco" --as c -q
check "import coco-results" folio -R "$R3" import --format coco-results "$FIX/coco/results.json" \
	--as c/preds/r.json --gt c/annotations/instances_val.json -q
check "labels of the stage" folio -R "$R3" labels : --json
check_eq "formats" "$(json 'sorted((k, v["images"], v["objects"]) for k, v in j["formats"].items())' < "$T/.out")" \
	"[('coco', 3, 3), ('coco-results', 2, 3), ('imagefolder', 3, 3), ('yolo', 3, 3)]"
check_eq "predictions kept apart" "$(json '(j["prediction_images"], j["prediction_objects"])' < "$T/.out")" "(2, 3)"
check_eq "splits" "$(json 'j["splits"]' < "$T/.out")" "{'val': 4, 'test': 1, 'train': 4}"
check_eq "yolo's bad lines" "$(json '[(e["file"], e["line"]) for e in j["errors"]]' < "$T/.out")" \
	"[('y/labels/val/c.txt', 2), ('y/labels/val/c.txt', 3), ('y/labels/val/c.txt', 4), ('y/labels/val/c.txt', 6)]"
check "labels --list --json" folio -R "$R3" labels : --list --json
check_eq "yolo boxes stay relative" \
	"$(json '[(a["relative"], a["objects"][0]["box"]) for a in j["annotations"] if a["image"]=="y/images/train/a.jpg"]' < "$T/.out")" \
	"[(True, [0.4, 0.3, 0.2, 0.4])]"

# Without .folio/dataset.json, sources are auto-detected.
R2=$T/repo2
check "init a second repo" folio init "$R2"
check "add the VOC folder as it is" folio -R "$R2" add "$VOC" --as pascal
check "labels of the stage (auto-detected)" folio -R "$R2" labels : --json
check_eq "auto-detected VOC" "$(json '(j["images"], j["objects"], list(j["formats"]))' < "$T/.out")" "(3, 9, ['voc'])"

# A stage whose dataset.json is not JSON is left alone by import.
printf 'not json' > "$T/dataset.json"
check "add a broken dataset.json" folio -R "$R2" add "$T/dataset.json" --as .folio/dataset.json
check_exit 2 "import refuses to overwrite it" folio -R "$R2" import --format voc "$VOC" --as v2
check_err "not a JSON object"
check_exit 1 "labels --errors" folio -R "$R2" labels : --errors
check_out "^.folio/dataset.json:1: JSON syntax error"

finish
