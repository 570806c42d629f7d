/*
 * views.h — sets of samples and the pipeline stages that make them
 * (core/views): @where, @by, @slices, @sample, @sort, @limit, @balance.
 *
 * A set is a list of row numbers of one folio_index. A pipeline is a path:
 * `@where/class=car/@sort/-brightness/@limit/100`; each stage takes the
 * set the previous one made (the whole version to begin with). The daemon
 * runs stages one lookup at a time (folio_pipeline_step); `folio query`
 * runs a whole text (folio_pipeline_run); both give the same set, and the
 * canonical text of a pipeline names it in caches.
 *
 * Order: a set is either in path order (`ordered` = 0; its members are
 * listed under their own relative paths) or ranked (`ordered` = 1, after
 * @sort; members are listed flat as "<rank>_<file name>", rank from 1,
 * zero-padded, so `ls` shows the order). @where, @by, @sample, @limit and
 * @balance keep the order they are given.
 */
#ifndef FOLIO_VIEWS_H
#define FOLIO_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "folio/expr.h"
#include "folio/index.h"

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

/* Reads slice `name` of the version: the bytes of .folio/slices/<name>.json
 * (malloc'd), or FOLIO_ENOTFOUND. */
typedef int (*folio_slice_cb)(char **out, size_t *len, const char *name, void *payload);

/* Which stage a path segment names: 0 if none; else the number of
 * segments the stage takes after its own (@where 1, @by 2, ...). Output
 * segments (@stats, @export, @preview, @history) are not stages: -1. */
int folio_stage_arity(const char *segment);

/*
 * Runs the stage segs[0] with its arguments segs[1..]. nsegs must be
 * 1 + folio_stage_arity(segs[0]). *canon gets the canonical text of the
 * stage (malloc'd, e.g. "@where/brightness=lt:0.2"); @slices expands to
 * the canonical text of the slice's own pipeline. Bad arguments give
 * FOLIO_EINVAL with a message naming the segment.
 */
int folio_pipeline_step(folio_set *out, char **canon, const folio_index *ix,
			const folio_set *in, const char *const *segs, size_t nsegs,
			folio_slice_cb slices, void *payload);

/* Runs a whole pipeline text ("" or "@where/x/@limit/3"; leading and
 * trailing '/' ignored) from the whole version. canon may be NULL. */
int folio_pipeline_run(folio_set *out, char **canon, const folio_index *ix,
		       const char *pipeline, folio_slice_cb slices, void *payload);

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

/* A slice file's text for a pipeline (what `folio slice save` writes). */
char *folio_slice_json(const char *pipeline, const char *description);
/* Checks a slice name: letters, digits, '.', '_', '-', not starting with '.'. */
int folio_slice_name_valid(const char *name);

/* A generated file. */
typedef struct folio_file {
	char *name;
	void *data;
	size_t len;
} folio_file;
void folio_files_free(folio_file *f, size_t n);

/*
 * The files of an @stats folder for a set (docs/views.md lists them).
 * version and pipeline are printed in them; image_path (may be NULL: no
 * contact sheet) gives the file of a sample's image for the contact sheet.
 */
int folio_stats_files(folio_file **out, size_t *n, const folio_index *ix, const folio_set *set,
		      const char *version, const char *pipeline,
		      int (*image_path)(char *buf, size_t size, const folio_sample *s, void *p),
		      void *payload);

#endif
