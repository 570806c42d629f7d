/*
 * oid.h — SHA-256 object ids and incremental hashing.
 *
 * An object id is the SHA-256 of an object's raw (uncompressed) bytes; it is
 * the same id git-lfs puts in its pointer files.
 */
#ifndef FOLIO_OID_H
#define FOLIO_OID_H

#include <stddef.h>
#include <stdint.h>

#define FOLIO_OID_RAWSZ 32
#define FOLIO_OID_HEXSZ 64

typedef struct folio_oid {
	unsigned char id[FOLIO_OID_RAWSZ];
} folio_oid;

/* Parses exactly 64 lowercase or uppercase hex digits. */
int folio_oid_fromhex(folio_oid *out, const char *hex);

/* Writes 64 lowercase hex digits and a NUL into out. */
void folio_oid_tohex(char out[FOLIO_OID_HEXSZ + 1], const folio_oid *oid);

int folio_oid_cmp(const folio_oid *a, const folio_oid *b);
int folio_oid_is_zero(const folio_oid *oid);

/* Incremental SHA-256 (OpenSSL's libcrypto behind it). */
typedef struct folio_hash folio_hash;
int folio_hash_new(folio_hash **out);
void folio_hash_update(folio_hash *h, const void *data, size_t len);
/* Writes the digest and resets h for reuse. */
void folio_hash_final(folio_oid *out, folio_hash *h);
void folio_hash_free(folio_hash *h);

/* One-shot hash of a buffer. */
int folio_hash_buf(folio_oid *out, const void *data, size_t len);

#endif
