/*
 * cmd_labels.c — labels: the labels of a version, read in place by
 * core/labels, as a summary, a list or JSON; and the summary `folio
 * import` prints after an import.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "folio/labels.h"

int cli_read_entry(void **out, size_t *len, const folio_entry *e, void *payload)
{
	folio_repo *repo = payload;

	return folio_store_read_all(out, len, repo->store, &e->oid, (size_t)1 << 30);
}

static void print_error_line(FILE *f, const folio_label_error *e)
{
	if (e->line > 0)
		fprintf(f, "%s:%d: %s\n", e->file, e->line, e->message);
	else
		fprintf(f, "%s: %s\n", e->file, e->message);
}

void labels_print_summary(const folio_labelset *set, const folio_label_summary *st, int max_errors)
{
	printf("%zu images with labels, %zu objects, %zu classes", st->images, st->objects,
	       set->nclasses);
	if (st->prediction_images)
		printf("; predictions: %zu images, %zu objects", st->prediction_images, st->prediction_objects);
	printf("; %zu errors\n", set->nerrors);
	if (st->missing)
		printf("%zu labeled images are not in this version\n", st->missing);
	printf("formats:\n");
	for (int f = 1; f < FOLIO_LABELS_FORMAT_END; f++)
		if (st->formats[f].images)
			printf("  %-13s %8zu images %9zu objects %8zu label files\n",
			       folio_label_format_name((folio_label_format)f), st->formats[f].images,
			       st->formats[f].objects, st->formats[f].files);
	if (st->nsplits) {
		printf("splits:\n");
		for (size_t i = 0; i < st->nsplits; i++)
			printf("  %-13s %8zu images\n", st->splits[i].name, st->splits[i].images);
	}
	if (set->nclasses) {
		printf("classes:\n");
		for (size_t i = 0; i < set->nclasses; i++) {
			printf("  %-24s %8zu", set->classes[i], st->class_objects[i]);
			if (st->class_predicted[i])
				printf("  (%zu predicted)", st->class_predicted[i]);
			putchar('\n');
		}
	}
	if (set->nerrors && max_errors) {
		printf("errors:\n");
		for (size_t i = 0; i < set->nerrors && (int)i < max_errors; i++) {
			fputs("  ", stdout);
			print_error_line(stdout, &set->errors[i]);
		}
		if (set->nerrors > (size_t)max_errors)
			printf("  ... %zu more (folio labels VERSION --errors)\n",
			       set->nerrors - (size_t)max_errors);
	}
}

const char *const usage_labels =
	"usage: folio labels VERSION [--json] [--errors] [--list]\n"
	"\n"
	"Reads the labels of a version in place (VERSION ':' is the staged tree):\n"
	"the sources declared in .folio/dataset.json, or found by auto-detection\n"
	"(docs/labels.md), and prints a summary: labeled images, objects, classes\n"
	"with their counts, formats, splits, predictions, and the problems found\n"
	"in label files with file and line.\n"
	"\n"
	"Options:\n"
	"  --json     one JSON object: counts, formats, splits, classes, errors\n"
	"  --errors   only the problems, one 'file:line: message' per line; exits\n"
	"             1 when there are any\n"
	"  --list     every labeled image with its objects (text: one image per\n"
	"             line; with --json: an \"annotations\" array)\n";

static cJSON *annotation_json(const folio_annotation *a)
{
	cJSON *o = cJSON_CreateObject(), *objs = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "image", a->image);
	cJSON_AddStringToObject(o, "format", folio_label_format_name(a->format));
	cJSON_AddStringToObject(o, "source", a->source ? a->source : "");
	cJSON_AddBoolToObject(o, "prediction", a->prediction);
	if (a->split)
		cJSON_AddStringToObject(o, "split", a->split);
	if (a->width > 0) {
		cJSON_AddNumberToObject(o, "width", a->width);
		cJSON_AddNumberToObject(o, "height", a->height);
	}
	if (folio_annotation_relative(a))
		cJSON_AddTrueToObject(o, "relative");
	if (a->ntags) {
		cJSON *t = cJSON_AddArrayToObject(o, "tags");
		for (size_t i = 0; i < a->ntags; i++)
			cJSON_AddItemToArray(t, cJSON_CreateString(a->tags[i]));
	}
	for (size_t i = 0; i < a->nobjects; i++) {
		const folio_object *ob = &a->objects[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "class", ob->cls);
		if (ob->has_box) {
			double v[4] = { ob->box.x, ob->box.y, ob->box.w, ob->box.h };
			cJSON_AddItemToObject(j, "box", cJSON_CreateDoubleArray(v, 4));
		}
		if (ob->has_score)
			cJSON_AddNumberToObject(j, "score", ob->score);
		if (ob->labeler)
			cJSON_AddStringToObject(j, "labeler", ob->labeler);
		if (ob->attributes)
			cJSON_AddItemToObject(j, "attributes", cJSON_Parse(ob->attributes));
		cJSON_AddItemToArray(objs, j);
	}
	cJSON_AddItemToObject(o, "objects", objs);
	return o;
}

static void print_annotation(const folio_annotation *a)
{
	printf("%s\t%s%s\t%zu", a->image, a->prediction ? "prediction " : "",
	       folio_label_format_name(a->format), a->nobjects);
	if (a->split)
		printf("\tsplit=%s", a->split);
	for (size_t i = 0; i < a->nobjects; i++) {
		const folio_object *o = &a->objects[i];
		printf("%s%s", i ? "; " : "\t", o->cls);
		if (o->has_box)
			printf(" %g,%g,%g,%g", o->box.x, o->box.y, o->box.w, o->box.h);
		if (o->has_score)
			printf(" score=%g", o->score);
	}
	putchar('\n');
}

int cmd_labels(cli *c);
int cmd_labels(cli *c)
{
	int json = 0, errors_only = 0, list = 0;
	cli_opt opts[] = {
		{ "json", 0, 0, NULL, &json },
		{ "errors", 0, 0, NULL, &errors_only },
		{ "list", 0, 0, NULL, &list },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc = 0, code = EXIT_OK;
	folio_repo *repo = NULL;
	folio_tree tree;
	folio_labelset set;
	char commit[FOLIO_COMMIT_HEXSZ + 1];
	folio_label_summary st;

	folio_tree_init(&tree);
	memset(&set, 0, sizeof set);
	memset(&st, 0, sizeof st);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos != 1) {
		free(pos);
		return cli_usage_error(c, "expected a VERSION (':' for the stage), got %d arguments", npos);
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&tree, repo, pos[0], commit)) < 0 ||
	    (rc = folio_labels_load(&set, &tree, cli_read_entry, repo)) < 0 ||
	    (rc = folio_labels_summary(&st, &set, &tree)) < 0)
		goto fail;
	if (errors_only && !json) {
		for (size_t i = 0; i < set.nerrors; i++)
			print_error_line(stdout, &set.errors[i]);
		code = set.nerrors ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	if (json) {
		cJSON *top = cJSON_CreateObject();
		if (!errors_only) {
			cJSON_AddStringToObject(top, "commit", commit);
			cJSON_AddNumberToObject(top, "images", (double)st.images);
			cJSON_AddNumberToObject(top, "objects", (double)st.objects);
			cJSON_AddNumberToObject(top, "prediction_images", (double)st.prediction_images);
			cJSON_AddNumberToObject(top, "prediction_objects", (double)st.prediction_objects);
			cJSON_AddNumberToObject(top, "missing_images", (double)st.missing);
			cJSON *fm = cJSON_AddObjectToObject(top, "formats");
			for (int f = 1; f < FOLIO_LABELS_FORMAT_END; f++) {
				if (!st.formats[f].images)
					continue;
				cJSON *o = cJSON_AddObjectToObject(fm, folio_label_format_name((folio_label_format)f));
				cJSON_AddNumberToObject(o, "images", (double)st.formats[f].images);
				cJSON_AddNumberToObject(o, "objects", (double)st.formats[f].objects);
				cJSON_AddNumberToObject(o, "files", (double)st.formats[f].files);
			}
			cJSON *sp = cJSON_AddObjectToObject(top, "splits");
			for (size_t i = 0; i < st.nsplits; i++)
				cJSON_AddNumberToObject(sp, st.splits[i].name, (double)st.splits[i].images);
			cJSON *cl = cJSON_AddArrayToObject(top, "classes");
			for (size_t i = 0; i < set.nclasses; i++) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", set.classes[i]);
				cJSON_AddNumberToObject(o, "objects", (double)st.class_objects[i]);
				cJSON_AddNumberToObject(o, "predicted", (double)st.class_predicted[i]);
				cJSON_AddItemToArray(cl, o);
			}
		}
		cJSON *er = cJSON_AddArrayToObject(top, "errors");
		for (size_t i = 0; i < set.nerrors; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "file", set.errors[i].file);
			cJSON_AddNumberToObject(o, "line", set.errors[i].line);
			cJSON_AddStringToObject(o, "message", set.errors[i].message);
			cJSON_AddItemToArray(er, o);
		}
		if (list) {
			cJSON *an = cJSON_AddArrayToObject(top, "annotations");
			for (size_t i = 0; i < set.n; i++)
				cJSON_AddItemToArray(an, annotation_json(&set.v[i]));
		}
		json_print(top);
		code = errors_only && set.nerrors ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	if (list) {
		for (size_t i = 0; i < set.n; i++)
			print_annotation(&set.v[i]);
		goto out;
	}
	labels_print_summary(&set, &st, 20);
	goto out;

fail:
	code = cli_fail(rc);
out:
	folio_label_summary_clear(&st);
	folio_labelset_clear(&set);
	folio_tree_clear(&tree);
	folio_repo_free(repo);
	free(pos);
	return code;
}
