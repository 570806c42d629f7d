/*
 * buf.c — the growing text buffer of include/folio/util.h.
 *
 * Outputs (exports, statistics, canonical texts, git trees) are built in
 * memory and handed over whole; a cap keeps a runaway output from taking
 * the machine's memory, and the sticky error lets builders write many
 * small pieces without checking each one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/util.h"

void folio_buf_init(folio_buf *b, const char *what)
{
	memset(b, 0, sizeof *b);
	b->what = what ? what : "a text";
}

/* Room for n more bytes and a NUL; 0, or -1 with b->rc set. */
static int reserve(folio_buf *b, size_t n)
{
	size_t max = b->max ? b->max : FOLIO_BUF_MAX_DEFAULT;

	if (b->rc)
		return -1;
	if (n > max || b->n > max - n) {
		b->rc = folio_error_set(FOLIO_EINVAL, "%s would be larger than %zu bytes",
					b->what ? b->what : "a text", max);
		return -1;
	}
	if (b->n + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->n + n + 1)
		cap *= 2;
	if (cap > max + 1)
		cap = max + 1;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->rc = folio_error_set(FOLIO_ENOMEM, "out of memory building %s",
					b->what ? b->what : "a text");
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void folio_buf_put(folio_buf *b, const void *data, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void folio_buf_puts(folio_buf *b, const char *s)
{
	folio_buf_put(b, s, strlen(s));
}

void folio_buf_putc(folio_buf *b, char c)
{
	folio_buf_put(b, &c, 1);
}

void folio_buf_printf(folio_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->rc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->rc = folio_error_set(FOLIO_EINVAL, "cannot format %s", b->what ? b->what : "a text");
		return;
	}
	if (reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

void folio_buf_csv(folio_buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		folio_buf_puts(b, s);
		return;
	}
	folio_buf_putc(b, '"');
	for (const char *q; (q = strchr(s, '"')); s = q + 1) {
		folio_buf_put(b, s, (size_t)(q - s) + 1);
		folio_buf_putc(b, '"');
	}
	folio_buf_puts(b, s);
	folio_buf_putc(b, '"');
}

void folio_buf_html(folio_buf *b, const char *s)
{
	for (const char *q; *s; s = q) {
		q = s + strcspn(s, "<>&\"");
		folio_buf_put(b, s, (size_t)(q - s));
		switch (*q) {
		case '<': folio_buf_puts(b, "&lt;"); break;
		case '>': folio_buf_puts(b, "&gt;"); break;
		case '&': folio_buf_puts(b, "&amp;"); break;
		case '"': folio_buf_puts(b, "&quot;"); break;
		default: return;
		}
		q++;
	}
}

int folio_buf_finish(char **out, size_t *len, folio_buf *b)
{
	int rc;

	if (!b->rc && !b->p)
		folio_buf_put(b, "", 0);
	if ((rc = b->rc) < 0) {
		folio_buf_clear(b);
		b->rc = rc;
		*out = NULL;
		if (len)
			*len = 0;
		return rc;
	}
	*out = b->p;
	if (len)
		*len = b->n;
	b->p = NULL;
	b->n = b->cap = 0;
	return 0;
}

void folio_buf_clear(folio_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

int folio_path_format(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		int rc = folio_error_set(FOLIO_EINVAL, "path too long (more than %zu bytes): %.60s...",
					 size ? size - 1 : 0, size ? out : "");
		if (size)
			out[0] = '\0';
		return rc;
	}
	return 0;
}
