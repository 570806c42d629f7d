/*
 * error.c — thread-local error message shared by every core module.
 *
 * A fixed-size buffer per thread: setting an error never allocates, so it
 * works when memory has run out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* the GNU strerror_r, which returns a pointer */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "folio/error.h"

#define MSG_MAX 1024

static _Thread_local char last[MSG_MAX];

static void vset(const char *fmt, va_list ap)
{
	vsnprintf(last, sizeof last, fmt, ap);
}

int folio_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(fmt, ap);
	va_end(ap);
	return code;
}

static int code_for_errno(int errnum)
{
	switch (errnum) {
	case ENOENT: case ENOTDIR: return FOLIO_ENOTFOUND;
	case EEXIST: case ENOTEMPTY: return FOLIO_EEXISTS;
	case ENOSPC: case EDQUOT: case EFBIG: return FOLIO_ENOSPC;
	case EACCES: case EPERM: case EROFS: return FOLIO_EACCES;
	case ENOMEM: return FOLIO_ENOMEM;
	case EINVAL: case ENAMETOOLONG: case ELOOP: return FOLIO_EINVAL;
	case EWOULDBLOCK: return FOLIO_ELOCKED;
	default: return FOLIO_EIO;
	}
}

int folio_error_errno(int errnum, const char *fmt, ...)
{
	char what[MSG_MAX / 2], why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	/* strerror is not thread-safe; the GNU strerror_r returns a pointer. */
	const char *s = strerror_r(errnum, why, sizeof why);
	snprintf(last, sizeof last, "%s: %s", what, s);
	return code_for_errno(errnum);
}

int folio_error_wrap(int code, const char *fmt, ...)
{
	char prefix[MSG_MAX / 2], old[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, last, sizeof old);
	snprintf(last, sizeof last, "%s: %.*s", prefix, (int)(sizeof last - strlen(prefix) - 3), old);
	return code;
}

const char *folio_error_last(void)
{
	return last[0] ? last : "unknown error";
}

void folio_error_clear(void)
{
	last[0] = '\0';
}

const char *folio_error_name(int code)
{
	switch (code) {
	case FOLIO_OK: return "ok";
	case FOLIO_ENOTFOUND: return "not found";
	case FOLIO_EEXISTS: return "already exists";
	case FOLIO_EINVAL: return "invalid input";
	case FOLIO_ECORRUPT: return "corrupt";
	case FOLIO_EIO: return "I/O error";
	case FOLIO_ENOSPC: return "no space left";
	case FOLIO_ELOCKED: return "locked";
	case FOLIO_ENOMEM: return "out of memory";
	case FOLIO_EACCES: return "permission denied";
	case FOLIO_EAMBIGUOUS: return "ambiguous";
	case FOLIO_EDIRTY: return "uncommitted changes";
	default: return "error";
	}
}
