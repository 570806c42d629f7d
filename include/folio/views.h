/*
 * views.h — views: the @-names inside a version folder (core/views).
 *
 * A view is a path segment that starts with '@' and takes a fixed number of
 * argument segments after it (or, for @history, a dataset path). There are
 * two kinds:
 *
 *   stages   take a set of samples and give a set (@where/EXPR, @by/F/V,
 *            @slices/NAME, @sample/N, @sort/F, @limit/N, @balance/F,
 *            @issues/TYPE), so they chain: @where/class=car/@sort/-brightness
 *   outputs  take a set and give files (@stats, @export/FORMAT, @preview,
 *            @history/PATH), computed on first access and cached
 *
 * Every view is one entry of the registry (registry.c): its name, kind,
 * arity, how to list the names of its menu folders, and how to compute it.
 * The pipeline evaluator below, the FUSE daemon (fs/views.c) and `folio
 * query` all read the registry, so a new view is one file in core/views/,
 * one registry row, its docs and its tests.
 *
 * A set is a list of row numbers of one folio_index. It is either in path
 * order (`ordered` = 0; members are listed under their own dataset paths)
 * or ranked (`ordered` = 1, after @sort; members are listed flat under
 * rank names, folio_set_name). @where, @by, @sample, @limit and @balance
 * keep the order they are given.
 *
 * An output is a sorted list of files (a folio_tree): each entry names an
 * object of the repository's store (an image of the version, under a new
 * name) or of the generated-files store (ctx->gen, REPO/cache/objects).
 * The daemon maps it to nodes; the CLI copies it out (folio_view_write).
 */
#ifndef FOLIO_VIEWS_H
#define FOLIO_VIEWS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/expr.h"
#include "folio/index.h"
#include "folio/repo.h"

/* ---- sets ---------------------------------------------------------------- */

typedef struct folio_set {
	uint32_t *v;             /* row numbers in the index */
	size_t n;
	int ordered;             /* 1: ranked (see above) */
} folio_set;

/* Longest pipeline: stages, and nesting of slices in slices. */
#define FOLIO_PIPELINE_MAX_STAGES 64
#define FOLIO_SLICE_MAX_DEPTH 8
/* Name of the facet folder of samples with no value. */
#define FOLIO_FACET_NONE "_none"

/* What folio_expr_eval is given for a row. */
typedef struct folio_sample_ref {
	const folio_index *ix;
	const folio_sample *s;
} folio_sample_ref;
extern const folio_sample_ops folio_index_sample_ops;

int folio_set_all(folio_set *out, const folio_index *ix);
int folio_set_copy(folio_set *out, const folio_set *in);
void folio_set_clear(folio_set *s);

int folio_set_where(folio_set *out, const folio_index *ix, const folio_set *in,
		    const folio_expr *e);

/* 1 if a value can be a folder name: not empty, no '/', not "." or "..". */
int folio_folder_name_ok(const char *v);

/* Fields @by and @balance accept, NULL-terminated. */
const char *const *folio_facet_fields(void);
typedef struct folio_facet {
	char *value;             /* folder name; FOLIO_FACET_NONE for no value */
	size_t count;
} folio_facet;
/* Distinct values of field in the set with their counts, sorted by value. */
int folio_set_facets(folio_facet **out, size_t *n, const folio_index *ix,
		     const folio_set *in, const char *field);
void folio_facets_free(folio_facet *f, size_t n);
int folio_set_by(folio_set *out, const folio_index *ix, const folio_set *in,
		 const char *field, const char *value);

int folio_set_sample(folio_set *out, const folio_index *ix, const folio_set *in,
		     size_t n, uint64_t seed);
int folio_set_sort(folio_set *out, const folio_index *ix, const folio_set *in,
		   const char *field, int descending);
int folio_set_limit(folio_set *out, const folio_set *in, size_t n);
int folio_set_balance(folio_set *out, const folio_index *ix, const folio_set *in,
		      const char *field, uint64_t seed);

/*
 * The listing name of member i: its path in an unranked set; in a ranked
 * set (after @sort) one flat name, "<rank>_<path>" with the rank 1-based
 * and zero-padded to the digits of the set's size, and in the path '%'
 * written "%25" and '/' written "%2F" (the extension stays last):
 * "003_pets%2Fcat%2F0003.jpg" is the third of 100 to 999 members.
 * FOLIO_EINVAL if it does not fit in size bytes.
 */
int folio_set_name(char *buf, size_t size, const folio_index *ix, const folio_set *s,
		   size_t i);

/* The inverse for a ranked name: its dataset path into path (size bytes)
 * and its rank into *rank (may be NULL). FOLIO_EINVAL, naming the name,
 * if it is not one folio_set_name makes. */
