/*
 * labels_voc.c — fuzz target for Pascal VOC XML (core/labels/voc.c,
 * expat): the input is Annotations/2007_000027.xml of the VOC layout.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ "Annotations/2007_000027.xml", NULL },
	{ "JPEGImages/2007_000027.jpg", "" },
	{ "JPEGImages/2007_000032.jpg", "" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
