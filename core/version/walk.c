/*
 * walk.c — every object reachable from any ref, for fsck and gc.
 *
 * Workload: a history of many commits whose trees share almost everything
 * (each commit changes a few files of a big dataset). The walk therefore
 * keeps three id sets — commits, trees and blobs seen — so each shared
 * subtree is read once and each distinct file content reported once,
 * whatever the number of commits.
 *
 * The walk is its own traversal rather than a git_revwalk, so that one
 * unreadable commit, tree or blob is reported (bad_cb, *nbad) and skipped
 * while everything else is still checked; a revwalk stops at the first
 * broken commit. Only the caller's callback or running out of memory ends
 * it early.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/version.h"
#include "version/version_int.h"

#define MAX_DEPTH 2048

typedef struct pending {
	git_oid id;
	git_oid child; /* the commit that named it as parent (zero for tips) */
} pending;

typedef struct walk_ctx {
	git_repository *repo;
	git_odb *odb;
	version_oidset commits, trees, blobs;
	pending *stack;
	size_t nstack, capstack;
	char *path;
	size_t plen, pcap;
	char commit_hex[GIT_OID_HEXSZ + 1]; /* the commit being walked */
	folio_entry_cb cb;
	folio_bad_cb bad_cb;
	void *payload;
	size_t ncommits, nbad;
} walk_ctx;

