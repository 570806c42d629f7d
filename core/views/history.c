/*
 * history.c — @history/PATH: every version of one file, as a folder of
 * files named by commit date and id ("2026-11-30T101500Z-1a2b3c4d5e6f.jpg"),
 * oldest first, one per commit that gave the file new content (or brought
 * it back). Names sort in history order: later versions made in the same
 * second as the one before are "...Z01-<id>", "...Z02-<id>". At the stage, the staged content comes last as "staged<ext>"
 * when it differs from HEAD's.
 *
 * It only exists at a version's root (a set has no history). The menu
 * folders mirror the version's folders, so `ls @history/cats/` lists the
 * files one can ask about. History is read from git one commit at a time
 * (the file's entry only, not the whole tree), at most HISTORY_MAX commits
 * back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

#define HISTORY_MAX 1000   /* commits walked back from a version */

/* args joined with '/' into out. */
static int join(char *out, size_t size, const char *const *args, size_t nargs)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < nargs; i++) {
		int w = snprintf(out + used, size - used, "%s%s", i ? "/" : "", args[i]);
		if (w < 0 || (size_t)w >= size - used)
			return folio_error_set(FOLIO_EINVAL, "@history: path too long");
		used += (size_t)w;
	}
	return 0;
}

/* Whether the version has a file at path (1), a folder (2), or neither (0). */
static int what_is(const folio_tree *t, const char *path)
{
	char dir[FOLIO_PATH_BUF];

	if (!*path)
		return 2;
	if (!t)
		return 0;
	if (folio_tree_find(t, path))
		return 1;
	if (folio_path_format(dir, sizeof dir, "%s/", path) < 0)
		return 0;
	size_t i = folio_tree_lower_bound(t, dir);
	return i < t->n && !strncmp(t->v[i].path, dir, strlen(dir)) ? 2 : 0;
}

static int history_accept(folio_view_ctx *ctx, const char *const *args, size_t nargs)
{
	char path[FOLIO_PATH_BUF];
	int rc;

	if ((rc = join(path, sizeof path, args, nargs)) < 0)
		return rc;
	switch (what_is(ctx->tree, path)) {
	case 1: return FOLIO_VIEW_DONE;
	case 2: return FOLIO_VIEW_MORE;
	default: return folio_error_set(FOLIO_ENOTFOUND, "@history/%s: no such file in this version",
					path);
	}
}

static int history_list(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
			const char *const *args, size_t nargs)
{
	char dir[FOLIO_PATH_BUF], last[FOLIO_PATH_BUF] = "";
	const folio_tree *t = ctx->tree;
	int rc;

	(void)in;
	if (!t)
		return 0;
	if ((rc = join(dir, sizeof dir, args, nargs)) < 0)
		return rc;
	size_t dl = strlen(dir);
	if (dl) {
		if (dl + 2 > sizeof dir)
			return folio_error_set(FOLIO_EINVAL, "@history: path too long");
		dir[dl++] = '/';
		dir[dl] = '\0';
	}
	/* the run of paths under dir/, each child named once */
	for (size_t i = folio_tree_lower_bound(t, dir); i < t->n; i++) {
		const char *p = t->v[i].path;
		if (strncmp(p, dir, dl))
			break;
		const char *name = p + dl, *slash = strchr(name, '/');
		size_t nl = slash ? (size_t)(slash - name) : strlen(name);
		if (nl >= sizeof last || (!strncmp(last, name, nl) && last[nl] == '\0'))
			continue;
		memcpy(last, name, nl);
		last[nl] = '\0';
		if ((rc = folio_view_menu_add(out, last, slash != NULL)) < 0)
			return rc;
	}
	return 0;
}

typedef struct hist {
	char (*ids)[FOLIO_COMMIT_HEXSZ + 1];
	int64_t *times;
	size_t n, cap;
} hist;

