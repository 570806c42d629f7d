/*
 * index.c — builds, saves and loads the per-version sample table
 * (include/folio/index.h has the design).
 *
 * A table in memory is a handful of flat arrays and two string pools, the
 * same bytes as on disk: loading is one read(), a checksum and a bounds
 * check of every offset, so a damaged cache file is rebuilt, never
 * trusted. Building goes: tree -> image rows; labels (copied from a base
 * table or parsed) -> annotations, objects, tags in the label pool; image
 * features (copied from a base row with the same path and object, else
 * from core/analysis) -> rows; then rows are linked to annotations by path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folio/analysis.h"
#include "folio/error.h"
#include "folio/util.h"
#include "folio/index.h"

#define MAGIC "FOLIOIX1"
#define POOL_MAX ((size_t)1 << 31)   /* offsets are 32-bit */

/* ---- string pools ------------------------------------------------------ */

typedef struct pool {
	char *p;
	size_t len, cap;
	uint32_t *slots;         /* interning table: offset + 1, 0 empty */
	size_t nslots, used;
} pool;

/* Appends s (not interned); FOLIO_NONE on failure. */
static uint32_t pool_add(pool *pl, const char *s)
{
	size_t n = strlen(s) + 1;
	if (pl->len + n > POOL_MAX)
		return FOLIO_NONE;
	if (pl->len + n > pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 4096;
		while (cap < pl->len + n)
			cap *= 2;
		char *p = realloc(pl->p, cap);
		if (!p)
			return FOLIO_NONE;
		pl->p = p;
		pl->cap = cap;
	}
	memcpy(pl->p + pl->len, s, n);
	uint32_t off = (uint32_t)pl->len;
	pl->len += n;
	return off;
}

static int pool_grow_slots(pool *pl)
{
	size_t n = pl->nslots ? pl->nslots * 2 : 1024;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return -1;
	for (size_t i = 0; i < pl->nslots; i++) {
		if (!pl->slots[i])
			continue;
		size_t j = folio_fnv1a_str(pl->p + pl->slots[i] - 1) & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = pl->slots[i];
	}
	free(pl->slots);
	pl->slots = s;
	pl->nslots = n;
	return 0;
}

/* The offset of s in the pool, adding it once; FOLIO_NONE for NULL or on
 * failure (*fail set). */
static uint32_t pool_intern(pool *pl, const char *s, int *fail)
{
	if (!s)
		return FOLIO_NONE;
	if ((pl->used + 1) * 2 > pl->nslots && pool_grow_slots(pl) < 0) {
		*fail = 1;
		return FOLIO_NONE;
	}
	size_t j = folio_fnv1a_str(s) & (pl->nslots - 1);
	while (pl->slots[j]) {
		if (!strcmp(pl->p + pl->slots[j] - 1, s))
			return pl->slots[j] - 1;
		j = (j + 1) & (pl->nslots - 1);
	}
	uint32_t off = pool_add(pl, s);
	if (off == FOLIO_NONE) {
		*fail = 1;
		return FOLIO_NONE;
	}
	pl->slots[j] = off + 1;
	pl->used++;
	return off;
}

/* ---- the key ----------------------------------------------------------- */

static int is_image(const folio_entry *e)
{
	return e->kind == FOLIO_ENTRY_LFS && folio_path_is_image(e->path);
}

void folio_index_key(folio_oid *out, const folio_tree *tree)
{
	folio_hash *h;
	char head[96];

	if (folio_hash_new(&h) < 0) {
		memset(out, 0, sizeof *out);
		return;
	}
	int n = snprintf(head, sizeof head, "folio-index %d features %d\n",
			 FOLIO_INDEX_VERSION, FOLIO_FEATURES_VERSION);
	folio_hash_update(h, head, (size_t)n);
	for (size_t i = 0; i < tree->n; i++) {
		const folio_entry *e = &tree->v[i];
		uint32_t mode = e->mode;
		folio_hash_update(h, e->path, strlen(e->path) + 1);
		folio_hash_update(h, &mode, sizeof mode);
		folio_hash_update(h, e->oid.id, sizeof e->oid.id);
	}
	folio_hash_final(out, h);
	folio_hash_free(h);
}

static void label_inputs_key(folio_oid *out, const folio_tree *tree)
{
	folio_hash *h;

	if (folio_hash_new(&h) < 0) {
		memset(out, 0, sizeof *out);
		return;
	}
	for (size_t i = 0; i < tree->n; i++) {
		if (is_image(&tree->v[i]))
			continue;
		folio_hash_update(h, tree->v[i].path, strlen(tree->v[i].path) + 1);
		folio_hash_update(h, tree->v[i].oid.id, sizeof tree->v[i].oid.id);
	}
	folio_hash_final(out, h);
	folio_hash_free(h);
}

/* ---- freeing and lookup ------------------------------------------------ */

void folio_index_free(folio_index *ix)
{
	if (!ix)
		return;
	if (ix->mem) {
		free(ix->mem);
	} else {
		free(ix->samples);
		free(ix->anns);
		free(ix->objs);
		free(ix->tags);
		free(ix->classes);
		free(ix->class_info);
		free(ix->errors);
		free(ix->spool);
		free(ix->lpool);
		free(ix->gpool);
	}
	free(ix);
}

