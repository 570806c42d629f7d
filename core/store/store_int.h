/*
 * store_int.h — what store.c (writing) and store_read.c (reading, listing,
 * checkout, maintenance) share about the object store.
 *
 * A store is three immutable fields set by folio_store_open(), so any
 * number of threads may use one store at once without locking: every
 * operation works through its own file descriptors and buffers.
 */
#ifndef FOLIO_STORE_INT_H
#define FOLIO_STORE_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "folio/oid.h"
#include "folio/store.h"

struct folio_store {
	char *path; /* root folder (REPO/objects), no trailing slash; immutable */
	int dirfd;  /* O_DIRECTORY fd of path; immutable */
	int tmpfd;  /* O_DIRECTORY fd of path/tmp, -1 if it could not be
		     * opened (a read-only store: puts fail); immutable */
};

/* "ab/" + 62 hex digits + ".zst" + NUL is 70 bytes. */
#define STORE_RELSZ 72

/* Largest zstd frame header (ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h only
 * exposes to static linkers). */
#define STORE_ZSTD_HEADER_MAX 18

/* Writes the object's path relative to the store root:
 * "ab/<62 hex>" for raw, "ab/<62 hex>.zst" for zstd. */
void store_relpath(char out[STORE_RELSZ], const folio_oid *oid,
			  folio_object_form form);

/* Writes "<store path>/<rel>" into out; FOLIO_EINVAL if it does not fit. */
int store_fullpath(char *out, size_t size, const folio_store *store,
			  const char *rel);

/* write() all of buf, retrying EINTR; 0 or -1 with errno (store.c). */
int store_write_full(int fd, const void *buf, size_t len);

#endif
