/*
 * store.h — the content-addressed object store (REPO/objects/).
 *
 * Objects are keyed by the SHA-256 of their raw bytes and sharded by the
 * first two hex digits:
 *
 *   objects/ab/<62 hex>        raw object: the bytes themselves, a plain file
 *   objects/ab/<62 hex>.zst    the bytes as one zstd frame
 *   objects/tmp/               temp files being written (same filesystem)
 *
 * An object exists in exactly one of the two forms. Files are 0444 and
 * never modified: a writer writes a temp file, fsyncs it, renames it into
 * place and fsyncs the shard directory. Several processes may write at once;
 * two writers of the same object both succeed and leave one file.
 *
 * Compressible content is stored as zstd when that saves at least a tenth
 * of the size; content that is already compressed (JPEG, PNG, WebP, GIF,
 * zstd, gzip, ...) is recognised by its magic bytes and stored raw without
 * trying. Nothing holds a whole object in memory: puts and reads stream.
 */
#ifndef FOLIO_STORE_H
#define FOLIO_STORE_H

#include <stdint.h>
#include <sys/types.h>

#include "folio/oid.h"
#include "folio/util.h"

typedef struct folio_store folio_store;

typedef enum folio_object_form {
	FOLIO_OBJECT_RAW = 1,
	FOLIO_OBJECT_ZSTD = 2,
} folio_object_form;

typedef struct folio_object_info {
	folio_object_form form;
	uint64_t size;        /* raw (uncompressed) size in bytes */
	uint64_t stored_size; /* bytes the object's file takes */
	char path[FOLIO_PATH_MAX]; /* the object's file */
} folio_object_info;

/* Opens the store in dir (REPO/objects), creating it if create is set. */
int folio_store_open(folio_store **out, const char *dir, int create);
void folio_store_free(folio_store *store);

/* Root folder of the store. */
const char *folio_store_path(const folio_store *store);

/*
 * Writes everything readable from fd (from its current offset to EOF) as
 * an object. out and size_out (may be NULL) receive the id and raw size.
 * name is used only in error messages (the file the bytes come from).
 * If *existed_out is non-NULL it is set to 1 when the object was already
 * there. Safe to call from several threads and processes at once.
 */
int folio_store_put_fd(folio_oid *out, uint64_t *size_out, int *existed_out,
		       folio_store *store, int fd, const char *name);

/* Same for a file path (opened O_RDONLY, errors name it). */
int folio_store_put_file(folio_oid *out, uint64_t *size_out, int *existed_out,
			 folio_store *store, const char *path);

/* Same for a buffer in memory. */
int folio_store_put_buf(folio_oid *out, folio_store *store,
			const void *data, size_t len);

/* 1 if the object exists, 0 if not. */
int folio_store_exists(folio_store *store, const folio_oid *oid);

/* Fills info about an existing object; FOLIO_ENOTFOUND if missing. */
int folio_store_stat(folio_object_info *out, folio_store *store,
		     const folio_oid *oid);

/* Streaming reader over an object's raw bytes. */
typedef struct folio_reader folio_reader;

/*
 * Opens an object for reading. With verify set, the reader hashes what it
 * returns and its final read (the one returning 0) fails with
 * FOLIO_ECORRUPT if the bytes do not hash to oid or the size differs.
 */
int folio_store_open_reader(folio_reader **out, folio_store *store,
			    const folio_oid *oid, int verify);
/* Returns bytes read (0 at the end) or a negative FOLIO_E* code. */
ssize_t folio_reader_read(folio_reader *r, void *buf, size_t len);
void folio_reader_free(folio_reader *r);

/* Reads a whole object into a malloc'd buffer, refusing objects larger
 * than max bytes (FOLIO_EINVAL). The caller frees *out. */
int folio_store_read_all(void **out, size_t *len_out, folio_store *store,
			 const folio_oid *oid, size_t max);

/* Recomputes the object's hash; FOLIO_ECORRUPT names the object file. */
int folio_store_verify(folio_store *store, const folio_oid *oid);

/*
 * Materialises an object as a new file at dest (which must not exist),
 * with the given permission bits. Raw objects are reflinked (FICLONE) when
 * the filesystem allows, else hardlinked when allow_link is set (the
 * result is then read-only and shares the store's inode), else copied;
 * zstd objects are decompressed. *how_out (may be NULL) gets 'r' reflink,
 * 'h' hardlink, 'c' copy.
 */
int folio_store_checkout(char *how_out, folio_store *store, const folio_oid *oid, const char *dest,
			 mode_t mode, int allow_link);

/* Calls cb for every object in the store; stops when cb returns non-zero
 * and returns that value. Temp files are not reported. */
typedef int (*folio_store_foreach_cb)(const folio_oid *oid,
				      const folio_object_info *info,
				      void *payload);
int folio_store_foreach(folio_store *store, folio_store_foreach_cb cb,
			void *payload);

/* Removes an object (used by gc only). */
int folio_store_remove(folio_store *store, const folio_oid *oid);

/* Removes temp files older than max_age_seconds left by killed writers. */
int folio_store_clean_tmp(folio_store *store, int max_age_seconds);

#endif