long folio_index_find(const folio_index *ix, const char *path)
{
	size_t lo = 0, hi = ix->nsamples;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix->spool + ix->samples[mid].path, path);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int ann_cmp(const folio_index *ix, const folio_iann *a, const char *image, int pred)
{
	int c = strcmp(ix->lpool + a->image, image);
	return c ? c : (int)a->prediction - pred;
}

static uint32_t find_ann(const folio_index *ix, const char *image, int pred)
{
	size_t lo = 0, hi = ix->nanns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ann_cmp(ix, &ix->anns[mid], image, pred);
		if (!c)
			return (uint32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return FOLIO_NONE;
}

/* ---- labels ------------------------------------------------------------ */

static int read_cb(void **out, size_t *len, const folio_entry *e, void *payload)
{
	folio_repo *repo = payload;
	return folio_store_read_all(out, len, repo->store, &e->oid, (size_t)1 << 30);
}

/* ---- segmentations: records of gpool ----------------------------------- */

/*
 * A record, 4-byte aligned: u32 kind; polygons: u32 nrings, u32 points of
 * each ring, float x, y of every point; RLE: i32 width, i32 height, u32
 * length, the compressed counts (no NUL), padded.
 */
typedef struct gbuf {
	unsigned char *p;
	size_t len, cap;
} gbuf;

static int gput(gbuf *g, const void *data, size_t n)
{
	size_t need = g->len + ((n + 3) & ~(size_t)3);
	if (need > POOL_MAX)
		return -1;
	if (need > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < need)
			cap *= 2;
		unsigned char *q = realloc(g->p, cap);
		if (!q)
			return -1;
		g->p = q;
		g->cap = cap;
	}
	memcpy(g->p + g->len, data, n);
	memset(g->p + g->len + n, 0, ((n + 3) & ~(size_t)3) - n);
	g->len = need;
	return 0;
}

/* Appends a shape; its offset, or FOLIO_NONE (none given, or no room). */
static uint32_t gadd(gbuf *g, const folio_shape *sh, int *fail)
{
	if (!sh)
		return FOLIO_NONE;
	uint32_t off = (uint32_t)g->len, kind = (uint32_t)sh->kind;
	int bad = gput(g, &kind, 4) < 0;
	if (sh->kind == FOLIO_SHAPE_RLE) {
		int32_t wh[2] = { sh->rle_w, sh->rle_h };
		uint32_t n = sh->rle ? (uint32_t)strlen(sh->rle) : 0;
		bad |= gput(g, wh, sizeof wh) < 0 || gput(g, &n, 4) < 0 ||
		       (n && gput(g, sh->rle, n) < 0);
	} else {
		uint32_t nr = (uint32_t)sh->nrings;
		size_t npts = 0;
		bad |= gput(g, &nr, 4) < 0;
		for (size_t r = 0; r < sh->nrings && !bad; r++) {
			bad |= gput(g, &sh->ring[r], 4) < 0;
			npts += sh->ring[r];
		}
		for (size_t i = 0; i < 2 * npts && !bad; i++) {
			float f = (float)sh->xy[i];
			bad |= gput(g, &f, 4) < 0;
		}
	}
	if (bad)
		*fail = 1;
	return bad ? FOLIO_NONE : off;
}

static int gu32(const folio_index *ix, size_t *at, uint32_t *v)
{
	if (*at > ix->gpool_len || ix->gpool_len - *at < 4)
		return -1;
	memcpy(v, ix->gpool + *at, 4);
	*at += 4;
	return 0;
}

/* The shape at off (checked against the pool; -1 if malformed), copied
 * into *out when out is not NULL. */
static int gget(folio_shape **out, const folio_index *ix, uint32_t off)
{
	size_t at = off;
	uint32_t kind, a, b, c;
	folio_shape *sh = NULL;

	if (gu32(ix, &at, &kind) < 0)
		return -1;
	if (kind == FOLIO_SHAPE_RLE) {
		if (gu32(ix, &at, &a) < 0 || gu32(ix, &at, &b) < 0 || gu32(ix, &at, &c) < 0 ||
		    (int32_t)a < 0 || (int32_t)b < 0 || ix->gpool_len - at < c ||
		    memchr(ix->gpool + at, 0, c))
			return -1;
		if (!out)
			return 0;
		if (!(sh = calloc(1, sizeof *sh)) || !(sh->rle = strndup((const char *)ix->gpool + at, c)))
			goto nomem;
		sh->kind = FOLIO_SHAPE_RLE;
		sh->rle_w = (int32_t)a;
		sh->rle_h = (int32_t)b;
		*out = sh;
		return 0;
	}
	if (kind != FOLIO_SHAPE_POLYGONS || gu32(ix, &at, &a) < 0 || a > (ix->gpool_len - at) / 4)
		return -1;
	size_t rings_at = at, npts = 0;
	for (uint32_t r = 0; r < a; r++) {
		if (gu32(ix, &at, &b) < 0 || b > ix->gpool_len / 8)
			return -1;
		npts += b;
	}
	if (npts > (ix->gpool_len - at) / 8)
		return -1;
	if (!out)
		return 0;
	if (!(sh = calloc(1, sizeof *sh)) || !(sh->ring = malloc((a ? a : 1) * sizeof *sh->ring)) ||
	    !(sh->xy = malloc((npts ? npts : 1) * 2 * sizeof *sh->xy)))
		goto nomem;
	sh->kind = FOLIO_SHAPE_POLYGONS;
	sh->nrings = a;
	memcpy(sh->ring, ix->gpool + rings_at, a * 4);
	for (size_t i = 0; i < 2 * npts; i++) {
		float f;
		memcpy(&f, ix->gpool + at + 4 * i, 4);
		sh->xy[i] = f;
	}
	*out = sh;
	return 0;
nomem:
	folio_shape_free(sh);
	return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
}

