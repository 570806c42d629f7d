/*
 * refs.c — HEAD, branches and tags.
 *
 * Branches are refs/heads/<name>, tags refs/tags/<name> (lightweight, or
 * annotated tag objects when a message is given), exactly as git keeps
 * them, so stock git sees the same history. Names are checked with
 * libgit2's ref-name rules before anything is written, and the errors
 * callers act on are distinct: FOLIO_EINVAL (bad name, deleting the
 * checked-out branch), FOLIO_EEXISTS (exists, no force), FOLIO_ENOTFOUND.
 *
 * Every ref change goes through libgit2's lock file + fsync + rename and
 * leaves a reflog entry (core.logAllRefUpdates is set at init).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/version.h"
#include "version/version_int.h"

#define HEADS "refs/heads/"
#define TAGS "refs/tags/"

static int check_name(const char *prefix, const char *name, const char *what)
{
	char full[1100];
	int valid = 0;

	if (!name || !*name)
		return folio_error_set(FOLIO_EINVAL, "empty %s name", what);
	if (strlen(name) >= sizeof(((folio_ref_info *)0)->name))
		return folio_error_set(FOLIO_EINVAL, "%s name '%.40s...' is too long", what, name);
	snprintf(full, sizeof full, "%s%s", prefix, name);
	/* "HEAD", "@" and names starting with '-' are valid ref components
	 * but would be confused with HEAD and with options by every tool
	 * (git itself refuses them as branch names). */
	if (git_reference_name_is_valid(&valid, full) < 0 || !valid ||
	    strcmp(name, "HEAD") == 0 || strcmp(name, "@") == 0 || name[0] == '-')
		return folio_error_set(FOLIO_EINVAL,
			"'%s' is not a valid %s name (git ref name rules: no spaces, '..', '~', '^', ':', "
			"'?', '*', '[', '\\', no leading '-' or '.', no trailing '/' or '.lock')",
			name, what);
	git_error_clear();
	return 0;
}

int folio_version_head(char **branch_out, char head_hex[FOLIO_COMMIT_HEXSZ + 1],
		       folio_version *v)
{
	git_reference *head = NULL;
	git_oid id;
	const char *target;
	int rc = 0, err;

	*branch_out = NULL;
	head_hex[0] = '\0';
	if ((err = git_reference_lookup(&head, v->repo, "HEAD")) < 0)
		return version_git_error(err, FOLIO_ECORRUPT, "cannot read HEAD of %s", v->gitdir);
	if (git_reference_type(head) == GIT_REFERENCE_DIRECT) {
		version_oid_hex(head_hex, git_reference_target(head));
		goto cleanup;
	}
	target = git_reference_symbolic_target(head);
	if (!(*branch_out = strdup(strncmp(target, HEADS, strlen(HEADS)) == 0 ?
				   target + strlen(HEADS) : target))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	err = git_reference_name_to_id(&id, v->repo, target);
	if (err == 0) {
		version_oid_hex(head_hex, &id);
	} else if (err == GIT_ENOTFOUND) {
		git_error_clear(); /* unborn branch */
	} else {
		rc = version_git_error(err, 0, "cannot read branch %s", *branch_out);
		free(*branch_out);
		*branch_out = NULL;
	}
cleanup:
	git_reference_free(head);
	return rc;
}

/* 1 if the repository has no refs at all (nothing committed yet). */
static int no_refs(git_repository *repo)
{
	git_reference_iterator *it = NULL;
	const char *name;
	int empty = 0;

	if (git_reference_iterator_new(&it, repo) < 0) {
		git_error_clear();
		return 0;
	}
	if (git_reference_next_name(&name, it) == GIT_ITEROVER)
		empty = 1;
	git_error_clear();
	git_reference_iterator_free(it);
	return empty;
}

int folio_version_set_head(folio_version *v, const char *branch)
{
	char full[1100];
	git_reference *ref = NULL;
	int rc, err;

	if ((rc = check_name(HEADS, branch, "branch")) < 0)
		return rc;
	snprintf(full, sizeof full, HEADS "%s", branch);
	err = git_reference_lookup(&ref, v->repo, full);
	git_reference_free(ref);
	if (err == GIT_ENOTFOUND && !no_refs(v->repo))
		return folio_error_set(FOLIO_ENOTFOUND,
			"no branch named '%s'; see `folio branch`", branch);
	if (err < 0 && err != GIT_ENOTFOUND)
		return version_git_error(err, 0, "cannot read branch %s", branch);
	if ((err = git_repository_set_head(v->repo, full)) < 0)
		return version_git_error(err, 0, "cannot point HEAD at branch %s", branch);
	return 0;
}

int folio_version_branch_create(folio_version *v, const char *name,
				const char *start_spec, int force)
{
	git_commit *start = NULL;
	git_reference *ref = NULL;
	int rc, err;

	if ((rc = check_name(HEADS, name, "branch")) < 0)
		return rc;
	if ((rc = version_resolve_commit(&start, v, start_spec ? start_spec : "HEAD")) < 0)
		return rc;
	err = git_branch_create(&ref, v->repo, name, start, force ? 1 : 0);
	if (err == GIT_EEXISTS)
		rc = folio_error_set(FOLIO_EEXISTS,
			"branch '%s' already exists (force to move it)", name);
	else if (err < 0)
		rc = version_git_error(err, 0, "cannot create branch %s", name);
	git_reference_free(ref);
	git_commit_free(start);
	return rc;
}

int folio_version_branch_delete(folio_version *v, const char *name)
{
	git_reference *ref = NULL;
	int rc = 0, err;

	if ((rc = check_name(HEADS, name, "branch")) < 0)
		return rc;
	err = git_branch_lookup(&ref, v->repo, name, GIT_BRANCH_LOCAL);
	if (err == GIT_ENOTFOUND)
		return folio_error_set(FOLIO_ENOTFOUND, "no branch named '%s'; see `folio branch`", name);
	if (err < 0)
		return version_git_error(err, 0, "cannot read branch %s", name);
	err = git_branch_is_head(ref);
	if (err == 1) {
		rc = folio_error_set(FOLIO_EINVAL,
			"cannot delete branch '%s': HEAD points to it; switch to another branch first",
			name);
		goto cleanup;
	}
	/*
	 * git_reference_delete rather than git_branch_delete: the latter
	 * also drops the [branch "name"] config section, which folio never
	 * writes, and in libgit2 1.5 its regex config scan leaks the pcre2
	 * match data on every non-matching key.
	 */
	if (err < 0 || (err = git_reference_delete(ref)) < 0)
		rc = version_git_error(err, 0, "cannot delete branch %s", name);
cleanup:
	git_reference_free(ref);
	return rc;
}

int folio_version_tag_create(folio_version *v, const char *name,
			     const char *spec, const char *message, int force)
{
	git_commit *target = NULL;
	git_signature *sig = NULL;
	folio_signature ident;
	git_oid id;
	char *msg = NULL;
	int rc, err;

	if ((rc = check_name(TAGS, name, "tag")) < 0)
		return rc;
	if ((rc = version_resolve_commit(&target, v, spec ? spec : "HEAD")) < 0)
		return rc;
	if (!message) {
		err = git_tag_create_lightweight(&id, v->repo, name, (git_object *)target,
						 force ? 1 : 0);
	} else {
		size_t n = strlen(message);
		if ((rc = folio_version_identity(&ident, v)) < 0)
			goto cleanup;
		if ((err = git_signature_now(&sig, ident.name, ident.email)) < 0) {
			rc = version_git_error(err, FOLIO_EINVAL, "bad tagger '%s <%s>'",
					       ident.name, ident.email);
			goto cleanup;
		}
		if (!(msg = malloc(n + 2))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		memcpy(msg, message, n + 1);
		if (n && message[n - 1] != '\n')
			memcpy(msg + n, "\n", 2);
		err = git_tag_create(&id, v->repo, name, (git_object *)target, sig, msg,
				     force ? 1 : 0);
	}
	if (err == GIT_EEXISTS)
		rc = folio_error_set(FOLIO_EEXISTS, "tag '%s' already exists (force to move it)", name);
	else if (err < 0)
		rc = version_git_error(err, 0, "cannot create tag %s", name);
cleanup:
	free(msg);
	git_signature_free(sig);
	git_commit_free(target);
	return rc;
}

int folio_version_tag_delete(folio_version *v, const char *name)
{
	int rc, err;

	if ((rc = check_name(TAGS, name, "tag")) < 0)
		return rc;
	err = git_tag_delete(v->repo, name);
	if (err == GIT_ENOTFOUND)
		return folio_error_set(FOLIO_ENOTFOUND, "no tag named '%s'; see `folio tag`", name);
	if (err < 0)
		return version_git_error(err, 0, "cannot delete tag %s", name);
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const folio_ref_info *)a)->name, ((const folio_ref_info *)b)->name);
}

