/*
 * labels_coco.c — fuzz target for COCO instances files
 * (core/labels/coco.c): the input is annotations/instances_val.json of
 * the usual layout, with images beside and under val/.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ "annotations/instances_val.json", NULL },
	{ "val/000001.jpg", "" },
	{ "val/000002.jpg", "" },
	{ "val/sub/000003.png", "" },
	{ "b.jpg", "" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
