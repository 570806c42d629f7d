/*
 * labels_yolo.c — fuzz target for YOLO label files (core/labels/yolo.c):
 * the input is labels/train/a.txt of the ultralytics layout, with its
 * image under images/train/ and the class names in data.yaml.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ "data.yaml", "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: person\n"
		       "  1: bicycle\n  2: car\n" },
	{ "images/train/a.jpg", "" },
	{ "images/train/b.jpg", "" },
	{ "labels/train/a.txt", NULL },
	{ "labels/train/b.txt", "0 0.5 0.5 0.25 0.25\n" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
