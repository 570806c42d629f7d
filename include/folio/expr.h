/*
 * expr.h — the `@where/<expr>` expression language (core/views).
 *
 * An expression selects samples (an image, its labels and its features).
 * It is one path segment, so it never contains '/', and every operator has
 * a spelling that needs no shell quoting:
 *
 *   class=car,brightness=lt:0.2      ',' is and  (also '&', '&&')
 *   class=car+class=truck            '+' is or   (also '|', '||')
 *   not:class=person                 'not:' is not (also '!')
 *   count.car=ge:2                   at least two cars
 *   class=in:car:truck               membership (also ';' between items)
 *   path=glob:images%2F2011_*        globs; %2F is '/', %XX any byte
 *   [class=car+class=bus],split=val  '[' ']' group (also '(' ')')
 *
 * Precedence: not > and > or. `brightness<0.2`, `<=`, `>`, `>=`, `!=`,
 * `==` are accepted too. The grammar, fields and semantics are in
 * docs/queries.md.
 *
 * The evaluator knows nothing of the sample table: it asks a sample for
 * values through folio_sample_ops, so any representation can be plugged in.
 * A parsed expression is immutable and may be evaluated from many threads.
 */
#ifndef FOLIO_EXPR_H
#define FOLIO_EXPR_H

#include <stddef.h>

/* Longest accepted expression text, bytes. A longer text is taken only as
 * folio_expr_canonical prints it (escapes and explicit operators make that
 * up to about three times longer), up to FOLIO_EXPR_MAX_CANON_LEN; an
 * expression whose canonical text would not fit that is refused. */
#define FOLIO_EXPR_MAX_LEN 4096
#define FOLIO_EXPR_MAX_CANON_LEN (4 * FOLIO_EXPR_MAX_LEN)
/* Deepest accepted nesting of groups and not:, levels. */
#define FOLIO_EXPR_MAX_DEPTH 32

typedef struct folio_expr folio_expr;

/*
 * Parses text (NUL-terminated) into *out. On a bad expression returns
 * FOLIO_EINVAL with a one-line message such as
 *   "@where: brightness=lt:abc: column 15: expected a number after 'lt:'"
 * (columns are 1-based byte offsets). Unknown fields fail here, with the
 * closest known name suggested. FOLIO_ENOMEM on allocation failure.
 */
int folio_expr_parse(folio_expr **out, const char *text);

/* As folio_expr_parse() for len bytes that may contain NUL (refused with
 * its column): for callers holding untrusted buffers. */
int folio_expr_parsen(folio_expr **out, const char *text, size_t len);

void folio_expr_free(folio_expr *e);

/*
 * What the evaluator asks of a sample. Field names passed to the callbacks
 * are the canonical ones listed in docs/queries.md ("brightness", "width",
 * "format", "split", "path", "size", "labeled", "class", "tag", "labeler",
 * "pred.class", "pred.score", ...). All callbacks must be set.
 */
typedef struct folio_sample_ops {
	/* Scalar field: sets *num (numeric fields) or *str (text fields, must
	 * stay valid until the call to folio_expr_eval returns) and returns 1;
	 * returns 0 when the sample has no value (no features computed, no
	 * split, ...). Comparisons on an absent value are false,
	 * except ne: `f=ne:x` is always exactly `not:f=x`. */
	int (*scalar)(const void *sample, const char *field, double *num,
		      const char **str);
	/* Multi-valued text field ("class", "tag", "labeler", "pred.class"):
	 * calls cb for each value, stopping early when cb returns nonzero;
	 * returns the number of calls made. */
	size_t (*values)(const void *sample, const char *field,
			 int (*cb)(const char *v, void *p), void *p);
	/* Multi-valued numeric field ("pred.score": one per prediction): same
	 * contract as values. */
	size_t (*numbers)(const void *sample, const char *field,
			  int (*cb)(double v, void *p), void *p);
	/* Number of objects of class cls (NULL: all objects); pred = 1 counts
	 * predictions instead of ground truth. */
	size_t (*count)(const void *sample, const char *cls, int pred);
} folio_sample_ops;

/* 1 when the sample matches, 0 when not. */
int folio_expr_eval(const folio_expr *e, const folio_sample_ops *ops,
		    const void *sample);

/*
 * Canonical text of a parsed expression, malloc'd (NULL on out of memory):
 * explicit operators (`brightness=lt:0.2`), aliases resolved, numbers in
 * shortest round-trip form, and/or operands and in: lists sorted and
 * deduplicated, groups only where needed. Equal queries give equal text,
 * and the text parses back to the same expression; use it in cache keys.
 */
char *folio_expr_canonical(const folio_expr *e);

/* The known field names, NULL-terminated ("count.<class>" and
 * "pred.count.<class>" stand for the per-class families). */
const char *const *folio_expr_fields(void);

#endif
