/*
 * labels_native.c — fuzz target for folio's own per-image label JSON
 * (core/labels/native.c): the input is a sidecar beside its image.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ "img/a.jpg", "" },
	{ "img/a.json", NULL },
	{ "img/b.png", "" },
	{ "img/sub/c.jpg", "" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