int folio_set_name_decode(char *path, size_t size, size_t *rank, const char *name);

/* ---- the context a view runs in ------------------------------------------ */

typedef struct folio_view_ctx folio_view_ctx;

/*
 * What a view may use. The caller fills it; fields it does not need may be
 * NULL (a view that needs one refuses with a message).
 */
struct folio_view_ctx {
	folio_repo *repo;          /* the store; the git handle, under git_lock */
	pthread_mutex_t *git_lock; /* taken around repo->version when non-NULL */
	folio_store *gen;          /* where generated files go (REPO/cache/objects) */
	const char *repo_path;     /* REPO, for REPO/cache/views (NULL: outputs not kept) */
	const folio_tree *tree;    /* the version's files, sorted */
	const char *version;       /* commit id (40 hex), or "" for the stage */
	/* The version's sample table: folio_view_index() calls index() the
	 * first time, and keeps the result in ix. */
	const folio_index *ix;
	int (*index)(const folio_index **out, folio_view_ctx *ctx);
	/* Reads a file of the version (malloc'd bytes, at most max); NULL: read
	 * ctx->tree's entry from ctx->repo's store. */
	int (*read)(void **out, size_t *len, const char *path, size_t max, folio_view_ctx *ctx);
	void *payload;             /* for the callbacks */
};

/* The table of ctx's version (loaded once); FOLIO_EINVAL if ctx has none. */
int folio_view_index(const folio_index **out, folio_view_ctx *ctx);
/* A file of ctx's version, through ctx->read. */
int folio_view_read(void **out, size_t *len, const char *path, size_t max, folio_view_ctx *ctx);

/* ---- the registry --------------------------------------------------------- */

typedef enum folio_view_kind {
	FOLIO_VIEW_STAGE = 1,    /* a set -> a set */
	FOLIO_VIEW_OUTPUT,       /* a set -> files */
} folio_view_kind;

/* arity of a view whose arguments are a dataset path (its accept() decides). */
#define FOLIO_VIEW_PATH_ARGS (-1)

/* flags */
#define FOLIO_VIEW_VERSION_ONLY 1u  /* only at a version's root, not inside a set */
#define FOLIO_VIEW_LAZY 2u          /* output files are computed one by one (render) */

/* The names a menu folder offers. */
typedef struct folio_view_menu {
	struct folio_view_entry {
		char *name;
		int is_dir;
	} *v;
	size_t n, cap;
} folio_view_menu;
int folio_view_menu_add(folio_view_menu *m, const char *name, int is_dir);
void folio_view_menu_clear(folio_view_menu *m);

/* What an output is computed from. */
typedef struct folio_view_input {
	const folio_set *set;      /* the set (the whole version at its root) */
	const char *pipeline;      /* the set's canonical pipeline text ("" at the root) */
	const char *prefix;        /* absolute folder the set is read at (files.txt), or NULL */
} folio_view_input;

/* An output: files sorted by name. */
typedef struct folio_view_out {
	folio_tree files;          /* objects of the repository's store or ctx->gen */
	uint32_t *rows;            /* FOLIO_VIEW_LAZY: the sample row of each file */
	int single;                /* the output is one file (files[0]), not a folder */
	int cached;                /* read back from REPO/cache/views */
	size_t skipped;            /* labels the output could not hold (export: boxes) */
} folio_view_out;
void folio_view_out_clear(folio_view_out *o);

/* accept() answers */
#define FOLIO_VIEW_DONE 0        /* the arguments name the view's result */
#define FOLIO_VIEW_MORE 1        /* a menu: more arguments follow */

typedef struct folio_view {
	const char *name;          /* "@where" */
	folio_view_kind kind;
	int arity;                 /* argument segments, or FOLIO_VIEW_PATH_ARGS */
	unsigned flags;
	const char *summary;       /* one line, for listings and --help */
	/*
	 * Checks args[0..nargs) (nargs <= arity): FOLIO_VIEW_DONE, FOLIO_VIEW_MORE,
	 * or FOLIO_ENOTFOUND / FOLIO_EINVAL with a message. NULL: any text is
	 * accepted and the arity decides.
	 */
	int (*accept)(folio_view_ctx *ctx, const char *const *args, size_t nargs);
	/* The names of the menu folder <name>/<args...>/ (nargs < arity). NULL:
	 * names are typed, not listed (@where/EXPR). in may be NULL (the whole
	 * version). */
	int (*list)(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
		    const char *const *args, size_t nargs);
	/* FOLIO_VIEW_STAGE: the set for in, and the stage's canonical text
	 * (malloc'd). */
	int (*stage)(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
		     const char *const *args, size_t nargs, int depth);
	/* FOLIO_VIEW_OUTPUT: the files. */
	int (*output)(folio_view_out *out, folio_view_ctx *ctx, const folio_view_input *in,
		      const char *const *args, size_t nargs);
	/* FOLIO_VIEW_LAZY: computes file e (one of output()'s, row its sample) and
	 * sets e->oid and e->size to the result, stored in ctx->gen. */
	int (*render)(folio_entry *e, folio_view_ctx *ctx, uint32_t row,
		      const char *const *args, size_t nargs);
} folio_view;

