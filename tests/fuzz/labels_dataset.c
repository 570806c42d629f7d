/*
 * labels_dataset.c — fuzz target for .folio/dataset.json, the declared
 * label sources (core/labels/labels.c): the input declares sources over a
 * dataset that has one of each format.
 */
#include "labels.h"

static const fuzz_file files[] = {
	{ ".folio/dataset.json", NULL },
	{ "coco/annotations/instances_val.json",
	  "{\"images\": [{\"id\": 1, \"file_name\": \"1.jpg\", \"width\": 64, \"height\": 48}],"
	  " \"annotations\": [{\"image_id\": 1, \"category_id\": 2, \"bbox\": [1, 2, 3, 4]}],"
	  " \"categories\": [{\"id\": 2, \"name\": \"car\"}]}" },
	{ "coco/results.json", "[{\"image_id\": 1, \"category_id\": 2, \"bbox\": [1, 2, 3, 4],"
			       " \"score\": 0.5}]" },
	{ "coco/val/1.jpg", "" },
	{ "fmnist/train/boot/1.png", "" },
	{ "fmnist/train/shirt/2.png", "" },
	{ "labels/e.json", "{\"folio_labels\": 1, \"objects\": [{\"class\": \"lion\"}]}" },
	{ "labels/e.jpg", "" },
	{ "voc/Annotations/v.xml",
	  "<annotation><filename>v.jpg</filename><size><width>10</width><height>10</height>"
	  "</size><object><name>zebra</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>"
	  "<ymax>5</ymax></bndbox></object></annotation>" },
	{ "voc/JPEGImages/v.jpg", "" },
	{ "yolo/data.yaml", "names: [cat, dog]\n" },
	{ "yolo/images/y.jpg", "" },
	{ "yolo/labels/y.txt", "1 0.5 0.5 0.5 0.5\n" },
	{ NULL, NULL },
};

FUZZ_LABELS_TARGET(files)