static void bad(walk_ctx *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports one problem; the message also stays as the thread's error. */
static void bad(walk_ctx *w, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->nbad++;
	folio_error_set(FOLIO_ECORRUPT, "%s", msg);
	if (w->bad_cb)
		w->bad_cb(msg, w->payload);
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

static int push(walk_ctx *w, const git_oid *id, const git_oid *child)
{
	int added = version_oidset_add(&w->commits, id);

	if (added <= 0)
		return added;
	if (w->nstack == w->capstack) {
		size_t cap = w->capstack ? w->capstack * 2 : 64;
		pending *p = realloc(w->stack, cap * sizeof *p);
		if (!p)
			return folio_error_set(FOLIO_ENOMEM, "out of memory walking history");
		w->stack = p;
		w->capstack = cap;
	}
	w->stack[w->nstack].id = *id;
	if (child)
		w->stack[w->nstack].child = *child;
	else
		memset(&w->stack[w->nstack].child, 0, sizeof(git_oid));
	w->nstack++;
	return 0;
}

static int path_set(walk_ctx *w, size_t base, const char *name)
{
	size_t n = strlen(name);

	if (base + n + 2 > w->pcap) {
		size_t cap = (base + n + 2) * 2;
		char *p = realloc(w->path, cap);
		if (!p)
			return folio_error_set(FOLIO_ENOMEM, "out of memory building a path");
		w->path = p;
		w->pcap = cap;
	}
	memcpy(w->path + base, name, n + 1);
	w->plen = base + n;
	return 0;
}

/* Walks the tree id found at w->path (w->plen bytes, "" for the root). */
static int walk_tree(walk_ctx *w, const git_oid *tree_id, int depth)
{
	git_tree *tree = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	size_t base = w->plen;
	int rc = 0, err;

	git_oid_tostr(hex, sizeof hex, tree_id);
	if (depth > MAX_DEPTH) {
		bad(w, "tree %s at '%.200s' in commit %s nests deeper than %d levels",
		    hex, w->path, w->commit_hex, MAX_DEPTH);
		return 0;
	}
	if ((err = git_tree_lookup(&tree, w->repo, tree_id)) < 0) {
		bad(w, "tree %s ('%s' in commit %s) cannot be read: %s", hex,
		    base ? w->path : "/", w->commit_hex, git_msg());
		return 0;
	}
	size_t count = git_tree_entrycount(tree);
	for (size_t i = 0; i < count && rc == 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		const git_oid *id = git_tree_entry_id(te);
		git_object_t type = git_tree_entry_type(te);
		int added;

		if ((rc = path_set(w, base, git_tree_entry_name(te))) < 0)
			break;
		if (type == GIT_OBJECT_TREE) {
			if ((added = version_oidset_add(&w->trees, id)) < 0) {
				rc = added;
				break;
			}
			if (!added)
				continue;
			w->path[w->plen++] = '/';
			w->path[w->plen] = '\0';
			rc = walk_tree(w, id, depth + 1);
		} else if (type == GIT_OBJECT_BLOB) {
			folio_entry e;

			if ((added = version_oidset_add(&w->blobs, id)) < 0) {
				rc = added;
				break;
			}
			if (!added)
				continue;
			if (version_parse_blob(&e, w->odb, id, git_tree_entry_filemode(te),
					       w->path) < 0) {
				bad(w, "commit %s: %s", w->commit_hex, folio_error_last());
				continue;
			}
			/* Still reported to cb: gc must keep what it points to. */
			if (folio_path_validate(w->path) < 0)
				bad(w, "commit %s: unusable path: %s", w->commit_hex, folio_error_last());
			e.path = w->path;
			rc = w->cb ? w->cb(&e, w->commit_hex, w->payload) : 0;
		}
		/* Submodule entries name commits of other repositories: not
		 * ours to check. */
	}
	w->plen = base;
	w->path[base] = '\0';
	git_tree_free(tree);
	return rc;
}

/* Adds the commit a ref ends at to the walk. */
static int add_tip(walk_ctx *w, git_reference *ref)
{
	git_reference *resolved = NULL;
	git_object *obj = NULL, *peeled = NULL;
	const char *name = git_reference_name(ref);
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0, err;

	err = git_reference_resolve(&resolved, ref);
	if (err == GIT_ENOTFOUND) {
		/* A symbolic ref to a branch with no commits (unborn HEAD). */
		git_error_clear();
		return 0;
	}
	if (err < 0) {
		bad(w, "ref %s cannot be resolved: %s", name, git_msg());
		return 0;
	}
	git_oid_tostr(hex, sizeof hex, git_reference_target(resolved));
	if ((err = git_object_lookup(&obj, w->repo, git_reference_target(resolved),
				     GIT_OBJECT_ANY)) < 0) {
		bad(w, "ref %s points to %s, which cannot be read: %s", name, hex, git_msg());
		goto cleanup;
	}
	err = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	if (err == GIT_EPEEL || err == GIT_EINVALIDSPEC) {
		/* A tag of a tree or blob: not a version. */
		git_error_clear();
		goto cleanup;
	}
	if (err < 0) {
		bad(w, "ref %s (%s) does not lead to a readable commit: %s", name, hex, git_msg());
		goto cleanup;
	}
	rc = push(w, git_object_id(peeled), NULL);
cleanup:
	git_object_free(peeled);
	git_object_free(obj);
	git_reference_free(resolved);
	return rc;
}

static int add_tips(walk_ctx *w)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int rc = 0, err;

	if (git_reference_lookup(&ref, w->repo, "HEAD") == 0)
		rc = add_tip(w, ref);
	else
		bad(w, "HEAD cannot be read: %s", git_msg());
	git_reference_free(ref);
	ref = NULL;
	if (rc < 0)
		return rc;
	if ((err = git_reference_iterator_new(&it, w->repo)) < 0)
		return version_git_error(err, 0, "cannot list refs");
	while (rc == 0 && (err = git_reference_next(&ref, it)) != GIT_ITEROVER) {
		if (err < 0) {
			/* A ref file that cannot be parsed: report, go on. */
			bad(w, "a ref cannot be read: %s", git_msg());
			continue;
		}
		rc = add_tip(w, ref);
		git_reference_free(ref);
		ref = NULL;
	}
	git_reference_iterator_free(it);
	return rc;
}

int folio_version_walk_reachable(size_t *ncommits, size_t *nbad, folio_version *v,
				 folio_entry_cb cb, folio_bad_cb bad_cb, void *payload)
{
	walk_ctx w = {0};
	int rc, err;

	w.repo = v->repo;
	w.cb = cb;
	w.bad_cb = bad_cb;
	w.payload = payload;
	version_oidset_init(&w.commits);
	version_oidset_init(&w.trees);
	version_oidset_init(&w.blobs);
	if ((err = git_repository_odb(&w.odb, v->repo)) < 0) {
		rc = version_git_error(err, 0, "cannot open the object database of %s", v->gitdir);
		goto cleanup;
	}
	if ((rc = path_set(&w, 0, "")) < 0 || (rc = add_tips(&w)) < 0)
		goto cleanup;
	while (w.nstack && rc == 0) {
		pending p = w.stack[--w.nstack];
		git_commit *c = NULL;
		char hex[GIT_OID_HEXSZ + 1], child[GIT_OID_HEXSZ + 1];
		const git_oid *tree_id;
		int added;

		git_oid_tostr(hex, sizeof hex, &p.id);
		if ((err = git_commit_lookup(&c, w.repo, &p.id)) < 0) {
			git_oid_tostr(child, sizeof child, &p.child);
			if (git_oid_is_zero(&p.child))
				bad(&w, "commit %s cannot be read: %s", hex, git_msg());
			else
				bad(&w, "commit %s (parent of %s) cannot be read: %s", hex, child,
				    git_msg());
			continue;
		}
		w.ncommits++;
		memcpy(w.commit_hex, hex, sizeof hex);
		tree_id = git_commit_tree_id(c);
		if ((added = version_oidset_add(&w.trees, tree_id)) < 0)
			rc = added;
		else if (added)
			rc = walk_tree(&w, tree_id, 0);
		for (unsigned i = 0; rc == 0 && i < git_commit_parentcount(c); i++)
			rc = push(&w, git_commit_parent_id(c, i), &p.id);
		git_commit_free(c);
	}
cleanup:
	if (ncommits)
		*ncommits = w.ncommits;
	if (nbad)
		*nbad = w.nbad;
	git_odb_free(w.odb);
	version_oidset_clear(&w.commits);
	version_oidset_clear(&w.trees);
	version_oidset_clear(&w.blobs);
	free(w.stack);
	free(w.path);
	return rc;
}
