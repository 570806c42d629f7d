/*
 * labels_imagefolder.c — fuzz target for what label detection reads from
 * paths alone (core/labels/imagefolder.c and paths.c): ImageFolder
 * classes, splits from folder names, YOLO stems. The input is a version's
 * file list, one path per line; like a real version it keeps only safe
 * paths (folio_path_validate), once each, and no path that is both a file
 * and a folder. Every file is empty.
 */
#include <string.h>

#include "folio/repo.h"
#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_input in = { NULL, data, size };
	char *text = malloc(size + 1);
	folio_tree t;

	folio_tree_init(&t);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = text, *next; line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		folio_entry e = { 0 };
		e.path = line;
		e.kind = FOLIO_ENTRY_BLOB;
		e.mode = FOLIO_MODE_FILE;
		if (folio_path_validate(line) == 0 && folio_tree_push(&t, &e) < 0)
			goto done;
	}
	folio_tree_sort(&t);
	for (size_t i = 1; i < t.n;)
		if (strcmp(t.v[i - 1].path, t.v[i].path) == 0)
			folio_tree_remove_at(&t, i);
		else
			i++;
	if (folio_tree_check_conflicts(&t) == 0)
		fuzz_labels_tree(&t, &in);
done:
	folio_tree_clear(&t);
	free(text);
	return 0;
}
