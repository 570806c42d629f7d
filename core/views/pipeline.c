/*
 * pipeline.c — sets of samples, and the evaluation of a path of views
 * (include/folio/views.h has the contract).
 *
 * The evaluator knows no view by name: it splits a text into segments,
 * finds each @-name in the registry (registry.c), takes as many argument
 * segments as the view's arity (or as its accept() asks for), and runs
 * stages one after the other. Every stage is a pass over its input set and
 * allocates one output set; nothing here is cached (the daemon caches sets
 * per folder; outputs are cached by output.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

/* ---- sets -------------------------------------------------------------- */

int views_set_alloc(folio_set *out, size_t cap, int ordered)
{
	out->v = malloc((cap ? cap : 1) * sizeof *out->v);
	out->n = 0;
	out->ordered = ordered;
	return out->v ? 0 : folio_error_set(FOLIO_ENOMEM, "out of memory");
}

int folio_set_all(folio_set *out, const folio_index *ix)
{
	int rc = views_set_alloc(out, ix->nsamples, 0);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ix->nsamples; i++)
		out->v[out->n++] = (uint32_t)i;
	return 0;
}

int folio_set_copy(folio_set *out, const folio_set *in)
{
	int rc = views_set_alloc(out, in->n, in->ordered);
	if (rc < 0)
		return rc;
	memcpy(out->v, in->v, in->n * sizeof *in->v);
	out->n = in->n;
	return 0;
}

