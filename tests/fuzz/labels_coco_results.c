/*
 * labels_coco_results.c — fuzz target for COCO detection results
 * (core/labels/coco.c): the input is results.json beside a fixed
 * instances file whose image and category ids it refers to.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ "annotations/instances_val.json",
	  "{\"images\": [{\"id\": 1, \"file_name\": \"000001.jpg\", \"width\": 640, \"height\": 480},"
	  " {\"id\": 2, \"file_name\": \"000002.jpg\", \"width\": 320, \"height\": 240},"
	  " {\"id\": 7, \"file_name\": \"sub/000003.png\"}],"
	  " \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 3,"
	  " \"bbox\": [10, 20, 30, 40], \"iscrowd\": 0}],"
	  " \"categories\": [{\"id\": 1, \"name\": \"person\"}, {\"id\": 3, \"name\": \"car\"},"
	  " {\"id\": 18, \"name\": \"dog\"}]}" },
	{ "annotations/results.json", NULL },
	{ "val/000001.jpg", "" },
	{ "val/000002.jpg", "" },
	{ "val/sub/000003.png", "" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