static int hist_cb(const folio_commit_info *ci, void *payload)
{
	hist *h = payload;
	if (h->n == h->cap) {
		size_t c = h->cap ? h->cap * 2 : 64;
		void *a = realloc(h->ids, c * sizeof *h->ids);
		if (!a)
			return -1;
		h->ids = a;
		void *b = realloc(h->times, c * sizeof *h->times);
		if (!b)
			return -1;
		h->times = b;
		h->cap = c;
	}
	memcpy(h->ids[h->n], ci->id, sizeof h->ids[h->n]);
	h->times[h->n++] = ci->time;
	return 0;
}

/* The extension of path, if short ("" if none). */
static const char *ext_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	return dot && (!slash || dot > slash) && strlen(dot) < 16 ? dot : "";
}

static int history_output(folio_view_out *out, folio_view_ctx *ctx, const folio_view_input *in,
			  const char *const *args, size_t nargs)
{
	char path[FOLIO_PATH_BUF];
	folio_entry last, e;
	int64_t last_time = 0;
	int have_last = 0, tie = 0, rc;
	hist h = { 0 };

	(void)in;
	if ((rc = join(path, sizeof path, args, nargs)) < 0)
		return rc;
	if (!ctx->repo)
		return folio_error_set(FOLIO_EINVAL, "@history: no repository");
	int stage = !ctx->version || !*ctx->version;
	views_git_lock(ctx);
	rc = folio_version_log(ctx->repo->version, stage ? "HEAD" : ctx->version, HISTORY_MAX,
			       hist_cb, &h);
	views_git_unlock(ctx);
	if (rc < 0 && !(stage && rc == FOLIO_ENOTFOUND))   /* a branch with no commit yet */
		goto done;
	rc = 0;
	/* oldest first: keep a commit when the content differs from the last
	 * one kept, or the file came back */
	for (size_t i = h.n; i-- > 0 && rc == 0;) {
		views_git_lock(ctx);
		rc = folio_version_read_entry(&e, ctx->repo->version, h.ids[i], path);
		views_git_unlock(ctx);
		if (rc == FOLIO_ENOTFOUND) {
			have_last = 0;
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		if (have_last && !folio_oid_cmp(&last.oid, &e.oid) && last.mode == e.mode)
			continue;
		char name[128];
		struct tm tm;
		time_t t = (time_t)h.times[i];
		gmtime_r(&t, &tm);
		size_t k = strftime(name, sizeof name, "%Y-%m-%dT%H%M%SZ", &tm);
		/* later commits of the same second: Z01, Z02, ... sort after Z- */
		tie = out->files.n && h.times[i] == last_time ? tie + 1 : 0;
		if (tie)
			k += (size_t)snprintf(name + k, sizeof name - k, "%02d", tie < 99 ? tie : 99);
		snprintf(name + k, sizeof name - k, "-%.12s%s", h.ids[i], ext_of(path));
		last_time = h.times[i];
		e.path = name;
		rc = folio_tree_push(&out->files, &e);
		last = e;
		have_last = 1;
	}
	if (rc == 0 && stage) {
		const folio_entry *s = ctx->tree ? folio_tree_find(ctx->tree, path) : NULL;
		if (s && (!have_last || folio_oid_cmp(&last.oid, &s->oid) || last.mode != s->mode)) {
			char name[64];
			snprintf(name, sizeof name, "staged%s", ext_of(path));
			e = *s;
			e.path = name;
			rc = folio_tree_push(&out->files, &e);
		}
	}
done:
	free(h.ids);
	free(h.times);
	return rc < 0 ? folio_error_wrap(rc, "@history/%s", path) : 0;
}

const folio_view views_history = {
	.name = "@history",
	.kind = FOLIO_VIEW_OUTPUT,
	.arity = FOLIO_VIEW_PATH_ARGS,
	.flags = FOLIO_VIEW_VERSION_ONLY,
	.summary = "every version of a file, named by commit date and id: @history/cats/0001.jpg",
	.accept = history_accept,
	.list = history_list,
	.output = history_output,
};
