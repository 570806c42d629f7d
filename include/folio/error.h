/*
 * error.h — folio's error codes and the thread-local error message.
 *
 * Every core function returns 0 on success or a negative FOLIO_E* code, and
 * sets a one-line message (naming the file or object concerned) that the
 * caller may print with folio_error_last(). The message is per thread, so
 * the daemon's worker threads never see each other's errors.
 */
#ifndef FOLIO_ERROR_H
#define FOLIO_ERROR_H

enum {
	FOLIO_OK = 0,
	FOLIO_ERROR = -1,     /* generic failure */
	FOLIO_ENOTFOUND = -2, /* file, object, ref or path does not exist */
	FOLIO_EEXISTS = -3,   /* already exists */
	FOLIO_EINVAL = -4,    /* bad argument or bad user input */
	FOLIO_ECORRUPT = -5,  /* stored data fails verification */
	FOLIO_EIO = -6,       /* I/O error from the OS */
	FOLIO_ENOSPC = -7,    /* disk full or quota exceeded */
	FOLIO_ELOCKED = -8,   /* another process holds the lock */
	FOLIO_ENOMEM = -9,    /* out of memory */
	FOLIO_EACCES = -10,   /* permission denied */
	FOLIO_EAMBIGUOUS = -11, /* abbreviated id matches several objects */
	FOLIO_EDIRTY = -12,   /* uncommitted changes would be lost */
};

/* Sets the calling thread's message; returns code so callers can
 * `return folio_error_set(FOLIO_EINVAL, "...")`. */
int folio_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Maps an errno value to a FOLIO_E* code and sets "<what>: <strerror>". */
int folio_error_errno(int errnum, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefixes the current message with more context ("while adding x: ..."),
 * returning code unchanged. */
int folio_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The calling thread's last message, never NULL. */
const char *folio_error_last(void);

/* Clears the calling thread's message. */
void folio_error_clear(void);

/* A short name for a code ("not found", "corrupt", ...). */
const char *folio_error_name(int code);

#endif
