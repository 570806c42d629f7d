/*
 * diff.c — comparing two sorted trees.
 *
 * One merge pass over both path-sorted lists finds added, removed and
 * modified paths; renames are then found by matching removed entries with
 * added ones of the same content through a sort by object id, so the whole
 * diff is O(n log n) for trees of any size.
 */
#include <stdlib.h>
#include <string.h>

#include "folio/diff.h"
#include "folio/error.h"

static int same_content(const folio_entry *x, const folio_entry *y)
{
	return x->kind == y->kind && x->mode == y->mode &&
	       x->size == y->size && folio_oid_cmp(&x->oid, &y->oid) == 0;
}

static int push(folio_diff *d, size_t *cap, folio_diff_status s,
		const folio_entry *a, const folio_entry *b)
{
	if (d->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		folio_diff_item *v = realloc(d->v, nc * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory comparing trees");
		d->v = v;
		*cap = nc;
	}
	d->v[d->n++] = (folio_diff_item){ s, a, b };
	return 0;
}

static int cmp_by_oid(const void *x, const void *y)
{
	const folio_diff_item *a = x, *b = y;
	const folio_entry *ea = a->a ? a->a : a->b, *eb = b->a ? b->a : b->b;
	int c = folio_oid_cmp(&ea->oid, &eb->oid);

	return c ? c : strcmp(ea->path, eb->path);
}

static const char *item_path(const folio_diff_item *it)
{
	return it->b ? it->b->path : it->a->path;
}

static int cmp_by_path(const void *x, const void *y)
{
	return strcmp(item_path(x), item_path(y));
}

int folio_diff_trees(folio_diff *out, const folio_tree *a, const folio_tree *b)
{
	size_t cap = 0, i = 0, j = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].path, b->v[j].path);
		if (c < 0)
			rc = push(out, &cap, FOLIO_DIFF_REMOVED, &a->v[i++], NULL);
		else if (c > 0)
			rc = push(out, &cap, FOLIO_DIFF_ADDED, NULL, &b->v[j++]);
		else {
			if (!same_content(&a->v[i], &b->v[j]))
				rc = push(out, &cap, FOLIO_DIFF_MODIFIED, &a->v[i], &b->v[j]);
			i++, j++;
		}
		if (rc < 0)
			goto fail;
	}

	/* Pair removed and added entries with equal content as renames. */
	size_t nrem = 0, nadd = 0;
	for (size_t k = 0; k < out->n; k++) {
		nrem += out->v[k].status == FOLIO_DIFF_REMOVED;
		nadd += out->v[k].status == FOLIO_DIFF_ADDED;
	}
	if (nrem && nadd) {
		folio_diff_item *rem = malloc(nrem * sizeof *rem);
		folio_diff_item *add = malloc(nadd * sizeof *add);
		if (!rem || !add) {
			free(rem);
			free(add);
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory comparing trees");
			goto fail;
		}
		size_t r = 0, s = 0, w = 0;
		for (size_t k = 0; k < out->n; k++) {
			if (out->v[k].status == FOLIO_DIFF_REMOVED)
				rem[r++] = out->v[k];
			else if (out->v[k].status == FOLIO_DIFF_ADDED)
				add[s++] = out->v[k];
			else
				out->v[w++] = out->v[k];
		}
		qsort(rem, nrem, sizeof *rem, cmp_by_oid);
		qsort(add, nadd, sizeof *add, cmp_by_oid);
		r = s = 0;
		while (r < nrem || s < nadd) {
			int c = r == nrem ? 1 : s == nadd ? -1 :
				folio_oid_cmp(&rem[r].a->oid, &add[s].b->oid);
			if (c == 0 && same_content(rem[r].a, add[s].b)) {
				out->v[w++] = (folio_diff_item){ FOLIO_DIFF_RENAMED, rem[r].a, add[s].b };
				r++, s++;
			} else if (c < 0 || (c == 0 && s == nadd)) {
				out->v[w++] = rem[r++];
			} else {
				out->v[w++] = add[s++];
			}
		}
		out->n = w;
		free(rem);
		free(add);
		qsort(out->v, out->n, sizeof *out->v, cmp_by_path);
	}
	for (size_t k = 0; k < out->n; k++) {
		switch (out->v[k].status) {
		case FOLIO_DIFF_ADDED: out->added++; break;
		case FOLIO_DIFF_REMOVED: out->removed++; break;
		case FOLIO_DIFF_MODIFIED: out->modified++; break;
		case FOLIO_DIFF_RENAMED: out->renamed++; break;
		}
	}
	return 0;
fail:
	folio_diff_clear(out);
	return rc;
}

void folio_diff_clear(folio_diff *d)
{
	free(d->v);
	memset(d, 0, sizeof *d);
}
