/*
 * json.c — JSON label files: parsing with cJSON, recognising which format
 * a document is (one rule, used by auto-detection and by `folio import`),
 * and finding the line of a value for error messages.
 *
 * cJSON keeps no positions, so a problem found after parsing (a bad box in
 * annotations[7]) would have no line. labels_json_line walks the text of a
 * document that cJSON already accepted and finds where the value at a
 * path starts. It only skips tokens (strings, brackets, scalars) and never
 * recurses, so it is cheap and safe on any input; it is called only when
 * an error is recorded, and each file records a bounded number of them.
 */
#include <math.h>
#include <string.h>

#include "folio/error.h"
#include "labels_int.h"

static int line_at(const char *text, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

/* 1 if the text stops inside a string or an unclosed object or array:
 * the file was cut short (as opposed to a wrong character). */
static int unterminated(const char *t, size_t len)
{
	size_t depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (t[i] == '"') {
			for (i++; i < len && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			if (i >= len)
				return 1;
		} else if (t[i] == '{' || t[i] == '[') {
			depth++;
		} else if ((t[i] == '}' || t[i] == ']') && depth) {
			depth--;
		}
	}
	return depth > 0;
}

cJSON *labels_json_parse(labels_builder *b, const char *file, const char *text, size_t len,
			 int *fatal)
{
	const char *end = NULL;
	cJSON *root;
	int rc;

	*fatal = 0;
	if (len == 0) {
		if (labels_error(b, file, 0, "empty file, not JSON") < 0)
			*fatal = 1;
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root)
		return root;
	if (unterminated(text, len)) {
		/* report the last line with text on it */
		size_t last = len;
		while (last > 0 && strchr(" \t\r\n", text[last - 1]))
			last--;
		rc = labels_error(b, file, line_at(text, last ? last - 1 : 0),
			      "JSON ends early (truncated file?)");
	} else {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		size_t col = 1;
		while (col <= off && text[off - col] != '\n')
			col++;
		rc = labels_error(b, file, line_at(text, off), "JSON syntax error at column %zu",
				  col);
	}
	if (rc < 0)
		*fatal = 1;
	return NULL;
}

static size_t skip_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* t[i] is '"': returns the index after the closing quote. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++)
		if (t[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

static size_t skip_value(const char *t, size_t len, size_t i)
{
	if (i >= len)
		return len;
	if (t[i] == '"')
		return skip_string(t, len, i);
	if (t[i] == '{' || t[i] == '[') {
		size_t depth = 0;
		while (i < len) {
			char c = t[i];
			if (c == '"') {
				i = skip_string(t, len, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return len;
	}
	while (i < len && !strchr(",]} \t\r\n", t[i]))
		i++;
	return i;
}

int labels_json_line(const char *text, size_t len, const labels_jstep *path, size_t n)
{
	size_t i = skip_ws(text, len, 0);

	for (size_t s = 0; s < n; s++) {
		if (i >= len)
			return 0;
		if (path[s].key) {
			size_t kl = strlen(path[s].key);
			if (text[i] != '{')
				return 0;
			i++;
			for (;;) {
				i = skip_ws(text, len, i);
				if (i >= len || text[i] != '"')
					return 0;
				size_t ks = i + 1, ke = skip_string(text, len, i);
				int match = ke - 1 - ks == kl && memcmp(text + ks, path[s].key, kl) == 0;
				i = skip_ws(text, len, ke);
				if (i >= len || text[i] != ':')
					return 0;
				i = skip_ws(text, len, i + 1);
				if (match)
					break;
				i = skip_ws(text, len, skip_value(text, len, i));
				if (i >= len || text[i] != ',')
					return 0;
				i++;
			}
		} else {
			if (text[i] != '[')
				return 0;
			i++;
			for (size_t k = 0;; k++) {
				i = skip_ws(text, len, i);
				if (i >= len || text[i] == ']')
					return 0;
				if (k == path[s].index)
					break;
				i = skip_ws(text, len, skip_value(text, len, i));
				if (i >= len || text[i] != ',')
					return 0;
				i++;
			}
		}
	}
	return i < len ? line_at(text, i) : 0;
}

int labels_json_box(folio_box *out, const cJSON *arr, const char **why)
{
	double v[4];

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 4) {
		*why = "box must be an array of 4 numbers [x, y, width, height]";
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		const cJSON *x = cJSON_GetArrayItem(arr, i);
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
			*why = "box must be an array of 4 numbers [x, y, width, height]";
			return -1;
		}
		v[i] = x->valuedouble;
	}
	if (v[2] < 0 || v[3] < 0) {
		*why = "box width and height must not be negative";
		return -1;
	}
	out->x = v[0];
	out->y = v[1];
	out->w = v[2];
	out->h = v[3];
	return 0;
}

folio_label_format labels_sniff_root(const cJSON *root)
{
	if (labels_native_is(root))
		return FOLIO_LABELS_NATIVE;
	if (labels_coco_is(root))
		return FOLIO_LABELS_COCO;
	if (labels_coco_results_is(root))
		return FOLIO_LABELS_COCO_RESULTS;
	return 0;
}

int folio_labels_sniff(folio_label_format *out, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);

	*out = 0;
	if (!root)
		return folio_error_set(FOLIO_EINVAL, "not valid JSON");
	*out = labels_sniff_root(root);
	cJSON_Delete(root);
	return 0;
}