/* The registry, in listing order (by name), NULL-terminated. */
const folio_view *const *folio_views(void);
/* The view named name ("@where"), or NULL. */
const folio_view *folio_view_find(const char *name);
/* Runs v->accept (or the arity rule) on args. */
int folio_view_accept(const folio_view *v, folio_view_ctx *ctx, const char *const *args,
		      size_t nargs);
/* The menu of <v>/<args...>/: v->list, or nothing. */
int folio_view_list(folio_view_menu *out, const folio_view *v, folio_view_ctx *ctx,
		    const folio_set *in, const char *const *args, size_t nargs);

/*
 * Runs the stage segs[0] with its arguments segs[1..nsegs). *canon gets
 * the canonical text of the stage (malloc'd, e.g. "@where/brightness=lt:0.2");
 * @slices expands to the canonical text of the slice's own pipeline. Bad
 * arguments give FOLIO_EINVAL with a message naming the segment.
 */
int folio_pipeline_step(folio_set *out, char **canon, folio_view_ctx *ctx,
			const folio_set *in, const char *const *segs, size_t nsegs);

/* Runs a text of stages ("" or "@where/x/@limit/3"; leading, trailing and
 * doubled '/' ignored) from the whole version; canon may be NULL. An
 * output in the text is an error (folio_pipeline_resolve takes one). */
int folio_pipeline_run(folio_set *out, char **canon, folio_view_ctx *ctx,
		       const char *pipeline);

/* A pipeline text that may end in an output. */
typedef struct folio_pipeline {
	folio_set set;             /* what its stages select */
	char *canon;               /* their canonical text */
	const folio_view *output;  /* the output at the end, or NULL */
	char **args;               /* its arguments */
	size_t nargs;
} folio_pipeline;
int folio_pipeline_resolve(folio_pipeline *out, folio_view_ctx *ctx, const char *text);
void folio_pipeline_clear(folio_pipeline *p);

/* Used by views that run a pipeline of their own (@slices): run from the
 * set in, depth levels of nesting deep. */
int folio_pipeline_run_from(folio_set *out, char **canon, folio_view_ctx *ctx,
			    const folio_set *in, const char *pipeline, int depth);

/* ---- outputs -------------------------------------------------------------- */

/*
 * The files of output view v with args for in: read back from
 * REPO/cache/views when they were computed before for the same table, set
 * and arguments and every object is still stored, else computed and kept
 * there (ctx->repo_path non-NULL).
 */
int folio_view_output(folio_view_out *out, folio_view_ctx *ctx, const folio_view *v,
		      const folio_view_input *in, const char *const *args, size_t nargs);

/* Renders every placeholder of a FOLIO_VIEW_LAZY output. */
int folio_view_render_all(folio_view_out *out, folio_view_ctx *ctx, const folio_view *v,
			  const char *const *args, size_t nargs);

/*
 * Writes an output's files under dir (made, with parents, if absent; it
 * must be empty): reflinked, hardlinked or copied from the store that
 * holds each object. *nfiles (may be NULL) gets the count.
 */
int folio_view_write(size_t *nfiles, folio_view_ctx *ctx, const folio_view_out *out,
		     const char *dir);

/* Puts bytes into ctx->gen and appends an entry named name to files. */
int folio_view_put(folio_tree *files, folio_view_ctx *ctx, const char *name, const void *data,
		   size_t len);

/* ---- slices --------------------------------------------------------------- */

#define FOLIO_SLICE_DIR ".folio/slices/"

/* The text of slice name of ctx's version (.folio/slices/<name>.json),
 * malloc'd; FOLIO_ENOTFOUND with a message naming the file if absent. */
int folio_slice_read(char **out, size_t *len, folio_view_ctx *ctx, const char *name);
/* The pipeline (and description, may be NULL) a slice file holds. */
int folio_slice_parse(char **pipeline, char **description, const char *text, size_t len,
		      const char *name);
/* Names of the slices of a tree, sorted. */
int folio_slices_list(char ***out, size_t *n, const folio_tree *tree);
/* A slice file's text for a pipeline (what `folio slice save` writes). */
char *folio_slice_json(const char *pipeline, const char *description);
/* Checks a slice name: letters, digits, '.', '_', '-', not starting with '.'. */
int folio_slice_name_valid(const char *name);

#endif