void folio_set_clear(folio_set *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- names ------------------------------------------------------------- */

/*
 * A ranked member is one flat file name, "<rank>_<path>": the rank
 * (1-based) zero-padded to the digits of the set's size, so that `ls`
 * lists the ranking in order, then the dataset path with '%' written "%25"
 * and '/' written "%2F". The path comes back exactly
 * (folio_set_name_decode), so cats/0003.jpg and dogs/0003.jpg stay apart,
 * and the extension stays last, so viewers still see an image.
 */
int folio_set_name(char *buf, size_t size, const folio_index *ix, const folio_set *s,
		   size_t i)
{
	const char *path = folio_index_path(ix, &ix->samples[s->v[i]]);
	size_t n;
	int k;

	if (!s->ordered) {
		k = snprintf(buf, size, "%s", path);
		if (k < 0 || (size_t)k >= size)
			goto too_long;
		return 0;
	}
	int width = 1;
	for (size_t m = s->n; m >= 10; m /= 10)
		width++;
	k = snprintf(buf, size, "%0*zu_", width, i + 1);
	if (k < 0 || (size_t)k >= size)
		goto too_long;
	n = (size_t)k;
	for (const char *p = path; *p; p++) {
		const char *esc = *p == '%' ? "%25" : *p == '/' ? "%2F" : NULL;
		size_t len = esc ? 3 : 1;
		if (n + len >= size)
			goto too_long;
		memcpy(buf + n, esc ? esc : p, len);
		n += len;
	}
	buf[n] = '\0';
	return 0;
too_long:
	return folio_error_set(FOLIO_EINVAL, "name too long: %s", path);
}

int folio_set_name_decode(char *path, size_t size, size_t *rank, const char *name)
{
	const char *p = name;
	size_t r = 0, n = 0;

	for (; isdigit((unsigned char)*p); p++) {
		if (r > (SIZE_MAX - 9) / 10)
			goto bad;
		r = r * 10 + (size_t)(*p - '0');
	}
	if (p == name || *p != '_' || r == 0 || !p[1])
		goto bad;
	for (p++; *p; p++) {
		char c = *p;
		if (c == '/')
			goto bad;
		if (c == '%') {
			if (p[1] == '2' && p[2] == '5')
				c = '%';
			else if (p[1] == '2' && (p[2] == 'F' || p[2] == 'f'))
				c = '/';
			else
				goto bad;
			p += 2;
		}
		if (n + 1 >= size)
			return folio_error_set(FOLIO_EINVAL, "'%s': the path is too long", name);
		path[n++] = c;
	}
	path[n] = '\0';
	if (folio_path_validate(path) < 0)
		return folio_error_set(FOLIO_EINVAL, "'%s' names '%s', which is not a dataset path",
				       name, path);
	if (rank)
		*rank = r;
	return 0;
bad:
	return folio_error_set(FOLIO_EINVAL,
		"'%s' is not a ranked name (<rank>_<path>, '/' written %%2F and '%%' %%25)", name);
}

/* ---- helpers of the view files ---------------------------------------- */

char *views_fmt(const char *f, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, f);
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

int folio_view_index(const folio_index **out, folio_view_ctx *ctx)
{
	*out = NULL;
	if (!ctx->ix && ctx->index) {
		const folio_index *ix = NULL;
		int rc = ctx->index(&ix, ctx);
		if (rc < 0)
			return rc;
		ctx->ix = ix;
	}
	if (!ctx->ix)
		return folio_error_set(FOLIO_EINVAL, "no sample table for this version");
	*out = ctx->ix;
	return 0;
}

int views_table(const folio_index **out, folio_view_ctx *ctx, const char *view)
{
	int rc = folio_view_index(out, ctx);
	return rc < 0 ? folio_error_wrap(rc, "%s", view) : 0;
}

void views_git_lock(folio_view_ctx *ctx)
{
	if (ctx->git_lock)
		pthread_mutex_lock(ctx->git_lock);
}

void views_git_unlock(folio_view_ctx *ctx)
{
	if (ctx->git_lock)
		pthread_mutex_unlock(ctx->git_lock);
}

int folio_view_read(void **out, size_t *len, const char *path, size_t max, folio_view_ctx *ctx)
{
	*out = NULL;
	*len = 0;
	if (ctx->read)
		return ctx->read(out, len, path, max, ctx);
	const folio_entry *e = ctx->tree ? folio_tree_find(ctx->tree, path) : NULL;
	if (!e)
		return folio_error_set(FOLIO_ENOTFOUND, "%s: not in this version", path);
	if (!ctx->repo)
		return folio_error_set(FOLIO_EINVAL, "%s: no repository to read it from", path);
	return folio_store_read_all(out, len, ctx->repo->store, &e->oid, max);
}

/* ---- menus -------------------------------------------------------------- */

int folio_view_menu_add(folio_view_menu *m, const char *name, int is_dir)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct folio_view_entry *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	if (!(m->v[m->n].name = strdup(name)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	m->v[m->n++].is_dir = is_dir;
	return 0;
}

void folio_view_menu_clear(folio_view_menu *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	memset(m, 0, sizeof *m);
}

int folio_view_accept(const folio_view *v, folio_view_ctx *ctx, const char *const *args,
		      size_t nargs)
{
	if (v->arity >= 0 && nargs > (size_t)v->arity)
		return folio_error_set(FOLIO_EINVAL, "%s: wants %d argument%s", v->name, v->arity,
				       v->arity == 1 ? "" : "s");
	if (v->accept)
		return v->accept(ctx, args, nargs);
	if (v->arity < 0)
		return folio_error_set(FOLIO_EINVAL, "%s: cannot check its arguments", v->name);
	return nargs < (size_t)v->arity ? FOLIO_VIEW_MORE : FOLIO_VIEW_DONE;
}

int folio_view_list(folio_view_menu *out, const folio_view *v, folio_view_ctx *ctx,
		    const folio_set *in, const char *const *args, size_t nargs)
{
	memset(out, 0, sizeof *out);
	if (!v->list)
		return 0;
	int rc = v->list(out, ctx, in, args, nargs);
	if (rc < 0)
		folio_view_menu_clear(out);
	return rc;
}

/* "@where, @by, ..." of one kind, for messages. */
static void kind_names(char *out, size_t size, folio_view_kind kind)
{
	const folio_view *const *r = folio_views();
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; r[i]; i++) {
		if (r[i]->kind != kind)
			continue;
		int w = snprintf(out + used, size - used, "%s%s", used ? ", " : "", r[i]->name);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
}

/* ---- evaluation --------------------------------------------------------- */

static int step(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
		const char *const *segs, size_t nsegs, int depth)
{
	const folio_view *v = folio_view_find(segs[0]);
	char names[512];
	int rc;

	*canon = NULL;
	memset(out, 0, sizeof *out);
	if (!v || v->kind != FOLIO_VIEW_STAGE) {
		kind_names(names, sizeof names, FOLIO_VIEW_STAGE);
		return folio_error_set(FOLIO_EINVAL, "%s: not a set stage (stages: %s)", segs[0],
				       names);
	}
	if ((rc = folio_view_accept(v, ctx, segs + 1, nsegs - 1)) < 0)
		return rc;
	if (rc != FOLIO_VIEW_DONE)
		return folio_error_set(FOLIO_EINVAL, "%s: wants %d argument%s", v->name, v->arity,
				       v->arity == 1 ? "" : "s");
	if ((rc = v->stage(out, canon, ctx, in, segs + 1, nsegs - 1, depth)) < 0) {
		folio_set_clear(out);
		free(*canon);
		*canon = NULL;
		return rc;
	}
	if (!*canon) {
		folio_set_clear(out);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	return 0;
}

int folio_pipeline_step(folio_set *out, char **canon, folio_view_ctx *ctx,
			const folio_set *in, const char *const *segs, size_t nsegs)
{
	return step(out, canon, ctx, in, segs, nsegs, 0);
}

/* Splits text at '/' (empty segments dropped) into a malloc'd copy. */
static int split(char **copy, char ***segs, size_t *n, const char *text)
{
	size_t max = 1;
	for (const char *p = text; *p; p++)
		max += *p == '/';
	*n = 0;
	*segs = NULL;
	if (!(*copy = strdup(text)) || !(*segs = malloc(max * sizeof **segs))) {
		free(*copy);
		*copy = NULL;
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	for (char *p = *copy; *p;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = 0;
		if (*p)
			(*segs)[(*n)++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

/* Appends a stage's canonical text to the pipeline's. */
static int canon_append(char **c, size_t *cl, const char *sc)
{
	size_t sl = strlen(sc);
	char *nc = realloc(*c, *cl + sl + 2);
	if (!nc)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	*c = nc;
	if (*cl && sl)
		nc[(*cl)++] = '/';
	memcpy(nc + *cl, sc, sl + 1);
	*cl += sl;
	return 0;
}

/*
 * Runs the stages of text from in (NULL: the whole version). With out_view
 * non-NULL, an output may end the text: its view and the position of its
 * arguments are returned; otherwise an output is an error.
 */
static int run(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
	       const char *text, int depth, const folio_view **out_view, char ***out_args,
	       size_t *out_nargs)
{
	char *copy = NULL, **segs = NULL, *c = NULL, names[512];
	size_t n = 0, cl = 0, nstages = 0;
	folio_set cur = { 0 };
	const folio_index *ix = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (canon)
		*canon = NULL;
	if ((rc = split(&copy, &segs, &n, text)) < 0)
		return rc;
	if (n > FOLIO_PIPELINE_MAX_STAGES * 3) {
		rc = folio_error_set(FOLIO_EINVAL, "pipeline: more than %d stages",
				     FOLIO_PIPELINE_MAX_STAGES);
		goto done;
	}
	/* a view of the version itself (@history) needs no set, nor a table */
	const folio_view *first = n ? folio_view_find(segs[0]) : NULL;
	if (in)
		rc = folio_set_copy(&cur, in);
	else if (first && (first->flags & FOLIO_VIEW_VERSION_ONLY) && out_view)
		rc = views_set_alloc(&cur, 0, 0);
	else if ((rc = folio_view_index(&ix, ctx)) == 0)
		rc = folio_set_all(&cur, ix);
	if (rc < 0)
		goto done;
	if (!(c = calloc(1, 1))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n;) {
		const folio_view *v = folio_view_find(segs[i]);
		if (!v) {
			kind_names(names, sizeof names, FOLIO_VIEW_STAGE);
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: '%s' is not a stage (stages: %s)",
					     segs[i], names);
			goto done;
		}
		if (v->kind == FOLIO_VIEW_OUTPUT && !out_view) {
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: %s is an output, not a set "
					     "stage (`folio query VERSION PIPELINE` shows outputs)",
					     v->name);
			goto done;
		}
		/* take arguments until the view has what it wants */
		size_t k = 0;
		for (;;) {
			rc = folio_view_accept(v, ctx, (const char *const *)segs + i + 1, k);
			if (rc < 0)
				goto done;
			if (rc == FOLIO_VIEW_DONE)
				break;
			if (i + 1 + k >= n) {
				rc = v->arity >= 0 ?
					folio_error_set(FOLIO_EINVAL, "pipeline: %s wants %d argument%s",
							v->name, v->arity, v->arity == 1 ? "" : "s") :
					folio_error_set(FOLIO_EINVAL, "pipeline: %s wants a path", v->name);
				goto done;
			}
			k++;
		}
		if (v->kind == FOLIO_VIEW_OUTPUT) {
			if (i + 1 + k != n) {
				rc = folio_error_set(FOLIO_EINVAL, "pipeline: %s is an output; nothing "
						     "can follow it (found '%s')", v->name,
						     segs[i + 1 + k]);
				goto done;
			}
			if ((v->flags & FOLIO_VIEW_VERSION_ONLY) && (i > 0 || in)) {
				rc = folio_error_set(FOLIO_EINVAL, "pipeline: %s is only at a version's "
						     "root, not after a stage", v->name);
				goto done;
			}
			*out_view = v;
			*out_nargs = k;
			if (!(*out_args = calloc(k ? k : 1, sizeof **out_args))) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				goto done;
			}
			for (size_t a = 0; a < k; a++)
				if (!((*out_args)[a] = strdup(segs[i + 1 + a]))) {
					rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
					goto done;
				}
			break;
		}
		if (++nstages > FOLIO_PIPELINE_MAX_STAGES) {
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: more than %d stages",
					     FOLIO_PIPELINE_MAX_STAGES);
			goto done;
		}
		folio_set next;
		char *sc;
		if ((rc = step(&next, &sc, ctx, &cur, (const char *const *)segs + i, k + 1,
			       depth)) < 0)
			goto done;
		folio_set_clear(&cur);
		cur = next;
		rc = canon_append(&c, &cl, sc);
		free(sc);
		if (rc < 0)
			goto done;
		i += 1 + k;
	}
	*out = cur;
	cur.v = NULL;
	if (canon) {
		*canon = c;
		c = NULL;
	}
done:
	folio_set_clear(&cur);
	free(c);
	free(segs);
	free(copy);
	return rc;
}

int folio_pipeline_run_from(folio_set *out, char **canon, folio_view_ctx *ctx,
			    const folio_set *in, const char *pipeline, int depth)
{
	return run(out, canon, ctx, in, pipeline, depth, NULL, NULL, NULL);
}

int folio_pipeline_run(folio_set *out, char **canon, folio_view_ctx *ctx,
		       const char *pipeline)
{
	return run(out, canon, ctx, NULL, pipeline, 0, NULL, NULL, NULL);
}

int folio_pipeline_resolve(folio_pipeline *out, folio_view_ctx *ctx, const char *text)
{
	int rc;

	memset(out, 0, sizeof *out);
	rc = run(&out->set, &out->canon, ctx, NULL, text, 0, &out->output, &out->args,
		 &out->nargs);
	if (rc < 0)
		folio_pipeline_clear(out);
	return rc;
}

void folio_pipeline_clear(folio_pipeline *p)
{
	folio_set_clear(&p->set);
	free(p->canon);
	for (size_t i = 0; p->args && i < p->nargs; i++)
		free(p->args[i]);
	free(p->args);
	memset(p, 0, sizeof *p);
}