/* Converts a parsed label set into ix's compact label part. */
static int labels_from_set(folio_index *ix, pool *lp, const folio_labelset *set)
{
	gbuf g = { 0 };
	int fail = 0;
	size_t nobjs = 0, ntags = 0;

	for (size_t i = 0; i < set->n; i++) {
		nobjs += set->v[i].nobjects;
		ntags += set->v[i].ntags;
	}
	ix->anns = calloc(set->n ? set->n : 1, sizeof *ix->anns);
	ix->objs = calloc(nobjs ? nobjs : 1, sizeof *ix->objs);
	ix->tags = calloc(ntags ? ntags : 1, sizeof *ix->tags);
	ix->classes = calloc(set->nclasses ? set->nclasses : 1, sizeof *ix->classes);
	ix->class_info = calloc(set->nclasses ? set->nclasses : 1, sizeof *ix->class_info);
	ix->errors = calloc(set->nerrors ? set->nerrors : 1, sizeof *ix->errors);
	if (!ix->anns || !ix->objs || !ix->tags || !ix->classes || !ix->class_info || !ix->errors)
		return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
	for (size_t i = 0; i < set->nclasses; i++) {
		folio_iclass *ci = &ix->class_info[ix->nclasses];
		const folio_class_info *si = set->class_info ? &set->class_info[i] : NULL;
		ci->has_id = (uint8_t)(si && si->has_id);
		ci->id = si && si->has_id ? si->id : 0;
		ci->super = pool_intern(lp, si ? si->supercategory : NULL, &fail);
		ix->classes[ix->nclasses++] = pool_intern(lp, set->classes[i], &fail);
	}
	for (size_t i = 0; i < set->nerrors; i++) {
		folio_ierror *er = &ix->errors[ix->nerrors++];
		er->file = pool_intern(lp, set->errors[i].file, &fail);
		er->message = pool_intern(lp, set->errors[i].message, &fail);
		er->line = set->errors[i].line;
	}
	for (size_t i = 0; i < set->n; i++) {
		const folio_annotation *a = &set->v[i];
		folio_iann *d = &ix->anns[ix->nanns++];
		d->image = pool_intern(lp, a->image, &fail);
		d->source = pool_intern(lp, a->source ? a->source : "", &fail);
		d->split = pool_intern(lp, a->split, &fail);
		d->width = a->width;
		d->height = a->height;
		d->prediction = (uint8_t)!!a->prediction;
		d->relative = (uint8_t)folio_annotation_relative(a);
		d->format = (uint8_t)a->format;
		if (a->format == FOLIO_LABELS_IMAGEFOLDER)
			ix->imagefolder = 1;
		d->obj_first = (uint32_t)ix->nobjs;
		d->obj_count = (uint32_t)a->nobjects;
		for (size_t k = 0; k < a->nobjects; k++) {
			const folio_object *o = &a->objects[k];
			folio_iobject *io = &ix->objs[ix->nobjs++];
			io->cls = pool_intern(lp, o->cls, &fail);
			io->labeler = pool_intern(lp, o->labeler, &fail);
			io->x = (float)o->box.x;
			io->y = (float)o->box.y;
			io->w = (float)o->box.w;
			io->h = (float)o->box.h;
			io->score = (float)o->score;
			io->has_box = (uint8_t)!!o->has_box;
			io->has_score = (uint8_t)!!o->has_score;
			io->flags = (uint8_t)o->flags;
			io->has_area = (uint8_t)!!o->has_area;
			io->area = (float)o->area;
			io->shape = gadd(&g, o->shape, &fail);
		}
		d->tag_first = (uint32_t)ix->ntags;
		d->tag_count = (uint32_t)a->ntags;
		for (size_t k = 0; k < a->ntags; k++)
			ix->tags[ix->ntags++] = pool_intern(lp, a->tags[k], &fail);
	}
	ix->gpool = g.p ? g.p : calloc(1, 1);
	ix->gpool_len = g.len;
	if (fail || !ix->gpool)
		return folio_error_set(FOLIO_ENOMEM, "index: label strings or segmentations: out "
				       "of memory (or more than 2 GiB of them)");
	return 0;
}

