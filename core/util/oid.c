/*
 * oid.c — SHA-256 object ids: hex conversion and hashing via libcrypto's EVP.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "folio/error.h"
#include "folio/oid.h"

struct folio_hash {
	EVP_MD_CTX *ctx;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int folio_oid_fromhex(folio_oid *out, const char *hex)
{
	for (size_t i = 0; i < FOLIO_OID_RAWSZ; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hi < 0 ? -1 : hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return folio_error_set(FOLIO_EINVAL,
				"'%.64s' is not a 64-digit SHA-256 hex id", hex);
		out->id[i] = (unsigned char)(hi << 4 | lo);
	}
	if (hex[FOLIO_OID_HEXSZ] != '\0')
		return folio_error_set(FOLIO_EINVAL,
			"'%.70s' is longer than a 64-digit SHA-256 hex id", hex);
	return 0;
}

void folio_oid_tohex(char out[FOLIO_OID_HEXSZ + 1], const folio_oid *oid)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < FOLIO_OID_RAWSZ; i++) {
		out[2 * i] = digits[oid->id[i] >> 4];
		out[2 * i + 1] = digits[oid->id[i] & 15];
	}
	out[FOLIO_OID_HEXSZ] = '\0';
}

int folio_oid_cmp(const folio_oid *a, const folio_oid *b)
{
	return memcmp(a->id, b->id, FOLIO_OID_RAWSZ);
}

int folio_oid_is_zero(const folio_oid *oid)
{
	for (size_t i = 0; i < FOLIO_OID_RAWSZ; i++)
		if (oid->id[i])
			return 0;
	return 1;
}

int folio_hash_new(folio_hash **out)
{
	folio_hash *h = calloc(1, sizeof *h);

	if (!h || !(h->ctx = EVP_MD_CTX_new())) {
		free(h);
		return folio_error_set(FOLIO_ENOMEM, "out of memory creating a SHA-256 context");
	}
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		folio_hash_free(h);
		return folio_error_set(FOLIO_ERROR, "libcrypto could not start SHA-256");
	}
	*out = h;
	return 0;
}

void folio_hash_update(folio_hash *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void folio_hash_final(folio_oid *out, folio_hash *h)
{
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, out->id, &n);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void folio_hash_free(folio_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int folio_hash_buf(folio_oid *out, const void *data, size_t len)
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out->id, &n, EVP_sha256(), NULL) != 1)
		return folio_error_set(FOLIO_ERROR, "libcrypto SHA-256 failed");
	return 0;
}
