/*
 * diff.h — what changed between two trees: added, removed, modified and
 * renamed paths. A rename is a removed path whose exact content (object id)
 * appears at an added path; each added path pairs with at most one removed.
 */
#ifndef FOLIO_DIFF_H
#define FOLIO_DIFF_H

#include "folio/tree.h"

typedef enum folio_diff_status {
	FOLIO_DIFF_ADDED = 'A',
	FOLIO_DIFF_REMOVED = 'D',
	FOLIO_DIFF_MODIFIED = 'M',
	FOLIO_DIFF_RENAMED = 'R',
} folio_diff_status;

typedef struct folio_diff_item {
	folio_diff_status status;
	const folio_entry *a; /* old side: NULL when added */
	const folio_entry *b; /* new side: NULL when removed */
} folio_diff_item;

typedef struct folio_diff {
	folio_diff_item *v;
	size_t n;
	size_t added, removed, modified, renamed;
} folio_diff;

/* a and b must be sorted and outlive the result. Items are ordered by the
 * path they concern (the new path for renames). */
int folio_diff_trees(folio_diff *out, const folio_tree *a, const folio_tree *b);
void folio_diff_clear(folio_diff *d);

#endif