static void *dup_mem(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

/* Copies the label part of base whole: pools and offsets stay valid. */
static int labels_copy(folio_index *ix, pool *lp, const folio_index *base)
{
	ix->anns = dup_mem(base->anns, base->nanns * sizeof *base->anns);
	ix->objs = dup_mem(base->objs, base->nobjs * sizeof *base->objs);
	ix->tags = dup_mem(base->tags, base->ntags * sizeof *base->tags);
	ix->classes = dup_mem(base->classes, base->nclasses * sizeof *base->classes);
	ix->class_info = dup_mem(base->class_info, base->nclasses * sizeof *base->class_info);
	ix->errors = dup_mem(base->errors, base->nerrors * sizeof *base->errors);
	ix->gpool = dup_mem(base->gpool, base->gpool_len);
	ix->gpool_len = base->gpool_len;
	lp->p = dup_mem(base->lpool, base->lpool_len);
	if (!ix->anns || !ix->objs || !ix->tags || !ix->classes || !ix->class_info ||
	    !ix->errors || !ix->gpool || !lp->p)
		return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
	lp->len = lp->cap = base->lpool_len;
	ix->nanns = base->nanns;
	ix->nobjs = base->nobjs;
	ix->ntags = base->ntags;
	ix->nclasses = base->nclasses;
	ix->nerrors = base->nerrors;
	ix->imagefolder = base->imagefolder;
	return 0;
}

/* ---- features ---------------------------------------------------------- */

static void feat_compact(folio_ifeat *d, const folio_features *f)
{
	memset(d, 0, sizeof *d);
	memcpy(d->format, f->format, sizeof d->format);
	d->format[sizeof d->format - 1] = 0;
	d->width = f->width;
	d->height = f->height;
	d->bands = (uint8_t)f->bands;
	d->orientation = (uint8_t)f->orientation;
	d->decodable = (uint8_t)!!f->decodable;
	d->has_pixels = (uint8_t)!!f->has_pixels;
	d->grayscale = (uint8_t)!!f->grayscale;
	d->known = 1;
	d->brightness_mean = f->brightness_mean;
	d->brightness_p05 = f->brightness_p05;
	d->brightness_p50 = f->brightness_p50;
	d->brightness_p95 = f->brightness_p95;
	d->contrast_rms = f->contrast_rms;
	d->sharpness = f->sharpness;
	d->blurriness = f->blurriness;
	d->entropy = f->entropy;
	d->colorfulness = f->colorfulness;
	d->phash = f->phash;
	d->dhash = f->dhash;
}

/* A base row's features serve when they hold what is asked for. */
static int feat_enough(const folio_ifeat *f, int pixels)
{
	return f->known && (!pixels || f->has_pixels || !f->decodable);
}

typedef struct prog {
	const folio_index_opts *o;
	size_t total;
} prog;

static void on_progress(size_t done, void *payload)
{
	prog *p = payload;
	p->o->progress(done, p->total, p->o->payload);
}

static int oid_cmp_v(const void *a, const void *b)
{
	return folio_oid_cmp(a, b);
}

static int features_fill(folio_index *ix, folio_repo *repo, const folio_index *base,
			 const folio_index_opts *o, folio_index_stats *st, int *incomplete)
{
	folio_oid *need = NULL;
	folio_features *got = NULL;
	size_t nneed = 0;
	int rc = 0;

	if (!(need = malloc((ix->nsamples ? ix->nsamples : 1) * sizeof *need)))
		return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
	for (size_t i = 0; i < ix->nsamples; i++) {
		folio_sample *s = &ix->samples[i];
		long b = base ? folio_index_find(base, ix->spool + s->path) : -1;
		if (b >= 0 && !folio_oid_cmp(&base->samples[b].oid, &s->oid) &&
		    feat_enough(&base->samples[b].f, o->pixels)) {
			s->f = base->samples[b].f;
			st->features_reused++;
			continue;
		}
		need[nneed++] = s->oid;
	}
	qsort(need, nneed, sizeof *need, oid_cmp_v);
	size_t w = 0;
	for (size_t i = 0; i < nneed; i++)
		if (!w || folio_oid_cmp(&need[w - 1], &need[i]))
			need[w++] = need[i];
	nneed = w;
	if (nneed) {
		char cache[FOLIO_PATH_BUF];
		prog p = { o, nneed };
		if (!(got = calloc(nneed, sizeof *got))) {
			rc = folio_error_set(FOLIO_ENOMEM, "index: out of memory");
			goto done;
		}
		if ((rc = folio_analysis_init()) < 0)
			goto done;
		/* no cache folder (a path too long): computed, not cached */
		const char *dir = folio_cache_mkdir(repo->path, FOLIO_CACHE_FEATURES) == 0 &&
			folio_cache_path(cache, sizeof cache, repo->path, FOLIO_CACHE_FEATURES,
					 NULL) == 0 ? cache : NULL;
		uint64_t before = folio_analysis_computed();
		rc = folio_features_many(got, repo->store, need, nneed, dir, o->pixels,
					 o->threads, o->progress ? on_progress : NULL, &p);
		st->computed = folio_analysis_computed() - before;
		/* A missing object is a fact about this sample, not a failed
		 * index: folio_features_many tried them all. */
		if (rc < 0 && rc != FOLIO_ENOTFOUND && rc != FOLIO_ECORRUPT && rc != FOLIO_EIO)
			goto done;
		rc = 0;
		st->features_loaded = nneed;
	}
	for (size_t i = 0; i < ix->nsamples; i++) {
		folio_sample *s = &ix->samples[i];
		if (s->f.known)
			continue;
		folio_oid *hit = bsearch(&s->oid, need, nneed, sizeof *need, oid_cmp_v);
		if (hit)
			feat_compact(&s->f, &got[hit - need]);
		if (!s->f.decodable && !folio_store_exists(repo->store, &s->oid)) {
			/* not in the store (yet): unknown, and the table is not
			 * saved, so that fetching the object is enough */
			memset(&s->f, 0, sizeof s->f);
			*incomplete = 1;
		} else if (!s->f.format[0] && !s->f.decodable) {
			s->f.known = 1;   /* unreadable: known to be so */
		}
	}
done:
	free(got);
	free(need);
	return rc;
}

/* ---- the cache file ---------------------------------------------------- */

typedef struct fhdr {
	char magic[8];
	uint32_t version, features_version, pixels, imagefolder;
	folio_oid key, label_inputs;
	uint64_t nsamples, nanns, nobjs, ntags, nclasses, nerrors, spool_len, lpool_len, gpool_len;
	uint64_t checksum;       /* of the header (this field zeroed) and the body */
} fhdr;

static uint64_t checksum(const unsigned char *p, size_t n);

/* The header (its checksum field zeroed) and the body: a damaged header
 * is caught like a damaged body. */
static uint64_t file_checksum(const fhdr *h, const unsigned char *body, size_t n)
{
	fhdr c = *h;
	c.checksum = 0;
	return checksum((const unsigned char *)&c, sizeof c) * 31 ^ checksum(body, n);
}

static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

typedef struct section {
	void *p;
	size_t size;
} section;

#define NSECTIONS 10

static void sections(section s[NSECTIONS], const folio_index *ix)
{
	s[0] = (section){ ix->samples, ix->nsamples * sizeof *ix->samples };
	s[1] = (section){ ix->anns, ix->nanns * sizeof *ix->anns };
	s[2] = (section){ ix->objs, ix->nobjs * sizeof *ix->objs };
	s[3] = (section){ ix->tags, ix->ntags * sizeof *ix->tags };
	s[4] = (section){ ix->classes, ix->nclasses * sizeof *ix->classes };
	s[5] = (section){ ix->errors, ix->nerrors * sizeof *ix->errors };
	s[6] = (section){ ix->spool, ix->spool_len };
	s[7] = (section){ ix->lpool, ix->lpool_len };
	s[8] = (section){ ix->class_info, ix->nclasses * sizeof *ix->class_info };
	s[9] = (section){ ix->gpool, ix->gpool_len };
}

static int cache_file(char *out, size_t size, const folio_repo *repo, const folio_oid *key)
{
	char name[FOLIO_OID_HEXSZ + 8];
	folio_oid_tohex(name, key);
	memcpy(name + FOLIO_OID_HEXSZ, ".idx", 5);
	return folio_cache_path(out, size, repo->path, FOLIO_CACHE_INDEX, name);
}

/* Writes the table (best effort: a cache that cannot be written only
 * costs a rebuild next time). */
static void save(const folio_index *ix, folio_repo *repo)
{
	char path[FOLIO_PATH_BUF], tmp[FOLIO_PATH_SUFFIXED];
	section s[NSECTIONS];
	fhdr h;
	unsigned char *buf = NULL;

	if (folio_cache_mkdir(repo->path, FOLIO_CACHE_INDEX) < 0 ||
	    cache_file(path, sizeof path, repo, &ix->key) < 0 ||
	    folio_path_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return;
	sections(s, ix);
	size_t total = 0;
	for (int i = 0; i < NSECTIONS; i++)
		total += ALIGN8(s[i].size);
	if (!(buf = calloc(1, total ? total : 1)))
		return;
	size_t off = 0;
	for (int i = 0; i < NSECTIONS; i++) {
		if (s[i].size)
			memcpy(buf + off, s[i].p, s[i].size);
		off += ALIGN8(s[i].size);
	}
	memset(&h, 0, sizeof h);
	memcpy(h.magic, MAGIC, 8);
	h.version = FOLIO_INDEX_VERSION;
	h.features_version = FOLIO_FEATURES_VERSION;
	h.pixels = (uint32_t)ix->pixels;
	h.imagefolder = (uint32_t)ix->imagefolder;
	h.key = ix->key;
	h.label_inputs = ix->label_inputs;
	h.nsamples = ix->nsamples;
	h.nanns = ix->nanns;
	h.nobjs = ix->nobjs;
	h.ntags = ix->ntags;
	h.nclasses = ix->nclasses;
	h.nerrors = ix->nerrors;
	h.spool_len = ix->spool_len;
	h.lpool_len = ix->lpool_len;
	h.gpool_len = ix->gpool_len;
	h.checksum = file_checksum(&h, buf, total);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	int ok = write(fd, &h, sizeof h) == (ssize_t)sizeof h;
	for (size_t done = 0; ok && done < total;) {
		ssize_t w = write(fd, buf + done, total - done);
		if (w <= 0)
			ok = 0;
		else
			done += (size_t)w;
	}
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	/* The last table built is the base of the next build. */
	char last[FOLIO_PATH_BUF], lasttmp[FOLIO_PATH_SUFFIXED], hex[FOLIO_OID_HEXSZ + 2];
	if (folio_cache_path(last, sizeof last, repo->path, FOLIO_CACHE_INDEX, "LAST") < 0 ||
	    folio_path_format(lasttmp, sizeof lasttmp, "%s.tmp.%d", last, (int)getpid()) < 0)
		goto out;
	folio_oid_tohex(hex, &ix->key);
	if ((fd = open(lasttmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0) {
		hex[FOLIO_OID_HEXSZ] = '\n';
		ok = write(fd, hex, FOLIO_OID_HEXSZ + 1) == FOLIO_OID_HEXSZ + 1;
		close(fd);
		if (!ok || rename(lasttmp, last) < 0)
			unlink(lasttmp);
	}
out:
	free(buf);
}

static int str_ok(size_t len, uint32_t off, int optional)
{
	if (off == FOLIO_NONE)
		return optional;
	return off < len;
}

/* Every offset and range in a loaded table is inside its arrays. */
static int valid(const folio_index *ix)
{
	if (ix->spool_len && ix->spool[ix->spool_len - 1])
		return 0;
	if (ix->lpool_len && ix->lpool[ix->lpool_len - 1])
		return 0;
	for (size_t i = 0; i < ix->nsamples; i++) {
		const folio_sample *s = &ix->samples[i];
		if (s->path >= ix->spool_len || (s->gt != FOLIO_NONE && s->gt >= ix->nanns) ||
		    (s->pred != FOLIO_NONE && s->pred >= ix->nanns) || s->f.format[7])
			return 0;
		if (i && strcmp(ix->spool + ix->samples[i - 1].path, ix->spool + s->path) >= 0)
			return 0;
	}
	for (size_t i = 0; i < ix->nanns; i++) {
		const folio_iann *a = &ix->anns[i];
		if (!str_ok(ix->lpool_len, a->image, 0) ||
		    !str_ok(ix->lpool_len, a->source, 0) ||
		    !str_ok(ix->lpool_len, a->split, 1) ||
		    a->obj_first > ix->nobjs || a->obj_count > ix->nobjs - a->obj_first ||
		    a->tag_first > ix->ntags || a->tag_count > ix->ntags - a->tag_first)
			return 0;
	}
	for (size_t i = 0; i < ix->nobjs; i++)
		if (!str_ok(ix->lpool_len, ix->objs[i].cls, 0) ||
		    !str_ok(ix->lpool_len, ix->objs[i].labeler, 1) ||
		    (ix->objs[i].shape != FOLIO_NONE && gget(NULL, ix, ix->objs[i].shape) < 0))
			return 0;
	for (size_t i = 0; i < ix->ntags; i++)
		if (!str_ok(ix->lpool_len, ix->tags[i], 0))
			return 0;
	for (size_t i = 0; i < ix->nclasses; i++)
		if (!str_ok(ix->lpool_len, ix->classes[i], 0) ||
		    !str_ok(ix->lpool_len, ix->class_info[i].super, 1))
			return 0;
	for (size_t i = 0; i < ix->nerrors; i++)
		if (!str_ok(ix->lpool_len, ix->errors[i].file, 0) ||
		    !str_ok(ix->lpool_len, ix->errors[i].message, 0))
			return 0;
	return 1;
}

/* Loads a cached table; 1 when loaded, 0 when absent or unusable. */
static int load(folio_index **out, folio_repo *repo, const folio_oid *key, int pixels)
{
	char path[FOLIO_PATH_BUF];
	fhdr h;
	folio_index *ix = NULL;
	unsigned char *mem = NULL;
	struct stat st;

	if (cache_file(path, sizeof path, repo, key) < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof h ||
	    read(fd, &h, sizeof h) != (ssize_t)sizeof h ||
	    memcmp(h.magic, MAGIC, 8) || h.version != FOLIO_INDEX_VERSION ||
	    h.features_version != FOLIO_FEATURES_VERSION || (pixels && !h.pixels) ||
	    folio_oid_cmp(&h.key, key))
		goto bad;
	size_t total = (size_t)st.st_size - sizeof h;
	/* sizes: each count is bounded by the file size before multiplying */
	uint64_t counts[NSECTIONS] = { h.nsamples, h.nanns, h.nobjs, h.ntags, h.nclasses, h.nerrors,
				       h.spool_len, h.lpool_len, h.nclasses, h.gpool_len };
	size_t unit[NSECTIONS] = { sizeof(folio_sample), sizeof(folio_iann), sizeof(folio_iobject),
				   sizeof(uint32_t), sizeof(uint32_t), sizeof(folio_ierror), 1, 1,
				   sizeof(folio_iclass), 1 };
	size_t need = 0;
	for (int i = 0; i < NSECTIONS; i++) {
		if (counts[i] > total / unit[i])
			goto bad;
		need += ALIGN8((size_t)counts[i] * unit[i]);
	}
	if (need != total || h.spool_len > POOL_MAX || h.lpool_len > POOL_MAX ||
	    h.gpool_len > POOL_MAX)
		goto bad;
	if (!(mem = malloc(total ? total : 1)))
		goto bad;
	for (size_t done = 0; done < total;) {
		ssize_t r = read(fd, mem + done, total - done);
		if (r <= 0)
			goto bad;
		done += (size_t)r;
	}
	if (file_checksum(&h, mem, total) != h.checksum)
		goto bad;
	if (!(ix = calloc(1, sizeof *ix)))
		goto bad;
	size_t off = 0;
	void *ptr[NSECTIONS];
	for (int i = 0; i < NSECTIONS; i++) {
		ptr[i] = mem + off;
		off += ALIGN8((size_t)counts[i] * unit[i]);
	}
	ix->samples = ptr[0];
	ix->nsamples = h.nsamples;
	ix->anns = ptr[1];
	ix->nanns = h.nanns;
	ix->objs = ptr[2];
	ix->nobjs = h.nobjs;
	ix->tags = ptr[3];
	ix->ntags = h.ntags;
	ix->classes = ptr[4];
	ix->nclasses = h.nclasses;
	ix->errors = ptr[5];
	ix->nerrors = h.nerrors;
	ix->spool = ptr[6];
	ix->spool_len = h.spool_len;
	ix->lpool = ptr[7];
	ix->lpool_len = h.lpool_len;
	ix->class_info = ptr[8];
	ix->gpool = ptr[9];
	ix->gpool_len = h.gpool_len;
	ix->key = h.key;
	ix->label_inputs = h.label_inputs;
	ix->pixels = (int)h.pixels;
	ix->imagefolder = (int)h.imagefolder;
	ix->mem = mem;
	if (!valid(ix))
		goto bad;
	close(fd);
	*out = ix;
	return 1;
bad:
	close(fd);
	free(ix);
	free(mem);
	return 0;
}

static int load_last(folio_index **out, folio_repo *repo, int pixels)
{
	char path[FOLIO_PATH_BUF], hex[FOLIO_OID_HEXSZ + 2] = { 0 };
	folio_oid key;

	if (folio_cache_path(path, sizeof path, repo->path, FOLIO_CACHE_INDEX, "LAST") < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, hex, FOLIO_OID_HEXSZ);
	close(fd);
	if (r != FOLIO_OID_HEXSZ || folio_oid_fromhex(&key, hex) < 0)
		return 0;
	return load(out, repo, &key, pixels);
}

/* ---- building ---------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The label part of base holds for ix when every non-image file is the
 * same, no label came from a folder name, and every image of ix was a row
 * of base or already had a label there: labels also depend on image paths
 * (ImageFolder needs two class folders, a YOLO file counts only beside an
 * image of its stem), so an image base knew nothing of may change them.
 */
static int labels_still_hold(const folio_index *ix, const char *spool, const folio_index *base)
{
	if (folio_oid_cmp(&base->label_inputs, &ix->label_inputs) || base->imagefolder)
		return 0;
	for (size_t i = 0; i < ix->nsamples; i++) {
		const char *p = spool + ix->samples[i].path;
		if (folio_index_find(base, p) < 0 && find_ann(base, p, 0) == FOLIO_NONE)
			return 0;
	}
	return 1;
}

static int build(folio_index **out, folio_repo *repo, const folio_tree *tree,
		 const folio_oid *key, const folio_index *base, const folio_index_opts *o,
		 folio_index_stats *st, int *incomplete)
{
	folio_index *ix = calloc(1, sizeof *ix);
	pool sp = { 0 }, lp = { 0 };
	folio_labelset set = { 0 };
	int rc = 0, have_set = 0;

	if (!ix)
		return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
	ix->key = *key;
	ix->pixels = o->pixels;
	label_inputs_key(&ix->label_inputs, tree);

	/* rows: the images of the tree, in its (path) order */
	size_t nimg = 0;
	for (size_t i = 0; i < tree->n; i++)
		nimg += is_image(&tree->v[i]);
	if (nimg >= FOLIO_NONE) {
		rc = folio_error_set(FOLIO_EINVAL, "index: too many images (%zu)", nimg);
		goto fail;
	}
	if (!(ix->samples = calloc(nimg ? nimg : 1, sizeof *ix->samples))) {
		rc = folio_error_set(FOLIO_ENOMEM, "index: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < tree->n; i++) {
		const folio_entry *e = &tree->v[i];
		if (!is_image(e))
			continue;
		folio_sample *s = &ix->samples[ix->nsamples++];
		s->size = e->size;
		s->oid = e->oid;
		s->mode = e->mode;
		s->gt = s->pred = FOLIO_NONE;
		if ((s->path = pool_add(&sp, e->path)) == FOLIO_NONE) {
			rc = folio_error_set(FOLIO_ENOMEM, "index: paths: out of memory");
			goto fail;
		}
	}

	/* labels */
	if (base && labels_still_hold(ix, sp.p, base)) {
		if ((rc = labels_copy(ix, &lp, base)) < 0)
			goto fail;
		st->labels_reused = 1;
	} else {
		if ((rc = folio_labels_load(&set, tree, read_cb, repo)) < 0)
			goto fail;
		have_set = 1;
		if ((rc = labels_from_set(ix, &lp, &set)) < 0)
			goto fail;
	}
	ix->lpool = lp.p ? lp.p : calloc(1, 1);
	ix->lpool_len = lp.len;
	lp.p = NULL;
	ix->spool = sp.p ? sp.p : calloc(1, 1);
	ix->spool_len = sp.len;
	sp.p = NULL;
	if (!ix->lpool || !ix->spool) {
		rc = folio_error_set(FOLIO_ENOMEM, "index: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ix->nsamples; i++) {
		folio_sample *s = &ix->samples[i];
		s->gt = find_ann(ix, ix->spool + s->path, 0);
		s->pred = find_ann(ix, ix->spool + s->path, 1);
	}

	/* features */
	if ((rc = features_fill(ix, repo, base, o, st, incomplete)) < 0)
		goto fail;
	*out = ix;
	ix = NULL;
fail:
	if (have_set)
		folio_labelset_clear(&set);
	free(sp.p);
	free(sp.slots);
	free(lp.p);
	free(lp.slots);
	folio_index_free(ix);
	return rc;
}

int folio_index_open(folio_index **out, folio_index_stats *stats, folio_repo *repo,
		     const folio_tree *tree, const folio_index_opts *opts)
{
	folio_index_opts o = { .pixels = 1 };
	folio_index_stats st = { 0 };
	folio_index *base = NULL;
	folio_oid key;
	double t0 = now();
	int rc = 0, incomplete = 0;

	if (opts)
		o = *opts;
	*out = NULL;
	folio_index_key(&key, tree);
	if (load(out, repo, &key, o.pixels)) {
		st.cached = 1;
		goto done;
	}
	if (o.base) {
		folio_oid bkey;
		folio_index_key(&bkey, o.base);
		load(&base, repo, &bkey, 0);
	}
	if (!base)
		load_last(&base, repo, 0);
	st.base_used = base != NULL;
	if ((rc = build(out, repo, tree, &key, base, &o, &st, &incomplete)) < 0)
		goto done;
	if (!o.no_save && !incomplete)
		save(*out, repo);
done:
	folio_index_free(base);
	st.seconds = now() - t0;
	if (stats)
		*stats = st;
	return rc;
}

/* ---- annotations for exports ------------------------------------------ */

size_t folio_index_classes(uint32_t *out, size_t max, const folio_index *ix, uint32_t ann)
{
	size_t n = 0;

	if (ann == FOLIO_NONE)
		return 0;
	const folio_iann *a = &ix->anns[ann];
	for (uint32_t k = 0; k < a->obj_count; k++) {
		uint32_t c = ix->objs[a->obj_first + k].cls;
		int seen = 0;
		for (uint32_t j = 0; j < k && !seen; j++)
			seen = ix->objs[a->obj_first + j].cls == c;
		if (seen)
			continue;
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

int folio_index_annotation(folio_annotation *out, const folio_index *ix, uint32_t ann,
			   const folio_sample *s)
{
	const folio_iann *a = &ix->anns[ann];

	memset(out, 0, sizeof *out);
	out->image = ix->lpool + a->image;
	out->source = ix->lpool + a->source;
	out->split = a->split == FOLIO_NONE ? NULL : ix->lpool + a->split;
	out->prediction = a->prediction;
	out->format = (folio_label_format)a->format;
	out->width = a->width;
	out->height = a->height;
	if (a->obj_count && !(out->objects = calloc(a->obj_count, sizeof *out->objects)))
		return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
	if (a->tag_count && !(out->tags = calloc(a->tag_count, sizeof *out->tags))) {
		free(out->objects);
		out->objects = NULL;
		return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
	}
	for (uint32_t k = 0; k < a->obj_count; k++) {
		const folio_iobject *io = &ix->objs[a->obj_first + k];
		folio_object *ob = &out->objects[k];
		ob->cls = ix->lpool + io->cls;
		ob->labeler = io->labeler == FOLIO_NONE ? NULL : ix->lpool + io->labeler;
		ob->box = (folio_box){ io->x, io->y, io->w, io->h };
		ob->has_box = io->has_box;
		ob->score = io->score;
		ob->has_score = io->has_score;
		ob->flags = io->flags;
		ob->area = io->area;
		ob->has_area = io->has_area;
		out->nobjects = k + 1;   /* what the clear below frees on failure */
		if (io->shape != FOLIO_NONE && gget(&ob->shape, ix, io->shape) < 0) {
			folio_index_annotation_clear(out);
			return folio_error_set(FOLIO_ENOMEM, "index: out of memory");
		}
	}
	out->nobjects = a->obj_count;
	for (uint32_t k = 0; k < a->tag_count; k++)
		out->tags[k] = ix->lpool + ix->tags[a->tag_first + k];
	out->ntags = a->tag_count;
	if (a->relative) {
		/* folio_annotation_relative() reads width = height = 0 */
		out->width = out->height = 0;
		if (s && s->f.known && s->f.width > 0 && s->f.height > 0)
			folio_annotation_set_size(out, s->f.width, s->f.height);
	} else if (s && s->f.known && s->f.width > 0 && !out->width) {
		out->width = s->f.width;
		out->height = s->f.height;
	}
	return 0;
}

void folio_index_annotation_clear(folio_annotation *a)
{
	for (size_t i = 0; i < a->nobjects; i++)
		folio_shape_free(a->objects[i].shape);
	free(a->objects);
	free(a->tags);
	memset(a, 0, sizeof *a);
}
