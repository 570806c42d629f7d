/*
 * preview.c — @preview: every image of the set with its labels drawn
 * (ground truth, then predictions with their scores), under the same
 * names as in the set.
 *
 * Rendering decodes and re-encodes an image, so it is done per file on
 * first access (FOLIO_VIEW_LAZY): listing @preview/ of a set of a million
 * images costs nothing, opening one preview renders that one. The rendered
 * JPEG goes to the generated-files store, keyed by content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/render.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

/* One of ten distinct colours per class name, the same in every preview. */
static unsigned class_color(const char *name)
{
	static const unsigned pal[] = { 0xe6194b, 0x3cb44b, 0x4363d8, 0xf58231, 0x911eb4,
					0x46f0f0, 0xf032e6, 0xbcf60c, 0x008080, 0x9a6324 };
	return pal[folio_fnv1a_str(name) % (sizeof pal / sizeof pal[0])];
}

static int preview_output(folio_view_out *out, folio_view_ctx *ctx, const folio_view_input *in,
			  const char *const *args, size_t nargs)
{
	const folio_index *ix;
	const folio_set *set = in->set;
	int rc;

	(void)args;
	(void)nargs;
	if ((rc = views_table(&ix, ctx, "@preview")) < 0)
		return rc;
	if (!(out->rows = malloc((set->n ? set->n : 1) * sizeof *out->rows)))
		return folio_error_set(FOLIO_ENOMEM, "@preview: out of memory");
	for (size_t i = 0; i < set->n; i++) {
		const folio_sample *s = &ix->samples[set->v[i]];
		char name[FOLIO_PATH_BUF];
		folio_entry e;
		if ((rc = folio_set_name(name, sizeof name, ix, set, i)) < 0)
			return rc;
		/* a placeholder: the original image until rendered */
		memset(&e, 0, sizeof e);
		e.path = name;
		e.kind = FOLIO_ENTRY_LFS;
		e.mode = FOLIO_MODE_FILE;
		e.oid = s->oid;
		e.size = s->size;
		if ((rc = folio_tree_push(&out->files, &e)) < 0)
			return rc;
		out->rows[out->files.n - 1] = set->v[i];
	}
	return 0;
}

/* The boxes of a sample: ground truth, then predictions ("car 0.97"). */
static int boxes_of(folio_render_box **out, char (**labels)[160], size_t *nb,
		    const folio_index *ix, const folio_sample *s)
{
	folio_render_box *boxes = NULL;
	char (*lab)[160] = NULL;
	size_t n = 0;

	for (int pred = 0; pred < 2; pred++) {
		uint32_t ann = pred ? s->pred : s->gt;
		folio_annotation a;
		if (ann == FOLIO_NONE)
			continue;
		if (folio_index_annotation(&a, ix, ann, s) < 0)
			goto nomem;
		folio_render_box *nbx = realloc(boxes, (n + a.nobjects + 1) * sizeof *boxes);
		if (nbx)
			boxes = nbx;
		char (*nl)[160] = realloc(lab, (n + a.nobjects + 1) * sizeof *lab);
		if (nl)
			lab = nl;
		if (!nbx || !nl) {
			folio_index_annotation_clear(&a);
			goto nomem;
		}
		for (size_t k = 0; k < a.nobjects; k++) {
			const folio_object *ob = &a.objects[k];
			if (!ob->has_box || folio_annotation_relative(&a))
				continue;   /* no pixels to draw at: image size unknown */
			if (ob->has_score)
				snprintf(lab[n], sizeof lab[n], "%s %.2f", ob->cls, ob->score);
			else
				snprintf(lab[n], sizeof lab[n], "%s", ob->cls);
			boxes[n] = (folio_render_box){ ob->box.x, ob->box.y, ob->box.w, ob->box.h,
						       NULL, class_color(ob->cls) };
			n++;
		}
		folio_index_annotation_clear(&a);
	}
	for (size_t k = 0; k < n; k++)
		boxes[k].label = lab[k];
	*out = boxes;
	*labels = lab;
	*nb = n;
	return 0;
nomem:
	free(boxes);
	free(lab);
	return folio_error_set(FOLIO_ENOMEM, "@preview: out of memory");
}

static int preview_render(folio_entry *e, folio_view_ctx *ctx, uint32_t row,
			  const char *const *args, size_t nargs)
{
	const folio_index *ix;
	folio_object_info info;
	folio_render_box *boxes = NULL;
	char (*labels)[160] = NULL;
	size_t nb = 0, len = 0;
	void *jpg = NULL;
	int rc;

	(void)args;
	(void)nargs;
	if ((rc = views_table(&ix, ctx, "@preview")) < 0)
		return rc;
	if (row == FOLIO_NONE || row >= ix->nsamples)
		return folio_error_set(FOLIO_ENOTFOUND, "@preview/%s: not an image of the set", e->path);
	const folio_sample *s = &ix->samples[row];
	if (!ctx->repo || !ctx->gen)
		return folio_error_set(FOLIO_EINVAL, "@preview: no repository");
	if ((rc = folio_store_stat(&info, ctx->repo->store, &s->oid)) < 0)
		return rc;
	if (info.form != FOLIO_OBJECT_RAW)
		return folio_error_set(FOLIO_EIO, "@preview/%s: a compressed object is not an image "
				       "folio can draw on", e->path);
	if ((rc = boxes_of(&boxes, &labels, &nb, ix, s)) < 0)
		return rc;
	rc = folio_render_preview(&jpg, &len, info.path, folio_index_path(ix, s), boxes, nb);
	if (rc == 0)
		rc = folio_store_put_buf(&e->oid, ctx->gen, jpg, len);
	if (rc == 0)
		e->size = len;
	free(jpg);
	free(boxes);
	free(labels);
	return rc;
}

const folio_view views_preview = {
	.name = "@preview",
	.kind = FOLIO_VIEW_OUTPUT,
	.arity = 0,
	.flags = FOLIO_VIEW_LAZY,
	.summary = "every image of the set with its boxes drawn (rendered when opened)",
	.output = preview_output,
	.render = preview_render,
};
