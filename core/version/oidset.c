/*
 * oidset.c — a set of git object ids, for walks that must visit each tree
 * and blob once (a dataset history shares almost all of its objects between
 * commits, so without it a walk would be commits x files).
 *
 * Open addressing with linear probing over a power-of-two table, kept at
 * most half full. Git ids are SHA-1 digests, so their first bytes are
 * already uniformly distributed and serve as the hash.
 */
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "version/version_int.h"

static int is_zero(const git_oid *id)
{
	static const git_oid zero;

	return memcmp(id->id, zero.id, GIT_OID_RAWSZ) == 0;
}

static size_t slot_of(const git_oid *id, size_t cap)
{
	size_t h;

	memcpy(&h, id->id, sizeof h);
	return h & (cap - 1);
}

void version_oidset_init(version_oidset *s)
{
	memset(s, 0, sizeof *s);
}

void version_oidset_clear(version_oidset *s)
{
	free(s->slots);
	version_oidset_init(s);
}

int version_oidset_has(const version_oidset *s, const git_oid *id)
{
	if (is_zero(id))
		return s->has_zero;
	if (!s->cap)
		return 0;
	for (size_t i = slot_of(id, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (is_zero(&s->slots[i]))
			return 0;
		if (memcmp(s->slots[i].id, id->id, GIT_OID_RAWSZ) == 0)
			return 1;
	}
}

static void place(git_oid *slots, size_t cap, const git_oid *id)
{
	size_t i = slot_of(id, cap);

	while (!is_zero(&slots[i]))
		i = (i + 1) & (cap - 1);
	slots[i] = *id;
}

static int grow(version_oidset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	git_oid *slots = calloc(cap, sizeof *slots);

	if (!slots)
		return folio_error_set(FOLIO_ENOMEM,
			"out of memory growing a set of git object ids to %zu", cap);
	for (size_t i = 0; i < s->cap; i++)
		if (!is_zero(&s->slots[i]))
			place(slots, cap, &s->slots[i]);
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

int version_oidset_add(version_oidset *s, const git_oid *id)
{
	int rc;

	if (is_zero(id)) {
		if (s->has_zero)
			return 0;
		s->has_zero = 1;
		return 1;
	}
	if (version_oidset_has(s, id))
		return 0;
	if ((s->n + 1) * 2 > s->cap && (rc = grow(s)) < 0)
		return rc;
	place(s->slots, s->cap, id);
	s->n++;
	return 1;
}