int folio_version_refs(folio_version *v, int tags, folio_ref_cb cb, void *payload)
{
	const char *prefix = tags ? TAGS : HEADS;
	size_t plen = strlen(prefix);
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL, *head = NULL;
	git_object *peeled = NULL;
	folio_ref_info *list = NULL;
	size_t n = 0, cap = 0;
	const char *head_target = NULL;
	int rc = 0, err;

	if (git_reference_lookup(&head, v->repo, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
		head_target = git_reference_symbolic_target(head);
	git_error_clear();
	if ((err = git_reference_iterator_new(&it, v->repo)) < 0) {
		rc = version_git_error(err, 0, "cannot list the refs of %s", v->gitdir);
		goto cleanup;
	}
	while ((err = git_reference_next(&ref, it)) == 0) {
		const char *full = git_reference_name(ref);
		folio_ref_info *r;

		if (strncmp(full, prefix, plen) != 0 || strlen(full + plen) >= sizeof r->name) {
			git_reference_free(ref);
			ref = NULL;
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			folio_ref_info *p = realloc(list, ncap * sizeof *p);
			if (!p) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory listing refs");
				goto cleanup;
			}
			list = p;
			cap = ncap;
		}
		r = &list[n++];
		memset(r, 0, sizeof *r);
		memcpy(r->name, full + plen, strlen(full + plen) + 1);
		r->is_head = !tags && head_target && strcmp(head_target, full) == 0;
		/* A tag of a tree or blob has no commit to show: target "". */
		if (git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0)
			version_oid_hex(r->target, git_object_id(peeled));
		git_error_clear();
		git_object_free(peeled);
		peeled = NULL;
		git_reference_free(ref);
		ref = NULL;
	}
	if (err != GIT_ITEROVER) {
		rc = version_git_error(err, 0, "cannot list the refs of %s", v->gitdir);
		goto cleanup;
	}
	if (n)
		qsort(list, n, sizeof *list, cmp_ref);
	for (size_t i = 0; i < n; i++)
		if ((rc = cb(&list[i], payload)) != 0)
			break;
cleanup:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_reference_free(head);
	free(list);
	return rc;
}
