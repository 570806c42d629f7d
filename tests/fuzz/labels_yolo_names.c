/*
 * labels_yolo_names.c — fuzz target for YOLO class names files
 * (core/labels/yolo.c): the same input is read as a data.yaml (libyaml)
 * by one YOLO dataset and as a darknet obj.names by another, each with
 * label files that use class ids 0 to 3.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ "darknet/img/x.jpg", "" },
	{ "darknet/img/x.txt", "1 0.1 0.2 0.3 0.2\n3 0.5 0.5 0.2 0.2 0.9\n" },
	{ "darknet/obj.names", NULL },
	{ "ultra/data.yaml", NULL },
	{ "ultra/images/val/y.jpg", "" },
	{ "ultra/labels/val/y.txt", "0 0.5 0.5 1 1\n2 0.1 0.1 0.2 0.2\n" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
