/*
 * names.c — class names as folder names and back (labels.h).
 *
 * Class names come from label files and may hold anything a string can:
 * Pascal VOC's "tv/monitor", Fashion-MNIST's "T-shirt/top". A folder name
 * cannot hold '/', and ".", ".." and names starting with '.' mean
 * something else to every tool. Rather than dropping such classes or
 * rewriting them lossily, the few characters that cannot stand are
 * percent-escaped, so that the folder name reads almost as the class and
 * turns back into exactly it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "folio/error.h"
#include "folio/labels.h"

int folio_class_to_folder(char *out, size_t size, const char *cls)
{
	size_t n = 0;

	for (const char *p = cls; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int esc = c == '%' || c == '/' || c < 0x20 || c == 0x7f || (p == cls && c == '.');
		if (n + (esc ? 3 : 1) >= size)
			return folio_error_set(FOLIO_EINVAL, "class '%.60s' is too long for a folder name",
					       cls);
		if (esc) {
			snprintf(out + n, 4, "%%%02X", c);
			n += 3;
		} else {
			out[n++] = (char)c;
		}
	}
	if (!n)
		return folio_error_set(FOLIO_EINVAL, "an empty class name cannot be a folder");
	out[n] = '\0';
	return 0;
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int folio_class_from_folder(char *out, size_t size, const char *folder)
{
	size_t n = 0;

	if (!*folder || strchr(folder, '/') || folder[0] == '.')
		return folio_error_set(FOLIO_EINVAL, "'%.60s' is not a class folder name", folder);
	for (const char *p = folder; *p; p++) {
		char c = *p;
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return folio_error_set(FOLIO_EINVAL, "'%.60s': '%%' must be followed by two "
						       "hex digits", folder);
			c = (char)(hi * 16 + lo);
			p += 2;
		}
		if (n + 1 >= size)
			return folio_error_set(FOLIO_EINVAL, "class folder '%.60s' is too long", folder);
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}
